"""Entry point: a tier's LOSO held-out predictions as shipped: each fold model of the tier's arch and
pooling exported at the tier's precision (the export the tier ships) and run on ORT CPU."""

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

import polars as pl  # noqa: E402

from vmafdistill import export as ex  # noqa: E402
from vmafdistill import onnxrun  # noqa: E402
from vmafdistill.atomic import write_parquet  # noqa: E402
from vmafdistill.features import table_sha256  # noqa: E402
from vmafdistill.loso import clip_predictions, make_fold  # noqa: E402
from vmafdistill.modelio import load_student  # noqa: E402
from vmafdistill.teacher import hp_teacher  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
tier = ex.TierSpec.from_config(snakemake.params.tier, snakemake.params.spec)
clips = pl.read_parquet(snakemake.input.clips)
frames = pl.read_parquet(snakemake.input.frames)
parts = []
for fold in snakemake.params.folds:  # each fold's model, input fold_<fold>
    path = snakemake.input[f"fold_{fold}"]
    model, blob = load_student(path)
    teacher = hp_teacher(blob["hparams"])
    meta = ex.metadata(tier, table_sha256(snakemake.input.frames), str(clips["libvmaf_version"][0]), teacher)
    try:
        data = ex.build_onnx(model, tier.precision, meta, int(snakemake.params.opset))
    except ex.ExportError as exc:
        fail(log, f"tier {tier.name}, fold {fold}: {exc}")
    f = make_fold(clips, snakemake.params.folds[fold], float(snakemake.params.val_fraction))
    test = clips.filter(pl.col("clip_id").is_in(list(f.test_clips))).sort("clip_id")
    student = clip_predictions(lambda x: onnxrun.predict(data, x), tier.pooling, f.test_clips, clips, frames,  # noqa: B023
                               teacher.features)
    parts.append(test.select(["clip_id", "source", "self_pair", "dmos"]).with_columns(
        pl.lit(tier.name).alias("tier"), pl.lit(tier.arch).alias("arch"), pl.lit(tier.pooling).alias("pooling"),
        pl.lit(tier.precision).alias("precision"), pl.lit(int(blob["meta"]["seed"])).alias("seed"),
        pl.lit(fold).alias("fold"), pl.Series("teacher", test["vmaf"].to_numpy()), pl.Series("student", student),
    ))
out = pl.concat(parts).sort(["fold", "clip_id"])
write_parquet(snakemake.output[0], out)
err = (out["student"] - out["teacher"]).abs()
log.info(f"tier {tier.name} as shipped ({tier.arch}/{tier.pooling} {tier.precision}, ORT CPU): {out.height} held-out "
         f"clips in {len(parts)} folds, RMSE {float((err**2).mean() ** 0.5):.4f}, max |error| {float(err.max()):.4f}")
log.close()
