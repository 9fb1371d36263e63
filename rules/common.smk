# Shared by every stage: the config (checked once, vmafdistill.configcheck), the teachers, the corpus
# (ingested at DAG-build time) and the input and params functions (get_*). Nothing here prints to
# stdout (`snakemake --dag | dot` reads it).

import os
import re
import shlex
import sys

# (scripts/ is on sys.path: the Snakefile puts it there before it pins the math paths)
from snakemake.exceptions import WorkflowError

from vmafdistill import CLIP_META, configcheck, fold_id
from vmafdistill import archs as archs_lib
from vmafdistill import cachekey as cachekey_lib
from vmafdistill import corpus as corpus_lib
from vmafdistill import demo as demo_lib
from vmafdistill import ffmpeg as ffmpeg_lib
from vmafdistill import golden as golden_lib
from vmafdistill import streams as streams_lib
from vmafdistill import teacher as teacher_lib
from vmafdistill.libvmaf_model import libvmaf_models_option

WORKDIR = os.path.realpath(os.getcwd())

try:  # the schema and every check across keys, one clear line per problem
    SETUP = configcheck.check_config(
        config, os.path.join(workflow.basedir, "schemas", "config.schema.yaml")
    )
except configcheck.ConfigError as exc:
    raise WorkflowError(str(exc)) from None

# --- the teachers: config `teachers`, else `teacher` / `teacher_transform` / `teacher_model`
TEACHERS = SETUP.teachers  # name -> teacher.Teacher; results/teachers/<name>/
TEACHER_NAMES = list(TEACHERS)
TEACHER_SPECS = SETUP.specs  # name -> [model, transform], how a job loads it
#: every teacher's libvmaf model in ONE pass per clip; each score is logged under its teacher's name
PASS_MODELS = libvmaf_models_option([t.model for t in TEACHERS.values()])
TEACHER_DIR = "results/teachers/{teacher}"


