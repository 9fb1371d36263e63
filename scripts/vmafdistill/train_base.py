"""The training loop's pieces shared by the float students (``train``) and the exact one (``exact.training``).

``TRAIN_DEFAULTS`` (the training knobs), ``training_setup`` (one thread, deterministic torch, seeded
generator), ``synthetic_draw`` (teacher-labelled synthetic vectors, cached per process), ``student_loss``
(MSE of the student's ``raw`` output against the teacher's SVM output, both limited to the score range
+- margin), ``cosine_lr`` (warm-up then cosine), ``minibatch_steps`` (the pretraining loop) and
``training_state`` (the state a pretraining returns). A leaf: it imports no student module, so ``train``
and ``exact`` both build on it and neither imports the other's callers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import torch

from .adam import Adam
from .synth import sample_for
from .teacher import hp_teacher

#: Training knobs; per-arch overrides live in ``archs.ARCHS`` and in the caller's ``hparams``.
TRAIN_DEFAULTS: dict = {
    # pretraining (synthetic only)
    "pre_n": 262_144,  # synthetic training vectors (1M gave no gain)
    "pre_steps": 20_000,  # Adam steps, linear warm-up 2 % then cosine to 1e-3 x lr
    "pre_batch": 1024,
    "pre_lr": 2e-2,  # high lr matters: 3e-3 -> 2e-2 cut the error ~4x at equal steps
    "pre_seed_data": 1234,  # synthetic draw of pretraining (fixed: shared across seeds of a sweep)
    "mix": None,  # synth.DEFAULT_MIX (manifold/cone/box); any single component was ~2x worse
    # fine-tuning (per fold)
    "ft_steps": 600,
    "ft_batch": 512,  # corpus rows + jitter per step
    "ft_replay_batch": 512,  # synthetic rows per step
    "ft_lr": 3e-4,
    "ft_jitter": 16_384,  # teacher-labelled jittered copies of training rows
    "ft_jitter_sigma": 0.03,  # jitter scale, in units of the training rows' feature std
    "ft_replay_n": 65_536,
    "ft_val_every": 50,
    "ft_syn_val_n": 4096,
    "ft_syn_val_weight": 0.5,  # weight of the synthetic validation MSE in the early-stopping score
    # loss
    "margin": 10.0,
    "weight_decay": 0.0,
}


def deterministic_torch() -> None:
    """Torch's deterministic algorithms on, without the 2.4-3 s CPU of `torch.use_deterministic_algorithms`
    (it imports `torch._inductor`, dynamo, sympy: ~15% of a fold job, benchmarks/whole_run.py): the C
    binding it calls last (it, if absent), confirmed by the getter. oneDNN off: its JIT GELU takes the
    CPU's widest ISA, ATen's the one `mathpaths` pins (capping oneDNN by variable crashed OpenVINO)."""
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:
        torch.use_deterministic_algorithms(True)
    else:
        setter(True, warn_only=False)
    torch.backends.mkldnn.enabled = False
    if not torch.are_deterministic_algorithms_enabled() or torch.backends.mkldnn.enabled:
        raise RuntimeError("torch did not enable deterministic algorithms, or kept oneDNN on")


def training_setup(seed: int) -> torch.Generator:
    """One torch thread, deterministic algorithms, torch seeded with ``seed``; a generator seeded the same."""
    torch.set_num_threads(1)
    deterministic_torch()
    torch.manual_seed(int(seed))
    g = torch.Generator()
    g.manual_seed(int(seed))
    return g


def synthetic_draw(n: int, seed: int, mix: dict | None = None, hp: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic vectors and the teacher's SVM outputs (before its transform and clip: ``Teacher.svm_score``)
    for them (the teacher of ``hp``; cached per process, read-only arrays)."""
    spec = tuple((hp or {}).get("teacher") or ("vmaf_v0.6.1", None))
    return _synthetic_cached(int(n), int(seed), None if mix is None else tuple(sorted(mix.items())), spec)


@lru_cache(maxsize=8)
def _synthetic_cached(n: int, seed: int, mix: tuple | None, spec: tuple) -> tuple[np.ndarray, np.ndarray]:
    teacher = hp_teacher({"teacher": list(spec)})
    x = sample_for(teacher, n, seed, None if mix is None else dict(mix))
    y = teacher.svm_score(x)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def student_loss(model, x: torch.Tensor, t: torch.Tensor, margin: float, w: torch.Tensor | None = None) -> torch.Tensor:
    """(Weighted) MSE of ``model.raw(x)`` limited to [lo - margin, hi + margin] against targets ``t``."""
    p = torch.clamp(model.raw(x), model.lo - margin, model.hi + margin)
    e = (p - t) ** 2
    return (e * w).sum() / w.sum() if w is not None else e.mean()


def saved_history(history: dict, *, lists: bool = True) -> dict:
    """What a saved file keeps of a training history: everything but the CPU time it took (a measurement,
    not a result: the same input gives the same bytes); ``lists=False`` keeps the scalars only."""
    return {k: v for k, v in history.items() if k != "cpu_s" and (lists or not isinstance(v, list))}


def training_state(model, arch: str, hp: dict, history: dict) -> dict:
    """A pretraining's result: ``{"arch", "hparams", "state_dict", "history"}`` (``train.train_fold``'s init_state)."""
    return {
        "arch": arch,
        "hparams": copy.deepcopy(hp),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "history": history,
    }


def cosine_lr(step: int, total: int, lr: float, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from ``lr`` to 1e-3 x ``lr`` at ``total``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return lr * (0.5 * (1.0 + np.cos(np.pi * min(1.0, p))) * 0.999 + 0.001)


def minibatch_steps(model: torch.nn.Module, opt: Adam, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float,
                    bs: int, margin: float, g: torch.Generator, every: int,
                    report: Callable[[int, float], None]) -> None:
    """``steps`` Adam steps over shuffled mini-batches of ``(x, y)`` (reshuffled when a pass runs out),
    warm-up + cosine learning rate; every ``every`` steps and at the end ``report(step, mean loss)``
    in eval mode. The pretraining loop of the float and the exact students."""
    perm, pos, running = torch.randperm(len(x), generator=g), 0, 0.0
    model.train()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, steps, lr, max(1, steps // 50))
        if pos + bs > len(x):
            perm, pos = torch.randperm(len(x), generator=g), 0
        idx, pos = perm[pos : pos + bs], pos + bs
        loss = student_loss(model, x[idx], y[idx], margin)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running += loss.item()
        if (step + 1) % every == 0 or step + 1 == steps:
            model.eval()
            report(step + 1, running / every)
            model.train()
            running = 0.0


__all__ = ["TRAIN_DEFAULTS", "cosine_lr", "deterministic_torch", "minibatch_steps", "student_loss", "synthetic_draw",
           "training_setup", "training_state"]
