"""Entry point: export a tier's final student to one self-contained .onnx file and write its model card.

Fails loudly (no outputs) when the export breaks its contract, is not byte-deterministic, exceeds
the tier's byte budget, or (fp32) differs from the torch model at 4 places anywhere on the corpus.
"""

import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from vmafdistill import export as ex
from vmafdistill.atomic import write_bytes, write_json
from vmafdistill.features import table_sha256
from vmafdistill.gate import synthetic_rows
from vmafdistill.gate.engine_checks import engine_rows, summarise
from vmafdistill.golden import load_fixture
from vmafdistill.modelio import load_student
from vmafdistill.students import hp_teacher, n_params
from vmafdistill.train import predict
from vmafdistill.ui import JobLog, fail

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
opset = int(snakemake.params.opset)
try:
    tier = ex.TierSpec.from_config(snakemake.wildcards.tier, snakemake.params.tier)
except ex.ExportError as exc:
    fail(log, str(exc))
model, blob = load_student(snakemake.input.model)
teacher = hp_teacher(blob["hparams"])
features = teacher.features
frames = pl.read_parquet(snakemake.input.frames)
clips = pl.read_parquet(snakemake.input.clips)
versions = clips["libvmaf_version"].unique().to_list()
if len(versions) != 1:
    fail(log, f"{snakemake.input.clips}: expected one libvmaf_version, found {versions}")
features_sha = table_sha256(snakemake.input.frames)
meta = ex.metadata(tier, features_sha, versions[0], teacher)

try:
    data = ex.build_onnx(model, tier.precision, meta, opset)
    if ex.build_onnx(model, tier.precision, meta, opset) != data:
        raise ex.ExportError(f"tier {tier.name}: two exports of the same model gave different bytes")
    ex.check_budget(tier, len(data))
    summary_row = ex.loso_row(pl.read_parquet(snakemake.input.summary), tier.arch, tier.pooling)
except ex.ExportError as exc:
    fail(log, str(exc))

# ORT vs the fp32 torch model on the real corpus: per-frame rows (and clip means, which clip pooling uses)
x_frames = ex.corpus_frames(frames, features)
x_clips = clips.sort("clip_id").select(features).to_numpy().astype(np.float64)
torch_frames, onnx_frames = predict(model, x_frames), ex.ort_predict(data, x_frames)
cost = ex.precision_cost(torch_frames, onnx_frames)
x_all = np.concatenate([x_frames, x_clips])
mismatches = ex.places_mismatches(predict(model, x_all), ex.ort_predict(data, x_all))
cost.update(reference="the fp32 torch model", rows="every frame of the corpus (results/features/frames.parquet)",
            places4_mismatches_frames_and_clip_means=mismatches, note=ex.PRECISION_NOTES[tier.precision])  # fmt: skip
if tier.precision == "fp32" and mismatches:
    i = int(np.argmax(np.abs(predict(model, x_all) - ex.ort_predict(data, x_all))))
    fail(log, f"tier {tier.name}: ORT differs from torch at 4 places on {mismatches} of {len(x_all)} corpus rows "
              f"(worst row {i}, max |diff| {cost['max_abs_diff']:.3g})")  # fmt: skip

fixture = load_fixture(snakemake.input.golden, teacher.name)  # this run's libvmaf pass over the committed fixture
golden = {
    "fixture": f"tests/fixtures/golden/ ({fixture['ref']}, {fixture['dis']}), measured in this run",
    "n_frames": int(len(fixture["frame_features"])),
    "score": ex.golden_score(data, fixture["frame_features"], tier.pooling),
    "rule": ("mean of the per-frame" if tier.pooling == "frame" else "the mean features'")
    + " ORT CPU predictions (all graph optimisations, 1 thread)",
    "teacher_vmaf": float(fixture["vmaf"]),
    "libvmaf_version": fixture.get("libvmaf_version"),
}
with tempfile.TemporaryDirectory() as tmp:  # the exact bytes about to be shipped, on every engine
    onnx_path = Path(tmp) / f"{tier.name}.onnx"
    onnx_path.write_bytes(data)
    datasets = {"golden fixture": fixture["frame_features"], "corpus frames": x_frames,
                "synthetic": synthetic_rows(teacher)}  # fmt: skip
    engine_table = summarise(engine_rows(onnx_path, datasets, Path(snakemake.input.model)), tuple(snakemake.params.engines_required))
training = {k: blob["meta"].get(k) for k in ("seed", "sources", "n_train_rows", "validation", "history")}
training["n_train_clips"] = len(blob["meta"].get("train_clips", []))
training["n_val_clips"] = len(blob["meta"].get("val_clips", []))
training["validation_note"] = (
    "the early-stopping clips (not independent); see loso / heldout_error for held-out accuracy"
)
card = ex.model_card(
    tier=tier, data=data, opset=opset, n_params=n_params(model), features_sha256=features_sha,
    libvmaf_version=versions[0], loso=ex.loso_metrics(summary_row),
    heldout=ex.heldout_errors(pl.read_csv(snakemake.input.folds), summary_row, tier.arch, tier.pooling),
    cost=cost, golden=golden, model_config=dict(snakemake.params.model_config), training=training,
    engines=engine_table, teacher=teacher,
)  # fmt: skip
write_bytes(snakemake.output.onnx, data)
write_json(snakemake.output.card, ex.jsonable(card))
log.info(
    f"export {tier.name}: {tier.arch}/{tier.pooling} {tier.precision}, {len(data):,} bytes (budget "
    f"{tier.max_bytes:,}), opset {opset}, vs fp32 torch on {cost['n_frames']} corpus frames: max |diff| "
    f"{cost['max_abs_diff']:.3g}, mean {cost['mean_abs_diff']:.3g}; golden fixture {golden['score']:.4f} "
    f"(teacher {golden['teacher_vmaf']:.4f}); LOSO PLCC {card['loso']['plcc_mean']}"
)
log.close()
