# The shipped students per teacher and tier (config `tiers`): each tier's LOSO as shipped (fold models
# exported at the tier's precision), and its final student (fine-tuned on every source from the arch's
# pretrained state) exported to one self-contained .onnx file with a model card.


wildcard_constraints:
    tier="|".join(TIER_NAMES),


# One job per teacher for every tier (one start-up): each tier's final student, its .onnx and its card.
rule final_tiers:
    input:
        unpack(get_final_pretrained),
        frames=f"{TEACHER_DIR}/features/frames.parquet",
        clips=f"{TEACHER_DIR}/features/clips.parquet",
        summary=f"{TEACHER_DIR}/loso/summary.parquet",
        folds=f"{TEACHER_DIR}/loso/folds.csv",
        golden="results/features/golden.json",
    output:
        weights=expand("results/teachers/{{teacher}}/export/{tier}.pt", tier=TIER_NAMES),
        onnx=expand("results/teachers/{{teacher}}/export/{tier}.onnx", tier=TIER_NAMES),
        cards=report(
            expand("results/teachers/{{teacher}}/export/{tier}.json", tier=TIER_NAMES),
            caption="../report/card.rst",
            category="Export",
            subcategory="{teacher}",
        ),
    log:
        "logs/teachers/{teacher}/export/final_tiers.log",
    benchmark:
        "results/benchmarks/teachers/{teacher}/export/final_tiers.tsv"
    conda:
        "../envs/export.yaml"
    threads: 1
    params:
        teacher=lambda w: TEACHER_SPECS[w.teacher],
        tiers=TIERS,
        hparams=lambda w: ARCH_HPARAMS[w.teacher],
        seed=FINAL_SEED,
        val_fraction=config["val_fraction"],
        opset=config["opset"],
        model_config=get_model_config,
        engines_required=config["engines_required"],
        engine_tolerance=config["engine_tolerance"],
    script:
        "../scripts/final_tiers.py"


rule loso_tier:
    input:
        unpack(get_tier_fold_models),
        frames=f"{TEACHER_DIR}/features/frames.parquet",
        clips=f"{TEACHER_DIR}/features/clips.parquet",
    output:
        f"{TEACHER_DIR}/loso/tiers/{{tier}}.parquet",
    log:
        "logs/teachers/{teacher}/loso/tier_{tier}.log",
    benchmark:
        "results/benchmarks/teachers/{teacher}/loso/tier_{tier}.tsv"
    conda:
        "../envs/export.yaml"
    params:
        teacher=lambda w: TEACHER_SPECS[w.teacher],
        tier=lambda w: w.tier,
        spec=lambda w: TIERS[w.tier],
        folds=FOLDS,
        opset=config["opset"],
        val_fraction=config["val_fraction"],
    script:
        "../scripts/loso_tier.py"


rule export:
    input:
        expand(
            "results/teachers/{teacher}/export/{tier}.{ext}",
            teacher=TEACHER_NAMES,
            tier=TIER_NAMES,
            ext=("onnx", "json"),
        ),
