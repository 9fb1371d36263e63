# The gate (the workflow's verdict on the exported tiers) and the corpus-free healthcheck.

GATE_THRESHOLDS = (
    "plcc_min",
    "srocc_min",
    "plcc_preferred",
    "rmse_max",
    "max_abs_error_max",
    "golden_tolerance",
    "ulp_max",
    "engine_tolerance",
    "teacher_tolerance",
    "engines_required",
)


rule gate:
    input:
        loso=expand("results/loso/tiers/{tier}.parquet", tier=TIER_NAMES),
        onnx=expand("results/export/{tier}.onnx", tier=TIER_NAMES),
        cards=expand("results/export/{tier}.json", tier=TIER_NAMES),
        weights=expand("results/export/{tier}.pt", tier=TIER_NAMES),
        frames="results/features/frames.parquet",
        teacher_check="results/features/teacher_check.json",
        golden_record=GOLDEN_RECORD,
        golden_run="results/features/golden.json",
    output:
        json="results/gate/report.json",
        md=report(
            "results/gate/report.md",
            caption="../report/gate.rst",
            category="Gate",
            labels={"report": "gate"},
        ),
    log:
        # declared logs survive a failed job (Snakemake removes a failed job's outputs)
        log="logs/gate/gate.log",
        report_json="logs/gate/report.json",
        report_md="logs/gate/report.md",
    benchmark:
        "results/benchmarks/gate.tsv"
    conda:
        "../envs/export.yaml"
    params:
        tiers=TIERS,
        thresholds={k: config[k] for k in GATE_THRESHOLDS},
        self_pairs_in_metrics=config["self_pairs_in_metrics"],
        teacher=TEACHER_CONFIG,
    script:
        "../scripts/gate.py"


rule healthcheck:
    log:
        "logs/healthcheck.log",
    conda:
        "../envs/export.yaml"
    params:
        ffmpeg=FFMPEG,
        origin=FFMPEG_ORIGIN,
        export_dir="results/export",
        golden=GOLDEN_RECORD,
        teacher=TEACHER_CONFIG,
    script:
        "../scripts/healthcheck.py"
