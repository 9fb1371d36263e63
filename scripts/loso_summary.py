"""Entry point: LOSO tables (summary, per fold), plots, external ONNX models, a rich summary."""

from pathlib import Path

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

import polars as pl  # noqa: E402
from rich.table import Table  # noqa: E402

from vmafdistill.atomic import write_csv, write_parquet, write_text  # noqa: E402
from vmafdistill.loso import clip_predictions, fold_id, fold_table, summary_markdown, summary_table  # noqa: E402
from vmafdistill.onnxrun import input_width, predict_onnx  # noqa: E402
from vmafdistill.plots import fold_plcc, residuals  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
# each predictions file carries its own arch, pooling, seed and fold columns
parts = [pl.read_parquet(p).with_columns(pl.col("arch").alias("model")) for p in snakemake.input.predictions]
predictions = pl.concat(parts, how="vertical_relaxed")

clips = pl.read_parquet(snakemake.input.clips)
frames = pl.read_parquet(snakemake.input.frames)
features = tuple(snakemake.params.features)
for model_path in snakemake.params.external:
    name = Path(model_path).stem
    width = input_width(model_path)
    if width is not None and width != len(features):  # another teacher family's contract ([N, 6] vs [N, 4])
        log.info(f"external model {model_path} takes {width} features, teacher {snakemake.params.teacher} gives "
                 f"{len(features)}: not scored for it")
        continue
    try:
        ids = tuple(sorted(clips["clip_id"]))
        student = clip_predictions(lambda x: predict_onnx(model_path, x), "frame", ids, clips, frames, features)  # noqa: B023
    except Exception as exc:  # noqa: BLE001 - any ORT failure: name the model
        fail(log, f"external model {model_path}: cannot be scored ({exc})")
    c = clips.sort("clip_id")
    parts.append(
        c.select(["clip_id", "source", "self_pair", "dmos"]).with_columns(
            pl.col("source").map_elements(fold_id, return_dtype=pl.String).alias("fold"),
            pl.Series("teacher", c["vmaf"].to_numpy()),
            pl.Series("student", student), pl.lit(f"external:{name}").alias("model"),
            pl.lit(name).alias("arch"), pl.lit("frame").alias("pooling"), pl.lit(0, dtype=pl.Int64).alias("seed"),
        )
    )
predictions = pl.concat(parts, how="diagonal_relaxed")
if not snakemake.params.self_pairs_in_metrics:
    predictions = predictions.filter(~pl.col("self_pair"))

folds = fold_table(predictions)
summary = summary_table(predictions, folds)
write_csv(snakemake.output.folds, folds)
write_csv(snakemake.output.summary_csv, summary)
write_parquet(snakemake.output.summary_parquet, summary)
write_text(snakemake.output.summary_md, f"# LOSO summary (held-out clips, student vs {snakemake.params.teacher})\n\n"
           + summary_markdown(summary))
residuals(predictions, snakemake.output.residuals, snakemake.params.teacher)
fold_plcc(folds, snakemake.output.fold_plcc)

table = Table(title="LOSO: held-out clips, student vs teacher (mean ± std across folds)")
for col in ("model", "pooling", "PLCC", "SROCC", "KROCC", "RMSE", "max |err|"):
    table.add_column(col, justify="right" if col not in ("model", "pooling") else "left")
for r in summary.iter_rows(named=True):
    table.add_row(
        r["model"], r["pooling"], f"{r['plcc_mean']:.5f} ± {r['plcc_std']:.5f}", f"{r['srocc_mean']:.4f}",
        f"{r['krocc_mean']:.4f}", f"{r['rmse_mean']:.3f} ± {r['rmse_std']:.3f}", f"{r['max_abs_error']:.3f}",
    )
log.console.print(table)
log.plain(summary_markdown(summary))
log.close()
