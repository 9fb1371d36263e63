"""The model card of an exported tier (``results/teachers/<teacher>/export/{tier}.json``) and its parts."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import polars as pl

from ..contract import BATCH_DIM, INPUT, OUTPUT
from .tiers import ExportError, TierSpec

#: How to run a tier in float32 on OpenVINO (its CPU plugin picks bf16 by default on CPUs with AVX512-BF16/AMX).
OPENVINO_NOTE = (
    "OpenVINO's CPU plugin computes in bf16 by default on CPUs with AVX512-BF16 or AMX (8 significant bits: "
    "the output itself is rounded to steps of 0.25-0.5 VMAF above 64), for every tier, the exact one included; "
    "compile with core.compile_model(path, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'}) (gate engine openvino-f32)"
)
#: The scope of the exact tier's claim (every card, the README and the gate say the same).
EXACT_SCOPE = (
    "the same bits on every engine that computes in float32 (ORT CPU, onnx.reference, OpenVINO with "
    "INFERENCE_PRECISION_HINT=f32, tract, torch; any summation order, SIMD width or FMA); not on an engine that "
    "computes in bf16, fp16 or TF32 (OpenVINO's CPU default on AVX512-BF16/AMX CPUs), where no float32 graph is exact"
)


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
        raise ExportError(f"the LOSO summary (loso/summary.parquet) has no row for arch {arch} with pooling {pooling}")
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
    }
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
    teacher,  # a teacher.Teacher
    engine_warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The model card (``results/teachers/<teacher>/export/{tier}.json``) of an exported tier."""
    features = list(teacher.features)
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
        "input": {"name": INPUT, "dtype": "float32", "shape": [BATCH_DIM, len(features)]},
        "output": {"name": OUTPUT, "dtype": "float32", "shape": [BATCH_DIM], "range": list(teacher.score_range)},
        "features": features,
        "teacher": teacher.name,
        "teacher_model": teacher.describe(),
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
            "warnings": list(engine_warnings or []),
            "scope": EXACT_SCOPE if tier.precision == "exact" else "float32 on every engine that computes in float32",
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
