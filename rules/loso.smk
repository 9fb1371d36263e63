# Leave-one-source-out: corpus-free pretraining per arch (shared by every fold), then a job per fold
# (every arch and pooling; or per fold x arch, config `loso_jobs`), then the tables and plots.


# Corpus-free: its output depends only on the arch's hparams and the recipe, so it is marked for
# Snakemake's between-workflow output cache (`--cache` with SNAKEMAKE_OUTPUT_CACHE set): a second
# workflow, corpus or workdir reuses it instead of pretraining again. The cache keys a job on its
# script and params only, so `recipe` holds the rest (vmafdistill.cachekey): the sha256 of every file
# the job can import or read (the package modules it reaches, the vendored libvmaf models, the
# teacher's model file, its conda env file), torch's and numpy's versions, and the pinned math paths.
from vmafdistill import cachekey as cachekey_lib

PRETRAIN_RECIPE = cachekey_lib.recipe(
    os.path.join(workflow.basedir, "scripts"),
    (TEACHER.model.path, os.path.join(workflow.basedir, "envs", "training.yaml")),
)


rule pretrain:
    output:
        "results/pretrain/{arch}/seed{seed}.pt",
    log:
        "logs/pretrain/{arch}/seed{seed}.log",  # its CPU seconds (a cached output can have no benchmark:)
    cache: "omit-software"
    conda:
        "../envs/training.yaml"
    threads: 1
    params:
        hparams=lambda w: ARCH_HPARAMS[w.arch],
        recipe=PRETRAIN_RECIPE,
    script:
        "../scripts/pretrain.py"


# config `loso_jobs`: `fold` (default) trains every arch of a fold in one job (one Python and torch
# start-up per fold instead of per fold x arch); `fold_arch` keeps a job per fold x arch (more,
# smaller jobs: for a cluster with many free cores).
if config["loso_jobs"] == "fold":

    rule train_fold:
        input:
            frames="results/features/frames.parquet",
            clips="results/features/clips.parquet",
            pretrained=expand(
                "results/pretrain/{arch}/seed{{seed}}.pt", arch=PRETRAINED_ARCHS
            ),
        output:
            models=fold_outputs("model.pt", ARCHS),
            predictions=fold_outputs("predictions.parquet", ARCHS),
        log:
            "logs/loso/{fold}/seed{seed}.log",
        benchmark:
            "results/benchmarks/loso/{fold}_seed{seed}.tsv"
        conda:
            "../envs/training.yaml"
        threads: 1
        params:
            archs=ARCHS,
            held_out=lambda w: FOLDS[w.fold],
            hparams=ARCH_HPARAMS,
            poolings=POOLINGS,
            val_fraction=config["val_fraction"],
        script:
            "../scripts/train_student.py"

else:

    rule train_student:
        input:
            frames="results/features/frames.parquet",
            clips="results/features/clips.parquet",
            pretrained=lambda w: (
                [f"results/pretrain/{w.arch}/seed{w.seed}.pt"]
                if w.arch in PRETRAINED_ARCHS
                else []
            ),
        output:
            models=expand(
                "results/loso/{{arch}}/{pooling}/{{fold}}/seed{{seed}}/model.pt",
                pooling=POOLINGS,
            ),
            predictions=expand(
                "results/loso/{{arch}}/{pooling}/{{fold}}/seed{{seed}}/predictions.parquet",
                pooling=POOLINGS,
            ),
        log:
            "logs/loso/{arch}/{fold}/seed{seed}.log",
        benchmark:
            "results/benchmarks/loso/{arch}_{fold}_seed{seed}.tsv"
        conda:
            "../envs/training.yaml"
        threads: 1
        params:
            archs=lambda w: [w.arch],
            held_out=lambda w: FOLDS[w.fold],
            hparams=lambda w: {w.arch: ARCH_HPARAMS[w.arch]},
            poolings=POOLINGS,
            val_fraction=config["val_fraction"],
        script:
            "../scripts/train_student.py"


rule loso_summary:
    input:
        predictions=loso_predictions(),
        clips="results/features/clips.parquet",
        frames="results/features/frames.parquet",
        external=external_model_paths(),
    output:
        summary_csv=report(
            "results/loso/summary.csv",
            caption="../report/summary.rst",
            category="LOSO",
            labels={"table": "summary"},
        ),
        summary_md="results/loso/summary.md",
        summary_parquet="results/loso/summary.parquet",
        folds=report(
            "results/loso/folds.csv",
            caption="../report/folds.rst",
            category="LOSO",
            labels={"table": "per fold"},
        ),
        residuals=report(
            "results/loso/residuals.png",
            caption="../report/residuals.rst",
            category="LOSO",
            labels={"figure": "residuals"},
        ),
        fold_plcc=report(
            "results/loso/fold_plcc.png",
            caption="../report/fold_plcc.rst",
            category="LOSO",
            labels={"figure": "PLCC per fold"},
        ),
    log:
        "logs/loso/summary.log",
    benchmark:
        "results/benchmarks/loso/summary.tsv"
    conda:
        "../envs/report.yaml"
    params:
        external=external_model_paths(),
        self_pairs_in_metrics=config["self_pairs_in_metrics"],
        teacher=TEACHER.name,
        features=FEATURE_NAMES,
    script:
        "../scripts/loso_summary.py"


rule loso:
    input:
        rules.loso_summary.output,
