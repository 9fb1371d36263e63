"""The exact tier's 2^24 proof over an ONNX graph: ``prove_graph`` (interval arithmetic over the graph's
constants alone), ``check_graph`` (the same, raising ``BoundError``), ``LIMIT`` and the grid helpers.

It reads a graph, never a model: torch-free, outside the ``exact`` package (which loads torch), so the
gate proves a shipped file without loading torch. ``exact.prove_bound`` / ``exact.check_bound`` take an
exact student or its bytes and come here."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .contract import GUARD_OPS

#: float32 holds every integer of magnitude <= 2^24 exactly; the proof requires < 2^24.
LIMIT = 2**24


class BoundError(ValueError):
    """A graph (or model) is not provably exact in float32."""


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


def prove_graph(graph: Any) -> dict[str, Any]:
    """Prove from the graph's constants alone (interval arithmetic over the clipped input box, no
    sampling) that after the input's Round every value is an integer multiple of a power-of-two grid
    (integers, but for the requantise products before Floor and the output) and every value, product
    and partial sum is, in grid units, an integer of magnitude < 2^24 (exact in float32 in any order,
    FMA or not). A dot product's partial sums are bounded by sum |w| max|a| + |b|; MatMul weights must
    be integer-valued. The raw input may only see ops exact on every float (Abs, Mul by 2^k >= 1, Round,
    Floor, Max, Min) and the non-finite guard (``contract.nonfinite_guard``: a row mask from IsNaN/IsInf
    and a final Where(mask, NaN, value), which passes the proven value through); a row with a NaN or
    infinite feature scores NaN and is outside the proof. ``x - Floor(x 2^-m) 2^m`` is known to lie in
    [0, 2^m) (the transform's integer splits, ``exact.transform``). Returns ``ok``, ``problems``, ``worst``
    (largest magnitude, grid units), ``margin_bits`` = log2(2^24 / worst) and per dot product its
    worst partial sum and margin (``layers``). ``graph``: the .onnx bytes, or an onnx.ModelProto."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load_from_string(graph) if isinstance(graph, (bytes, bytearray)) else graph
    arrays = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    ints = {n for n, v in arrays.items() if v.dtype in (np.int8, np.int16, np.int32)}
    # the non-finite guard's constants (its reduction axis, NaN) are read by guard ops only
    guard_only = {n for n in arrays if all(nd.op_type in GUARD_OPS for nd in proto.graph.node if n in nd.input)}
    problems = [f"initializer {n} is {v.dtype}" for n, v in arrays.items()
                if v.dtype != np.float32 and n not in ints and n not in guard_only]
    problems += [f"node {nd.name} reads integer initializer {n} (only Cast may)"
                 for nd in proto.graph.node for n in nd.input if n in ints and nd.op_type != "Cast"]
    # fact: (lo, hi, grid exponent) per channel (last axis; [1] broadcasts); grid None: arbitrary float
    def const_fact(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return v.astype(np.float64).reshape(-1), v.astype(np.float64).reshape(-1), _grid(v)

    facts = {n: const_fact(v) for n, v in arrays.items() if v.ndim <= 1}
    facts.update({i.name: (np.array([-np.inf]), np.array([np.inf]), None) for i in proto.graph.input})
    psum: dict[str, np.ndarray] = {}
    layers: list[dict[str, Any]] = []
    worst = 1.0
    masks: set[str] = set()  # boolean/0-1 row masks of the non-finite guard (never enter the arithmetic)
    # the remainder of a floor division by a power of two, r = x - Floor(x 2^-m) 2^m, lies in [0, 2^m):
    # interval arithmetic alone loses that x and Floor(x 2^-m) move together
    scaled: dict[str, tuple[str, float]] = {}  # Mul(x, k), k a power of two: (x, k)
    floored: dict[str, tuple[str, float]] = {}  # Floor(Mul(x, k)): (x, k)
    multiple: dict[str, tuple[str, float]] = {}  # Mul(Floor(Mul(x, 2^-m)), 2^m): (x, 2^m)
    raw = {i.name for i in proto.graph.input}
    for nd in proto.graph.node if not problems else ():
        op, ins, out = nd.op_type, list(nd.input), nd.output[0]
        fail = lambda why: problems.append(f"node {nd.name} ({op}): {why}")  # noqa: E731, B023 - used in this pass only
        if (op in ("IsNaN", "IsInf") and ins[0] in raw
                or op in ("Or", "Cast", "ReduceMax", "Greater") and ins[0] in masks):
            masks.add(out)
            continue
        if op == "Where" and ins[0] in masks:  # the guard: NaN where a row is not finite, else the proven value
            if ins[2] not in facts or not np.all(np.isnan(arrays.get(ins[1], np.zeros(1)))):
                fail("a Where other than the non-finite guard (mask, NaN, proven value)")
                break
            facts[out] = facts[ins[2]]
            continue
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
            if op == "Abs" and not rest:
                lo, hi = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi))), np.maximum(
                    np.abs(lo), np.abs(hi))
            elif op in ("Round", "Floor"):
                r = np.round if op == "Round" else np.floor
                lo, hi, g = r(lo), r(hi), (np.zeros(1) if g is None else np.maximum(g, 0.0))
                if op == "Floor" and ins[0] in scaled:
                    floored[out] = scaled[ins[0]]
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
                if k.size == 1:
                    scaled[out] = (ins[0], float(k[0]))
                    if ins[0] in floored and floored[ins[0]][1] * float(k[0]) == 1.0:
                        multiple[out] = (floored[ins[0]][0], float(k[0]))
            elif op == "Sub" and g is not None and multiple.get(ins[1], ("", 0.0))[0] == ins[0]:
                step = np.exp2(np.min(g))  # x on its grid: the remainder is at most 2^m - step
                lo, hi = np.zeros_like(lo), np.full_like(hi, multiple[ins[1]][1] - step)
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
            if op not in ("Abs", "Mul", "Round", "Floor", "Max", "Min"):
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
            "margin_bits": math.log2(LIMIT / worst), "layers": layers}


def check_graph(graph: Any) -> dict[str, Any]:
    """``prove_graph``, raising BoundError naming every problem when the proof fails."""
    r = prove_graph(graph)
    if not r["ok"]:
        raise BoundError("the exact student is not provably exact in float32: " + "; ".join(r["problems"]))
    return r


__all__ = ["LIMIT", "BoundError", "check_graph", "prove_graph"]
