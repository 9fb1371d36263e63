# ONE libvmaf pass per clip (a job per clip) computing every teacher's features and scores, then each
# teacher's feature tables and teacher check; the golden fixture through the same pass.


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
        teachers=list(TEACHER_SPECS.values()),
    script:
        "../scripts/check_ffmpeg.py"


# The pass: the distorted clip (scaled to the reference, both in its pixel format, frames paired by
# index) against the reference through libvmaf with every teacher's model, libvmaf's log to
# `<log>.tmp`, ffmpeg's report on the inputs (frame counts, rates) to `<streams>.report`; should ffmpeg
# fail, one line names the input it could not use; the outputs move into place only on success.
rule extract_features:
    input:
        unpack(get_clip_inputs),
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
        # every teacher's model, as a plain value: Snakemake's params trigger ignores params derived from
        # the output (graph), so this one reruns the pass when the set of teachers changes
        models=PASS_MODELS,
        ffmpeg=FFMPEG,
        inputs=get_pass_inputs,
        graph=get_pass_graph,
        report=get_pass_report,
        explain=get_pass_explain,
        stream_lines=shlex.quote(streams_lib.STREAM_LINES),
    shell:
        "trap 'rm -f {output.log}.tmp {output.streams}.tmp {output.streams}.report' EXIT; "
        "FFREPORT={params.report} {params.ffmpeg} -nostdin -hide_banner -loglevel error "
        "{params.inputs} -lavfi {params.graph} -map '[vmaf]' -f null - "
        "-map '[dis_n]' -f null - -map '[ref_n]' -f null - 2> {log} "
        "|| {{ rc=$?; {params.explain} || true; exit $rc; }}; "
        "grep -E {params.stream_lines} {output.streams}.report > {output.streams}.tmp; "
        "mv {output.log}.tmp {output.log}; mv {output.streams}.tmp {output.streams}"


# The golden fixture through this run's ffmpeg, every teacher in one pass.
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
        teachers=list(TEACHER_SPECS.values()),
    script:
        "../scripts/golden_fixture.py"


rule features_table:
    input:
        logs=expand("results/features/clips/{clip}.json", clip=CLIP_IDS),
        streams=expand("results/features/clips/{clip}.streams", clip=CLIP_IDS),
        dataset=get_demo_dataset,
        ffmpeg="results/features/ffmpeg.json",
    output:
        frames=f"{TEACHER_DIR}/features/frames.parquet",
        clips=f"{TEACHER_DIR}/features/clips.parquet",
        check=f"{TEACHER_DIR}/features/teacher_check.json",
    log:
        "logs/teachers/{teacher}/features_table.log",
    benchmark:
        "results/benchmarks/teachers/{teacher}/features_table.tsv"
    conda:
        "../envs/features.yaml"
    params:
        clips=get_clip_records(),
        tolerance=config["teacher_tolerance"],
        check_fps=config["check_fps"],
        teacher=lambda w: TEACHER_SPECS[w.teacher],
    script:
        "../scripts/features_table.py"


rule features:
    input:
        expand(rules.features_table.output, teacher=TEACHER_NAMES),
