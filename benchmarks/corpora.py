"""Benchmark corpora: sources x hypothetical reference circuits (HRCs), built with real encoders and
measured with real libvmaf for several teachers in ONE pass per clip.

A corpus is a `CorpusDef` (tuning_corpus.TUNING, unseen_corpus.UNSEEN): sources, HRCs, a geometry.

* A source is one of: a photo bundled with a registry package given the demo's camera motion
  (`package`, `file`, `motion`: `demo.reference_argv`), a photo looped through a filter chain
  (`package`, `file`, `vf`), or an ffmpeg lavfi generator (`lavfi`). `vf` and `lavfi` are templates
  with {w} {h} {fps} {n} {w4} {h4} (size, rate, frames, quarter size). Each becomes a raw yuv420p
  reference.
* An HRC is a filter chain (`vf`, may be empty) and encoder arguments (`enc`, every encoder
  single-threaded) into a container (`ext`); `pix_fmt` when the encoder needs another than yuv420p.
  Its *kinds* (`hrc_kinds`) are its lossy encoder and its distortion filters (resampling, format
  conversion and lossless storage are no kind): two corpora that must not share a distortion must
  have disjoint kinds (`check_disjoint`).

`build` writes the references, the distorted clips and a Netflix-format dataset file, and reads the
clips back through the project's own ingestion (`corpus.load_corpus`). `measure` runs ONE
ffmpeg+libvmaf pass per clip (`ffmpeg.libvmaf_argv`, the workflow's argv) with every teacher's
model at once (`libvmaf_model.libvmaf_models_option`; each model's score is logged under its name,
each feature under its libvmaf key, shared by the models that use it with the same options) and
returns one per-frame table per teacher: clip_id, source, hrc, frame, the teacher's canonical
features, vmaf (libvmaf's per-frame score of that teacher). Every teacher's float64 model must
reproduce libvmaf's score on every frame (`TEACHER_TOLERANCE`, as the workflow's teacher check).
`corpus_cache.frames` caches both under benchmarks_out/corpora/ (`CACHE_DIR`), keyed on
`CorpusDef.key`.

Encoders run single-threaded with bitexact muxing and seeded generators, so a rebuild gives the
same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from vmafdistill import corpus, demo
from vmafdistill.ffmpeg import ClipGeometry, libvmaf_argv
from vmafdistill.libvmaf_log import LibvmafLogError
from vmafdistill.libvmaf_model import libvmaf_models_option, score_keys, scores_from_log
from vmafdistill.streams import frame_count_problem, parse_report, report_env
from vmafdistill.teacher import Teacher

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "benchmarks_out" / "corpora"
DATASET_FILE = "dataset.py"
TEACHER_TOLERANCE = 5e-4  # VMAF points: the workflow's teacher check (config teacher_tolerance)

ONE_THREAD = ["-threads", "1"]
#: lossless storage of a filtered clip (FFV1), no kind of its own
LOSSLESS = ["-c:v", "ffv1", "-level", "3", "-slices", "4", "-g", "1", *ONE_THREAD]
#: encoders that store exactly what they are given (not a distortion kind)
LOSSLESS_CODECS = frozenset({"ffv1", "rawvideo"})
#: filters that only resample or convert (not a distortion kind)
NEUTRAL_FILTERS = frozenset({"scale", "format", "setsar", "null"})


class CorpusBuildError(Exception):
    """A corpus could not be built or measured (the message names the clip and the step)."""


@dataclass(frozen=True)
class CorpusDef:
    """A corpus: what it is for (`doc`), its sources and HRCs, and its geometry."""

    name: str
    doc: str
    sources: tuple[dict, ...]
    hrcs: tuple[dict, ...]
    settings: demo.DemoSettings

    def subset(self, sources: tuple[str, ...], hrcs: tuple[str, ...], settings: demo.DemoSettings) -> CorpusDef:
        """The same corpus restricted to some sources and HRCs (by name), at another geometry."""
        pick_s = tuple(s for s in self.sources if s["name"] in sources)
        pick_h = tuple(h for h in self.hrcs if h["name"] in hrcs)
        if len(pick_s) != len(sources) or len(pick_h) != len(hrcs):
            raise CorpusBuildError(f"{self.name}: unknown source or HRC in {sources} / {hrcs}")
        return replace(self, sources=pick_s, hrcs=pick_h, settings=settings)

    def key(self, exe: str) -> str:
        """A digest of everything that determines the built clips: every build command (output paths
        left out), the dataset file and the ffmpeg binary."""
        s = self.settings
        argv = [reference_argv("ffmpeg", src, s, "REF")[1:] for src in self.sources]
        argv += [hrc_argv("ffmpeg", "REF", s, h, "DIS." + h["ext"])[1:] for h in self.hrcs]
        blob = json.dumps({"name": self.name, "argv": argv, "dataset": dataset_text(self), "ffmpeg": binary_id(exe)})
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def binary_id(exe: str) -> str:
    """The ffmpeg binary as a cache key: its real path and the sha256 of its bytes."""
    real = os.path.realpath(exe)
    return f"{real}@{file_sha256(Path(real))[:16]}"


# ------------------------------------------------------------------------------------------------
# kinds (what two corpora must not share)


def source_content(src: dict) -> str:
    """What a source shows: its package file, or its generator graph."""
    if "lavfi" in src:
        return "lavfi:" + src["lavfi"]
    return f"{src['package']}:{src['file']}"


def _filter_names(chain: str) -> set[str]:
    """Names of the filters in a filter chain (quoted option values may hold commas)."""
    parts = re.split(r"[,;]", re.sub(r"'[^']*'", "''", chain))
    return {m.group(1) for part in parts if (m := re.match(r"\s*(?:\[[^\]]*\])*([A-Za-z0-9_]+)", part))}


def hrc_kinds(hrc: dict) -> set[str]:
    """`codec:<lossy encoder>` and `filter:<distortion filter>` of an HRC."""
    enc = hrc["enc"]
    codecs = {enc[i + 1] for i, a in enumerate(enc) if a in ("-c:v", "-vcodec", "-codec:v")}
    kinds = {f"codec:{c}" for c in codecs - LOSSLESS_CODECS}
    return kinds | {f"filter:{f}" for f in _filter_names(hrc.get("vf", "")) - NEUTRAL_FILTERS}


def demo_kinds(demo_cfg: dict) -> tuple[set[str], set[str]]:
    """(source contents, HRC kinds) of the workflow's demo corpus (config.yaml `demo`)."""
    contents = {source_content(s) for s in demo_cfg["sources"]}
    return contents, {f"codec:{r['codec']}" for r in demo_cfg["ladder"]}


