"""The ONNX contract every exported student keeps (float tiers and the exact tier alike).

* one input ``features``: float32 ``[N, F]``, the teacher's F raw features in canonical order, with a
  symbolic batch dimension ``N``; one output ``vmaf``: float32 ``[N]`` in the teacher's score range;
* non-finite inputs: a row with any NaN or +-inf feature scores NaN, on every engine and every tier
  (libvmaf never logs a non-finite feature, so such a row is a broken measurement, never a score).
  Engines disagree on what ``Max``/``Min``/``Clip`` do with NaN (ORT and onnx.reference propagate it,
  OpenVINO and tract return a bound), so the graph decides it explicitly: ``nonfinite_guard`` ends
  every graph with ``Where(row has IsNaN or IsInf, NaN, score)``.

This module is a leaf: it imports onnx's helpers only when a graph is built.
"""

from __future__ import annotations

from typing import Any

INPUT = "features"
OUTPUT = "vmaf"
BATCH_DIM = "N"
MIN_OPSET = 17
#: the ops of the guard (all in every engine the gate runs: ORT, onnx.reference, OpenVINO, tract)
GUARD_OPS = ("IsNaN", "IsInf", "Or", "Cast", "ReduceMax", "Greater", "Where")


def nonfinite_guard(score: str, output: str = OUTPUT, features: str = INPUT, prefix: str = "nf") -> tuple[list, list]:
    """(nodes, initializers) computing ``output = Where(any(isnan | isinf, axis=1), NaN, score)``."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    p = prefix
    inits = [numpy_helper.from_array(np.array([1], dtype=np.int64), f"{p}_axis"),
             numpy_helper.from_array(np.array(0.0, dtype=np.float32), f"{p}_zero"),
             numpy_helper.from_array(np.array(np.nan, dtype=np.float32), f"{p}_nan")]
    nodes = [
        helper.make_node("IsNaN", [features], [f"{p}_isnan"]),
        helper.make_node("IsInf", [features], [f"{p}_isinf"]),
        helper.make_node("Or", [f"{p}_isnan", f"{p}_isinf"], [f"{p}_bad"]),
        helper.make_node("Cast", [f"{p}_bad"], [f"{p}_badf"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMax", [f"{p}_badf", f"{p}_axis"], [f"{p}_row"], keepdims=0),
        helper.make_node("Greater", [f"{p}_row", f"{p}_zero"], [f"{p}_rowbad"]),
        helper.make_node("Where", [f"{p}_rowbad", f"{p}_nan", score], [output]),
    ]
    return nodes, inits


def add_nonfinite_guard(proto: Any) -> Any:
    """``proto`` (output ``vmaf``) with the guard appended: its last node now writes ``vmaf_unguarded``."""
    inner = OUTPUT + "_unguarded"
    for node in proto.graph.node:
        node.output[:] = [inner if o == OUTPUT else o for o in node.output]
    nodes, inits = nonfinite_guard(inner)
    proto.graph.node.extend(nodes)
    proto.graph.initializer.extend(inits)
    return proto


def compact_names(proto):  # ModelProto
    """The graph with short names for its intermediate values (``v0``, ``v1``, ...) and none for its nodes:
    the exporter's long ``/net/net.0/Gemm_output_0`` style names cost ~1 KB of a 10 KB budget.
    Inputs, outputs, initializers and the Cast of an initializer (a weight stored as small integers) keep theirs."""
    inits = {i.name for i in proto.graph.initializer}
    keep = {v.name for v in (*proto.graph.input, *proto.graph.output)} | inits
    keep |= {n.output[0] for n in proto.graph.node if n.op_type == "Cast" and n.input[0] in inits}
    short: dict[str, str] = {}
    for node in proto.graph.node:
        node.ClearField("name")
        for out in node.output:
            if out not in keep and out:
                short.setdefault(out, f"v{len(short):x}")
    for node in proto.graph.node:
        node.input[:] = [short.get(i, i) for i in node.input]
        node.output[:] = [short.get(o, o) for o in node.output]
    kept = [vi for vi in proto.graph.value_info if vi.name not in short]
    del proto.graph.value_info[:]
    proto.graph.value_info.extend(kept)
    return proto


__all__ = ["compact_names", "BATCH_DIM", "GUARD_OPS", "INPUT", "MIN_OPSET", "OUTPUT", "add_nonfinite_guard",
           "nonfinite_guard"]
