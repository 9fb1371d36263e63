"""The exact student's ONNX graph: ``to_onnx`` (deterministic bytes, checked and proven by
``vmafdistill.exactproof``) and the proto building (``model_proto``: input stage, chroma correction,
layers, the teacher's transform and clip, the non-finite guard). It reads a calibrated
``model.ExactStudent`` through its buffers and ``int_weights`` (``model`` imports this module, not the
reverse: ``ExactStudent.to_onnx`` comes here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..contract import BATCH_DIM, INPUT, OUTPUT, compact_names, nonfinite_guard
from ..exactproof import BoundError, check_graph
from .transform import emit, program

#: the chroma correction's zero test: Floor(Min(|x|, 2^-ZERO_EXP) 2^ZERO_EXP) is 1 for every normal float32
#: but 0 (libvmaf logs speed_chroma values such as 1.6e-7, and its test is == 0.0) and 0 for 0 and for
#: subnormals, whether an engine flushes them or not
ZERO_EXP = 126


def model_proto(model: torch.nn.Module, meta: dict[str, str] | None = None, opset: int = 20):
    """The integer graph of a calibrated exact student (an onnx.ModelProto, names compacted); ``meta``:
    its metadata_props. BoundError for a student not calibrated yet."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if not bool(model.quantized):
        raise BoundError("the exact student is not calibrated (calibrate_ / pretrain_exact first)")
    inits, nodes = [], []

    def node(op: str, ins: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, ins, [out], **attrs))
        return out

    def const(name: str, v: Any, small_int: bool = False) -> str:
        """A float32 initializer; ``small_int``: int8/int16 storage (+ an exact Cast) when it fits."""
        v = np.asarray(v.detach() if isinstance(v, torch.Tensor) else v, dtype=np.float32)
        for dt in (np.int8, np.int16) if small_int and np.all(v == np.round(v)) else ():
            if np.all(np.abs(v) <= np.iinfo(dt).max):
                inits.append(numpy_helper.from_array(v.astype(dt), f"{name}_i"))
                return node("Cast", [f"{name}_i"], name, to=TensorProto.FLOAT)
        inits.append(numpy_helper.from_array(v, name))
        return name

    m, was, last = model, model.training, len(model.layers) - 1
    m.eval()
    try:
        with torch.no_grad():
            # clamp to the box first, then scale and round (half-even): no engine rounds a huge value
            t = node("Max", [INPUT, const("xlo", m.q_lo / m.in_mul)], "x_low")
            t = node("Min", [t, const("xhi", m.q_hi / m.in_mul)], "x_high")
            t = node("Round", [node("Mul", [t, const("xmul", m.in_mul)], "x_scaled")], "x_box")
            if m.chroma_fix is not None:
                t = _proto_chroma(m, t, node, const)
            t = node("Sub", [t, const("xc", m.q_c)], "a0")
            for i in range(last + 1):
                t = _proto_layer(m, i, t, node, const)
            out_mul = torch.exp2(getattr(m, f"acc_exp{last}"))[0]
    finally:
        m.train(was)
    t = node("Mul", [t, const("om", out_mul)], "score")
    steps, _ = program(m.transform, m.lo, m.hi)  # the teacher's transform (exact) and clip
    emit(steps, node, lambda name, v: const(name, v), t, OUTPUT + "_unguarded")
    guard, guard_inits = nonfinite_guard(OUTPUT + "_unguarded")  # a row with a NaN/inf feature: NaN
    nodes.extend(guard)
    inits.extend(guard_inits)
    io = ([helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [BATCH_DIM, len(m.q_c)])],
          [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [BATCH_DIM])])
    proto = helper.make_model(helper.make_graph(nodes, "vmafdistill_exact", *io, inits), ir_version=10,
                              opset_imports=[helper.make_opsetid("", int(opset))], producer_name="vmafdistill.exact")
    proto.doc_string = "vmafdistill exact student"
    if meta:
        onnx.helper.set_model_props(proto, dict(sorted(meta.items())))
    return compact_names(proto)


