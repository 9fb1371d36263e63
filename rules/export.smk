# Final students per tier (config `tiers`): fine-tuned on every source from the arch's pretrained
# state, exported to one self-contained .onnx file each, with a model card.


TIERS = dict(config["tiers"])
TIER_NAMES = list(TIERS)
FINAL_SEED = SEEDS[0]
for _tier, _spec in TIERS.items():
    if _spec["arch"] not in config["archs"]:
        raise WorkflowError(
            f"config tiers.{_tier}.arch: {_spec['arch']!r} is not a key of config `archs` ({', '.join(ARCHS)})"
        )
    if _spec["pooling"] not in POOLINGS:
        raise WorkflowError(
            f"config tiers.{_tier}.pooling: {_spec['pooling']!r} is not in config `pooling` {POOLINGS} "
            "(the gate needs its LOSO result)"
        )


# the config that determines each tier's model (its card's config_fingerprint hashes this)
TIER_MODEL_CONFIG = {
    tier: {
        "tier": tier,
        **spec,
        "hparams": ARCH_HPARAMS[spec["arch"]],
        "teacher": TEACHER.name,
        "seed": FINAL_SEED,
        "val_fraction": config["val_fraction"],
        "opset": config["opset"],
        "features": FEATURE_NAMES,
    }
    for tier, spec in TIERS.items()
}


wildcard_constraints:
    tier="|".join(TIER_NAMES),


rule train_final:
    input:
        frames="results/features/frames.parquet",
        clips="results/features/clips.parquet",
        pretrained=lambda w: f"results/pretrain/{TIERS[w.tier]['arch']}/seed{FINAL_SEED}.pt",
    output:
        "results/export/{tier}.pt",
    log:
        "logs/export/train_{tier}.log",
    benchmark:
        "results/benchmarks/export/train_{tier}.tsv"
    conda:
        "../envs/export.yaml"
    threads: 1
    params:
        tier=lambda w: TIERS[w.tier],
        hparams=lambda w: ARCH_HPARAMS[TIERS[w.tier]["arch"]],
        seed=FINAL_SEED,
        val_fraction=config["val_fraction"],
    script:
        "../scripts/train_final.py"


rule export_tier:
    input:
        model="results/export/{tier}.pt",
        frames="results/features/frames.parquet",
        clips="results/features/clips.parquet",
        summary="results/loso/summary.parquet",
        folds="results/loso/folds.csv",
        golden="results/features/golden.json",
    output:
        onnx="results/export/{tier}.onnx",
        card=report(
            "results/export/{tier}.json",
            caption="../report/card.rst",
            category="Export",
            labels={"tier": "{tier}"},
        ),
    log:
        "logs/export/export_{tier}.log",
    benchmark:
        "results/benchmarks/export/export_{tier}.tsv"
    conda:
        "../envs/export.yaml"
    threads: 1
    params:
        tier=lambda w: TIERS[w.tier],
        opset=config["opset"],
        model_config=lambda w: TIER_MODEL_CONFIG[w.tier],
        engines_required=config["engines_required"],
    script:
        "../scripts/export_tier.py"


rule loso_tier:
    input:
        models=lambda w: expand(
            "results/loso/{arch}/{pooling}/{fold}/seed{seed}/model.pt",
            arch=TIERS[w.tier]["arch"],
            pooling=TIERS[w.tier]["pooling"],
            fold=sorted(FOLDS),
            seed=FINAL_SEED,
        ),
        frames="results/features/frames.parquet",
        clips="results/features/clips.parquet",
    output:
        "results/loso/tiers/{tier}.parquet",
    log:
        "logs/loso/tier_{tier}.log",
    conda:
        "../envs/export.yaml"
    params:
        tier=lambda w: TIERS[w.tier],
        folds=FOLDS,
        opset=config["opset"],
        val_fraction=config["val_fraction"],
    script:
        "../scripts/loso_tier.py"


rule export:
    input:
        expand("results/export/{tier}.{ext}", tier=TIER_NAMES, ext=("onnx", "json")),
