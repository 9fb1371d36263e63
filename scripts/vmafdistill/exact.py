"""The engine-exact student (arch ``exact``): integer arithmetic that float32 computes exactly.

Every value of the graph is an integer times a power of two, and every value, product and partial
sum is, in units of its grid, an integer of magnitude < 2^24: float32 computes each one exactly, so
every IEEE-754 engine gives the same bits whatever its summation order, SIMD width or FMA use. Graph::

    a0 = Min(Max(Round(x * 2^s), q_lo), q_hi) - q_c                     in_bits integers from the fixed box
    t  = Floor((a W_hi + b) 2^-k) [+ Floor(a W_lo 2^-(k+p))]           per-channel power-of-two requantise
    a' = Min(Floor(Min(Relu(t + C), 2C - 1)^2 / 4C) + Relu(t + C - (2C - 1)), cap)      srelu, C = 2^-e
    vmaf = Clip((a w_hi + b + Floor(a w_lo 2^-p)) 2^s_out, lo, hi)     the teacher's score range ([0, 100])

srelu(u) = relu(u - 1) + (clip(u, -1, 1) + 1)^2 / 4 is ReLU with a C1 quadratic knee (float LOSO RMSE
4.5x lower than ReLU at this size); its integer form above is exactly floor(C srelu(t / C)). The input
quantisation comes from the box (``synth.BOX_LOW/BOX_HIGH``), so ``rescale_`` leaves the function
unchanged. Weights are latent float parameters; layer ``i``'s integers are ``round(W step_in / 2^e_j)``
with per-output-channel accumulator steps 2^e_j chosen by ``calibrate_`` so that the channel's
worst-case partial sum is ~2^(24 - margin_bits); an L1 projection in the quantiser keeps it < 2^24
whatever training does. The first and last layers carry ``split_bits`` more weight bits in a second,
low-order integer matrix (its dot product floored into the sum). Training mode uses straight-through
estimators (QAT); eval mode computes exactly what the graph computes. ``prove_bound`` proves the bound
from the graph's constants alone; ``to_onnx`` refuses a graph it cannot prove.

A teacher with a chroma correction (v1.0.16, ``chroma_fix = (g, a, c)``: libvmaf feeds its SVM
c - c * adm3 for a speed_chroma of exactly 0) gets it in the integer input stage, before the centring
(x_b: the clipped rounded inputs, e_g: the one-hot row of column g, e_a: the one-hot column of a)::

    z    = Round(Max(Min(x * 2^20, 1), -1));  keep = Relu(e_g - z z)    1 at column g iff |x_g| <= 2^-21
    corr = Round(x_b e_a (-c 2^(s_g - s_a)) + c 2^s_g)                  c (1 - adm3) on speed_chroma's grid
    x_b' = Min(Max(x_b + keep (corr - x_b), q_lo), q_hi)

so the corrected value is c - c * (the quantised adm3), rounded half-even and clipped like any input
(the box's speed_chroma end is widened to hold it, ``build_exact``). "Exactly 0" is |x| <= 2^-21:
libvmaf's 6-decimal log cannot tell such a value from 0 (its smallest non-zero is 1e-6), and the test
is exact on any engine, with or without flushing subnormals. Every product and sum is exact (c 2^s_g
and c 2^(s_g - s_a) must be float32-exact: ValueError otherwise); ``prove_bound`` proves it.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from . import synth
from .students import OUT_BIAS, OUT_SCALE, Student

#: float32 holds every integer of magnitude <= 2^24 exactly; the proof requires < 2^24.
LIMIT = 2**24
ACTS = ("relu", "srelu")
#: srelu squares values < 2C = 2^(1 - e): (2C - 1)^2 < 2^24 needs e >= -11.
KNEE_MIN_EXP = -11
INPUT, OUTPUT, BATCH_DIM = "features", "vmaf", "N"
#: the chroma correction's zero test: |x| * 2^ZERO_EXP rounds to 0 iff |x| <= 2^-(ZERO_EXP + 1)
ZERO_EXP = 20

#: Defaults of arch ``exact`` (``train.TRAIN_DEFAULTS`` fills the rest); chosen by measurement on the
#: demo corpus (LOSO). pre_steps: float steps of the pretraining, qat_steps: its QAT steps.
EXACT_DEFAULTS: dict[str, Any] = {
    "kind": "exact", "hidden": (48, 48), "act": "srelu", "in_bits": 14, "act_bits": 14, "act_min_exp": -11,
    "margin_bits": 0.5, "split_bits": (7, 7), "pre_steps": 12000, "pre_lr": 2e-2, "qat_steps": 3000,
    "qat_lr": 5e-4, "cal_n": 65536,
}  # fmt: skip
_CTOR = ("hidden", "act", "in_bits", "act_bits", "act_min_exp", "margin_bits", "split_bits", "box_low", "box_high",
         "score_range", "chroma_fix")


class BoundError(ValueError):
    """A graph (or model) is not provably exact in float32."""


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
    def forward(ctx, u):  # noqa: ANN001, ANN205
        ctx.save_for_backward(u)
        return torch.relu(u - 1.0) + (torch.clamp(u, -1.0, 1.0) + 1.0) ** 2 * 0.25

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        return grad * torch.clamp((ctx.saved_tensors[0] + 1.0) * 0.5, 0.0, 1.0)


class _IntAct(torch.autograd.Function):
    """Forward: ``_int_act(t)`` (exact); backward: straight through to the unfloored ``u`` (0 where capped)."""

    @staticmethod
    def forward(ctx, u, t, c, sq, cap, srelu):  # noqa: ANN001, ANN205
        h = _int_act(t, c, sq, cap, srelu)
        ctx.save_for_backward(u, c, h, cap)
        ctx.srelu = srelu
        return h

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        u, c, h, cap = ctx.saved_tensors
        d = torch.clamp((u + c) * (0.5 / c), 0.0, 1.0) if ctx.srelu else (u > 0).to(grad.dtype)
        return grad * d * (h < cap), None, None, None, None, None


class ExactStudent(Student):
    """F -> hidden... -> 1 MLP whose eval-mode forward is integer arithmetic, exact in float32."""

    def __init__(self, n_features: int = 6, hidden: tuple[int, ...] = (48, 48), act: str = "srelu",
                 in_bits: int = 14, act_bits: int = 14, act_min_exp: int = KNEE_MIN_EXP, margin_bits: float = 0.5,
                 split_bits: tuple[int, int] = (7, 7), box_low=None, box_high=None, score_range=(0.0, 100.0),
                 chroma_fix=None) -> None:  # fmt: skip  # noqa: ANN001
        super().__init__(n_features, score_range, chroma_fix)
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
                "z_std": 2.0 ** (in_bits - 1 - s)}  # fmt: skip
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
        self._chroma()  # ValueError for a chroma correction the integer stage cannot compute exactly

    def _onehot(self, j: int) -> torch.Tensor:
        return (torch.arange(self.n_features, device=self.in_mul.device) == j).to(torch.float32)

    def _chroma(self) -> tuple[int, int, float, float] | None:
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

    def rescale_(self, mean, std) -> None:  # noqa: ANN001
        """The function does not depend on ``mean``/``std``: only the buffers change."""
        self.set_scaler(mean, std)

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        """The centred integer inputs (constant in training: no gradient flows to ``x``)."""
        x = x.to(torch.float32)
        q = torch.minimum(torch.maximum(torch.round(x * self.in_mul), self.q_lo), self.q_hi)
        fix = self._chroma()
        if fix is not None:  # the graph's ops, in its order (every value exact)
            g, a, k, m = fix
            z = torch.round(torch.clamp(x * 2.0**ZERO_EXP, -1.0, 1.0))
            keep = torch.relu(self._onehot(g) - z * z)
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
        from .teacher import hp_teacher

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


# ------------------------------------------------------------------------------------------------
# ONNX


def _proto(model: ExactStudent, meta: dict[str, str] | None = None, opset: int = 20):  # noqa: ANN202
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if not bool(model.quantized):
        raise BoundError("the exact student is not calibrated (calibrate_ / pretrain_exact first)")
    inits, nodes = [], []

    def node(op: str, ins: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, ins, [out], name=f"{len(nodes):02d}_{op}", **attrs))
        return out

    def const(name: str, v: Any, small_int: bool = False) -> str:
        """A float32 initializer; ``small_int``: int8/int16 storage (+ an exact Cast) when it fits."""
        v = np.asarray(v.detach() if isinstance(v, torch.Tensor) else v, dtype=np.float32)
        for dt in (np.int8, np.int16) if small_int and np.all(v == np.round(v)) else ():
            if np.all(np.abs(v) <= np.iinfo(dt).max):
                inits.append(numpy_helper.from_array(v.astype(dt), f"{name}_int"))
                return node("Cast", [f"{name}_int"], name, to=TensorProto.FLOAT)
        inits.append(numpy_helper.from_array(v, name))
        return name

    m, was, last = model, model.training, len(model.layers) - 1
    m.eval()
    try:
        with torch.no_grad():
            t = node("Round", [node("Mul", [INPUT, const("in_mul", m.in_mul)], "x_scaled")], "x_round")  # half-even
            t = node("Max", [t, const("in_low", m.q_lo)], "x_low")
            t = node("Min", [t, const("in_high", m.q_hi)], "x_box")
            if m.chroma_fix is not None:
                t = _proto_chroma(m, t, node, const)
            t = node("Sub", [t, const("in_center", m.q_c)], "a0")
            for i in range(last + 1):
                t = _proto_layer(m, i, t, node, const)
            out_mul = torch.exp2(getattr(m, f"acc_exp{last}"))[0]
    finally:
        m.train(was)
    t = node("Mul", [t, const("out_mul", out_mul)], "score")
    node("Clip", [t, const("score_low", m.lo), const("score_high", m.hi)], OUTPUT)
    io = ([helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [BATCH_DIM, len(m.q_c)])],
          [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [BATCH_DIM])])  # fmt: skip
    proto = helper.make_model(helper.make_graph(nodes, "vmafdistill_exact", *io, inits), ir_version=10,
                              opset_imports=[helper.make_opsetid("", int(opset))], producer_name="vmafdistill.exact")
    proto.doc_string = "vmafdistill exact student: integer arithmetic, exact in float32"
    if meta:
        onnx.helper.set_model_props(proto, dict(sorted(meta.items())))
    return proto


def _proto_chroma(m: ExactStudent, t: str, node: Callable[..., str], const: Callable[..., str]) -> str:
    """The chroma correction's nodes on the clipped rounded inputs ``t`` (the module docstring's form)."""
    g, a, k, mul = m._chroma()
    z = node("Min", [node("Mul", [INPUT, const("cz_mul", 2.0**ZERO_EXP)], "cz_x"), const("one", 1.0)], "cz_hi")
    z = node("Round", [node("Max", [z, const("neg_one", -1.0)], "cz_lo")], "cz")  # -1, 0 or 1
    keep = node("Relu", [node("Sub", [const("cz_col", m._onehot(g)), node("Mul", [z, z], "cz2")], "cz_g")], "keep")
    qa = node("MatMul", [t, const("adm3_e", m._onehot(a)[:, None], True)], "adm3")  # [N, 1]
    corr = node("Add", [node("Mul", [qa, const("corr_mul", mul)], "corr_m"), const("corr_add", k)], "corr_s")
    delta = node("Sub", [node("Round", [corr], "corr"), t], "corr_d")
    t = node("Add", [t, node("Mul", [delta, keep], "corr_k")], "x_fix")
    return node("Min", [node("Max", [t, "in_low"], "x_fix_lo"), "in_high"], "x_fix_box")


def _proto_layer(m: ExactStudent, i: int, a: str, node: Callable[..., str], const: Callable[..., str]) -> str:
    """Layer ``i``'s nodes on integer activations ``a``: the next activations, or the score's integer."""
    w, b, w_lo = m.int_weights(i)
    last = i == len(m.layers) - 1
    col = (lambda v: v[0]) if last else (lambda v: v.T)  # noqa: E731 - a 1-D head: MatMul gives [N]
    t = node("MatMul", [a, const(f"w{i}", col(w), True)], f"mm{i}")
    t = node("Add", [t, const(f"b{i}", b[0] if last else b)], f"acc{i}")
    mul = 1.0 if last else torch.exp2(getattr(m, f"acc_exp{i}") - getattr(m, f"act_exp{i}"))
    if not last:
        t = node("Floor", [node("Mul", [t, const(f"requant{i}", mul)], f"shift{i}")], f"t{i}")
    if w_lo is not None:  # low-order weights (int8): Floor(a W_lo [2^-k] 2^-p) joins the integer sum
        lo = node("MatMul", [a, const(f"w{i}_lo", col(w_lo), True)], f"mm{i}_lo")
        lo = lo if last else node("Mul", [lo, f"requant{i}"], f"lo{i}_k")
        lo = node("Floor", [node("Mul", [lo, const(f"lo_shift{i}", 2.0 ** -float(m.split[i]))], f"lo{i}_s")], f"lo{i}")
        t = node("Add", [t, lo], f"t{i}_sum")
    if last:
        return t
    if m.act == "relu":
        return node("Min", [node("Relu", [t], f"relu{i}"), const(f"cap{i}", getattr(m, f"cap{i}"), True)], f"a{i + 1}")
    e = getattr(m, f"act_exp{i}")  # srelu: s = t + C; Floor(Min(Relu(s), 2C - 1)^2 / 4C) + Relu(s - (2C - 1))
    s_, top = node("Add", [t, const(f"knee{i}", torch.exp2(-e))], f"s{i}"), const(f"top{i}", 2 * torch.exp2(-e) - 1)
    v = node("Min", [node("Relu", [s_], f"sp{i}"), top], f"v{i}")
    q = node("Floor", [node("Mul", [node("Mul", [v, v], f"vv{i}"), const(f"sq{i}", torch.exp2(e - 2))], f"vvs{i}")],
             f"q{i}")  # fmt: skip
    t = node("Add", [q, node("Relu", [node("Sub", [s_, top], f"sm{i}")], f"r{i}")], f"srelu{i}")
    return node("Min", [t, const(f"cap{i}", getattr(m, f"cap{i}"), True)], f"a{i + 1}")


def to_onnx(model: ExactStudent, meta: dict[str, str], opset: int = 20) -> bytes:
    """Deterministic .onnx bytes of the integer graph, checked (full) and proven; BoundError if not provable."""
    import onnx

    if opset < 13:
        raise ValueError(f"opset {opset} < 13")
    proto = _proto(model, meta, opset)
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString(deterministic=True)
    check_bound(data)
    return data


def _grid(v: np.ndarray) -> np.ndarray:
    """Per element, the largest e with v / 2^e an integer (+inf for 0, -inf for inf/nan)."""
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    out = np.where(np.isfinite(v), np.inf, -np.inf)
    nz = np.isfinite(v) & (v != 0)
    mant, e = np.frexp(v[nz])
    odd = [(int(x) & -int(x)).bit_length() - 1 for x in np.ldexp(mant, 53).astype(np.int64)]
    out[nz] = e - 53 + np.asarray(odd, dtype=np.float64)
    return out


def _pow2(v: np.ndarray) -> bool:
    return bool(v.size and np.all(np.isfinite(v) & (v > 0)) and np.all(np.frexp(v)[0] == 0.5))


def prove_bound(obj: ExactStudent | bytes) -> dict[str, Any]:
    """Prove from the graph's constants alone (interval arithmetic over the clipped input box, no
    sampling) that after the input's Round every value is an integer multiple of a power-of-two grid
    (integers, but for the requantise products before Floor and the output) and every value, product
    and partial sum is, in grid units, an integer of magnitude < 2^24 (exact in float32 in any order,
    FMA or not). A dot product's partial sums are bounded by sum |w| max|a| + |b|; MatMul weights must
    be integer-valued. The raw input may only see ops exact on every float (Mul by 2^k >= 1, Round,
    Floor, Max, Min); NaN inputs are outside the proof. Returns ``ok``, ``problems``, ``worst``
    (largest magnitude, grid units), ``margin_bits`` = log2(2^24 / worst) and per dot product its
    worst partial sum and margin (``layers``)."""
    import onnx
    from onnx import numpy_helper

    proto = _proto(obj) if isinstance(obj, ExactStudent) else onnx.load_from_string(obj)
    arrays = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    ints = {n for n, v in arrays.items() if v.dtype in (np.int8, np.int16, np.int32)}
    problems = [f"initializer {n} is {v.dtype}" for n, v in arrays.items() if v.dtype != np.float32 and n not in ints]
    problems += [f"node {nd.name} reads integer initializer {n} (only Cast may)"
                 for nd in proto.graph.node for n in nd.input if n in ints and nd.op_type != "Cast"]  # fmt: skip
    # fact: (lo, hi, grid exponent) per channel (last axis; [1] broadcasts); grid None: arbitrary float
    def const_fact(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return v.astype(np.float64).reshape(-1), v.astype(np.float64).reshape(-1), _grid(v)

    facts = {n: const_fact(v) for n, v in arrays.items() if v.ndim <= 1}
    facts.update({i.name: (np.array([-np.inf]), np.array([np.inf]), None) for i in proto.graph.input})
    psum: dict[str, np.ndarray] = {}
    layers: list[dict[str, Any]] = []
    worst = 1.0
    for nd in proto.graph.node if not problems else ():
        op, ins, out = nd.op_type, list(nd.input), nd.output[0]
        fail = lambda why: problems.append(f"node {nd.name} ({op}): {why}")  # noqa: E731
        if op == "Cast":
            v, to = arrays.get(ins[0]), next((a.i for a in nd.attribute if a.name == "to"), None)
            if ins[0] not in ints or to != onnx.TensorProto.FLOAT or np.abs(v.astype(np.int64)).max() > LIMIT:
                fail("only a Cast of an integer initializer (|v| <= 2^24) to float32 is supported")
                break
            arrays[out] = v.astype(np.float32)
            if v.ndim <= 1:
                facts[out] = const_fact(v)
            continue
        if op == "MatMul" and len(ins) == 2 and ins[0] in facts and ins[1] in arrays:
            (lo, hi, g), w = facts[ins[0]], arrays[ins[1]].astype(np.float64)
            w = w if w.ndim == 2 else w[:, None]
            if not np.all(w == np.round(w)):
                fail(f"weight {ins[1]} has non-integer values")
                break
            if g is None or not np.all(np.isfinite(lo) & np.isfinite(hi)):
                fail("input is unbounded")
                break
            lo, hi = np.broadcast_to(lo, w.shape[:1])[:, None], np.broadcast_to(hi, w.shape[:1])[:, None]
            psum[out] = (np.abs(w) * np.maximum(np.abs(lo), np.abs(hi))).sum(axis=0)
            lo, hi, g = np.minimum(w * lo, w * hi).sum(0), np.maximum(w * lo, w * hi).sum(0), np.full(1, g.min())
        elif not ins or any(n not in facts for n in ins):
            fail(f"an operand of {ins} is neither a constant vector nor a proven tensor")
            break
        else:
            (lo, hi, g), rest = facts[ins[0]], [facts[n] for n in ins[1:]]
            if op in ("Round", "Floor"):
                r = np.round if op == "Round" else np.floor
                lo, hi, g = r(lo), r(hi), (np.zeros(1) if g is None else np.maximum(g, 0.0))
            elif op in ("Max", "Min", "Relu", "Clip") and len(rest) == {"Relu": 0, "Clip": 2}.get(op, 1):
                for j, (blo, bhi, bg) in enumerate(rest or [(np.zeros(1), np.zeros(1), np.full(1, np.inf))]):
                    mx = np.maximum if op in ("Max", "Relu") or (op == "Clip" and j == 0) else np.minimum
                    lo, hi, g = mx(lo, blo), mx(hi, bhi), None if g is None else np.minimum(g, bg)
            elif op == "Mul" and len(rest) == 1 and ins[1] in arrays and _pow2(rest[0][0]):
                k = rest[0][0]
                if g is None and np.any(k < 1):
                    fail("the raw input is multiplied by a power of two < 1 (could underflow)")
                    break
                lo, hi, g = lo * k, hi * k, None if g is None else g + np.log2(k)
            elif op in ("Add", "Sub", "Mul") and len(rest) == 1 and g is not None and rest[0][2] is not None:
                blo, bhi, bg = rest[0]
                if op == "Mul":
                    c = np.stack([lo * blo, lo * bhi, hi * blo, hi * bhi])
                    lo, hi, g = c.min(axis=0), c.max(axis=0), g + bg
                else:
                    blo, bhi = (-bhi, -blo) if op == "Sub" else (blo, bhi)
                    if ins[0] in psum and ins[1] in arrays:  # a dot product's bias: added first or last
                        psum[out] = psum[ins[0]] + np.maximum(np.abs(blo), np.abs(bhi))
                    lo, hi, g = lo + blo, hi + bhi, np.minimum(g, bg)
            else:
                fail("op or operands not supported by the prover")
                break
        units = np.maximum(np.abs(lo), np.abs(hi))
        if g is None or not np.all(np.isfinite(units)):
            if op not in ("Mul", "Round", "Floor", "Max", "Min"):
                fail("unbounded value")
                break
        elif np.any(~np.isfinite(g) & (units > 0)):
            fail("a value is not on any finite grid")
            break
        else:
            g0 = np.where(np.isfinite(g), g, 0.0)
            units = np.maximum(units, psum.get(out, 0.0)) * np.exp2(-g0)
            top = float(units.max())
            worst = max(worst, top)
            if not top < LIMIT:
                fail(f"-> {out}: magnitude {top:.8g} grid units >= 2^24")
            if out in psum:  # a dot product (MatMul), then its bias (Add)
                row = {"output": out, "worst_partial_sum": top, "margin_bits": math.log2(LIMIT / max(top, 1.0))}
                if op == "MatMul":
                    layers.append({"weight": ins[1], **row})
                else:
                    next(r for r in layers if r["output"] == ins[0]).update(row, bias=ins[1])
        facts[out] = (lo, hi, g)
    outs = [o.name for o in proto.graph.output]
    if not problems and any(o not in facts or facts[o][2] is None for o in outs):
        problems.append(f"output {outs} is not reached by proven ops")
    return {"ok": not problems, "problems": problems, "limit": LIMIT, "worst": worst,
            "margin_bits": math.log2(LIMIT / worst), "layers": layers}  # fmt: skip


def check_bound(obj: ExactStudent | bytes) -> dict[str, Any]:
    """``prove_bound``, raising BoundError naming every problem when the proof fails."""
    r = prove_bound(obj)
    if not r["ok"]:
        raise BoundError("the exact student is not provably exact in float32: " + "; ".join(r["problems"]))
    return r


# ------------------------------------------------------------------------------------------------
# training


Progress = Callable[[int, float, float], None] | None


def _fit(model: ExactStudent, data: tuple[torch.Tensor, ...], steps: int, lr: float, bs: int, margin: float,
         g: torch.Generator, hist: dict, tag: str, progress: Progress) -> None:  # fmt: skip
    from .train import _cosine, _loss

    x, y, xv, yv = data
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    perm, pos, running, report = torch.randperm(len(x), generator=g), 0, 0.0, max(1, steps // 10)
    model.train()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = _cosine(step, steps, lr, max(1, steps // 50))
        if pos + bs > len(x):
            perm, pos = torch.randperm(len(x), generator=g), 0
        idx, pos = perm[pos : pos + bs], pos + bs
        loss = _loss(model, x[idx], y[idx], margin)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running += loss.item()
        if (step + 1) % report == 0 or step + 1 == steps:
            model.eval()
            with torch.no_grad():
                hist.setdefault(f"{tag}_val", []).append(float(_loss(model, xv, yv, margin)))
            hist.setdefault(f"{tag}_step", []).append(step + 1)
            model.train()
            if progress is not None:
                progress(step + 1, running / report, hist[f"{tag}_val"][-1])
            running = 0.0
    model.eval()


def pretrain_exact(hparams: dict | None = None, seed: int = 0, progress: Progress = None, arch: str = "exact") -> dict:
    """Corpus-free pretraining: float training on teacher-labelled synthetic vectors (``pre_steps``),
    ``calibrate_``, then QAT (``qat_steps``). Returns a state in ``train.pretrain``'s format (``arch``,
    ``hparams``, ``state_dict``, ``history``) for ``train.train_fold``; deterministic in its arguments."""
    from .train import TRAIN_DEFAULTS, _loss, _setup, _state, _synthetic

    hp = {**TRAIN_DEFAULTS, **EXACT_DEFAULTS, **(hparams or {})}
    g, t0 = _setup(seed), time.process_time()
    model, m = build_exact(hp), float(hp["margin"])
    x_np, y_np = _synthetic(int(hp["pre_n"]), int(hp["pre_seed_data"]), hp.get("mix"), hp)
    xv_np, yv_np = _synthetic(int(hp["ft_syn_val_n"]), int(hp["pre_seed_data"]) + 1, None, hp)
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
        hist["float_val_final"] = float(_loss(model, data[2], data[3], m))
        model.calibrate_(data[0][: int(hp["cal_n"])])
        hist["calibrated_val"] = float(_loss(model, data[2], data[3], m))
    _fit(model, data, int(hp["qat_steps"]), float(hp["qat_lr"]), bs, m, g, hist, "qat", progress)
    with torch.no_grad():
        hist["best_val"] = float(_loss(model, data[2], data[3], m))
    hist["bound"] = {k: v for k, v in check_bound(model).items() if k != "problems"}
    hist["cpu_s"] = time.process_time() - t0
    return _state(model, arch, hp, hist)


__all__ = ["ACTS", "EXACT_DEFAULTS", "LIMIT", "BoundError", "ExactStudent", "build_exact", "check_bound",
           "pretrain_exact", "prove_bound", "to_onnx"]  # fmt: skip
