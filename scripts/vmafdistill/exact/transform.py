"""The teacher's score transform and clip on the exact student's output, in exact arithmetic.

The exact student learns the SVM's own output ``s`` (smooth); libvmaf's score is ``clip(T(s))`` with
``T(s) = p0 + p1 s + p2 s^2`` (each term when given), then ``max(T, s)`` / ``min(T, s)``
(``out_gte_in`` / ``out_lte_in``). Here ``T`` is computed so that every value is an integer on a
power-of-two grid below 2^24 units (exact in float32 on any engine, in any order, FMA or not), which
``prove_bound`` proves like the rest of the graph:

1. ``s`` is clamped to ``[lo - 32, hi + 32]`` (beyond it the clipped score no longer changes: checked
   for the transform at hand over ``s`` within ``CHECKED`` of the range, else ``ValueError``), then
   ``S = Round(s 2^14)`` (``WORK_EXP``: steps of
   6.1e-5 VMAF, |S| < 2^22);
2. ``c S`` for a real coefficient ``c``: ``c ~ C 2^-k`` with a 23-bit integer ``C = C_h 2^11 + C_l`` and
   ``S = S_h 2^11 + S_l`` (``S_l`` in [0, 2^11)): four integer products, each < 2^23, each scaled by a
   power of two and rounded (``mulc``);
3. with ``p2``, Horner: ``Q = Round(p2 2^(22 - 14) S) + Round(p1 2^22)`` (``p1 + p2 s`` on a 2^-22 grid,
   |Q| < 2^24), then ``Q S 2^-22`` with both split at 2^11 (``mulv``);
4. ``Y = P0 + (p1 + p2 s) S``, ``max/min(Y, S)``, then ``Clip(Y 2^-14, lo, hi)``.

The result differs from libvmaf's float64 transform by at most ~2e-4 VMAF (the roundings, measured by
``tests/test_exact_transform.py``); identical bits in torch (``run``) and ONNX (``emit``), which follow one step
list (``program``). A transform with ``knots`` is refused (no built-in model has one; float tiers apply it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

#: the working grid of the transform: S = s 2^WORK_EXP
WORK_EXP = 14
#: s is clamped to [lo - CLAMP, hi + CLAMP] before the transform
CLAMP = 32.0
#: split point of the integer products (both factors)
SPLIT = 11
#: significant bits of a coefficient
COEF_BITS = 23
#: the clamp is checked harmless for s in [lo - CHECKED, hi + CHECKED] (the exact student's s is bounded
#: by its 2^24-unit output grid, |s| < 2^(24 + e) ~ 256; vmaf_v1.0.16's quadratic turns down only past s ~ 1000)
CHECKED = 1000.0


@dataclass(frozen=True)
class Step:
    """``out = op(args)``; an arg is a step name or a float constant (``op`` in ``OPS``)."""

    out: str
    op: str
    args: tuple[Any, ...]


OPS = ("Mul", "Add", "Sub", "Round", "Floor", "Max", "Min", "Clip")


def check_transform(tr: dict | None, lo: float, hi: float) -> None:
    """ValueError unless ``tr`` can be computed exactly and the clamp leaves the clipped score unchanged."""
    if tr is None:
        return
    if tr.get("knots"):
        raise ValueError("the exact tier cannot apply a score transform with knots (use a float tier)")
    s = np.linspace(lo - CHECKED, hi + CHECKED, 200_001)  # the student's own s never leaves this range
    clamped = np.clip(s, lo - CLAMP, hi + CLAMP)
    if not np.array_equal(np.clip(_float64(tr, s), lo, hi), np.clip(_float64(tr, clamped), lo, hi)):
        raise ValueError(f"score transform {tr}: its clipped score still changes beyond "
                         f"[lo - {CLAMP:g}, hi + {CLAMP:g}]")


def _float64(tr: dict, y: np.ndarray) -> np.ndarray:
    p = tr["p"]
    out = (sum((c * y**k for k, c in enumerate(p) if c is not None), np.zeros_like(y)) if any(c is not None for c in p)
           else y)
    out = np.minimum(out, y) if tr.get("out_lte_in") else out
    return np.maximum(out, y) if tr.get("out_gte_in") else out


def _coef(c: float) -> tuple[float, float, int]:
    """(C_h, C_l, k): c ~ (C_h 2^SPLIT + C_l) 2^-k, with a COEF_BITS-bit integer, C_l in [0, 2^SPLIT)."""
    k = COEF_BITS - 1 - math.floor(math.log2(abs(c)))
    big = int(round(c * 2.0**k))
    low = big % 2**SPLIT
    return float((big - low) // 2**SPLIT), float(low), k


class _Builder:
    def __init__(self) -> None:
        self.steps: list[Step] = []

    def add(self, op: str, *args: Any) -> str:
        name = f"tf{len(self.steps)}"
        self.steps.append(Step(name, op, args))
        return name

    def split(self, x: str) -> tuple[str, str]:
        """(x_h, x_l) with x = x_h 2^SPLIT + x_l, x_l in [0, 2^SPLIT)."""
        h = self.add("Floor", self.add("Mul", x, 2.0**-SPLIT))
        return h, self.add("Sub", x, self.add("Mul", h, 2.0**SPLIT))

    def mulc(self, x: tuple[str, str], c: float, shift: int = 0) -> str:
        """Round(c x 2^shift), x given split, as a sum of four rounded integer products."""
        ch, cl, k = _coef(c)
        (xh, xl), e = x, shift - k
        parts = [(xh, ch, 2 * SPLIT), (xh, cl, SPLIT), (xl, ch, SPLIT), (xl, cl, 0)]
        terms = [self.product(a, b * 2.0 ** (p + e), p + e) for a, b, p in parts if b]
        total = terms[0]
        for t in terms[1:]:
            total = self.add("Add", total, t)
        return total

    def product(self, a: str, c: float, e: int) -> str:
        """Round(a c) for an integer tensor ``a`` and ``c`` = integer 2^e (one Mul: exact; Round when e < 0)."""
        t = self.add("Mul", a, c)
        return self.add("Round", t) if e < 0 else t

    def mulv(self, v: tuple[str, str], x: tuple[str, str], shift: int) -> str:
        """Round-ish (v x 2^shift) of two split integer tensors (shift = -2 SPLIT: the top product is exact)."""
        (vh, vl), (xh, xl) = v, x
        top = self.add("Mul", vh, xh)  # 2^(2 SPLIT + shift) = 1
        mid = self.add("Round", self.add("Mul", self.add("Add", self.add("Mul", vh, xl), self.add("Mul", vl, xh)),
                                         2.0 ** (SPLIT + shift)))
        low = self.add("Round", self.add("Mul", self.add("Mul", vl, xl), 2.0**shift))
        return self.add("Add", self.add("Add", top, mid), low)


def program(tr: dict | None, lo: float, hi: float, score: str = "score") -> tuple[list[Step], str]:
    """The steps from ``score`` (the student's s, float32) to the clipped libvmaf score, and its name."""
    b = _Builder()
    if tr is None:
        return [Step("clipped", "Clip", (score, lo, hi))], "clipped"
    check_transform(tr, lo, hi)
    s = b.add("Min", b.add("Max", score, lo - CLAMP), hi + CLAMP)
    big = b.add("Round", b.add("Mul", s, 2.0**WORK_EXP))
    p0, p1, p2 = (c if c is not None else None for c in tr["p"])
    y = big
    if any(c is not None for c in (p0, p1, p2)):
        if p2:  # Horner: (p1 + p2 s) on the 2^-22 grid, times S
            split = b.split(big)
            q = b.mulc(split, p2, 2 * SPLIT - WORK_EXP)
            if p1:
                q = b.add("Add", q, float(round(p1 * 2.0 ** (2 * SPLIT))))
            y = b.mulv(b.split(q), split, -2 * SPLIT)
        elif p1:
            y = big if p1 == 1.0 else b.mulc(b.split(big), p1)
        else:
            y = b.add("Mul", big, 0.0)
        const = float(round((p0 or 0.0) * 2.0**WORK_EXP))
        if const:
            y = b.add("Add", y, const)
    if tr.get("out_lte_in"):
        y = b.add("Min", y, big)
    if tr.get("out_gte_in"):
        y = b.add("Max", y, big)
    out = b.add("Clip", b.add("Mul", y, 2.0**-WORK_EXP), lo, hi)
    return b.steps, out


def run(steps: list[Step], score: torch.Tensor, name: str = "score") -> torch.Tensor:
    """The steps in torch (float32), on ``score`` [N]: bit-identical to the ONNX graph (every value exact)."""
    env: dict[str, torch.Tensor] = {name: score}

    def val(a: Any) -> torch.Tensor | float:
        return env[a] if isinstance(a, str) else float(a)

    fns: dict[str, Callable[..., torch.Tensor]] = {
        "Mul": lambda a, b: a * b, "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Round": torch.round,
        "Floor": torch.floor,
        "Max": lambda a, b: torch.clamp(a, min=b) if isinstance(b, float) else torch.maximum(a, b),
        "Min": lambda a, b: torch.clamp(a, max=b) if isinstance(b, float) else torch.minimum(a, b),
        "Clip": lambda a, lo, hi: torch.clamp(a, lo, hi),
    }
    for st in steps:
        env[st.out] = fns[st.op](*(val(a) for a in st.args))
    return env[steps[-1].out]


def emit(steps: list[Step], node: Callable[..., str], const: Callable[..., str], score: str, out: str) -> str:
    """The steps as ONNX nodes (``node(op, inputs, out)``, ``const(name, value)``); the last one writes ``out``."""
    names: dict[float, str] = {}  # one initializer per constant value

    def value(a: float) -> str:
        if a not in names:
            names[a] = const(f"tc{len(names)}", np.float32(a))
        return names[a]

    for i, st in enumerate(steps):
        ins = [(score if a == "score" else a) if isinstance(a, str) else value(float(a)) for a in st.args]
        node(st.op, ins, out if i == len(steps) - 1 else st.out)
    return out


__all__ = ["CLAMP", "OPS", "WORK_EXP", "Step", "check_transform", "emit", "program", "run"]
