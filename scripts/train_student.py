"""Entry point: one LOSO fold, for each of its archs (config `loso_jobs`: every arch, or one). Fits each
pooling's student on the training sources only (scaler, early stopping on the hash-split validation
clips), then predicts the held-out source; each predictions file carries its arch, pooling, seed, fold."""

from vmafdistill.mathpaths import describe, pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

import polars as pl  # noqa: E402
import torch  # noqa: E402

from vmafdistill.atomic import write_parquet  # noqa: E402
from vmafdistill.features import table_sha256  # noqa: E402
from vmafdistill.loso import clip_predictions, make_fold, pooled_samples  # noqa: E402
from vmafdistill.modelio import save_student  # noqa: E402
from vmafdistill.teacher import hp_teacher  # noqa: E402
from vmafdistill.train import predict, train_fold  # noqa: E402
from vmafdistill.train_base import saved_history  # noqa: E402
from vmafdistill.ui import JobLog, job_cpu_line  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
log.info(describe())
fold_name, seed = snakemake.params.fold, int(snakemake.params.seed)
held_out = snakemake.params.held_out
clips = pl.read_parquet(snakemake.input.clips)
frames = pl.read_parquet(snakemake.input.frames)
fold = make_fold(clips, held_out, float(snakemake.params.val_fraction))  # asserts membership
features_sha = table_sha256(snakemake.input.frames)
test = clips.filter(pl.col("clip_id").is_in(list(fold.test_clips))).sort("clip_id")
pretrained = {a: snakemake.input[f"pretrained_{a}"] for a in snakemake.params.archs
              if f"pretrained_{a}" in snakemake.input.keys()}
train_cpu = 0.0
# the outputs, arch-major then pooling (the order the rule's expand() writes them)
pairs = [(a, p) for a in snakemake.params.archs for p in snakemake.params.poolings]
outputs = dict(zip(pairs, zip(snakemake.output.models, snakemake.output.predictions)))

for arch in snakemake.params.archs:
    hparams = dict(snakemake.params.hparams[arch])
    features = hp_teacher(hparams).features
    init_state = torch.load(pretrained[arch], map_location="cpu", weights_only=False) if arch in pretrained else None
    for pooling in snakemake.params.poolings:
        model_out, pred_out = outputs[(arch, pooling)]
        x_tr, y_tr = pooled_samples(pooling, fold.train_clips, clips, frames, features)
        x_va, y_va = (pooled_samples(pooling, fold.val_clips, clips, frames, features) if fold.val_clips
                      else (None, None))
        with log.progress(f"{arch}/{pooling} fold {fold_name}", total=None) as bar:
            model, history = train_fold(
                arch, hparams, x_tr, y_tr, x_va, y_va, seed=seed, init_state=init_state,
                progress=lambda s, loss, val: bar.advance(f"step {s} loss {loss:.4g} val {val:.4g}", steps=0),
            )
        student = clip_predictions(lambda x: predict(model, x), pooling, fold.test_clips, clips, frames, features)  # noqa: B023
        out = test.select(["clip_id", "source", "self_pair", "dmos"]).with_columns(
            pl.lit(arch).alias("arch"),
            pl.lit(pooling).alias("pooling"),
            pl.lit(seed).alias("seed"),
            pl.lit(fold_name).alias("fold"),
            pl.Series("teacher", test["vmaf"].to_numpy()),
            pl.Series("student", student),
        )
        write_parquet(pred_out, out)
        meta = {
            "fold": fold_name, "held_out": held_out, "pooling": pooling, "seed": seed,
            "train_clips": list(fold.train_clips), "val_clips": list(fold.val_clips),
            "features_sha256": features_sha, "history": saved_history(history, lists=False),
        }
        save_student(model_out, model, arch, hparams, meta)
        train_cpu += float(history.get("cpu_s", 0.0))
        rmse = float(((out["student"] - out["teacher"]) ** 2).mean() ** 0.5)
        log.info(
            f"{arch}/{pooling} held-out {held_out}: {len(x_tr)} training rows, {len(fold.val_clips)} validation clips, "
            f"best step {history.get('best_step')}, held-out clip RMSE {rmse:.4f}, {history.get('cpu_s', 0):.1f} CPU s"
        )
log.info(job_cpu_line(train_cpu))
log.close()
