# Leave-one-source-out: corpus-free pretraining per arch (shared by every fold), then a job per
# fold x arch (both poolings), then the tables and plots.


rule pretrain:
    output:
        "results/pretrain/{arch}/seed{seed}.pt",
    log:
        "logs/pretrain/{arch}/seed{seed}.log",
    benchmark:
        "results/benchmarks/pretrain/{arch}_seed{seed}.tsv"
    conda:
        "../envs/training.yaml"
    threads: 1
    params:
        hparams=lambda w: config["archs"][w.arch],
    script:
        "../scripts/pretrain.py"


rule train_student:
    input:
        frames="results/features/frames.parquet",
        clips="results/features/clips.parquet",
        pretrained="results/pretrain/{arch}/seed{seed}.pt",
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
        held_out=lambda w: FOLDS[w.fold],
        hparams=lambda w: config["archs"][w.arch],
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
        summary_csv="results/loso/summary.csv",
        summary_md="results/loso/summary.md",
        summary_parquet="results/loso/summary.parquet",
        folds="results/loso/folds.csv",
        scatter="results/loso/scatter.png",
        fold_plcc="results/loso/fold_plcc.png",
    log:
        "logs/loso/summary.log",
    conda:
        "../envs/report.yaml"
    params:
        external=external_model_paths(),
        self_pairs_in_metrics=config["self_pairs_in_metrics"],
    script:
        "../scripts/loso_summary.py"


rule loso:
    input:
        rules.loso_summary.output,
