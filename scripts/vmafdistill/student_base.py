"""The students' base class and output constants, shared by the float students (``students``) and the
exact one (``exact.model``): ``Student`` (the teacher's input fix, the standardisation buffers, the
teacher's score transform and clamp, the non-finite guard; subclasses implement ``body``),
``apply_transform`` (libvmaf's score transform in torch) and the MLP heads' output affine
``OUT_BIAS`` / ``OUT_SCALE``. A leaf: it imports torch and numpy only (``students`` has the pipeline)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: Fixed output affine of the MLP heads: the last layer predicts (score - 50) / 30.
OUT_BIAS = 50.0
OUT_SCALE = 30.0


class Student(nn.Module):
    """Base: the teacher's input fix, fixed standardisation buffers, final clamp; subclasses implement
    ``body(z)``."""

    def __init__(self, n_features: int = 6, score_range=(0.0, 100.0), chroma_fix=None, transform=None) -> None:
        super().__init__()
        self.n_features = int(n_features)
        self.lo, self.hi = float(score_range[0]), float(score_range[1])
        self.transform = None if transform is None else dict(transform)  # teacher.transform_hparams
        self.chroma_fix = None if chroma_fix is None else (int(chroma_fix[0]), int(chroma_fix[1]), float(chroma_fix[2]))
        self.register_buffer("mean", torch.zeros(self.n_features))
        self.register_buffer("std", torch.ones(self.n_features))

    def body(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def fix_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """libvmaf's chroma correction (v1.0.16): speed_chroma == 0 exactly -> c - c * adm3."""
        if self.chroma_fix is None:
            return x
        g, a, c = self.chroma_fix
        col = torch.where(x[:, g] == 0.0, c - c * x[:, a], x[:, g])
        return torch.cat([x[:, :g], col[:, None], x[:, g + 1 :]], dim=1)

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """The SVM's output as the student learns it (before the teacher's transform and clip), shape [N]."""
        return self.body((self.fix_inputs(x) - self.mean) / self.std)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """The score of finite rows: the teacher's transform of ``raw``, clamped to its range (what the ONNX
        graph computes before its guard)."""
        return torch.clamp(apply_transform(self.transform, self.raw(x)), self.lo, self.hi)

    #: False while exporting: the ONNX graph appends the same guard in one engine-neutral form
    guarded = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``score``; a row with a NaN or infinite feature scores NaN (the contract: ``vmafdistill.contract``)."""
        y = self.score(x)
        if not self.guarded:
            return y
        return torch.where(torch.isfinite(x).all(dim=1), y, torch.full_like(y, float("nan")))

    # -- scaler -------------------------------------------------------------------------------
    def set_scaler(self, mean, std) -> None:
        """Set the standardisation buffers (no re-parametrisation: the function changes)."""
        self.mean.copy_(torch.as_tensor(np.asarray(mean), dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(np.asarray(std), dtype=self.std.dtype))

    def rescale_(self, mean, std) -> None:
        """Change the standardisation to ``(mean, std)`` keeping the function unchanged."""
        raise NotImplementedError


def apply_transform(tr: dict | None, y: torch.Tensor) -> torch.Tensor:
    """libvmaf's score transform (predict.c ``transform``) of SVM outputs ``y`` in float32: the polynomial
    p0 + p1 y + p2 y^2 (each term when given), the piecewise-linear ``knots``, then ``out_lte_in`` /
    ``out_gte_in``; ``tr`` None: unchanged."""
    if tr is None:
        return y
    out = y
    if any(c is not None for c in tr["p"]):
        out = torch.zeros_like(y)
        for power, c in enumerate(tr["p"]):
            if c:
                out = out + (c if power == 0 else c * y if power == 1 else c * (y * y))
    knots = [tuple(k) for k in tr.get("knots") or []]
    if knots:
        mapped = torch.zeros_like(out)
        for i, ((x0, y0), (x1, y1)) in enumerate(zip(knots, knots[1:])):
            alpha = 0.0 if y0 == y1 else (y1 - y0) / (x1 - x0)
            inside = (out >= x0) & (out <= x1)
            inside = inside | (out < x0) if i == 0 else inside
            inside = inside | (out > x1) if i == len(knots) - 2 else inside
            mapped = torch.where(inside, alpha * out + (y0 - x0 * alpha), mapped)
        out = mapped
    if tr.get("out_lte_in"):
        out = torch.minimum(out, y)
    return torch.maximum(out, y) if tr.get("out_gte_in") else out


__all__ = ["OUT_BIAS", "OUT_SCALE", "Student", "apply_transform"]
