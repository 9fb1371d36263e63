# One libvmaf pass per clip (a job per clip), then the feature tables and the teacher check.


# Runs first (priority) but blocks nothing but the tables: the extraction jobs start beside it.
rule ffmpeg_check:
    output:
        "results/features/ffmpeg.json",
    log:
        "logs/features/ffmpeg_check.log",
    priority: 100
    conda:
        "../envs/libvmaf.yaml"
    params:
        ffmpeg=FFMPEG,
        origin=FFMPEG_ORIGIN,
        teacher=TEACHER_CONFIG,
    script:
        "../scripts/check_ffmpeg.py"


rule extract_features:
    input:
        unpack(clip_inputs),
    output:
        log="results/features/clips/{clip}.json",
        streams="results/features/clips/{clip}.streams",
    log:
        EXTRACT_LOG,
    benchmark:
        "results/benchmarks/features/{clip}.tsv"
    conda:
        "../envs/libvmaf.yaml"
    threads: config["extract_threads"]
    params:
        cmd=libvmaf_cmd,  # the whole command, quoted once (see common.smk)
    shell:
        "{params.cmd}"


# The golden fixture through this run's ffmpeg, by the same libvmaf pass as every clip.
rule golden_fixture:
    input:
        ref=GOLDEN_REF,
        dis=GOLDEN_DIS,
    output:
        "results/features/golden.json",
    log:
        "logs/features/golden.log",
    benchmark:
        "results/benchmarks/features/golden_fixture.tsv"
    conda:
        "../envs/features.yaml"
    params:
        ffmpeg=FFMPEG,
        teacher=TEACHER_CONFIG,
    script:
        "../scripts/golden_fixture.py"


rule features_table:
    input:
        logs=expand("results/features/clips/{clip}.json", clip=CLIP_IDS),
        streams=expand("results/features/clips/{clip}.streams", clip=CLIP_IDS),
        dataset=demo_dataset_input,
        ffmpeg="results/features/ffmpeg.json",
    output:
        frames="results/features/frames.parquet",
        clips="results/features/clips.parquet",
        check="results/features/teacher_check.json",
    log:
        "logs/features/features_table.log",
    benchmark:
        "results/benchmarks/features_table.tsv"
    conda:
        "../envs/features.yaml"
    params:
        clips=clip_records(),
        tolerance=config["teacher_tolerance"],
        check_fps=config["check_fps"],
        teacher=TEACHER_CONFIG,
    script:
        "../scripts/features_table.py"


rule features:
    input:
        rules.features_table.output,
