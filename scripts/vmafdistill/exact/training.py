"""The exact student's corpus-free pretraining: ``pretrain_exact`` (float phase, ``calibrate_``, QAT)
and its training loop ``_fit``, on the loop pieces it shares with the float students (``train_base``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..adam import Adam
from ..train_base import TRAIN_DEFAULTS, minibatch_steps, student_loss, synthetic_draw, training_setup, training_state
from .model import EXACT_DEFAULTS, ExactStudent, build_exact
from .prover import check_bound

Progress = Callable[[int, float, float], None] | None


def _fit(model: ExactStudent, data: tuple[torch.Tensor, ...], steps: int, lr: float, bs: int, margin: float,
         g: torch.Generator, hist: dict, tag: str, progress: Progress) -> None:
    x, y, xv, yv = data

    def report(step: int, loss: float) -> None:
        with torch.no_grad():
            hist.setdefault(f"{tag}_val", []).append(float(student_loss(model, xv, yv, margin)))
        hist.setdefault(f"{tag}_step", []).append(step)
        if progress is not None:
            progress(step, loss, hist[f"{tag}_val"][-1])

    opt = Adam(model.parameters(), lr=lr)
    minibatch_steps(model, opt, x, y, steps, lr, bs, margin, g, max(1, steps // 10), report)
    model.eval()


def pretrain_exact(hparams: dict | None = None, seed: int = 0, progress: Progress = None, arch: str = "exact") -> dict:
    """Corpus-free pretraining: float training on teacher-labelled synthetic vectors (``pre_steps``),
    ``calibrate_``, then QAT (``qat_steps``). Returns a state in ``train.pretrain``'s format (``arch``,
    ``hparams``, ``state_dict``, ``history``) for ``train.train_fold``; deterministic in its arguments."""
    hp = {**TRAIN_DEFAULTS, **EXACT_DEFAULTS, **(hparams or {})}
    g, t0 = training_setup(seed), time.process_time()
    model, m = build_exact(hp), float(hp["margin"])
    x_np, y_np = synthetic_draw(int(hp["pre_n"]), int(hp["pre_seed_data"]), hp.get("mix"), hp)
    xv_np, yv_np = synthetic_draw(int(hp["ft_syn_val_n"]), int(hp["pre_seed_data"]) + 1, None, hp)
    mean, std = x_np.mean(axis=0), np.where(x_np.std(axis=0) > 1e-6, x_np.std(axis=0), 1.0)
    model.set_scaler(mean, std)
    if hp.get("z_standardise", True):  # condition the float phase as the other students are (fixed from here)
        model.z_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        model.z_std.copy_(torch.as_tensor(std, dtype=torch.float32))
    x, xv = torch.tensor(x_np, dtype=torch.float32), torch.tensor(xv_np, dtype=torch.float32)
    y, yv = (torch.tensor(np.clip(v, model.lo - m, model.hi + m), dtype=torch.float32) for v in (y_np, yv_np))
    data = (x, y, xv, yv)
    hist: dict[str, Any] = {}
    bs = int(hp["pre_batch"])
    _fit(model, data, int(hp["pre_steps"]), float(hp["pre_lr"]), bs, m, g, hist, "float", progress)
    with torch.no_grad():
        hist["float_val_final"] = float(student_loss(model, data[2], data[3], m))
        model.calibrate_(data[0][: int(hp["cal_n"])])
        hist["calibrated_val"] = float(student_loss(model, data[2], data[3], m))
    _fit(model, data, int(hp["qat_steps"]), float(hp["qat_lr"]), bs, m, g, hist, "qat", progress)
    with torch.no_grad():
        hist["best_val"] = float(student_loss(model, data[2], data[3], m))
    hist["bound"] = {k: v for k, v in check_bound(model).items() if k != "problems"}
    hist["cpu_s"] = time.process_time() - t0
    return training_state(model, arch, hp, hist)


__all__ = ["Progress", "pretrain_exact"]
