# The gate (the workflow's verdict on every teacher's exported tiers) and the corpus-free healthcheck.

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
        loso=teacher_files("loso/tiers/{tier}.parquet", tier=TIER_NAMES),
        onnx=teacher_files("export/{tier}.onnx", tier=TIER_NAMES),
        cards=teacher_files("export/{tier}.json", tier=TIER_NAMES),
        weights=teacher_files("export/{tier}.pt", tier=TIER_NAMES),
        frames=teacher_files("features/frames.parquet"),
        teacher_check=teacher_files("features/teacher_check.json"),
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
        teachers=TEACHER_SPECS,
        tiers=TIERS,
        thresholds={k: config[k] for k in GATE_THRESHOLDS},
        self_pairs_in_metrics=config["self_pairs_in_metrics"],
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
        export_dirs={t: f"results/teachers/{t}/export" for t in TEACHER_NAMES},
        golden=GOLDEN_RECORD,
        teachers=TEACHER_SPECS,
    script:
        "../scripts/healthcheck.py"