def corpus_kinds(c: CorpusDef) -> tuple[set[str], set[str]]:
    """(source contents, HRC kinds) of a corpus."""
    return {source_content(s) for s in c.sources}, set().union(*(hrc_kinds(h) for h in c.hrcs))


def check_disjoint(
    named: dict[str, tuple[set[str], set[str]]], allowed: dict[tuple[str, str], set[str]] | None = None
) -> None:
    """Fail naming every source content or HRC kind that two of the corpora share, except those that
    `allowed[(a, b)]` lists for corpora a and b (in the order of `named`)."""
    clashes = []
    names = list(named)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ok = (allowed or {}).get((a, b), set())
            for what, j in (("source", 0), ("HRC kind", 1)):
                shared = sorted((named[a][j] & named[b][j]) - ok)
                clashes += [f"{what} {s} in both {a} and {b}" for s in shared]
    if clashes:
        raise CorpusBuildError("corpora overlap: " + "; ".join(clashes))


# ------------------------------------------------------------------------------------------------
# build


def _fields(s: demo.DemoSettings) -> dict:
    return {"w": s.width, "h": s.height, "fps": s.fps, "n": s.frames, "w4": s.width // 4 // 2 * 2,
            "h4": s.height // 4 // 2 * 2}


def reference_argv(exe: str, src: dict, s: demo.DemoSettings, out: str) -> list[str]:
    """ffmpeg argv turning one source into its raw yuv420p reference (s.frames frames at s's size)."""
    if "motion" in src:
        return demo.reference_argv(exe, src, s, out)
    if "lavfi" in src:
        inputs = ["-f", "lavfi", "-i", src["lavfi"].format(**_fields(s))]
        vf = f"scale={s.width}:{s.height}:flags=bicubic"
    else:
        path = str(demo.package_file(src["package"], src["file"]))
        inputs = ["-loop", "1", "-framerate", str(s.fps), "-i", path]
        vf = src["vf"].format(**_fields(s))
    return [
        exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *inputs,
        "-vf", f"{vf},format=yuv420p", "-frames:v", str(s.frames), "-an", "-f", "rawvideo", out,
    ]


def dis_rel(source: str, hrc: dict) -> str:
    return f"dis/{source}_{hrc['name']}.{hrc['ext']}"


def hrc_argv(exe: str, ref: str, s: demo.DemoSettings, hrc: dict, out: str) -> list[str]:
    """ffmpeg argv applying one HRC to a raw yuv420p reference."""
    vf = ["-vf", hrc["vf"].format(**_fields(s))] if hrc.get("vf") else []
    return [
        exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{s.width}x{s.height}", "-r", str(s.fps), "-i", ref,
        *vf, *hrc["enc"], "-pix_fmt", hrc.get("pix_fmt", "yuv420p"), "-an",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", out,
    ]


def dataset_text(c: CorpusDef) -> str:
    """The corpus as a Netflix-format dataset file (no self-pairs, no dmos)."""
    s = c.settings
    refs = [(src["name"], demo.ref_rel(src["name"], s).removeprefix("ref/")) for src in c.sources]
    dis = [(cid, dis_rel(src["name"], hrc)) for cid, src in enumerate(c.sources) for hrc in c.hrcs]
    return demo.netflix_dataset_text(c.doc, f"vmafdistill_{c.name}", s.width, s.height, refs, dis)


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CorpusBuildError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")


def build(c: CorpusDef, out_dir: str | Path, exe: str, *, workers: int = 2) -> list[corpus.Clip]:
    """Build references, distorted clips and `dataset.py` under out_dir; return the ingested clips
    (`corpus.load_corpus`: sorted by clip_id, raw references checked for a whole number of frames)."""
    out, s = Path(out_dir), c.settings
    (out / "ref").mkdir(parents=True, exist_ok=True)
    (out / "dis").mkdir(parents=True, exist_ok=True)
    for src in c.sources:
        if "package" in src:
            demo.package_file(src["package"], src["file"])  # fail early, naming a missing photo

    def make_ref(src: dict) -> None:
        _run(reference_argv(exe, src, s, str(out / demo.ref_rel(src["name"], s))), f"{c.name} reference {src['name']}")

    def make_dis(job: tuple[dict, dict]) -> None:
        src, hrc = job
        ref = str(out / demo.ref_rel(src["name"], s))
        _run(hrc_argv(exe, ref, s, hrc, str(out / dis_rel(src["name"], hrc))), f"{c.name} {src['name']} {hrc['name']}")

    with ThreadPoolExecutor(max(1, workers)) as pool:  # each job is one ffmpeg process
        list(pool.map(make_ref, c.sources))
        list(pool.map(make_dis, [(src, hrc) for src in c.sources for hrc in c.hrcs]))
    (out / DATASET_FILE).write_text(dataset_text(c), encoding="utf-8")
    return corpus.load_corpus(str(out), DATASET_FILE, default_fps=float(s.fps))


def hrc_of(clip: corpus.Clip) -> str:
    """The HRC name of a clip (from `dis/<Source>_<hrc>.<ext>`)."""
    stem = os.path.splitext(os.path.basename(clip.dis_rel))[0]
    return stem.removeprefix(f"{clip.source}_")


# ------------------------------------------------------------------------------------------------
# measure


def size_problems(teachers: list[Teacher], s: demo.DemoSettings) -> list[str]:
    """Each teacher that libvmaf cannot score at the corpus geometry, and why."""
    return [p for t in teachers if (p := t.frame_size_problem(s.width, s.height))]


def _pass(exe: str, c: corpus.Clip, teachers: list[Teacher]) -> dict[str, pl.DataFrame]:
    models = [t.model for t in teachers]
    with tempfile.TemporaryDirectory(prefix="vmafdistill-corpus-") as tmp:
        log, report = os.path.join(tmp, "libvmaf.json"), os.path.join(tmp, "report.log")
        argv = libvmaf_argv(exe, ClipGeometry.of(c), log, model=libvmaf_models_option(models))
        proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **report_env(report)})
        if proc.returncode != 0 or not os.path.isfile(log):
            tail = proc.stderr.strip()[-600:]
            raise CorpusBuildError(f"libvmaf on {c.clip_id} failed (exit {proc.returncode}): {tail}")
        dis, ref = parse_report(Path(report).read_text(encoding="utf-8", errors="replace"))
        doc = json.loads(Path(log).read_text(encoding="utf-8"))
    problem = frame_count_problem(c.dis_rel, dis.frames, c.ref_rel, ref.frames)
    if problem:
        raise CorpusBuildError(f"{c.clip_id}: {problem}")
    out = {}
    for t, key in zip(teachers, score_keys(models)):
        try:
            feats = t.model.features_from_log(doc, c.clip_id)[:, t.model.canonical_to_model()]
            score = scores_from_log(doc, key, c.clip_id)
        except LibvmafLogError as exc:
            raise CorpusBuildError(f"{c.clip_id}, teacher {t.name}: {exc}") from None
        n = len(score)
        out[t.name] = pl.DataFrame({
            "clip_id": [c.clip_id] * n, "source": [c.source] * n, "hrc": [hrc_of(c)] * n,
            "frame": np.arange(n, dtype=np.int32), **{f: feats[:, j] for j, f in enumerate(t.features)}, "vmaf": score,
        })
    return out


