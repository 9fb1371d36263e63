"""The exact student itself: ``ExactStudent`` (its integer forward, STE helpers, ``calibrate_``),
``build_exact`` and the arch's defaults (``EXACT_DEFAULTS``). The package docstring has the graph."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import synth
from ..exactproof import LIMIT
from ..student_base import OUT_BIAS, OUT_SCALE, Student
from ..teacher import hp_teacher
from . import graph
from .graph import ZERO_EXP
from .transform import check_transform, program, run

ACTS = ("relu", "srelu")
#: srelu squares values < 2C = 2^(1 - e): (2C - 1)^2 < 2^24 needs e >= -11.
KNEE_MIN_EXP = -11

#: Defaults of arch ``exact`` (``train_base.TRAIN_DEFAULTS`` fills the rest); its activation re-checked on the
#: tuning corpus (srelu 0.030 vs ReLU 0.087 clip RMSE, benchmarks/tune.py), never on the demo's LOSO.
#: pre_steps: float steps of the pretraining, qat_steps: its QAT steps.
EXACT_DEFAULTS: dict[str, Any] = {
    "kind": "exact", "hidden": (48, 48), "act": "srelu", "in_bits": 14, "act_bits": 14, "act_min_exp": -11,
    "margin_bits": 0.5, "split_bits": (7, 7), "pre_steps": 48000, "pre_lr": 2e-2, "qat_steps": 12000,
    "qat_lr": 5e-4, "cal_n": 65536,
}
_CTOR = ("hidden", "act", "in_bits", "act_bits", "act_min_exp", "margin_bits", "split_bits", "box_low", "box_high",
         "score_range", "chroma_fix", "transform")


def _round_ste(v: torch.Tensor) -> torch.Tensor:
    return v + (torch.round(v) - v).detach()


def _int_act(t: torch.Tensor, c: torch.Tensor, sq: torch.Tensor, cap: torch.Tensor, srelu: bool) -> torch.Tensor:
    """The graph's activation of integers ``t`` (knee C = ``c``, ``sq`` = 1 / 4C)."""
    if not srelu:
        return torch.minimum(torch.relu(t), cap)
    s, m = t + c, 2.0 * c - 1.0
    v = torch.minimum(torch.relu(s), m)
    return torch.minimum(torch.floor(v * v * sq) + torch.relu(s - m), cap)


class _SRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return torch.relu(u - 1.0) + (torch.clamp(u, -1.0, 1.0) + 1.0) ** 2 * 0.25

    @staticmethod
    def backward(ctx, grad):
        return grad * torch.clamp((ctx.saved_tensors[0] + 1.0) * 0.5, 0.0, 1.0)


class _IntAct(torch.autograd.Function):
    """Forward: ``_int_act(t)`` (exact); backward: straight through to the unfloored ``u`` (0 where capped)."""

    @staticmethod
    def forward(ctx, u, t, c, sq, cap, srelu):
        h = _int_act(t, c, sq, cap, srelu)
        ctx.save_for_backward(u, c, h, cap)
        ctx.srelu = srelu
        return h

    @staticmethod
    def backward(ctx, grad):
        u, c, h, cap = ctx.saved_tensors
        d = torch.clamp((u + c) * (0.5 / c), 0.0, 1.0) if ctx.srelu else (u > 0).to(grad.dtype)
        return grad * d * (h < cap), None, None, None, None, None


