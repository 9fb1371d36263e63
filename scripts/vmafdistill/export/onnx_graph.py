"""The ONNX file of a student: export from torch, metadata, the precision conversions, the contract.

Contract of an exported student (``check_contract``):

* one input ``features``: float32 ``[N, F]``, the teacher's F raw features in canonical order
  (metadata ``vmafdistill.features``), with a symbolic batch dimension ``N``; one output ``vmaf``:
  float32 ``[N]`` in the teacher's score range;
* the teacher's input fix, the standardisation, the body and the final clamp are all in the graph;
* one self-contained ``.onnx`` file (no external data), opset >= 17, ``onnx.checker`` full check;
* ``metadata_props``: ``METADATA_KEYS`` (feature order, libvmaf version, arch, tier, pooling,
  precision, sha256 of the training feature table, teacher and its libvmaf model);
* deterministic bytes: the same model gives the same file. The legacy TorchScript exporter
  (``dynamo=False``) is used: measured byte-identical across exports and processes, 0.05-0.15 s per
  export; the dynamo exporter needs ``onnxscript``, which the pinned environment does not carry.

Opset: config ``opset`` (>= 17, default 20). Opset 20 has a native ``Gelu`` op; at 17 the exporter
spells GELU as Div/Erf/Add/Mul/Mul, which ORT's optimiser (level extended and up) fuses into its own
Gelu kernel, so the same .onnx gives outputs 8-130 float32 ULP apart between optimisation levels
(measured on the MLP students); at 20 they are bit-identical. Precisions: ``precision.py``; the
``exact`` precision is the integer graph of ``vmafdistill.exact`` (built by the model's own
``ExactStudent.to_onnx``, i.e. ``exact.to_onnx``).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from ..contract import BATCH_DIM, INPUT, MIN_OPSET, OUTPUT, add_nonfinite_guard, compact_names
from .precision import to_fp16, to_int8_dynamic
from .tiers import ExportError, TierSpec

METADATA_KEYS = (
    "vmafdistill.arch",
    "vmafdistill.features",
    "vmafdistill.features_sha256",
    "vmafdistill.libvmaf_model",
    "vmafdistill.libvmaf_version",
    "vmafdistill.pooling",
    "vmafdistill.precision",
    "vmafdistill.teacher",
    "vmafdistill.tier",
)


def torch_to_onnx(model, opset: int = MIN_OPSET):  # torch module -> ModelProto
    """fp32 export of a student's score with the legacy TorchScript exporter (deterministic, fast); without
    the non-finite guard, which ``build_onnx`` appends after any precision conversion."""
    import onnx
    import torch

    if opset < MIN_OPSET:
        raise ExportError(f"opset {opset} < {MIN_OPSET}")
    buf = io.BytesIO()
    # the score alone: the guard is appended in ONNX, one form for every engine (torch's own export of
    # isfinite(...).all() mixes dtypes in an Or that tract refuses)
    guarded, model.guarded = model.guarded, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(
            model.eval(),
            (torch.zeros(2, getattr(model, "n_features", 6), dtype=torch.float32),),
            buf,
            opset_version=int(opset),
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {0: BATCH_DIM}, OUTPUT: {0: BATCH_DIM}},
            do_constant_folding=True,
            dynamo=False,
        )
    model.guarded = guarded
    return onnx.load_from_string(buf.getvalue())



def metadata(tier: TierSpec, features_sha256: str, libvmaf_version: str, teacher) -> dict[str, str]:
    """The model's metadata_props (every key of METADATA_KEYS); `teacher`: the student's teacher.Teacher."""
    meta = {
        "vmafdistill.arch": tier.arch,
        "vmafdistill.features": ",".join(teacher.features),
        "vmafdistill.features_sha256": features_sha256,
        "vmafdistill.libvmaf_model": teacher.model.model_spec(),
        "vmafdistill.libvmaf_version": libvmaf_version,
        "vmafdistill.pooling": tier.pooling,
        "vmafdistill.precision": tier.precision,
        "vmafdistill.teacher": teacher.name,
        "vmafdistill.tier": tier.name,
    }
    assert tuple(sorted(meta)) == METADATA_KEYS
    return meta


def build_onnx(model, precision: str, meta: dict[str, str], opset: int = MIN_OPSET) -> bytes:
    """The .onnx bytes of ``model`` at ``precision`` with ``meta`` as metadata_props; contract checked."""
    import onnx

    if precision == "exact":  # the exact student's own integer graph (ExactStudent.to_onnx: no torch import here)
        data = model.to_onnx(meta, opset)
        check_contract(data, opset)
        return data
    proto = torch_to_onnx(model, opset)
    if precision == "fp16":
        proto = to_fp16(proto)
    elif precision == "int8":
        proto = to_int8_dynamic(proto)
    elif precision != "fp32":
        raise ExportError(f"unknown precision {precision!r} (fp32, fp16, int8, exact)")
    proto = compact_names(add_nonfinite_guard(proto))
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, dict(sorted(meta.items())))
    features = meta.get("vmafdistill.features", "?").split(",")
    proto.doc_string = (
        f"vmafdistill student ({meta.get('vmafdistill.tier', '?')}): {', '.join(features)} float32 [N,{len(features)}] "
        f"-> {meta.get('vmafdistill.teacher', '?')} estimate float32 [N]"
    )
    data = proto.SerializeToString(deterministic=True)
    check_contract(data, opset)
    return data


def check_contract(data: bytes, min_opset: int = MIN_OPSET) -> None:
    """Raise ExportError listing every way ``data`` breaks the export contract."""
    import onnx
    from onnx import TensorProto

    proto = onnx.load_from_string(data)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # any checker failure breaks the contract
        raise ExportError(f"onnx.checker (full_check) failed: {exc}") from exc
    problems = []
    opset = max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < min_opset:
        problems.append(f"opset {opset} < {min_opset}")

    def shape(vi) -> list:
        return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]

    ins, outs = list(proto.graph.input), list(proto.graph.output)
    props = {p.key: p.value for p in proto.metadata_props}
    n_features = len(props.get("vmafdistill.features", "x,x,x,x,x,x").split(","))
    if [i.name for i in ins] != [INPUT] or [o.name for o in outs] != [OUTPUT]:
        problems.append(
            f"IO names {[i.name for i in ins]} -> {[o.name for o in outs]}, expected [{INPUT}] -> [{OUTPUT}]"
        )
    else:
        for vi, want in ((ins[0], [BATCH_DIM, n_features]), (outs[0], [BATCH_DIM])):
            if vi.type.tensor_type.elem_type != TensorProto.FLOAT:
                problems.append(f"{vi.name} is {TensorProto.DataType.Name(vi.type.tensor_type.elem_type)}, not FLOAT")
            if shape(vi) != want:
                problems.append(f"{vi.name} has shape {shape(vi)}, expected {want}")
    if not any(n.op_type == "Where" and list(n.output) == [OUTPUT] for n in proto.graph.node):
        problems.append(f"{OUTPUT} is not written by the non-finite guard (contract.nonfinite_guard)")
    external = [t.name for t in proto.graph.initializer if t.data_location == TensorProto.EXTERNAL]
    if external:
        problems.append(f"initializers stored as external data: {external}")
    missing = sorted(set(METADATA_KEYS) - {p.key for p in proto.metadata_props})
    if missing:
        problems.append(f"metadata_props lacks {missing}")
    if problems:
        raise ExportError("export contract broken: " + "; ".join(problems))



def metadata_of(data: bytes | str | Path) -> dict[str, str]:
    import onnx

    proto = onnx.load_from_string(data) if isinstance(data, bytes) else onnx.load(str(data), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}

