# The built-in demo corpus: real content from registry packages through a real codec ladder.

DEMO_FPS = config["demo"]["fps"]
DEMO_RUNGS = [r["name"] for r in config["demo"]["ladder"]]


rule demo_source:
    output:
        ref=f"{demo_lib.DEMO_ROOT}/ref/{{source}}_{DEMO_FPS}fps.yuv",
        dis=expand(
            f"{demo_lib.DEMO_ROOT}/dis/{{{{source}}}}_{{rung}}.mp4", rung=DEMO_RUNGS
        ),
    log:
        "logs/demo/{source}.log",
    benchmark:
        "results/benchmarks/demo/{source}.tsv"
    wildcard_constraints:
        source="[A-Za-z0-9]+",
    conda:
        "../envs/libvmaf.yaml"
    params:
        demo=config["demo"],
        ffmpeg=FFMPEG,
    script:
        "../scripts/demo_source.py"


rule demo_dataset:
    output:
        f"{demo_lib.DEMO_ROOT}/{demo_lib.DATASET_FILE}",
    log:
        "logs/demo/dataset.log",
    conda:
        "../envs/libvmaf.yaml"
    params:
        text=demo_lib.dataset_text(config["demo"]),
    script:
        "../scripts/demo_dataset.py"
