"""Training of the students: corpus-free pretraining (shared by all folds) and per-fold fine-tuning.

* ``pretrain(arch, hparams, seed)`` fits a student on teacher-labelled synthetic vectors only
  (``synth.sample_features``). It never sees a corpus, so one pretrained state per arch serves every
  leave-one-source-out fold and both poolings.
* ``train_fold(arch, hparams, X_train, y_train, X_val, y_val, seed, init_state=...)`` fits the scaler
  on ``X_train`` only, re-parametrises the pretrained first layer to that scaler (the function is
  unchanged), then fine-tunes briefly on the training rows, teacher-labelled jittered copies of them
  and replayed synthetic vectors, with early stopping on ``(X_val, y_val)`` plus a synthetic
  validation set. Nothing else is looked at.

Targets are the teacher's SVM outputs, *before* its score transform and clip (smooth; the student's
graph applies the teacher's transform and clip exactly after its body), limited to [lo - margin, hi +
margin]; the loss compares the student's ``raw`` output limited the same way. For corpus rows whose
``y`` is not the teacher's score of the
row (clip pooling: ``y`` is the mean of per-frame scores, ``X`` the mean of per-frame features), the
residual ``y - teacher(X)`` is kept and carried to the row's jittered copies.

Recipe (chosen on the tuning corpus and its forerunner, never on the demo's LOSO: blur, noise, VP9, MPEG-2,
MJPEG, x264 at CRF 51, scores 0-100; README "Tuning protocol", benchmarks/tune.py): float32, Adam,
batch 1024, lr 2e-2 with warm-up + cosine, MSE on unclipped targets with margin 10 (training on
clipped targets was ~40 % worse), mixed synthetic draw; fine-tune: 600 Adam steps at lr 3e-4, each
batch half corpus rows/jitter, half synthetic replay; keep the best of the initial and every 50th
step's weights on the validation score (so a fine-tune never ends worse than its start on val).

Everything is deterministic: ``torch.manual_seed``, torch's deterministic algorithms and oneDNN off
(``train_base.deterministic_torch``), ``torch.set_num_threads(1)``, seeded numpy generators; same inputs give
byte-identical weights, on any x86-64 CPU with AVX2 once ``mathpaths.pin()`` ran (entry scripts).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from .adam import Adam
from .archs import resolve_hparams
from .exact import pretrain_exact
from .student_base import OUT_BIAS, OUT_SCALE
from .students import build_student
from .synth import feature_floor
from .teacher import hp_teacher
from .train_base import (TRAIN_DEFAULTS, cosine_lr, minibatch_steps, student_loss, synthetic_draw, training_setup,
                         training_state)

def _hp(arch: str, hparams: dict | None) -> dict:
    hp = dict(TRAIN_DEFAULTS)
    hp.update(resolve_hparams(arch, hparams))
    return hp


def _fit_scaler(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    return mean, std


def pretrain(
    arch: str,
    hparams: dict | None = None,
    seed: int = 0,
    progress: Callable[[int, float, float], None] | None = None,
) -> dict:
    """Corpus-free pretraining of ``arch`` on teacher-labelled synthetic vectors.

    Returns a state dict ``{"arch", "hparams", "state_dict", "history"}`` to pass to ``train_fold``
    as ``init_state`` (shared by every fold and pooling). Deterministic in ``(arch, hparams, seed)``.
    """
    hp = _hp(arch, hparams)
    if hp["kind"] == "exact":  # float pretraining, calibration, quantisation-aware training
        return pretrain_exact(hp, seed, progress, arch)
    g = training_setup(seed)
    t0 = time.process_time()
    model = build_student(arch, hp)
    x_np, y_np = synthetic_draw(int(hp["pre_n"]), int(hp["pre_seed_data"]), hp.get("mix"), hp)
    mean, std = _fit_scaler(x_np)
    model.set_scaler(mean, std)
    history: dict = {"step": [], "loss": [], "val": []}
    steps = int(hp["pre_steps"]) if hp["kind"] != "reweight_svm" else 0  # the SVM re-weighting starts exact
    m = float(hp["margin"])
    xv_np, yv_np = synthetic_draw(int(hp["ft_syn_val_n"]), int(hp["pre_seed_data"]) + 1, None, hp)
    lo, hi = model.lo, model.hi
    xv = torch.tensor(xv_np, dtype=torch.float32)
    yv = torch.tensor(np.clip(yv_np, lo - m, hi + m), dtype=torch.float32)
    if steps > 0:
        x = torch.tensor(x_np, dtype=torch.float32)
        y = torch.tensor(np.clip(y_np, lo - m, hi + m), dtype=torch.float32)
        opt = Adam(model.parameters(), lr=float(hp["pre_lr"]), weight_decay=float(hp["weight_decay"]))

        def report(step: int, loss: float) -> None:
            with torch.no_grad():
                val = float(student_loss(model, xv, yv, m))
            history["step"].append(step)
            history["loss"].append(loss)
            history["val"].append(val)
            if progress is not None:
                progress(step, loss, val)

        minibatch_steps(model, opt, x, y, steps, float(hp["pre_lr"]), int(hp["pre_batch"]), m, g,
                        max(1, steps // 20), report)
    model.eval()
    with torch.no_grad():
        history["best_val"] = float(student_loss(model, xv, yv, m))  # final synthetic validation MSE
    history["cpu_s"] = time.process_time() - t0
    return training_state(model, arch, hp, history)


def _targets(teacher, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Targets for corpus rows (the teacher's SVM output) and each row's residual ``y - teacher(x)`` (0 for
    frames; for clip pooling the mean of per-frame scores differs from the score of the mean features),
    carried into the SVM's units unchanged (exact for teachers without a transform)."""
    raw = teacher.svm_score(x)
    resid = np.asarray(y, dtype=np.float64) - teacher.finish(raw)
    return raw + resid, resid