def teacher_diff(t: Teacher, frames: pl.DataFrame) -> float:
    """Largest |float64 teacher on libvmaf's features - libvmaf's score| over the frames."""
    pred = t.predict(frames.select(t.features).to_numpy())
    return float(np.max(np.abs(pred - frames["vmaf"].to_numpy()))) if frames.height else 0.0


def measure(
    clips: list[corpus.Clip], exe: str, teachers: list[Teacher], *, workers: int = 2
) -> dict[str, pl.DataFrame]:
    """ONE libvmaf pass per clip for all `teachers` (`workers` clips at a time): teacher name ->
    per-frame table of the corpus. Fails if a teacher cannot score the clips' size, if a clip's frame
    count differs from its reference, or if a teacher's float64 model misses libvmaf's score on a
    frame by more than TEACHER_TOLERANCE."""
    sizes = {(c.width, c.height) for c in clips}
    problems = [p for w, h in sizes for t in teachers if (p := t.frame_size_problem(w, h))]
    if problems:
        raise CorpusBuildError("; ".join(problems))
    with ThreadPoolExecutor(max(1, workers)) as pool:
        parts = list(pool.map(lambda c: _pass(exe, c, teachers), clips))
    tables = {t.name: pl.concat([p[t.name] for p in parts]).sort(["clip_id", "frame"]) for t in teachers}
    bad = [f"{t.name} {d:.2e}" for t in teachers if (d := teacher_diff(t, tables[t.name])) > TEACHER_TOLERANCE]
    if bad:
        raise CorpusBuildError(f"float64 teacher vs libvmaf over {TEACHER_TOLERANCE:g} VMAF: {', '.join(bad)}")
    return tables


def clip_table(frames: pl.DataFrame) -> pl.DataFrame:
    """One row per clip: source, hrc, frames, mean / min / max per-frame vmaf (libvmaf's pooling: mean)."""
    return (
        frames.group_by(["clip_id", "source", "hrc"], maintain_order=True)
        .agg(pl.len().alias("n_frames"), pl.col("vmaf").mean().alias("vmaf"),
             pl.col("vmaf").min().alias("vmaf_min"), pl.col("vmaf").max().alias("vmaf_max"))
        .sort("clip_id")
    )