def _proto_chroma(m: torch.nn.Module, t: str, node: Callable[..., str], const: Callable[..., str]) -> str:
    """The chroma correction's nodes on the clipped rounded inputs ``t`` (the module docstring's form)."""
    g, a, k, mul = m.chroma_constants()
    z = node("Min", [node("Abs", [INPUT], "cz_abs"), const("czh", 2.0**-ZERO_EXP)], "cz_hi")  # |x|, capped
    z = node("Floor", [node("Mul", [z, const("czm", 2.0**ZERO_EXP)], "cz_x")], "cz")  # 0 or 1
    keep = node("Relu", [node("Sub", [const("czc", m.onehot(g)), z], "cz_g")], "keep")
    qa = node("MatMul", [t, const("adm3_e", m.onehot(a)[:, None], True)], "adm3")  # [N, 1]
    corr = node("Add", [node("Mul", [qa, const("crm", mul)], "corr_m"), const("cra", k)], "corr_s")
    delta = node("Sub", [node("Round", [corr], "corr"), t], "corr_d")
    t = node("Add", [t, node("Mul", [delta, keep], "corr_k")], "x_fix")
    t = node("Max", [t, const("qlo", m.q_lo)], "x_fix_lo")
    return node("Min", [t, const("qhi", m.q_hi)], "x_fix_box")


def _proto_layer(m: torch.nn.Module, i: int, a: str, node: Callable[..., str], const: Callable[..., str]) -> str:
    """Layer ``i``'s nodes on integer activations ``a``: the next activations, or the score's integer."""
    w, b, w_lo = m.int_weights(i)
    last = i == len(m.layers) - 1
    col = (lambda v: v[0]) if last else (lambda v: v.T)  # a 1-D head: MatMul gives [N]
    t = node("MatMul", [a, const(f"w{i}", col(w), True)], f"mm{i}")
    t = node("Add", [t, const(f"b{i}", b[0] if last else b)], f"acc{i}")
    mul = 1.0 if last else torch.exp2(getattr(m, f"acc_exp{i}") - getattr(m, f"act_exp{i}"))
    if not last:
        t = node("Floor", [node("Mul", [t, const(f"rq{i}", mul)], f"shift{i}")], f"t{i}")
    if w_lo is not None:  # low-order weights (int8): Floor(a W_lo [2^-k] 2^-p) joins the integer sum
        lo = node("MatMul", [a, const(f"w{i}_lo", col(w_lo), True)], f"mm{i}_lo")
        lo = lo if last else node("Mul", [lo, f"rq{i}"], f"lo{i}_k")
        lo = node("Floor", [node("Mul", [lo, const(f"ls{i}", 2.0 ** -float(m.split[i]))], f"lo{i}_s")], f"lo{i}")
        t = node("Add", [t, lo], f"t{i}_sum")
    if last:
        return t
    if m.act == "relu":
        return node("Min", [node("Relu", [t], f"relu{i}"), const(f"cap{i}", getattr(m, f"cap{i}"), True)], f"a{i + 1}")
    e = getattr(m, f"act_exp{i}")  # srelu: s = t + C; Floor(Min(Relu(s), 2C - 1)^2 / 4C) + Relu(s - (2C - 1))
    s_, top = node("Add", [t, const(f"kn{i}", torch.exp2(-e))], f"s{i}"), const(f"tp{i}", 2 * torch.exp2(-e) - 1)
    v = node("Min", [node("Relu", [s_], f"sp{i}"), top], f"v{i}")
    q = node("Floor", [node("Mul", [node("Mul", [v, v], f"vv{i}"), const(f"sq{i}", torch.exp2(e - 2))], f"vvs{i}")],
             f"q{i}")
    t = node("Add", [q, node("Relu", [node("Sub", [s_, top], f"sm{i}")], f"r{i}")], f"srelu{i}")
    return node("Min", [t, const(f"cap{i}", getattr(m, f"cap{i}"), True)], f"a{i + 1}")


def to_onnx(model: torch.nn.Module, meta: dict[str, str], opset: int = 20) -> bytes:
    """Deterministic .onnx bytes of the integer graph, checked (full) and proven; BoundError if not provable."""
    import onnx

    if opset < 13:
        raise ValueError(f"opset {opset} < 13")
    proto = model_proto(model, meta, opset)
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString(deterministic=True)
    check_graph(data)
    return data


__all__ = ["ZERO_EXP", "model_proto", "to_onnx"]
