"""Final models per tier, their ONNX export and their model cards.

Contract of an exported student (`check_contract`):

* one input ``features``: float32 ``[N, 6]`` raw canonical-6 features (``vmafdistill.FEATURES``
  order) with a symbolic batch dimension ``N``; one output ``vmaf``: float32 ``[N]`` in [0, 100];
* the standardisation, the body and the final clamp are all in the graph;
* one self-contained ``.onnx`` file (no external data), opset >= 17, ``onnx.checker`` full check;
* ``metadata_props``: ``METADATA_KEYS`` (feature order, libvmaf version, arch, tier, pooling,
  precision, sha256 of the training feature table, teacher);
* deterministic bytes: the same model gives the same file. The legacy TorchScript exporter
  (``dynamo=False``) is used: measured byte-identical across exports and processes, 0.05-0.15 s per
  export; the dynamo exporter needs ``onnxscript``, which the pinned environment does not carry.

Opset: config ``opset`` (>= 17, default 20). Opset 20 has a native ``Gelu`` op; at 17 the exporter
spells GELU as Div/Erf/Add/Mul/Mul, which ORT's optimiser (level extended and up) fuses into its own
Gelu kernel, so the same .onnx gives outputs 8-130 float32 ULP apart between optimisation levels
(measured on the MLP students), failing the gate's cross-backend check; at 20 they are bit-identical.

Precisions: ``fp32`` as exported; ``fp16`` through onnxconverter-common with float32 IO
(``keep_io_types``) and the input standardisation kept in float32 (raw features such as adm2 ~ 0.9
lose ~2e-4 in float16 before the scaler sees them); ``int8``: ORT dynamic quantization of the
weights (Gemm rewritten to MatMul + Add first, ORT's dynamic quantizer has no Gemm), whose
activation scales are computed per batch, so a row's score depends on its batch: the gate's batch
invariance check fails such a tier by design.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from . import FEATURES, TEACHER

INPUT = "features"
OUTPUT = "vmaf"
BATCH_DIM = "N"
MIN_OPSET = 17
PRECISIONS = ("fp32", "fp16", "int8")
POOLINGS = ("clip", "frame")
METADATA_KEYS = (
    "vmafdistill.arch",
    "vmafdistill.features",
    "vmafdistill.features_sha256",
    "vmafdistill.libvmaf_version",
    "vmafdistill.pooling",
    "vmafdistill.precision",
    "vmafdistill.teacher",
    "vmafdistill.tier",
)
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
}


#: How to run a float tier in float32 on OpenVINO (its CPU plugin may pick bf16 on CPUs with AVX512-BF16/AMX).
OPENVINO_NOTE = (
    "OpenVINO's CPU plugin runs bf16 by default on CPUs with AVX512-BF16 or AMX; for float32 compile with "
    "core.compile_model(path, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'}) (gate engine openvino-f32); the `exact` "
    "tier gives the same bits in float32 on every engine"
)


class ExportError(Exception):
    """An export breaks its contract (graph, determinism, agreement with torch)."""


class BudgetError(ExportError):
    """An exported tier is larger than its byte budget."""


@dataclass(frozen=True)
class TierSpec:
    """A tier of config ``tiers``: which student, pooled how, exported at which precision, budget."""

    name: str
    arch: str
    pooling: str
    precision: str
    max_bytes: int

    @classmethod
    def from_config(cls, name: str, spec: dict) -> "TierSpec":
        t = cls(name, str(spec["arch"]), str(spec["pooling"]), str(spec["precision"]), int(spec["max_bytes"]))
        if t.precision not in PRECISIONS:
            raise ExportError(f"tier {name}: precision {t.precision!r} is not one of {', '.join(PRECISIONS)}")
        if t.pooling not in POOLINGS:
            raise ExportError(f"tier {name}: pooling {t.pooling!r} is not one of {', '.join(POOLINGS)}")
        return t


# ------------------------------------------------------------------------------------------------
# final training data


@dataclass(frozen=True)
class FinalSplit:
    """Every source: training clips (bucket >= val_fraction) and early-stopping clips (bucket < val_fraction)."""

    train_clips: tuple[str, ...]
    val_clips: tuple[str, ...]


def final_split(clips: pl.DataFrame, val_fraction: float) -> FinalSplit:
    """The hash split of the whole corpus (the LOSO validation rule without a held-out source)."""
    c = clips.sort("clip_id")
    val = c.filter(pl.col("bucket") < val_fraction)
    train = c.filter(pl.col("bucket") >= val_fraction)
    if train.height == 0:
        raise ExportError(f"no training clips: every clip has split bucket < val_fraction={val_fraction}")
    return FinalSplit(tuple(train["clip_id"]), tuple(val["clip_id"]))


def corpus_frames(frames: pl.DataFrame) -> np.ndarray:
    """The corpus's per-frame canonical-6 features, float64 [N, 6] (clip_id, frame order)."""
    return frames.sort(["clip_id", "frame"]).select(FEATURES).to_numpy().astype(np.float64)