def train_fold(
    arch: str,
    hparams: dict | None,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray | None,
    y_val: np.ndarray | None,
    seed: int = 0,
    init_state: dict | None = None,
    progress: Callable[[int, float, float], None] | None = None,
) -> tuple[torch.nn.Module, dict]:
    """Fine-tune (or train from scratch when ``init_state`` is None) ``arch`` on one fold.

    ``X_*`` are the teacher's raw features, canonical order (float64 [N, F]: frames, or clip means for clip pooling),
    ``y_*`` the matching teacher scores (per frame, or clip means). The scaler is fitted on
    ``X_train``; early stopping looks only at ``(X_val, y_val)`` and synthetic validation vectors.
    Returns ``(model in eval mode, history)``; ``history`` has ``step``, ``loss``, ``val``,
    ``best_step``, ``best_val`` and ``cpu_s``.
    """
    hp = _hp(arch, hparams)
    g = training_setup(seed)
    t0 = time.process_time()
    teacher = hp_teacher(hp)
    m = float(hp["margin"])
    lo, hi = teacher.score_range
    X_train = np.asarray(X_train, dtype=np.float64)
    y_train = np.asarray(y_train, dtype=np.float64)
    n_feat = len(teacher.features)
    if X_train.ndim != 2 or X_train.shape[1] != n_feat or len(X_train) != len(y_train):
        raise ValueError(f"X_train must be [N, {n_feat}] (teacher {teacher.name}) with N == len(y_train)")
    model = build_student(arch, hp)
    mean, std = _fit_scaler(X_train)
    steps = int(hp["ft_steps"])
    closed_form = init_state is None and hp["kind"] == "linear"  # least squares on the fine-tuning rows
    scratch = init_state is None and int(hp["pre_steps"]) > 0 and not closed_form  # no prior: pretraining budget
    if init_state is not None:
        if init_state.get("arch", arch) != arch:
            raise ValueError(f"init_state is for arch {init_state.get('arch')!r}, not {arch!r}")
        model.load_state_dict(init_state["state_dict"])
        model.rescale_(mean, std)
    else:
        model.set_scaler(mean, std)
        if scratch:
            steps = int(hp.get("scratch_steps", hp["pre_steps"]))

    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xF01D]))
    # corpus rows + teacher-labelled jitter around them (residual carried along)
    t_rows, resid = _targets(teacher, X_train, y_train)
    n_jit = int(hp["ft_jitter"])
    if n_jit > 0 and len(X_train) > 0:
        src = rng.integers(0, len(X_train), n_jit)
        xj = X_train[src] + rng.normal(0.0, 1.0, (n_jit, n_feat)) * (float(hp["ft_jitter_sigma"]) * std)
        xj = np.maximum(xj, feature_floor(teacher))
        tj = teacher.svm_score(xj) + resid[src]
        x_c = np.concatenate([X_train, xj])
        t_c = np.concatenate([t_rows, tj])
        w_c = np.concatenate([np.full(len(X_train), 1.0), np.full(n_jit, 1.0)])
    else:
        x_c, t_c, w_c = X_train, t_rows, np.ones(len(X_train))
    # synthetic replay and synthetic validation (corpus-free, fixed draws)
    xs_np, ts_np = synthetic_draw(int(hp["ft_replay_n"]), int(hp["pre_seed_data"]) + 2, None, hp)
    xsv_np, tsv_np = synthetic_draw(int(hp["ft_syn_val_n"]), int(hp["pre_seed_data"]) + 1, None, hp)
    if closed_form:  # the fine-tuning objective's own minimiser: corpus rows + jitter and replay, equal weight
        xs_w = np.full(len(xs_np), len(x_c) / max(len(xs_np), 1))
        _least_squares_(model, np.concatenate([x_c, xs_np]), np.clip(np.concatenate([t_c, ts_np]), lo - m, hi + m),
                        np.concatenate([w_c, xs_w]))

    f32 = torch.float32
    xc = torch.tensor(x_c, dtype=f32)
    tc = torch.tensor(np.clip(t_c, lo - m, hi + m), dtype=f32)
    wc = torch.tensor(w_c, dtype=f32)
    xs = torch.tensor(xs_np, dtype=f32)
    ts = torch.tensor(np.clip(ts_np, lo - m, hi + m), dtype=f32)
    xsv = torch.tensor(xsv_np, dtype=f32)
    tsv = torch.tensor(np.clip(tsv_np, lo - m, hi + m), dtype=f32)
    has_val = X_val is not None and y_val is not None and len(X_val) > 0
    if has_val:
        tv_np, _ = _targets(teacher, np.asarray(X_val, dtype=np.float64), np.asarray(y_val, dtype=np.float64))
        xv = torch.tensor(np.asarray(X_val, dtype=np.float64), dtype=f32)
        tv = torch.tensor(np.clip(tv_np, lo - m, hi + m), dtype=f32)
    syn_w = float(hp["ft_syn_val_weight"])

    def score() -> float:
        with torch.no_grad():
            s = syn_w * float(student_loss(model, xsv, tsv, m))
            if has_val:
                s += float(student_loss(model, xv, tv, m))
        return s

    history: dict = {"step": [0], "loss": [float("nan")], "val": [score()]}
    best_val, best_step = history["val"][0], 0
    best = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if progress is not None:
        progress(0, float("nan"), best_val)
    if steps > 0 and len(list(model.parameters())) > 0:
        lr = float(hp["pre_lr"] if scratch else hp["ft_lr"])
        opt = Adam(model.parameters(), lr=lr, weight_decay=float(hp["weight_decay"]))
        bc, bs = int(hp["ft_batch"]), int(hp["ft_replay_batch"])
        every = max(1, int(hp["ft_val_every"]))
        running = 0.0
        model.train()
        for step in range(steps):
            for group in opt.param_groups:
                group["lr"] = cosine_lr(step, steps, lr, max(1, steps // 20))
            ic = torch.randint(0, len(xc), (min(bc, max(1, len(xc))),), generator=g)
            parts_x, parts_t, parts_w = [xc[ic]], [tc[ic]], [wc[ic]]
            if bs > 0:
                js = torch.randint(0, len(xs), (bs,), generator=g)
                parts_x.append(xs[js])
                parts_t.append(ts[js])
                parts_w.append(torch.ones(bs))
            loss = student_loss(model, torch.cat(parts_x), torch.cat(parts_t), m, torch.cat(parts_w))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += loss.item()
            if (step + 1) % every == 0 or step + 1 == steps:
                model.eval()
                val = score()
                model.train()
                k = (step % every) + 1
                history["step"].append(step + 1)
                history["loss"].append(running / k)
                history["val"].append(val)
                running = 0.0
                if val < best_val:
                    best_val, best_step = val, step + 1
                    best = {k_: v.detach().clone() for k_, v in model.state_dict().items()}
                if progress is not None:
                    progress(step + 1, history["loss"][-1], val)
    model.load_state_dict(best)
    model.eval()
    history["best_step"] = best_step
    history["best_val"] = best_val
    history["cpu_s"] = time.process_time() - t0
    return model, history


def _least_squares_(model, x: np.ndarray, t: np.ndarray, w: np.ndarray) -> None:  # a Linear
    """The linear student's exact weighted least-squares fit (float64) of targets ``t`` on rows ``x``:
    its pretraining, done in the fold job (a fraction of a second; no pretraining job to start)."""
    z = (np.asarray(x, dtype=np.float64) - model.mean.double().numpy()) / model.std.double().numpy()
    sw = np.sqrt(np.asarray(w, dtype=np.float64))[:, None]
    a = np.column_stack([z, np.ones(len(z))]) * sw
    w = np.linalg.lstsq(a, (np.asarray(t, dtype=np.float64)[:, None] - OUT_BIAS) / OUT_SCALE * sw, rcond=None)[0][:, 0]
    with torch.no_grad():
        model.first.weight.copy_(torch.tensor(w[None, :-1], dtype=model.first.weight.dtype))
        model.first.bias.copy_(torch.tensor(w[-1:], dtype=model.first.bias.dtype))


def predict(model: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    """Scores of ``model`` on raw features ``X`` [N, F] (canonical order), float64 [N]."""
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(X, dtype=np.float64), dtype=torch.float32)).double().numpy()


__all__ = ["pretrain", "train_fold", "predict"]
