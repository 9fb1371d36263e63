"""Entry point: a tier's final student, fine-tuned on every source from its arch's pretrained state.

Early stopping looks at the hash-split validation clips (bucket < val_fraction) of the whole corpus;
the training rows are the other clips. The honest accuracy estimate is the arch's LOSO result.
"""

import polars as pl
import torch

from vmafdistill.export import ExportError, TierSpec, final_split
from vmafdistill.features import table_sha256
from vmafdistill.loso import clip_predictions, metrics, pooled_samples
from vmafdistill.modelio import save_student
from vmafdistill.students import hp_teacher, n_params
from vmafdistill.train import predict, train_fold
from vmafdistill.ui import JobLog, fail

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
try:
    tier = TierSpec.from_config(snakemake.wildcards.tier, snakemake.params.tier)
    seed = int(snakemake.params.seed)
    hparams = dict(snakemake.params.hparams)
    clips = pl.read_parquet(snakemake.input.clips)
    frames = pl.read_parquet(snakemake.input.frames)
    split = final_split(clips, float(snakemake.params.val_fraction))
except ExportError as exc:
    fail(log, str(exc))
features = hp_teacher(hparams).features
init_state = torch.load(snakemake.input.pretrained, map_location="cpu", weights_only=False)

x_tr, y_tr = pooled_samples(tier.pooling, split.train_clips, clips, frames, features)
x_va, y_va = pooled_samples(tier.pooling, split.val_clips, clips, frames, features) if split.val_clips else (None, None)
with log.progress(f"final {tier.name} ({tier.arch}/{tier.pooling})", total=None) as bar:
    model, history = train_fold(
        tier.arch, hparams, x_tr, y_tr, x_va, y_va, seed=seed, init_state=init_state,
        progress=lambda s, loss, val: bar.advance(f"step {s} loss {loss:.4g} val {val:.4g}", steps=0),
    )  # fmt: skip

validation = None
if split.val_clips:
    teacher = clips.filter(pl.col("clip_id").is_in(list(split.val_clips))).sort("clip_id")["vmaf"].to_numpy()
    student = clip_predictions(lambda x: predict(model, x), tier.pooling, split.val_clips, clips, frames, features)
    validation = {"n_clips": len(split.val_clips), **metrics(teacher, student)}
meta = {
    "tier": tier.name, "pooling": tier.pooling, "seed": seed, "sources": sorted(clips["source"].unique()),
    "train_clips": list(split.train_clips), "val_clips": list(split.val_clips), "n_train_rows": len(x_tr),
    "features_sha256": table_sha256(snakemake.input.frames), "validation": validation,
    "history": {k: v for k, v in history.items() if not isinstance(v, list)},
}  # fmt: skip
save_student(snakemake.output[0], model, tier.arch, hparams, meta)
val_txt = f"validation clips RMSE {validation['rmse']:.4f}" if validation else "no validation clips"
log.info(
    f"final {tier.name}: {tier.arch}/{tier.pooling}, {n_params(model):,} parameters, {len(x_tr)} training rows from "
    f"{clips['source'].n_unique()} sources, best step {history.get('best_step')}, {val_txt}, "
    f"{history.get('cpu_s', 0):.1f} CPU s"
)
log.close()
