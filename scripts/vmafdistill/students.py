"""Student architectures distilled from a libvmaf teacher (config `teacher`, default vmaf_v0.6.1).

Every student takes the teacher's F raw features in canonical order ``x [N, F]`` (float32; F = 6 for
the vmaf_v0.6.1 family, 4 for VMAF v1.0.16) and returns the score ``[N]``:

0. for a teacher with a chroma correction (v1.0.16): libvmaf's own input fix, in the graph: a
   speed_chroma feature of exactly 0 becomes ``c - c * adm3`` (``teacher_hparams``'s ``chroma_fix``);
1. a fixed in-model standardisation, buffers ``mean`` / ``std`` ([F] float32): ``z = (x - mean) / std``;
2. the body (``raw(x)``: the SVM's own output, before the teacher's score transform and clip);
3. the teacher's score transform (``student_base.apply_transform``: p0/p1/p2, knots, out_lte_in/out_gte_in;
   none for most teachers) and the clamp to its score range ([0, 100]; [0, 110] for vmaf_v1.0.16_3d0h_2160);
4. a row with a NaN or infinite feature scores NaN (``forward``; the ONNX graph ends with the same guard).

``raw`` is what training fits: the SVM's output is smooth, while its transform (the phone model's
``max(p(s), s)``) and clip have kinks that the graph reproduces exactly after it. The teacher travels
in the hparams (``teacher.teacher_hparams``): ``n_features``, ``score_range``, ``chroma_fix``,
``transform`` and ``teacher`` (its spelling, for ``reweight_svm``). The base class ``Student`` and the
heads' output affine live in ``student_base`` (shared with ``exact``); ``build_student`` builds any arch,
the exact one through ``exact.build_exact``. Float modules export with ``torch.onnx.export`` (config
``opset``, dynamic batch).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .archs import resolve_hparams
from .exact import build_exact
from .student_base import OUT_BIAS, OUT_SCALE, Student
from .teacher import hp_teacher

_ACTS = {"gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "relu": nn.ReLU}


class _FirstLayerRescale:
    """Exact scaler change for a student whose standardised input feeds one ``nn.Linear`` (``first``)."""

    def rescale_(self, mean, std) -> None:
        """W (x - m0)/s0 + b == W' (x - m1)/s1 + b'  with  W' = W s1/s0,  b' = b + W (m1 - m0)/s0."""
        with torch.no_grad():
            m0, s0 = self.mean.double(), self.std.double()
            m1 = torch.as_tensor(np.asarray(mean), dtype=torch.float64)
            s1 = torch.as_tensor(np.asarray(std), dtype=torch.float64)
            w = self.first.weight.double()
            b = self.first.bias.double()
            b_new = b + w @ ((m1 - m0) / s0)
            w_new = w * (s1 / s0)[None, :]
            self.first.weight.copy_(w_new.to(self.first.weight.dtype))
            self.first.bias.copy_(b_new.to(self.first.bias.dtype))
            self.mean.copy_(m1.to(self.mean.dtype))
            self.std.copy_(s1.to(self.std.dtype))


class Linear(_FirstLayerRescale, Student):
    """Linear regression on standardised features (baseline)."""

    def __init__(self, **teacher: object) -> None:
        super().__init__(**teacher)
        self.first = nn.Linear(self.n_features, 1)
        nn.init.zeros_(self.first.weight)
        nn.init.zeros_(self.first.bias)

    def body(self, z: torch.Tensor) -> torch.Tensor:
        return self.first(z)[:, 0] * OUT_SCALE + OUT_BIAS


class MLP(_FirstLayerRescale, Student):
    """6 -> hidden... -> 1 multilayer perceptron on standardised features."""

    def __init__(self, hidden: tuple[int, ...] = (64, 64), act: str = "gelu", **teacher: object) -> None:
        super().__init__(**teacher)
        layers: list[nn.Module] = []
        width = self.n_features
        for h in hidden:
            layers += [nn.Linear(width, h), _ACTS[act]()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        last = self.net[-1]
        nn.init.normal_(last.weight, std=0.3 / np.sqrt(width))
        nn.init.zeros_(last.bias)

    @property
    def first(self) -> nn.Linear:
        return self.net[0]

    def body(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)[:, 0] * OUT_SCALE + OUT_BIAS


class ReweightSVM(Student):
    """Learned per-feature affine re-weighting in front of the frozen teacher SVM.

    ``x' = mean + std * (w * (x - mean) / std + b)`` (2F parameters: ``w`` init 1, ``b`` init 0, in
    standardised units, so the scaler only conditions the optimisation: at init the model *is* the
    teacher), then the SVM: model-order permutation, slopes/intercepts, RBF kernel (differentiable),
    de-normalisation (the SVM's own output; ``Student.score`` applies the transform and clip). The SVM's
    constants are frozen float64 buffers and the SVM runs in float64 (its kernel sum cancels heavily:
    in float32 the score is off by ~2e-3, in float64 by ~1e-5 from the float32 input rounding alone);
    input, output and the 2F parameters stay float32.
    """

    def __init__(self, teacher, **kw: object) -> None:  # a teacher.Teacher
        t = teacher.model
        super().__init__(**kw)
        n = self.n_features
        self.w = nn.Parameter(torch.ones(n))
        self.b = nn.Parameter(torch.zeros(n))
        # fold the permutation into the normalisation: canonical-order slopes/intercepts
        inv = t.canonical_to_model()  # canonical = model[:, inv]
        f64 = torch.float64
        self.register_buffer("svm_slopes", torch.tensor(t.slopes[1:][inv], dtype=f64))
        self.register_buffer("svm_intercepts", torch.tensor(t.intercepts[1:][inv], dtype=f64))
        self.register_buffer("sv", torch.tensor(t.support_vectors[:, inv], dtype=f64))
        # score = (sum_i alpha_i k_i - rho - intercept) / slope, folded into alpha and one bias
        self.register_buffer("alpha", torch.tensor(t.coef / t.slopes[0], dtype=f64))
        self.register_buffer("svm_bias", torch.tensor((-t.rho - t.intercepts[0]) / t.slopes[0], dtype=f64))
        self.gamma = float(t.gamma)

    def float(self):  # keep the SVM's float64 constants (Module.float would cast them)
        return self

    def body(self, z: torch.Tensor) -> torch.Tensor:
        f64 = torch.float64
        x = self.mean.to(f64) + self.std.to(f64) * (self.w.to(f64) * z.to(f64) + self.b.to(f64))
        xn = x * self.svm_slopes + self.svm_intercepts
        d = xn[:, None, :] - self.sv[None, :, :]
        k = torch.exp((d * d).sum(dim=2) * (-self.gamma))
        y = k @ self.alpha + self.svm_bias  # the SVM's output: Student.score applies the transform and clip
        return y.to(z.dtype)

    def rescale_(self, mean, std) -> None:
        """x' = w x + (m0 (1 - w) + b s0): keep w, solve b for the new (m1, s1)."""
        with torch.no_grad():
            m0, s0 = self.mean.double(), self.std.double()
            m1 = torch.as_tensor(np.asarray(mean), dtype=torch.float64)
            s1 = torch.as_tensor(np.asarray(std), dtype=torch.float64)
            w, b = self.w.double(), self.b.double()
            b_new = (m0 * (1 - w) + b * s0 - m1 * (1 - w)) / s1
            self.b.copy_(b_new.to(self.b.dtype))
            self.mean.copy_(m1.to(self.mean.dtype))
            self.std.copy_(s1.to(self.std.dtype))


# ------------------------------------------------------------------------------------------------
# registry

def build_student(arch: str, hparams: dict | None = None) -> Student:
    """A fresh student (float32, eval mode) of ``arch`` with ``hparams`` over the defaults (the
    teacher's ``teacher_hparams`` among them; none: vmaf_v0.6.1)."""
    hp = resolve_hparams(arch, hparams)
    kind = hp["kind"]
    teacher = {"n_features": int(hp.get("n_features", 6)), "score_range": hp.get("score_range", (0.0, 100.0)),
               "chroma_fix": hp.get("chroma_fix"), "transform": hp.get("transform")}
    if kind == "linear":
        model: Student = Linear(**teacher)
    elif kind == "mlp":
        model = MLP(tuple(int(h) for h in hp["hidden"]), str(hp.get("act", "gelu")), **teacher)
    elif kind == "reweight_svm":
        model = ReweightSVM(hp_teacher(hp), **teacher)
    elif kind == "exact":
        model = build_exact(hp)
    else:
        raise ValueError(f"unknown student kind {kind!r}")
    return model.float().eval()


def n_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


__all__ = ["Linear", "MLP", "ReweightSVM", "build_student", "n_params"]