# ------------------------------------------------------------------------------------------------
# ONNX


def torch_to_onnx(model, opset: int = MIN_OPSET):  # noqa: ANN001, ANN201 - torch module -> ModelProto
    """fp32 export of a student with the legacy TorchScript exporter (deterministic, fast)."""
    import onnx
    import torch

    if opset < MIN_OPSET:
        raise ExportError(f"opset {opset} < {MIN_OPSET}")
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(
            model.eval(),
            (torch.zeros(2, 6, dtype=torch.float32),),
            buf,
            opset_version=int(opset),
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {0: BATCH_DIM}, OUTPUT: {0: BATCH_DIM}},
            do_constant_folding=True,
            dynamo=False,
        )
    return onnx.load_from_string(buf.getvalue())


def _standardisation_nodes(proto) -> list[str]:  # noqa: ANN001
    """Names of the input's Sub (x - mean) and the Div that follows it (/ std)."""
    names = []
    sub = next((n for n in proto.graph.node if n.op_type == "Sub" and n.input[0] == INPUT), None)
    if sub is not None:
        names.append(sub.name)
        div = next((n for n in proto.graph.node if n.op_type == "Div" and n.input[0] == sub.output[0]), None)
        if div is not None:
            names.append(div.name)
    return names


def to_fp16(proto, keep_scaler_fp32: bool = True):  # noqa: ANN001, ANN201
    """float16 weights and compute, float32 IO; the input standardisation stays float32 by default."""
    from onnxconverter_common import float16

    block = _standardisation_nodes(proto) if keep_scaler_fp32 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the model contains values out of the fp16 range" style notes
        return float16.convert_float_to_float16(proto, keep_io_types=True, node_block_list=block)


def gemm_to_matmul(proto):  # noqa: ANN001, ANN201
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


def to_int8_dynamic(proto):  # noqa: ANN001, ANN201
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


def metadata(tier: TierSpec, features_sha256: str, libvmaf_version: str) -> dict[str, str]:
    """The model's metadata_props (every key of METADATA_KEYS)."""
    meta = {
        "vmafdistill.arch": tier.arch,
        "vmafdistill.features": ",".join(FEATURES),
        "vmafdistill.features_sha256": features_sha256,
        "vmafdistill.libvmaf_version": libvmaf_version,
        "vmafdistill.pooling": tier.pooling,
        "vmafdistill.precision": tier.precision,
        "vmafdistill.teacher": TEACHER,
        "vmafdistill.tier": tier.name,
    }
    assert tuple(sorted(meta)) == METADATA_KEYS
    return meta


def build_onnx(model, precision: str, meta: dict[str, str], opset: int = MIN_OPSET) -> bytes:  # noqa: ANN001
    """The .onnx bytes of ``model`` at ``precision`` with ``meta`` as metadata_props; contract checked."""
    import onnx

    proto = torch_to_onnx(model, opset)
    if precision == "fp16":
        proto = to_fp16(proto)
    elif precision == "int8":
        proto = to_int8_dynamic(proto)
    elif precision != "fp32":
        raise ExportError(f"unknown precision {precision!r} ({', '.join(PRECISIONS)})")
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, dict(sorted(meta.items())))
    proto.doc_string = (
        f"vmafdistill student ({meta.get('vmafdistill.tier', '?')}): {', '.join(FEATURES)} float32 [N,6] -> "
        f"{TEACHER} estimate float32 [N]"
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
    except Exception as exc:  # noqa: BLE001 - any checker failure breaks the contract
        raise ExportError(f"onnx.checker (full_check) failed: {exc}") from exc
    problems = []
    opset = max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < min_opset:
        problems.append(f"opset {opset} < {min_opset}")

    def shape(vi) -> list:  # noqa: ANN001
        return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]

    ins, outs = list(proto.graph.input), list(proto.graph.output)
    if [i.name for i in ins] != [INPUT] or [o.name for o in outs] != [OUTPUT]:
        problems.append(
            f"IO names {[i.name for i in ins]} -> {[o.name for o in outs]}, expected [{INPUT}] -> [{OUTPUT}]"
        )
    else:
        for vi, want in ((ins[0], [BATCH_DIM, 6]), (outs[0], [BATCH_DIM])):
            if vi.type.tensor_type.elem_type != TensorProto.FLOAT:
                problems.append(f"{vi.name} is {TensorProto.DataType.Name(vi.type.tensor_type.elem_type)}, not FLOAT")
            if shape(vi) != want:
                problems.append(f"{vi.name} has shape {shape(vi)}, expected {want}")
    external = [t.name for t in proto.graph.initializer if t.data_location == TensorProto.EXTERNAL]
    if external:
        problems.append(f"initializers stored as external data: {external}")
    missing = sorted(set(METADATA_KEYS) - {p.key for p in proto.metadata_props})
    if missing:
        problems.append(f"metadata_props lacks {missing}")
    if problems:
        raise ExportError("export contract broken: " + "; ".join(problems))


