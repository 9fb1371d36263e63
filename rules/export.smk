# The shipped students per tier (config `tiers`): each tier's LOSO as shipped (fold models exported at
# the tier's precision), and its final student (fine-tuned on every source from the arch's pretrained
# state) exported to one self-contained .onnx file with a model card.


TIERS = dict(config["tiers"])
TIER_NAMES = list(TIERS)
FINAL_SEED = SEEDS[0]
for _tier, _spec in TIERS.items():
    if _spec["arch"] not in config["archs"]:
        raise WorkflowError(
            f"config tiers.{_tier}.arch: {_spec['arch']!r} is not a key of config `archs` ({', '.join(ARCHS)})"
        )
    if (_spec["precision"] == "exact") != (
        archs_lib.resolve_hparams(_spec["arch"], ARCH_HPARAMS[_spec["arch"]])["kind"]
        == "exact"
    ):
        raise WorkflowError(
            f"config tiers.{_tier}: precision `exact` goes with an arch of kind `exact` (and only with it); "
            f"arch {_spec['arch']!r} with precision {_spec['precision']!r}"
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


TIER_ARCHS = sorted({spec["arch"] for spec in TIERS.values()})


# One job for every tier (one start-up): each tier's final student, its .onnx and its card.
rule final_tiers:
    input:
        frames="results/features/frames.parquet",
        clips="results/features/clips.parquet",
        pretrained=[
            f"results/pretrain/{a}/seed{FINAL_SEED}.pt"
            for a in TIER_ARCHS
            if a in PRETRAINED_ARCHS
        ],
        summary="results/loso/summary.parquet",
        folds="results/loso/folds.csv",
        golden="results/features/golden.json",
    output:
        weights=expand("results/export/{tier}.pt", tier=TIER_NAMES),
        onnx=expand("results/export/{tier}.onnx", tier=TIER_NAMES),
        cards=report(
            expand("results/export/{tier}.json", tier=TIER_NAMES),
            caption="../report/card.rst",
            category="Export",
        ),
    log:
        "logs/export/final_tiers.log",
    benchmark:
        "results/benchmarks/export/final_tiers.tsv"
    conda:
        "../envs/export.yaml"
    threads: 1
    params:
        tiers=TIERS,
        pretrained_archs=[a for a in TIER_ARCHS if a in PRETRAINED_ARCHS],
        hparams=ARCH_HPARAMS,
        seed=FINAL_SEED,
        val_fraction=config["val_fraction"],
        opset=config["opset"],
        model_config=TIER_MODEL_CONFIG,
        engines_required=config["engines_required"],
        engine_tolerance=config["engine_tolerance"],
    script:
        "../scripts/final_tiers.py"


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
    benchmark:
        "results/benchmarks/loso/tier_{tier}.tsv"
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
