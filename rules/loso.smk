# Leave-one-source-out, per teacher: corpus-free pretraining per arch (shared by every fold), then a job
# per fold (every arch and pooling; or per fold x arch, config `loso_jobs`), then the tables and plots.


# Corpus-free: its output depends only on the teacher, the arch's hparams and the recipe, so it is
# marked for Snakemake's between-workflow output cache (`--cache` with SNAKEMAKE_OUTPUT_CACHE set): a
# second workflow, corpus or workdir reuses it instead of pretraining again. The cache keys a job on
# its script and params only, so `recipe` holds the rest (vmafdistill.cachekey): the sha256 of every
# file the job can import or read (the package modules it reaches, the vendored libvmaf models, the
# teacher's model file, its conda env file), torch's and numpy's versions, and the pinned math paths.
PRETRAIN_RECIPES = {
    t: cachekey_lib.recipe(
        os.path.join(workflow.basedir, "scripts"),
        (
            TEACHERS[t].model.path,
            os.path.join(workflow.basedir, "envs", "training.yaml"),
        ),
    )
    for t in TEACHER_NAMES
}


rule pretrain:
    output:
        f"{TEACHER_DIR}/pretrain/{{arch}}/seed{{seed}}.pt",
    log:
        "logs/teachers/{teacher}/pretrain/{arch}/seed{seed}.log",  # its CPU seconds (a cached output can have no benchmark:)
    cache: "omit-software"
    # corpus-free and the longest jobs (the exact arch's ~2 min): started before the corpus work, they
    # are not left on the critical path behind it
    priority: 10
    conda:
        "../envs/training.yaml"
    threads: 1
    params:
        arch=lambda w: w.arch,
        seed=lambda w: int(w.seed),
        hparams=lambda w: ARCH_HPARAMS[w.teacher][w.arch],
        recipe=lambda w: PRETRAIN_RECIPES[w.teacher],
    script:
        "../scripts/pretrain.py"


# config `loso_jobs`: `fold` (default) trains every arch of a fold in one job (one Python and torch
# start-up per fold instead of per fold x arch); `fold_arch` keeps a job per fold x arch (more,
# smaller jobs: for a cluster with many free cores).
if config["loso_jobs"] == "fold":

    rule train_fold:
        input:
            unpack(get_pretrained),
            frames=f"{TEACHER_DIR}/features/frames.parquet",
            clips=f"{TEACHER_DIR}/features/clips.parquet",
        output:
            models=fold_outputs("model.pt", ARCHS),
            predictions=fold_outputs("predictions.parquet", ARCHS),
        log:
            "logs/teachers/{teacher}/loso/{fold}/seed{seed}.log",
        benchmark:
            "results/benchmarks/teachers/{teacher}/loso/{fold}_seed{seed}.tsv"
        conda:
            "../envs/training.yaml"
        threads: 1
        params:
            archs=ARCHS,
            fold=lambda w: w.fold,
            seed=lambda w: int(w.seed),
            held_out=lambda w: FOLDS[w.fold],
            hparams=lambda w: ARCH_HPARAMS[w.teacher],
            poolings=POOLINGS,
            val_fraction=config["val_fraction"],
        script:
            "../scripts/train_student.py"

else:

    rule train_student:
        input:
            unpack(get_pretrained),
            frames=f"{TEACHER_DIR}/features/frames.parquet",
            clips=f"{TEACHER_DIR}/features/clips.parquet",
        output:
            models=expand(
                "results/teachers/{{teacher}}/loso/{{arch}}/{pooling}/{{fold}}/seed{{seed}}/model.pt",
                pooling=POOLINGS,
            ),
            predictions=expand(
                "results/teachers/{{teacher}}/loso/{{arch}}/{pooling}/{{fold}}/seed{{seed}}/predictions.parquet",
                pooling=POOLINGS,
            ),
        log:
            "logs/teachers/{teacher}/loso/{arch}/{fold}/seed{seed}.log",
        benchmark:
            "results/benchmarks/teachers/{teacher}/loso/{arch}_{fold}_seed{seed}.tsv"
        conda:
            "../envs/training.yaml"
        threads: 1
        params:
            archs=lambda w: [w.arch],
            fold=lambda w: w.fold,
            seed=lambda w: int(w.seed),
            held_out=lambda w: FOLDS[w.fold],
            hparams=lambda w: {w.arch: ARCH_HPARAMS[w.teacher][w.arch]},
            poolings=POOLINGS,
            val_fraction=config["val_fraction"],
        script:
            "../scripts/train_student.py"


rule loso_summary:
    input:
        predictions=get_loso_predictions,
        clips=f"{TEACHER_DIR}/features/clips.parquet",
        frames=f"{TEACHER_DIR}/features/frames.parquet",
        external=get_external_models(),
    output:
        summary_csv=report(
            f"{TEACHER_DIR}/loso/summary.csv",
            caption="../report/summary.rst",
            category="LOSO",
            subcategory="{teacher}",
            labels={"teacher": "{teacher}", "table": "summary"},
        ),
        summary_md=f"{TEACHER_DIR}/loso/summary.md",
        summary_parquet=f"{TEACHER_DIR}/loso/summary.parquet",
        folds=report(
            f"{TEACHER_DIR}/loso/folds.csv",
            caption="../report/folds.rst",
            category="LOSO",
            subcategory="{teacher}",
            labels={"teacher": "{teacher}", "table": "per fold"},
        ),
        residuals=report(
            f"{TEACHER_DIR}/loso/residuals.png",
            caption="../report/residuals.rst",
            category="LOSO",
            subcategory="{teacher}",
            labels={"teacher": "{teacher}", "figure": "residuals"},
        ),
        fold_plcc=report(
            f"{TEACHER_DIR}/loso/fold_plcc.png",
            caption="../report/fold_plcc.rst",
            category="LOSO",
            subcategory="{teacher}",
            labels={"teacher": "{teacher}", "figure": "PLCC per fold"},
        ),
    log:
        "logs/teachers/{teacher}/loso/summary.log",
    benchmark:
        "results/benchmarks/teachers/{teacher}/loso/summary.tsv"
    conda:
        "../envs/report.yaml"
    params:
        external=get_external_models(),
        self_pairs_in_metrics=config["self_pairs_in_metrics"],
        teacher=lambda w: w.teacher,
        features=lambda w: list(TEACHERS[w.teacher].features),
    script:
        "../scripts/loso_summary.py"


rule loso:
    input:
        expand(rules.loso_summary.output, teacher=TEACHER_NAMES),
