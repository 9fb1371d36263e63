"""Entry point: every tier's shipped student in one job: its final student (trained on every source,
saved as results/teachers/<teacher>/export/{tier}.pt), its .onnx and its model card. Fails loudly (no outputs of the
failing tier) when an export breaks its contract, is not byte-deterministic, exceeds the tier's
budget, or (fp32, exact) differs from its torch model at 4 places anywhere on the corpus."""

import time

from vmafdistill.mathpaths import describe, pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

import polars as pl  # noqa: E402
import torch  # noqa: E402

from vmafdistill import export as ex  # noqa: E402
from vmafdistill.atomic import write_bytes, write_json  # noqa: E402
from vmafdistill.features import table_sha256  # noqa: E402
from vmafdistill.final import TierInputs, export_tier, train_final  # noqa: E402
from vmafdistill.golden import load_fixture  # noqa: E402
from vmafdistill.modelio import save_student  # noqa: E402
from vmafdistill.teacher import hp_teacher  # noqa: E402
from vmafdistill.ui import JobLog, fail, job_cpu_line  # noqa: E402

STARTUP = time.process_time()
snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
log.info(describe())
p = snakemake.params
clips = pl.read_parquet(snakemake.input.clips)
frames = pl.read_parquet(snakemake.input.frames)
summary = pl.read_parquet(snakemake.input.summary)
folds = pl.read_csv(snakemake.input.folds)
features_sha = table_sha256(snakemake.input.frames)
pretrained = {k.removeprefix("pretrained_"): v for k, v in snakemake.input.items() if k.startswith("pretrained_")}
# the outputs, by tier (the order the rule's expand() writes them)
paths = {name: outs for name, outs in zip(p.tiers, zip(snakemake.output.weights, snakemake.output.onnx,
                                                        snakemake.output.cards))}
for name, spec in p.tiers.items():
    try:
        tier = ex.TierSpec.from_config(name, spec)
    except ex.ExportError as exc:
        fail(log, str(exc))
    hparams = dict(p.hparams[tier.arch])
    init = (torch.load(pretrained[tier.arch], map_location="cpu", weights_only=False) if tier.arch in pretrained
            else None)
    with log.progress(f"final {tier.name} ({tier.arch}/{tier.pooling})", total=None) as bar:
        model, meta, history = train_final(
            tier, hparams, clips, frames, int(p.seed), float(p.val_fraction), init,
            progress=lambda s, loss, val: bar.advance(f"step {s} loss {loss:.4g} val {val:.4g}", steps=0),
        )
    meta["features_sha256"] = features_sha
    pt, onnx_out, card_out = paths[name]
    save_student(pt, model, tier.arch, hparams, meta)
    fixture = load_fixture(snakemake.input.golden, hp_teacher(hparams).name)  # this run's pass over the fixture
    try:
        inputs = TierInputs(
            frames=frames, clips=clips, features_sha=features_sha, summary=summary, folds=folds, fixture=fixture,
            opset=int(p.opset), model_config=dict(p.model_config[name]), engines_required=tuple(p.engines_required),
            pt_path=pt, engine_tolerance=float(p.engine_tolerance),
        )
        data, card = export_tier(tier=tier, model=model, hparams=hparams, train_meta=meta, inputs=inputs)
    except ex.ExportError as exc:
        fail(log, str(exc))
    write_bytes(onnx_out, data)
    write_json(card_out, ex.jsonable(card))
    val = meta["validation"]
    for line in card["engines"]["warnings"]:
        log.warning(f"tier {tier.name}: {line}")
    log.info(
        f"tier {tier.name}: {tier.arch}/{tier.pooling} {tier.precision}, {card['n_params']:,} parameters, trained on "
        f"{meta['n_train_rows']} rows of {len(meta['sources'])} sources (best step {history.get('best_step')}, "
        f"{'validation RMSE ' + format(val['rmse'], '.4f') if val else 'no validation clips'}); {len(data):,} bytes "
        f"(budget {tier.max_bytes:,}); golden fixture {card['golden']['score']:.4f} (libvmaf "
        f"{card['golden']['teacher_vmaf']:.4f}); LOSO PLCC {card['loso']['plcc_mean']}"
    )
log.info(job_cpu_line(time.process_time() - STARTUP, "work (training + export + engines)"))
log.close()
