# Helpers shared by every stage — corpus ingestion at DAG-build time, input functions.
# Nothing here prints to stdout (`snakemake --dag | dot` reads it).

import os
import shlex

# (scripts/ is on sys.path: the Snakefile puts it there before it pins the math paths)
from snakemake.exceptions import WorkflowError

from vmafdistill import CLIP_META, configcheck
from vmafdistill import corpus as corpus_lib
from vmafdistill import demo as demo_lib
from vmafdistill import ffmpeg as ffmpeg_lib
from vmafdistill import golden as golden_lib
from vmafdistill import streams as streams_lib
from vmafdistill import archs as archs_lib
from vmafdistill import teacher as teacher_lib
from vmafdistill.streams import STREAM_LINES

WORKDIR = os.path.realpath(os.getcwd())

try:  # one clear line per problem, before snakemake.utils.validate's full dump
    configcheck.check_config(
        config, os.path.join(workflow.basedir, "schemas", "config.schema.yaml")
    )
except configcheck.ConfigError as exc:
    raise WorkflowError(str(exc)) from None


def _data_root():
    """data_root from config, then env VMAF_DATA_ROOT; None means the demo corpus."""
    root = config.get("data_root") or os.environ.get("VMAF_DATA_ROOT") or ""
    return root or None


def _guard_outputs(root):
    """Nothing is ever written under data_root: refuse a working directory inside it."""
    real = os.path.realpath(root)
    if WORKDIR == real or WORKDIR.startswith(real + os.sep):
        raise WorkflowError(
            f"the working directory {WORKDIR} lies inside data_root {real}; results/ and logs/ "
            "would be written under data_root. Run from a directory outside it."
        )


def _ingest():
    root = _data_root()
    try:
        if root is None:
            demo_root = os.path.join(WORKDIR, demo_lib.DEMO_ROOT)
            text = demo_lib.dataset_text(config["demo"])
            return (
                True,
                demo_root,
                corpus_lib.load_dataset_text(
                    text,
                    os.path.join(demo_root, demo_lib.DATASET_FILE),
                    demo_root,
                    check_files=False,
                ),
            )
        _guard_outputs(root)
        return (
            False,
            root,
            corpus_lib.load_corpus(
                root,
                config.get("dataset") or None,
                default_fps=float(config["fps"]),
                width=config.get("width") or None,
                height=config.get("height") or None,
                pix_fmt=config["pix_fmt"],
            ),
        )
    except corpus_lib.CorpusError as exc:
        raise WorkflowError(f"corpus error: {exc}") from None


# --- the teacher: config `teacher` (a libvmaf built-in), `teacher_transform`, or `teacher_model` (a file)
TEACHER_CONFIG = {
    k: config.get(k, "") for k in ("teacher", "teacher_transform", "teacher_model")
}
try:
    TEACHER = teacher_lib.teacher_from_config(TEACHER_CONFIG)
except teacher_lib.ModelError as exc:
    raise WorkflowError(f"config teacher: {exc}") from None
FEATURE_NAMES = list(TEACHER.features)
#: what every student needs of the teacher, merged into each arch's hparams
TEACHER_HPARAMS = teacher_lib.teacher_hparams(TEACHER)
TEACHER_OPTION = TEACHER.libvmaf_option()
EXTRACT_LOG = "logs/features/{clip}.log"


IS_DEMO, DATA_ROOT, _CLIP_LIST = _ingest()
CLIPS = {c.clip_id: c for c in _CLIP_LIST}
CLIP_IDS = sorted(CLIPS)
SOURCES = sorted({c.source for c in _CLIP_LIST})
_too_small = sorted(
    {
        (c.width, c.height)
        for c in _CLIP_LIST
        if TEACHER.frame_size_problem(c.width, c.height)
    }
)
if _too_small:
    _w, _h = _too_small[0]
    raise WorkflowError(
        f"corpus error: {TEACHER.frame_size_problem(_w, _h)}; clips of this size: "
        + ", ".join(c.dis_rel for c in _CLIP_LIST if (c.width, c.height) == (_w, _h))[
            :500
        ]
        + " (choose another `teacher`, or score larger frames)"
    )

try:
    FFMPEG, FFMPEG_ORIGIN = ffmpeg_lib.resolve_ffmpeg(config.get("ffmpeg") or None)
except ffmpeg_lib.FFmpegError as exc:
    raise WorkflowError(str(exc)) from None


GOLDEN_RECORD = str(golden_lib.RECORD)
GOLDEN_REF = str(golden_lib.FIXTURE_DIR / golden_lib.REF)
GOLDEN_DIS = str(golden_lib.FIXTURE_DIR / golden_lib.DIS)


def _local(path):
    """A path inside the working directory as a relative path (so it matches rule outputs)."""
    rel = os.path.relpath(path, WORKDIR)
    return path if rel.startswith("..") else rel