wildcard_constraints:
    teacher="|".join(map(re.escape, TEACHER_NAMES)),
    clip="[A-Za-z0-9._-]+",


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
            dataset = os.path.join(demo_root, demo_lib.DATASET_FILE)
            return (
                True,
                demo_root,
                corpus_lib.load_dataset_text(
                    text, dataset, demo_root, check_files=False
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


IS_DEMO, DATA_ROOT, _CLIP_LIST = _ingest()
CLIPS = {c.clip_id: c for c in _CLIP_LIST}
CLIP_IDS = sorted(CLIPS)
SOURCES = sorted({c.source for c in _CLIP_LIST})
for _teacher in TEACHERS.values():
    _sizes = sorted({(c.width, c.height) for c in _CLIP_LIST})
    _bad = [s for s in _sizes if _teacher.frame_size_problem(*s)]
    if _bad:
        raise WorkflowError(
            f"corpus error: {_teacher.frame_size_problem(*_bad[0])}; clips of this size: "
            + ", ".join(
                c.dis_rel for c in _CLIP_LIST if (c.width, c.height) == _bad[0]
            )[:500]
            + " (choose another teacher, or score larger frames)"
        )

try:
    FFMPEG, FFMPEG_ORIGIN = ffmpeg_lib.resolve_ffmpeg(config.get("ffmpeg") or None)
except ffmpeg_lib.FFmpegError as exc:
    raise WorkflowError(str(exc)) from None


GOLDEN_RECORD = str(golden_lib.RECORD)
GOLDEN_REF = str(golden_lib.FIXTURE_DIR / golden_lib.REF)
GOLDEN_DIS = str(golden_lib.FIXTURE_DIR / golden_lib.DIS)
#: run when a clip's pass fails: one line naming the input ffmpeg could not use (only then: no cost
#: on success); by the interpreter that runs Snakemake (the script needs the standard library only)
EXPLAIN_PASS_FAILURE = [
    sys.executable,
    os.path.join(workflow.basedir, "scripts", "explain_pass_failure.py"),
]


def _local(path):
    """A path inside the working directory as a relative path (so it matches rule outputs)."""
    rel = os.path.relpath(path, WORKDIR)
    return path if rel.startswith("..") else rel


def get_clip_inputs(wildcards):
    """A clip's reference and distorted files."""
    c = CLIPS[wildcards.clip]
    return {"ref": _local(c.ref_path), "dis": _local(c.dis_path)}


def get_pass_inputs(wildcards):
    """The pass's input arguments (distorted, then reference), shell-quoted."""
    return shlex.join(
        ffmpeg_lib.pass_inputs(ffmpeg_lib.ClipGeometry.of(CLIPS[wildcards.clip]))
    )


def get_pass_graph(wildcards, output, threads):
    """The pass's filtergraph (every teacher's model, libvmaf's log to `<output.log>.tmp`), shell-quoted."""
    geometry = ffmpeg_lib.ClipGeometry.of(CLIPS[wildcards.clip])
    graph = ffmpeg_lib.pass_graph(
        geometry, f"{output.log}.tmp", threads, config["scaler"], PASS_MODELS
    )
    return shlex.quote(graph)


def get_pass_report(wildcards, output):
    """FFREPORT's value: ffmpeg's report on both inputs to `<output.streams>.report`, shell-quoted."""
    value = streams_lib.report_env(f"{output.streams}.report")["FFREPORT"]
    return shlex.quote(value)


EXTRACT_LOG = "logs/features/{clip}.log"


def get_pass_explain(wildcards, output):
    """The command that names the input a failed pass could not use, shell-quoted."""
    c = CLIPS[wildcards.clip]
    args = [
        "--clip",
        wildcards.clip,
        "--log",
        EXTRACT_LOG.format(clip=wildcards.clip),
        "--report",
    ]
    args += [f"{output.streams}.report", "--dis", c.dis_path, "--ref", c.ref_path]
    return shlex.join(EXPLAIN_PASS_FAILURE + args)


def get_clip_records():
    """Ingested clip metadata handed to the table-building script."""
    return [{k: getattr(CLIPS[cid], k) for k in CLIP_META} for cid in CLIP_IDS]


def get_demo_dataset(wildcards):
    return [os.path.join(demo_lib.DEMO_ROOT, demo_lib.DATASET_FILE)] if IS_DEMO else []


# --- LOSO -----------------------------------------------------------------------------------------
FOLDS = {fold_id(s): s for s in SOURCES}
FOLD_IDS = sorted(FOLDS)
ARCHS = list(config["archs"])
#: teacher -> arch -> hparams (the config's, and what every student needs of its teacher)
ARCH_HPARAMS = {
    t: {
        a: {**(config["archs"][a] or {}), **teacher_lib.teacher_hparams(TEACHERS[t])}
        for a in ARCHS
    }
    for t in TEACHER_NAMES
}
#: archs with a pretraining job (corpus-free, cached); `linear` is fitted in closed form and
#: `reweight_svm` starts as the exact teacher, both inside their fold jobs
PRETRAINED_ARCHS = [
    a for a in ARCHS if archs_lib.needs_pretraining(a, config["archs"][a] or {})
]
POOLINGS = list(config["pooling"])
SEEDS = [int(s) for s in config["seeds"]]
if len(FOLDS) < 2:
    raise WorkflowError(
        f"corpus error: leave-one-source-out needs at least 2 sources, the corpus has {len(FOLDS)}"
    )
if len(FOLDS) != len(SOURCES):
    raise WorkflowError(f"corpus error: source names {SOURCES} collide as fold ids")


def get_loso_predictions(wildcards):
    """Every fold's held-out predictions of every arch, pooling and seed of a teacher."""
    return expand(
        "results/teachers/{teacher}/loso/{arch}/{pooling}/{fold}/seed{seed}/predictions.parquet",
        teacher=wildcards.teacher,
        arch=ARCHS,
        pooling=POOLINGS,
        fold=FOLD_IDS,
        seed=SEEDS,
    )


def fold_outputs(kind, archs):
    """A fold job's outputs of `kind` (model.pt, predictions.parquet) for each arch and pooling."""
    return expand(
        "results/teachers/{{teacher}}/loso/{arch}/{pooling}/{{fold}}/seed{{seed}}/"
        + kind,
        arch=archs,
        pooling=POOLINGS,
    )


def get_external_models():
    return [os.path.abspath(p) for p in config.get("external_models", [])]


# --- export and gate --------------------------------------------------------------------------
def get_pretrained(wildcards):
    """The pretrained states a fold job starts from (the archs it trains that have one)."""
    archs = [wildcards.arch] if hasattr(wildcards, "arch") else ARCHS
    return {
        f"pretrained_{a}": f"results/teachers/{wildcards.teacher}/pretrain/{a}/seed{wildcards.seed}.pt"
        for a in archs
        if a in PRETRAINED_ARCHS
    }


TIERS = dict(config["tiers"])
TIER_NAMES = list(TIERS)
FINAL_SEED = SEEDS[0]
TIER_ARCHS = sorted({spec["arch"] for spec in TIERS.values()})


def get_model_config(wildcards):
    """Per tier, the config that determines its model (its card's config_fingerprint hashes this)."""
    return {
        tier: {
            "tier": tier,
            **spec,
            "hparams": ARCH_HPARAMS[wildcards.teacher][spec["arch"]],
            "teacher": wildcards.teacher,
            "seed": FINAL_SEED,
            "val_fraction": config["val_fraction"],
            "opset": config["opset"],
            "features": list(TEACHERS[wildcards.teacher].features),
        }
        for tier, spec in TIERS.items()
    }


def get_final_pretrained(wildcards):
    """The pretrained states of the tiers' archs that have one."""
    return {
        f"pretrained_{a}": f"results/teachers/{wildcards.teacher}/pretrain/{a}/seed{FINAL_SEED}.pt"
        for a in TIER_ARCHS
        if a in PRETRAINED_ARCHS
    }


def get_tier_fold_models(wildcards):
    """A tier's fold models, one per held-out fold: fold id -> model.pt."""
    spec = TIERS[wildcards.tier]
    return {
        f"fold_{fold}": f"results/teachers/{wildcards.teacher}/loso/{spec['arch']}/{spec['pooling']}/{fold}/seed{FINAL_SEED}/model.pt"
        for fold in FOLD_IDS
    }


def teacher_files(pattern, **kw):
    """`pattern` (with {teacher}, and {tier} when given) for every teacher (and tier), teacher-major."""
    return expand(
        f"results/teachers/{{teacher}}/{pattern}", teacher=TEACHER_NAMES, **kw
    )
