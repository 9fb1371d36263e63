"""The shipped students: each tier's final student (trained on every source) and its export.

``train_final`` fine-tunes the tier's arch from its pretrained state (or its closed-form start) on
every source, early-stopping on the hash-split validation clips of the whole corpus; the honest
accuracy estimate is the tier's LOSO result as shipped. ``export_tier`` builds the tier's .onnx
(twice: the bytes must be identical), checks its budget and, for fp32, that ORT equals the torch
model at 4 places on every corpus row, runs the exact bytes on every engine (``engine_summary``), and
writes the card; what it reads besides the model comes in one ``TierInputs``. One job does every tier
(one interpreter and torch start-up for all of them).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from . import export as ex
from . import onnxrun
from .engine_summary import default_warnings, engine_rows, summarise
from .loso import clip_predictions, metrics, pooled_samples
from .students import n_params
from .synth import synthetic_rows
from .teacher import hp_teacher
from .train import predict, train_fold
from .train_base import saved_history


def train_final(tier: ex.TierSpec, hparams: dict, clips: pl.DataFrame, frames: pl.DataFrame, seed: int,
                val_fraction: float, init_state: dict | None, progress=None):
    """(model, meta, history) of the tier's final student."""
    split = ex.final_split(clips, val_fraction)
    features = hp_teacher(hparams).features
    x_tr, y_tr = pooled_samples(tier.pooling, split.train_clips, clips, frames, features)
    x_va, y_va = (pooled_samples(tier.pooling, split.val_clips, clips, frames, features) if split.val_clips
                  else (None, None))
    model, history = train_fold(tier.arch, hparams, x_tr, y_tr, x_va, y_va, seed=seed, init_state=init_state,
                                progress=progress)
    validation = None
    if split.val_clips:
        teacher = clips.filter(pl.col("clip_id").is_in(list(split.val_clips))).sort("clip_id")["vmaf"].to_numpy()
        student = clip_predictions(lambda x: predict(model, x), tier.pooling, split.val_clips, clips, frames, features)
        validation = {"n_clips": len(split.val_clips), **metrics(teacher, student)}
    meta = {
        "tier": tier.name, "pooling": tier.pooling, "seed": seed, "sources": sorted(clips["source"].unique()),
        "train_clips": list(split.train_clips), "val_clips": list(split.val_clips), "n_train_rows": len(x_tr),
        "validation": validation, "history": saved_history(history, lists=False),
    }
    return model, meta, history


@dataclass(frozen=True)
class TierInputs:
    """What a tier's export reads besides its model: the run's tables (``frames``, ``clips``; the LOSO
    ``summary`` and ``folds``), the sha256 of the feature table, the golden fixture measured in this run, the
    tier's model config, the export settings, and where its ``.pt`` was written (the torch engine's weights)."""

    frames: pl.DataFrame
    clips: pl.DataFrame
    features_sha: str
    summary: pl.DataFrame
    folds: pl.DataFrame
    fixture: dict
    opset: int
    model_config: dict
    engines_required: tuple[str, ...]
    pt_path: Path
    engine_tolerance: float = 1e-4


def export_tier(*, tier: ex.TierSpec, model, hparams: dict, train_meta: dict,
                inputs: TierInputs) -> tuple[bytes, dict[str, Any]]:
    """(the .onnx bytes, the model card) of a tier; ExportError when the export breaks its contract."""
    frames, clips, fixture, opset = inputs.frames, inputs.clips, inputs.fixture, inputs.opset
    teacher = hp_teacher(hparams)
    features = teacher.features
    versions = clips["libvmaf_version"].unique().to_list()
    if len(versions) != 1:
        raise ex.ExportError(f"clips.parquet: expected one libvmaf_version, found {versions}")
    meta = ex.metadata(tier, inputs.features_sha, versions[0], teacher)
    data = ex.build_onnx(model, tier.precision, meta, opset)
    if ex.build_onnx(model, tier.precision, meta, opset) != data:
        raise ex.ExportError(f"tier {tier.name}: two exports of the same model gave different bytes")
    ex.check_budget(tier, len(data))
    summary_row = ex.loso_row(inputs.summary, tier.arch, tier.pooling)
    # ORT vs the torch model on the real corpus: per-frame rows (and clip means, which clip pooling uses)
    x_frames = ex.corpus_frames(frames, features)
    x_all = np.concatenate([x_frames, clips.sort("clip_id").select(list(features)).to_numpy().astype(np.float64)])
    torch_all, onnx_all = predict(model, x_all), onnxrun.predict(data, x_all)
    cost = ex.precision_cost(torch_all[: len(x_frames)], onnx_all[: len(x_frames)])
    mismatches = ex.places_mismatches(torch_all, onnx_all)
    rows = f"every frame of the corpus (results/teachers/{teacher.name}/features/frames.parquet)"
    cost.update(reference="the torch model", rows=rows, places4_mismatches_frames_and_clip_means=mismatches,
                note=ex.PRECISION_NOTES[tier.precision])
    if tier.precision in ("fp32", "exact") and mismatches:
        i = int(np.argmax(np.abs(torch_all - onnx_all)))
        raise ex.ExportError(f"tier {tier.name}: ORT differs from torch at 4 places on {mismatches} of {len(x_all)} "
                             f"corpus rows (worst row {i}, max |diff| {cost['max_abs_diff']:.3g})")
    golden = {
        "fixture": f"tests/fixtures/golden/ ({fixture['ref']}, {fixture['dis']}), measured in this run",
        "n_frames": int(len(fixture["frame_features"])),
        "score": onnxrun.clip_score(data, fixture["frame_features"], tier.pooling),
        "rule": ("mean of the per-frame" if tier.pooling == "frame" else "the mean features'")
        + " ORT CPU predictions (all graph optimisations, 1 thread)",
        "teacher_vmaf": float(fixture["vmaf"]),
        "libvmaf_version": fixture.get("libvmaf_version"),
    }
    with tempfile.TemporaryDirectory() as tmp:  # the exact bytes about to be shipped, on every engine
        onnx_path = Path(tmp) / f"{tier.name}.onnx"
        onnx_path.write_bytes(data)
        datasets = {"golden fixture": fixture["frame_features"], "corpus frames": x_frames,
                    "synthetic": synthetic_rows(teacher)}
        table = summarise(engine_rows(onnx_path, datasets, inputs.pt_path), inputs.engines_required)
    training = {k: train_meta.get(k) for k in ("seed", "sources", "n_train_rows", "validation", "history")}
    training["n_train_clips"] = len(train_meta.get("train_clips", []))
    training["n_val_clips"] = len(train_meta.get("val_clips", []))
    training["validation_note"] = ("the early-stopping clips (not independent); "
                                   "see loso / heldout_error for held-out accuracy")
    card = ex.model_card(
        tier=tier, data=data, opset=opset, n_params=n_params(model), features_sha256=inputs.features_sha,
        libvmaf_version=versions[0], loso=ex.loso_metrics(summary_row),
        heldout=ex.heldout_errors(inputs.folds, summary_row, tier.arch, tier.pooling), cost=cost, golden=golden,
        model_config=inputs.model_config, training=training, engines=table, teacher=teacher,
        engine_warnings=default_warnings(table, inputs.engine_tolerance),
    )
    return data, card