def clip_inputs(wildcards):
    c = CLIPS[wildcards.clip]
    return {"ref": _local(c.ref_path), "dis": _local(c.dis_path)}


#: run when a clip's pass fails: one line naming the input ffmpeg could not use (only then: no cost
#: on success); by the interpreter that runs Snakemake (the script needs the standard library only)
EXPLAIN_PASS_FAILURE = [
    sys.executable,
    os.path.join(workflow.basedir, "scripts", "explain_pass_failure.py"),
]


def libvmaf_cmd(wildcards, output, threads):
    """The whole shell command of a clip's extraction job, quoted here once (one placeholder for
    Snakemake to format per job): ONE ffmpeg+libvmaf pass writing libvmaf's log to
    `<output.log>.tmp` and ffmpeg's report on the inputs (FFREPORT) to `<output.streams>.report`,
    stderr to the job's log; should ffmpeg fail, scripts/explain_pass_failure.py adds one line naming
    the input it could not use and why (stderr and the log), and the job ends with ffmpeg's status;
    else the report's stream lines go to `output.streams`, both moved into place only when
    everything succeeded (temporaries removed on any exit)."""
    c = CLIPS[wildcards.clip]
    geometry = ffmpeg_lib.ClipGeometry.of(c)
    log_tmp, streams = f"{output.log}.tmp", output.streams
    streams_tmp, report = f"{streams}.tmp", f"{streams}.report"
    argv = ffmpeg_lib.libvmaf_argv(
        FFMPEG, geometry, log_tmp, threads, config["scaler"], model=TEACHER_OPTION
    )
    env = streams_lib.report_env(report)
    log = EXTRACT_LOG.format(clip=wildcards.clip)
    explain = EXPLAIN_PASS_FAILURE + [
        "--clip", wildcards.clip, "--log", log, "--report", report,
        "--dis", c.dis_path, "--ref", c.ref_path,
    ]  # fmt: skip
    q = shlex.quote
    clean = f"rm -f {shlex.join([log_tmp, streams_tmp, report])}"
    return (
        f"trap {q(clean)} EXIT; "
        + " ".join(f"{k}={q(v)}" for k, v in env.items())
        + f" {shlex.join(argv)} 2> {q(log)}"
        f" || {{ rc=$?; {shlex.join(explain)} || true; exit $rc; }}; "
        f"grep -E {q(STREAM_LINES)} {q(report)} > {q(streams_tmp)}; "
        f"mv {q(log_tmp)} {q(output.log)}; mv {q(streams_tmp)} {q(streams)}"
    )


def clip_records():
    """Ingested clip metadata handed to the table-building script."""
    return [{k: getattr(CLIPS[cid], k) for k in CLIP_META} for cid in CLIP_IDS]


def demo_dataset_input(wildcards):
    return [os.path.join(demo_lib.DEMO_ROOT, demo_lib.DATASET_FILE)] if IS_DEMO else []


# --- LOSO -----------------------------------------------------------------------------------------
from vmafdistill import fold_id as _fold_id

FOLDS = {_fold_id(s): s for s in SOURCES}
ARCHS = list(config["archs"])
ARCH_HPARAMS = {a: {**(config["archs"][a] or {}), **TEACHER_HPARAMS} for a in ARCHS}
#: archs with a pretraining job (corpus-free, cached); `linear` is fitted in closed form and
#: `reweight_svm` starts as the exact teacher, both inside their fold jobs
PRETRAINED_ARCHS = [a for a in ARCHS if archs_lib.needs_pretraining(a, ARCH_HPARAMS[a])]
POOLINGS = list(config["pooling"])
SEEDS = [int(s) for s in config["seeds"]]
if len(FOLDS) < 2:
    raise WorkflowError(
        f"corpus error: leave-one-source-out needs at least 2 sources, the corpus has {len(FOLDS)}"
    )
if len(FOLDS) != len(SOURCES):
    raise WorkflowError(f"corpus error: source names {SOURCES} collide as fold ids")


def loso_predictions():
    return expand(
        "results/loso/{arch}/{pooling}/{fold}/seed{seed}/predictions.parquet",
        arch=ARCHS,
        pooling=POOLINGS,
        fold=sorted(FOLDS),
        seed=SEEDS,
    )


def fold_outputs(kind, archs):
    """A fold job's outputs of `kind` (model.pt, predictions.parquet) for each arch and pooling."""
    return expand(
        f"results/loso/{{arch}}/{{pooling}}/{{{{fold}}}}/seed{{{{seed}}}}/{kind}",
        arch=archs,
        pooling=POOLINGS,
    )


def external_model_paths():
    return [os.path.abspath(p) for p in config.get("external_models", [])]