class ExactStudent(Student):
    """F -> hidden... -> 1 MLP whose eval-mode forward is integer arithmetic, exact in float32."""

    def __init__(self, n_features: int = 6, hidden: tuple[int, ...] = (48, 48), act: str = "srelu",
                 in_bits: int = 14, act_bits: int = 14, act_min_exp: int = KNEE_MIN_EXP, margin_bits: float = 0.5,
                 split_bits: tuple[int, int] = (7, 7), box_low=None, box_high=None, score_range=(0.0, 100.0),
                 chroma_fix=None, transform=None) -> None:
        super().__init__(n_features, score_range, chroma_fix, transform)
        check_transform(self.transform, self.lo, self.hi)  # ValueError for one the integer stage cannot compute
        lo = np.asarray(synth.BOX_LOW if box_low is None else box_low, dtype=np.float64)
        hi = np.asarray(synth.BOX_HIGH if box_high is None else box_high, dtype=np.float64)
        if lo.shape != (n_features,) or hi.shape != (n_features,) or np.any(hi <= lo):
            raise ValueError(f"the feature box must be two [{n_features}] arrays with high > low")
        if act not in ACTS or not hidden or (act == "srelu" and act_min_exp < KNEE_MIN_EXP):
            raise ValueError(f"need act in {ACTS}, >= 1 hidden layer, srelu act_min_exp >= {KNEE_MIN_EXP}")
        self.act, self.act_min_exp, self.margin_bits = act, float(act_min_exp), float(margin_bits)
        self.cap, self.split_bits, self.project = float(2**act_bits - 1), tuple(split_bits), True
        f32 = torch.float32
        s = in_bits - np.round(np.log2(hi - lo))  # ~2^in_bits steps across the box
        q_lo, q_hi = np.ceil(lo * 2.0**s), np.floor(hi * 2.0**s)
        q_c = np.round((q_lo + q_hi) / 2)
        # float training sees z = (x_q - z_mean) / z_std (x_q: the clipped rounded feature), a fixed
        # re-parametrisation (pretrain_exact sets it from synthetic data; rescale_ never touches it)
        bufs = {"in_mul": 2.0**s, "q_lo": q_lo, "q_hi": q_hi, "q_c": q_c, "z_mean": q_c / 2.0**s,
                "z_std": 2.0 ** (in_bits - 1 - s)}
        for name, v in bufs.items():
            self.register_buffer(name, torch.tensor(v, dtype=f32))
        widths = [n_features, *(int(h) for h in hidden), 1]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        nn.init.normal_(self.layers[-1].weight, std=0.3 / np.sqrt(widths[-2]))
        nn.init.zeros_(self.layers[-1].bias)
        for i, w in enumerate(widths[1:]):
            self.register_buffer(f"acc_exp{i}", torch.zeros(w, dtype=f32))  # log2 accumulator step per channel
            if i < len(hidden):
                self.register_buffer(f"act_exp{i}", torch.zeros(1, dtype=f32))  # log2 activation step
                self.register_buffer(f"cap{i}", torch.full((w,), self.cap, dtype=f32))  # largest activation
        self.register_buffer("split", torch.zeros(len(self.layers), dtype=f32))  # low-order weight bits
        self.register_buffer("quantized", torch.zeros((), dtype=torch.bool))
        self.chroma_constants()  # ValueError for a chroma correction the integer stage cannot compute exactly

    def onehot(self, j: int) -> torch.Tensor:
        """Row ``j`` of the identity over the features, float32 (the chroma stage's column selectors)."""
        return (torch.arange(self.n_features, device=self.in_mul.device) == j).to(torch.float32)

    def chroma_constants(self) -> tuple[int, int, float, float] | None:
        """(g, a, c 2^s_g, -c 2^(s_g - s_a)) of the chroma correction (None without one), float32-exact."""
        if self.chroma_fix is None:
            return None
        (g, a, c), n = self.chroma_fix, self.n_features
        if not (0 <= g < n and 0 <= a < n and g != a and math.isfinite(c)):
            raise ValueError(f"chroma_fix {self.chroma_fix}: need two distinct columns of {n} and a finite c")
        mul = self.in_mul.double()
        k, m = c * float(mul[g]), -c * float(mul[g] / mul[a])
        if any(float(np.float32(v)) != v or abs(v) >= LIMIT for v in (k, m)):
            raise ValueError(f"chroma correction c = {c!r}: c 2^s is not exact in float32 on this input grid")
        return g, a, k, m

    @property
    def first(self) -> nn.Linear:
        return self.layers[0]

    def to_onnx(self, meta: dict[str, str], opset: int = 20) -> bytes:
        """The integer graph's deterministic .onnx bytes, checked and proven (``graph.to_onnx``): what
        ``export.build_onnx`` ships for precision ``exact`` (export reaches it through the model, so importing
        export loads no torch)."""
        return graph.to_onnx(self, meta, opset)

    def rescale_(self, mean, std) -> None:
        """The function does not depend on ``mean``/``std``: only the buffers change."""
        self.set_scaler(mean, std)

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        """The centred integer inputs (constant in training: no gradient flows to ``x``)."""
        x = x.to(torch.float32)  # clamped to the box, then scaled and rounded, as the graph does
        q = torch.round(torch.minimum(torch.maximum(x, self.q_lo / self.in_mul), self.q_hi / self.in_mul) * self.in_mul)
        fix = self.chroma_constants()
        if fix is not None:  # the graph's ops, in its order (every value exact)
            g, a, k, m = fix
            z = torch.floor(torch.clamp(x.abs(), max=2.0**-ZERO_EXP) * 2.0**ZERO_EXP)
            keep = torch.relu(self.onehot(g) - z)
            corr = torch.round(q[:, a : a + 1] * m + k)
            q = torch.minimum(torch.maximum(q + keep * (corr - q), self.q_lo), self.q_hi)
        return q - self.q_c

    def _real(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer ``i``'s weight and bias acting on its integer inputs times their steps."""
        w, b = self.layers[i].weight, self.layers[i].bias
        if i == 0:  # z = a step + offset
            return w, b + w @ ((self.q_c / self.in_mul - self.z_mean) / self.z_std)
        return (w * OUT_SCALE, b * OUT_SCALE + OUT_BIAS) if i == len(self.layers) - 1 else (w, b)

    def _step_in(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(real step, largest |integer|) of layer ``i``'s inputs."""
        if i == 0:
            return 1.0 / (self.in_mul * self.z_std), torch.maximum(self.q_c - self.q_lo, self.q_hi - self.q_c)
        return torch.exp2(getattr(self, f"act_exp{i - 1}")), getattr(self, f"cap{i - 1}")

    def int_weights(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Layer ``i``'s integer weights [out, in], bias [out] and low-order weights (W = W_hi + W_lo 2^-p,
        |W_lo| <= 2^(p-1); None unless split), STE-rounded in training mode."""
        (w, b), (step, amax) = self._real(i), self._step_in(i)
        acc, p = torch.exp2(getattr(self, f"acc_exp{i}")), float(self.split[i])
        wi, bi = w * step[None, :] / acc[:, None], b / acc
        if self.project:  # |round(v)| <= |v| + 1/2 (+ 2^-(p+1) when split), float32 slack on the sum
            budget = LIMIT - 1.5 - (0.5 + (2.0 ** -(p + 1) if p else 0.0)) * float(amax.sum()) - 64.0
            f = torch.clamp(budget / torch.clamp((wi.abs() * amax).sum(dim=1) + bi.abs(), min=1e-30), max=1.0)
            wi, bi = wi * f.detach()[:, None], bi * f.detach()
        rnd = _round_ste if self.training else torch.round
        if not p:
            return rnd(wi), rnd(bi), None
        fine = rnd(wi * 2.0**p)
        w_hi = rnd(fine * 2.0**-p)
        return w_hi, rnd(bi), fine - w_hi * 2.0**p

    def _act_float(self, u: torch.Tensor) -> torch.Tensor:
        return torch.relu(u) if self.act == "relu" else _SRelu.apply(u)

    def _layer(self, i: int, a: torch.Tensor) -> torch.Tensor:
        """Layer ``i`` on integer activations ``a``: the next integer activations, or the score."""
        w, b, w_lo = self.int_weights(i)
        acc, p, last = a @ w.T + b, float(self.split[i]), i == len(self.layers) - 1
        e = 0.0 if last else getattr(self, f"act_exp{i}")
        mul = 1.0 if last else torch.exp2(getattr(self, f"acc_exp{i}") - e)
        u = acc * mul
        t = torch.floor(u) if not last else acc
        if w_lo is not None:
            lo = (a @ w_lo.T) * (mul * 2.0**-p)
            u, t = u + lo, t + torch.floor(lo)
        if last:
            t = u + (t - u).detach() if self.training else t
            return t[:, 0] * torch.exp2(getattr(self, f"acc_exp{i}"))
        args = (torch.exp2(-e), torch.exp2(e - 2.0), getattr(self, f"cap{i}"), self.act == "srelu")
        return _IntAct.apply(u, t.detach(), *args) if self.training else _int_act(t, *args)

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        a = self._input(x)
        if not bool(self.quantized):  # the float student on the rounded inputs (pretraining)
            w, b = self._real(0)
            z = self._act_float((a * self._step_in(0)[0]) @ w.T + b)
            for layer in self.layers[1:-1]:
                z = self._act_float(layer(z))
            return self.layers[-1](z)[:, 0] * OUT_SCALE + OUT_BIAS
        for i in range(len(self.layers)):
            a = self._layer(i, a)
        return a

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """The teacher's transform and clip of ``raw`` in exact arithmetic (``exact.transform``): the graph's bits."""
        steps, _ = program(self.transform, self.lo, self.hi)
        return run(steps, self.raw(x))

    @torch.no_grad()
    def calibrate_(self, x: torch.Tensor) -> None:
        """Choose every power-of-two step from the float weights and ``x``, then switch to integers.
        Accumulator steps: the finest keeping the channel's worst-case partial sum under 2^(24 -
        margin_bits); split bits: ``split_bits`` (fewer if the low-order sum could reach 2^23);
        activation step: the finest (>= 2^act_min_exp) holding the layer's largest value on ``x``
        in 2^act_bits - 1; caps: each channel's largest integer activation on ``x``."""
        training, last = self.training, len(self.layers) - 1
        self.eval()
        self.quantized.fill_(True)
        a = self._input(x)
        for i in range(last + 1):
            (w, b), (step, amax) = self._real(i), self._step_in(i)
            l1 = (w.abs() * (step * amax)).sum(dim=1) + b.abs()
            getattr(self, f"acc_exp{i}").copy_(torch.ceil(torch.log2(l1.clamp(min=1e-30)) - 24 + self.margin_bits))
            want = self.split_bits[0] if i == 0 else self.split_bits[1] if i == last else 0
            self.split[i] = float(max(0, min(want, math.floor(24 - math.log2(float(amax.sum()))))))
            if i == last:
                break
            top = self._act_float((a * step) @ w.T + b).amax(dim=0)
            top = torch.where(top > 0, top, l1)  # a channel that never fires on x: its worst case
            e = float(torch.ceil(torch.log2(top.clamp(min=1e-30) / self.cap)).amax())
            getattr(self, f"act_exp{i}").fill_(max(e, self.act_min_exp))
            getattr(self, f"cap{i}").fill_(self.cap)
            a = self._layer(i, a)
            getattr(self, f"cap{i}").copy_(a.amax(dim=0).clamp(min=1.0))
        self.train(training)


def build_exact(hparams: dict | None = None) -> ExactStudent:
    """A fresh (float-mode, eval) exact student from ``hparams`` over ``EXACT_DEFAULTS``."""
    hp = {**EXACT_DEFAULTS, **(hparams or {})}
    if hp.get("box_low") is None or hp.get("box_high") is None:  # the teacher's fixed box (never data)
        teacher = hp_teacher(hp)
        lo, hi = (synth.BOX_LOW, synth.BOX_HIGH) if teacher.family == "v0.6.1" else synth.generic_box(teacher)
        if hp.get("chroma_fix") is not None:  # speed_chroma's end holds the corrected c - c * adm3
            g, a, c = int(hp["chroma_fix"][0]), int(hp["chroma_fix"][1]), float(hp["chroma_fix"][2])
            hi = np.array(hi, dtype=np.float64)
            hi[g] = max(hi[g], c * (1.0 - lo[a]), c * (1.0 - hi[a]))
        hp["box_low"], hp["box_high"] = lo, hi
    kw = {k: hp[k] for k in _CTOR if hp.get(k) is not None}
    kw["hidden"], kw["split_bits"] = tuple(int(h) for h in kw["hidden"]), tuple(int(v) for v in kw["split_bits"])
    return ExactStudent(int(hp.get("n_features", 6)), **kw).float().eval()


__all__ = ["ACTS", "EXACT_DEFAULTS", "KNEE_MIN_EXP", "ExactStudent", "build_exact"]
