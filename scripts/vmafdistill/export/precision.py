"""Precision conversions of an fp32 student graph (fp16, dynamic int8) and what they cost.

``fp16``: onnxconverter-common with float32 IO (``keep_io_types``) and the input standardisation kept
in float32 (raw features such as adm2 ~ 0.9 lose ~2e-4 in float16 before the scaler sees them);
``int8``: ORT dynamic quantization of the weights (Gemm rewritten to MatMul + Add first, ORT's
dynamic quantizer has no Gemm), whose activation scales are computed per batch, so a row's score
depends on its batch: the gate's batch invariance check fails such a tier by design. The ``exact``
precision is not a conversion but its own arch (``vmafdistill.exact``).
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..contract import INPUT

#: ORT-vs-torch agreement required of an fp32 export (unittest's assertAlmostEqual(places=4)).
PLACES = 4
#: What each precision means on ONNX Runtime (recorded in the model card).
PRECISION_NOTES = {
    "fp32": "as trained; ORT CPU matches the torch model at 4 places on every corpus row (checked at export)",
    "fp16": (
        "float16 weights, float32 IO and input standardisation; ORT's CPU provider has few float16 kernels: "
        "it inserts casts and computes most ops in float32 on float16-rounded values (smaller file, no CPU speed-up)"
    ),
    "int8": (
        "ORT dynamic quantization: int8 weights, activation scales computed per batch at run time, so a row's "
        "score depends on the rows batched with it (the gate's batch-invariance check fails it)"
    ),
    "exact": (
        "integer-valued float32 arithmetic with every partial sum below 2^24 (proved from the weights at export): "
        "bit-identical on every engine that computes in float32, any summation order, SIMD width or FMA (not on "
        "engines that compute in bf16/fp16/TF32, such as OpenVINO's CPU default on AVX512-BF16/AMX CPUs)"
    ),
}


def _standardisation_nodes(proto) -> list[str]:
    """Names of the input's Sub (x - mean) and the Div that follows it (/ std)."""
    names = []
    sub = next((n for n in proto.graph.node if n.op_type == "Sub" and n.input[0] == INPUT), None)
    if sub is not None:
        names.append(sub.name)
        div = next((n for n in proto.graph.node if n.op_type == "Div" and n.input[0] == sub.output[0]), None)
        if div is not None:
            names.append(div.name)
    return names


def to_fp16(proto, keep_scaler_fp32: bool = True):
    """float16 weights and compute, float32 IO; the input standardisation stays float32 by default."""
    from onnxconverter_common import float16

    block = _standardisation_nodes(proto) if keep_scaler_fp32 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the model contains values out of the fp16 range" style notes
        return float16.convert_float_to_float16(proto, keep_io_types=True, node_block_list=block)


def gemm_to_matmul(proto):
    """Rewrite Gemm(A, B, C; alpha=beta=1, transA=0) as MatMul(A, B') + C (B' = B or B^T)."""
    import onnx
    from onnx import helper, numpy_helper

    inits = {i.name: i for i in proto.graph.initializer}
    nodes = []
    for node in proto.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (
            node.op_type != "Gemm"
            or node.input[1] not in inits
            or attrs.get("transA", 0)
            or attrs.get("alpha", 1.0) != 1.0
            or attrs.get("beta", 1.0) != 1.0
        ):
            nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[node.input[1]])
        if attrs.get("transB", 0):
            w = np.ascontiguousarray(w.T)
        w_name = f"{node.input[1]}_matmul"
        proto.graph.initializer.append(numpy_helper.from_array(w, w_name))
        mm_out = f"{node.output[0]}_matmul" if len(node.input) > 2 else node.output[0]
        nodes.append(helper.make_node("MatMul", [node.input[0], w_name], [mm_out], name=f"{node.name}_MatMul"))
        if len(node.input) > 2:
            nodes.append(helper.make_node("Add", [mm_out, node.input[2]], [node.output[0]], name=f"{node.name}_Add"))
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)
    used = {i for n in proto.graph.node for i in n.input}
    keep = [i for i in proto.graph.initializer if i.name in used]
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(keep)
    onnx.checker.check_model(proto)
    return proto


def to_int8_dynamic(proto):
    """ORT dynamic int8 quantization of the MatMul weights (per-batch activation scales)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    proto = gemm_to_matmul(proto)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(proto.SerializeToString())
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # the quantizer's "consider pre-processing" note on the root logger
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                quantize_dynamic(src, dst, weight_type=QuantType.QInt8)
        finally:
            logging.disable(previous)
        return onnx.load_from_string(dst.read_bytes())



def places_mismatches(a: np.ndarray, b: np.ndarray, places: int = PLACES) -> int:
    """How many pairs differ at ``places`` decimals (unittest's assertAlmostEqual rule)."""
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return int(np.sum(~(np.round(d, places) == 0)))


def precision_cost(reference: np.ndarray, exported: np.ndarray) -> dict[str, float]:
    """|exported - reference| summary (reference: the fp32 torch model on the same rows)."""
    d = np.abs(np.asarray(exported, dtype=np.float64) - np.asarray(reference, dtype=np.float64))
    return {"max_abs_diff": float(d.max()), "mean_abs_diff": float(d.mean()), "n_frames": int(len(d))}

