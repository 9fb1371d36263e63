"""Student architectures distilled from the vmaf_v0.6.1 teacher.

Every student takes canonical-6 raw features ``x [N, 6]`` (float32) and returns the score ``[N]``:

1. a fixed in-model standardisation, buffers ``mean`` / ``std`` ([6] float32): ``z = (x - mean) / std``;
2. the body (``raw(x)``: the score before the clip, in VMAF units);
3. a final clamp to [0, 100], as the teacher (libvmaf) clips.

``raw`` is what training fits (the teacher's unclipped score is smooth, its clip is reproduced
exactly by the clamp). All modules export with ``torch.onnx.export`` (opset 17, dynamic batch).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

#: Fixed output affine of the MLP heads: the last layer predicts (score - 50) / 30.
OUT_BIAS = 50.0
OUT_SCALE = 30.0

_ACTS = {"gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "relu": nn.ReLU}


class Student(nn.Module):
    """Base: fixed standardisation buffers + final clamp; subclasses implement ``body(z)``."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(6))
        self.register_buffer("std", torch.ones(6))

    def body(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """The score before the [0, 100] clamp, shape [N]."""
        return self.body((x - self.mean) / self.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.raw(x), 0.0, 100.0)

    # -- scaler -------------------------------------------------------------------------------
    def set_scaler(self, mean, std) -> None:
        """Set the standardisation buffers (no re-parametrisation: the function changes)."""
        self.mean.copy_(torch.as_tensor(np.asarray(mean), dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(np.asarray(std), dtype=self.std.dtype))

    def rescale_(self, mean, std) -> None:
        """Change the standardisation to ``(mean, std)`` keeping the function unchanged."""
        raise NotImplementedError


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

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(6, 1)
        nn.init.zeros_(self.first.weight)
        nn.init.zeros_(self.first.bias)

    def body(self, z: torch.Tensor) -> torch.Tensor:
        return self.first(z)[:, 0] * OUT_SCALE + OUT_BIAS


class MLP(_FirstLayerRescale, Student):
    """6 -> hidden... -> 1 multilayer perceptron on standardised features."""

    def __init__(self, hidden: tuple[int, ...] = (64, 64), act: str = "gelu") -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 6
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
    """Learned per-feature affine re-weighting in front of the frozen vmaf_v0.6.1 SVM.

    ``x' = mean + std * (w * (x - mean) / std + b)`` (12 parameters: ``w`` init 1, ``b`` init 0, in
    standardised units, so the scaler only conditions the optimisation: at init the model *is* the
    teacher), then the SVM: model-order permutation, slopes/intercepts, RBF kernel (differentiable),
    de-normalisation. The SVM's constants are frozen float64 buffers and the SVM runs in float64 (its
    211-term kernel sum cancels heavily: in float32 the score is off by ~2e-3, in float64 by ~1e-5 from
    the float32 input rounding alone); input, output and the 12 parameters stay float32.
    """

    def __init__(self) -> None:
        super().__init__()
        from .teacher import _MODEL_ORDER, load_teacher

        t = load_teacher()
        self.w = nn.Parameter(torch.ones(6))
        self.b = nn.Parameter(torch.zeros(6))
        order = np.asarray(_MODEL_ORDER)
        # fold the permutation into the normalisation: canonical-order slopes/intercepts
        inv = np.argsort(order)
        f64 = torch.float64
        self.register_buffer("svm_slopes", torch.tensor(t.slopes[inv], dtype=f64))
        self.register_buffer("svm_intercepts", torch.tensor(t.intercepts[inv], dtype=f64))
        self.register_buffer("sv", torch.tensor(t.support_vectors[:, inv], dtype=f64))
        # score = (sum_i alpha_i k_i - rho - intercept) / slope, folded into alpha and one bias
        self.register_buffer("alpha", torch.tensor(t.alpha / t.score_slope, dtype=f64))
        self.register_buffer("svm_bias", torch.tensor((-t.rho - t.score_intercept) / t.score_slope, dtype=f64))
        self.gamma = float(t.gamma)

    def float(self):  # keep the SVM's float64 constants (Module.float would cast them)
        return self

    def body(self, z: torch.Tensor) -> torch.Tensor:
        f64 = torch.float64
        x = self.mean.to(f64) + self.std.to(f64) * (self.w.to(f64) * z.to(f64) + self.b.to(f64))
        xn = x * self.svm_slopes + self.svm_intercepts
        d = xn[:, None, :] - self.sv[None, :, :]
        k = torch.exp((d * d).sum(dim=2) * (-self.gamma))
        return (k @ self.alpha + self.svm_bias).to(z.dtype)

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

#: arch -> default hparams. ``kind``/``hidden``/``act`` build the module; the ``pre_*``/``ft_*`` keys
#: are training knobs read by ``train.py`` (its ``TRAIN_DEFAULTS`` fill the rest). Budgets were set
#: by measurement on 1 CPU thread: pretraining (once per arch, corpus-free) ~3 / 20 / 18 / 48 / 0 s,
#: fine-tuning per fold ~0.5 / 1.2 / 1.4 / 2.9 / 1.5 s (in the ARCHS order).
ARCHS: dict[str, dict] = {
    "linear": {"kind": "linear", "pre_steps": 3000, "pre_lr": 1e-2, "ft_steps": 300, "ft_lr": 1e-3},
    # nano: 1,313 parameters, fp32 ONNX ~8.3 KB (< 10 KB); 6-16-16-1 and 6-24-24-1 were ~1.5-2x worse
    "nano": {"kind": "mlp", "hidden": (32, 32), "act": "gelu", "pre_steps": 20000, "pre_lr": 2e-2},
    "mlp_64x2": {"kind": "mlp", "hidden": (64, 64), "act": "gelu", "pre_steps": 16000, "pre_lr": 2e-2},
    "mlp_128x3": {"kind": "mlp", "hidden": (128, 128, 128), "act": "gelu", "pre_steps": 12000, "pre_lr": 1e-2},
    # starts as the exact teacher: no pretraining, a short fine-tune (early stopping keeps it if no gain)
    "reweight_svm": {"kind": "reweight_svm", "pre_steps": 0, "ft_steps": 150, "ft_batch": 256,
                     "ft_replay_batch": 256, "ft_lr": 1e-3, "ft_val_every": 25},
}


def resolve_hparams(arch: str, hparams: dict | None = None) -> dict:
    """Default hparams of ``arch`` updated with ``hparams``."""
    if arch not in ARCHS:
        raise KeyError(f"unknown arch {arch!r}; known: {sorted(ARCHS)}")
    hp = copy.deepcopy(ARCHS[arch])
    hp.update(hparams or {})
    return hp


def build_student(arch: str, hparams: dict | None = None) -> Student:
    """A fresh student (float32, eval mode) of ``arch`` with ``hparams`` over the defaults."""
    hp = resolve_hparams(arch, hparams)
    kind = hp["kind"]
    if kind == "linear":
        model: Student = Linear()
    elif kind == "mlp":
        model = MLP(tuple(int(h) for h in hp["hidden"]), str(hp.get("act", "gelu")))
    elif kind == "reweight_svm":
        model = ReweightSVM()
    else:
        raise ValueError(f"unknown student kind {kind!r}")
    return model.float().eval()


def n_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


__all__ = ["ARCHS", "Student", "Linear", "MLP", "ReweightSVM", "build_student", "n_params", "resolve_hparams"]