def check_budget(tier: TierSpec, n_bytes: int) -> None:
    """Raise BudgetError, naming tier, arch, bytes, budget and what to do, when the file is too big."""
    if n_bytes <= tier.max_bytes:
        return
    if tier.precision == "fp32":
        hint = "set the tier's precision to fp16 (about half the bytes) or int8, or choose a smaller arch"
    elif tier.precision == "fp16":
        hint = "set the tier's precision to int8, or choose a smaller arch"
    else:
        hint = "choose a smaller arch"
    raise BudgetError(
        f"tier {tier.name}: arch {tier.arch} at {tier.precision} exports to {n_bytes:,} bytes, over the tier's "
        f"budget of {tier.max_bytes:,} bytes (max_bytes); {hint} (config `tiers`)"
    )


def metadata_of(data: bytes | str | Path) -> dict[str, str]:
    import onnx

    proto = onnx.load_from_string(data) if isinstance(data, bytes) else onnx.load(str(data), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}


# ------------------------------------------------------------------------------------------------
# onnxruntime


def ort_session(
    model: bytes | str | Path, provider: str = "CPUExecutionProvider", optimize: bool = True
):  # noqa: ANN201
    """An ORT session on model bytes or a path: one thread, all graph optimisations or none."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    providers = [provider] if provider == "CPUExecutionProvider" else [provider, "CPUExecutionProvider"]
    src = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(src, sess_options=opts, providers=providers)


def ort_run(sess, x: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """float32 [N] scores of raw features [N, 6] through an ORT session."""
    out = sess.run([OUTPUT], {INPUT: np.ascontiguousarray(x, dtype=np.float32)})[0]
    return np.asarray(out, dtype=np.float32).reshape(-1)


def ort_predict(model: bytes | str | Path, x: np.ndarray, optimize: bool = True) -> np.ndarray:
    return ort_run(ort_session(model, optimize=optimize), x)


def golden_score(model: bytes | str | Path, fixture_features: np.ndarray, pooling: str = "frame") -> float:
    """A clip's score by the model's pooling on ORT CPU: the mean of the per-frame predictions (float64
    mean) for frame pooling, the prediction of the mean features for clip pooling."""
    x = np.asarray(fixture_features, dtype=np.float64)
    if pooling == "clip":
        return float(ort_predict(model, x.mean(axis=0, keepdims=True))[0])
    return float(np.mean(ort_predict(model, x).astype(np.float64)))


def places_mismatches(a: np.ndarray, b: np.ndarray, places: int = PLACES) -> int:
    """How many pairs differ at ``places`` decimals (unittest's assertAlmostEqual rule)."""
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return int(np.sum(~(np.round(d, places) == 0)))


def precision_cost(reference: np.ndarray, exported: np.ndarray) -> dict[str, float]:
    """|exported - reference| summary (reference: the fp32 torch model on the same rows)."""
    d = np.abs(np.asarray(exported, dtype=np.float64) - np.asarray(reference, dtype=np.float64))
    return {"max_abs_diff": float(d.max()), "mean_abs_diff": float(d.mean()), "n_frames": int(len(d))}


# ------------------------------------------------------------------------------------------------
# model card


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config_fingerprint(model_config: dict) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of the config that determines a model."""
    canon = json.dumps(model_config, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def loso_row(summary: pl.DataFrame, arch: str, pooling: str) -> dict[str, Any]:
    """The LOSO summary row of ``arch`` (its own students, not external models) and ``pooling``."""
    rows = summary.filter((pl.col("model") == arch) & (pl.col("pooling") == pooling))
    if rows.height != 1:
        raise ExportError(f"results/loso/summary has no row for arch {arch} with pooling {pooling}")
    return rows.row(0, named=True)


def loso_metrics(row: dict[str, Any]) -> dict[str, Any]:
    keys = [f"{m}_{s}" for m in ("plcc", "srocc", "krocc", "rmse") for s in ("mean", "std")]
    out = {k: _finite(row.get(k)) for k in keys}
    out.update(
        max_abs_error=_finite(row.get("max_abs_error")), n_folds=int(row["n_folds"]), n_seeds=int(row["n_seeds"])
    )
    return out


def heldout_errors(folds: pl.DataFrame, row: dict[str, Any], arch: str, pooling: str) -> dict[str, Any]:
    """Held-out (LOSO) error summary: pooled RMSE / max |error| and each fold's RMSE, max |error|, PLCC."""
    f = folds.filter((pl.col("model") == arch) & (pl.col("pooling") == pooling)).sort(["fold", "seed"])
    per_fold = {
        str(r["fold"]) + ("" if f["seed"].n_unique() == 1 else f"/seed{r['seed']}"): {
            "n_clips": int(r["n_clips"]), "rmse": _finite(r["rmse"]), "max_abs_error": _finite(r["max_abs_error"]),
            "plcc": _finite(r["plcc"]),
        }
        for r in f.iter_rows(named=True)
    }  # fmt: skip
    worst = max(per_fold.items(), key=lambda kv: kv[1]["rmse"] or 0.0)[0] if per_fold else None
    return {
        "what": "leave-one-source-out held-out clips (self-pairs per config self_pairs_in_metrics), student vs teacher",
        "rmse_pooled": _finite(row.get("rmse_pooled")),
        "max_abs_error": _finite(row.get("max_abs_error")),
        "worst_fold": worst,
        "per_fold": per_fold,
    }


def _finite(v: Any) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None


def card_id(tier: str, arch: str, precision: str, sha256: str) -> str:
    return f"vmafdistill-{tier}-{arch}-{precision}-{sha256[:12]}"


def versions() -> dict[str, str]:
    import onnx
    import onnxruntime
    import torch

    return {"onnxruntime": onnxruntime.__version__, "torch": torch.__version__, "onnx": onnx.__version__}


def model_card(
    *,
    tier: TierSpec,
    data: bytes,
    opset: int,
    n_params: int,
    features_sha256: str,
    libvmaf_version: str,
    loso: dict[str, Any],
    heldout: dict[str, Any],
    cost: dict[str, Any],
    golden: dict[str, Any],
    model_config: dict,
    training: dict[str, Any],
    engines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The model card (``results/export/{tier}.json``) of an exported tier."""
    sha = sha256_bytes(data)
    return {
        "id": card_id(tier.name, tier.arch, tier.precision, sha),
        "tier": tier.name,
        "arch": tier.arch,
        "pooling": tier.pooling,
        "pooling_rule": (
            "a clip's score is the mean of the model's per-frame scores"
            if tier.pooling == "frame"
            else "a clip's score is the model's score of the clip's mean features"
        ),
        "precision": tier.precision,
        "n_params": int(n_params),
        "bytes": len(data),
        "max_bytes": tier.max_bytes,
        "sha256": sha,
        "opset": int(opset),
        "input": {"name": INPUT, "dtype": "float32", "shape": [BATCH_DIM, len(FEATURES)]},
        "output": {"name": OUTPUT, "dtype": "float32", "shape": [BATCH_DIM], "range": [0.0, 100.0]},
        "features": list(FEATURES),
        "teacher": TEACHER,
        "libvmaf_version": libvmaf_version,
        "features_sha256": features_sha256,
        "loso": loso,
        "heldout_error": heldout,
        "precision_cost": cost,
        "golden": golden,
        "versions": versions(),
        "config_fingerprint": config_fingerprint(model_config),
        "config": model_config,
        "training": training,
        "engines": {
            "what": "this file on every engine vs ORT CPU (all optimisations, 1 thread), measured at export; "
            "the gate measures again",
            "openvino_fp32": OPENVINO_NOTE,
            "table": engines or [],
        },
    }


def jsonable(v: Any, nonfinite: Any = None) -> Any:
    """``v`` with numpy scalars as Python numbers, and non-finite floats replaced (strict JSON):
    by ``nonfinite``, or by their name ("inf", "nan") when ``nonfinite == "name"``."""
    if isinstance(v, dict):
        return {str(k): jsonable(x, nonfinite) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x, nonfinite) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if np.isfinite(v):
            return float(v)
        return str(float(v)) if nonfinite == "name" else nonfinite
    return v
