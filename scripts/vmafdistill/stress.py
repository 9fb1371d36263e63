"""The stress corpus: content and distortions the demo corpus never uses, measured with real libvmaf.

"Follow the teacher everywhere": a student must track vmaf_v0.6.1 far from its training corpus:
heavy blur, heavy noise, very low scores, other codecs, other content. This module builds such a
corpus from photos bundled with scikit-image that the demo config does not list (a grey portrait,
a deep-field astronomy image, a scanned text page, a grass texture, a retina fundus photo, a colour
microscopy slide), each given camera motion exactly as the demo does (`demo.reference_argv`), then
distorts each through hypothetical reference circuits (HRCs) of other kinds than the demo's
H.264/H.265 ladder: Gaussian blur, temporal Gaussian noise (both stored lossless in FFV1), VP9 at a
very low bitrate, MPEG-2 and MJPEG at their coarsest quantiser (and MJPEG at a milder one), and
H.264 CRF 51 at quarter resolution scaled back by the libvmaf pass.

The corpus is written as a Netflix-format dataset file and read back through the project's own
ingestion (`corpus.load_corpus`), then measured with ONE ffmpeg+libvmaf pass per clip
(`ffmpeg.libvmaf_argv`, the argv the workflow runs), a few at a time.

    clips = build_stress_corpus(out_dir, exe)          # references + distorted clips + dataset.py
    frames = measure(clips, exe)                       # clip_id, source, hrc, frame, 6 features, vmaf

Every encoder runs single-threaded with bitexact muxing, and the noise filter has a fixed seed, so
a rebuild gives the same clips (checked: the same feature table). The default corpus (6 sources x
10 HRCs at 320x180, 25 fps, 2 s: 60 clips, 3,000 frames) builds and measures in ~10-20 s on 2 cores,
with clip scores from 0 to 99 (gblur-s6 and avc-crf51-q sit at or near 0, where libvmaf clips) and
features far outside the demo corpus (adm2 down to ~0.16, vif_scale0 down to ~1e-4).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

from . import FEATURES, corpus, demo
from .ffmpeg import ClipGeometry, FFmpegError, run_pass
from .streams import frame_count_problem

DATASET_FILE = "dataset.py"

#: Default geometry: small, so that the whole corpus builds in seconds.
DEFAULT_SETTINGS = demo.DemoSettings(width=320, height=180, fps=25, seconds=2.0)

#: scikit-image photos the demo config does not use, of different kinds, with camera motion.
STRESS_SOURCES: tuple[dict, ...] = (
    {"name": "Camera", "package": "scikit-image", "file": "skimage/data/camera.png", "motion": "zoom_in",
     "kind": "grey portrait photo"},
    {"name": "Hubble", "package": "scikit-image", "file": "skimage/data/hubble_deep_field.jpg", "motion": "pan_right",
     "kind": "dark, sparse deep-field astronomy"},
    {"name": "Page", "package": "scikit-image", "file": "skimage/data/page.png", "motion": "pan_down",
     "kind": "scanned text page (grey, unevenly lit)"},
    {"name": "Grass", "package": "scikit-image", "file": "skimage/data/grass.png", "motion": "zoom_out",
     "kind": "grey natural texture"},
    {"name": "Retina", "package": "scikit-image", "file": "skimage/data/retina.jpg", "motion": "zoom_in",
     "kind": "retina fundus photo (colour, dark border)"},
    {"name": "IHC", "package": "scikit-image", "file": "skimage/data/ihc.png", "motion": "pan_left",
     "kind": "colour microscopy slide"},
)  # fmt: skip

_ONE_THREAD = ["-threads", "1"]
_LOSSLESS = ["-c:v", "ffv1", "-level", "3", "-slices", "4", "-g", "1", *_ONE_THREAD]

#: HRCs of other kinds than the demo ladder. `vf`: filter chain applied to the reference before
#: encoding; `enc`: encoder arguments; `ext`: container. Filters are stored losslessly (FFV1).
HRCS: tuple[dict, ...] = (
    {"name": "gblur-s2", "kind": "Gaussian blur sigma 2 (lossless)", "vf": "gblur=sigma=2", "enc": _LOSSLESS, "ext": "mkv"},
    {"name": "gblur-s6", "kind": "Gaussian blur sigma 6 (lossless)", "vf": "gblur=sigma=6", "enc": _LOSSLESS, "ext": "mkv"},
    {"name": "noise-a10", "kind": "temporal Gaussian noise 10 (lossless)", "vf": "noise=alls=10:allf=t:all_seed=1",
     "enc": _LOSSLESS, "ext": "mkv"},
    {"name": "noise-a30", "kind": "temporal Gaussian noise 30 (lossless)", "vf": "noise=alls=30:allf=t:all_seed=1",
     "enc": _LOSSLESS, "ext": "mkv"},
    {"name": "noise-a70", "kind": "temporal Gaussian noise 70 (lossless)", "vf": "noise=alls=70:allf=t:all_seed=1",
     "enc": _LOSSLESS, "ext": "mkv"},
    {"name": "vp9-10k", "kind": "VP9 at 10 kbit/s", "vf": "",
     "enc": ["-c:v", "libvpx-vp9", "-b:v", "10k", "-deadline", "good", "-cpu-used", "4", "-row-mt", "0",
             *_ONE_THREAD], "ext": "webm"},
    # MPEG-2 rate control cannot go below its coarsest quantiser at this size (asking 60 kbit/s gives
    # ~250): qscale 31 is the lowest bitrate MPEG-2 reaches (~100 kbit/s at 320x180)
    {"name": "mpeg2-q31", "kind": "MPEG-2 at its coarsest quantiser", "vf": "",
     "enc": ["-c:v", "mpeg2video", "-q:v", "31", *_ONE_THREAD], "ext": "mkv"},
    {"name": "mjpeg-q8", "kind": "MJPEG at qscale 8", "vf": "",
     "enc": ["-c:v", "mjpeg", "-q:v", "8", *_ONE_THREAD], "ext": "mkv"},
    {"name": "mjpeg-q31", "kind": "MJPEG at its coarsest quantiser", "vf": "",
     "enc": ["-c:v", "mjpeg", "-q:v", "31", *_ONE_THREAD], "ext": "mkv"},
    {"name": "avc-crf51-q", "kind": "H.264 CRF 51 at quarter resolution, scaled back", "vf": "scale=iw/4:-2:flags=bicubic",
     "enc": ["-c:v", "libx264", "-crf", "51", "-preset", "medium", *_ONE_THREAD], "ext": "mp4"},
)  # fmt: skip


class StressError(Exception):
    """The stress corpus could not be built or measured (the message names the clip and the step)."""


def check_disjoint(demo_cfg: dict, sources: tuple[dict, ...] = STRESS_SOURCES) -> None:
    """Fail if a stress source is a file (or a name) the demo corpus uses."""
    demo_files = {(s["package"], s["file"]) for s in demo_cfg["sources"]}
    demo_names = {s["name"] for s in demo_cfg["sources"]}
    clash = [s["name"] for s in sources if (s["package"], s["file"]) in demo_files or s["name"] in demo_names]
    if clash:
        raise StressError(f"stress sources also used by the demo corpus: {', '.join(clash)}")


def dis_rel(source: str, hrc: dict) -> str:
    return f"dis/{source}_{hrc['name']}.{hrc['ext']}"


def hrc_argv(exe: str, ref: str, s: demo.DemoSettings, hrc: dict, out: str) -> list[str]:
    """ffmpeg argv applying one HRC to a raw yuv420p reference."""
    vf = ["-vf", hrc["vf"]] if hrc.get("vf") else []
    return [
        exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{s.width}x{s.height}", "-r", str(s.fps), "-i", ref,
        *vf, *hrc["enc"], "-pix_fmt", "yuv420p", "-an",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", out,
    ]  # fmt: skip


def dataset_text(sources: tuple[dict, ...], hrcs: tuple[dict, ...], s: demo.DemoSettings) -> str:
    """The stress corpus as a Netflix-format dataset file (no self-pairs, no dmos)."""
    refs = [(src["name"], demo.ref_rel(src["name"], s).removeprefix("ref/")) for src in sources]
    dis = [(cid, dis_rel(src["name"], hrc)) for cid, src in enumerate(sources) for hrc in hrcs]
    doc = "vmafdistill stress corpus: content and distortions the demo corpus never uses."
    return demo.netflix_dataset_text(doc, "vmafdistill_stress", s.width, s.height, refs, dis)


def corpus_key(sources: tuple[dict, ...], hrcs: tuple[dict, ...], s: demo.DemoSettings, exe: str) -> str:
    """A digest of everything that determines the measured corpus (for caching its feature table)."""
    blob = json.dumps(
        {"sources": sources, "hrcs": hrcs, "settings": [s.width, s.height, s.fps, s.seconds],
         "ffmpeg": os.path.realpath(exe), "module": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()},
        sort_keys=True,
    )  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StressError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")


def build_stress_corpus(
    out_dir: str | Path,
    exe: str,
    *,
    sources: tuple[dict, ...] = STRESS_SOURCES,
    hrcs: tuple[dict, ...] = HRCS,
    settings: demo.DemoSettings = DEFAULT_SETTINGS,
    workers: int = 2,
) -> list[corpus.Clip]:
    """Build references, distorted clips and `dataset.py` under out_dir; return the ingested clips.

    The clips come back through `corpus.load_corpus` (sorted by clip_id, raw references checked for
    a whole number of frames), exactly as a user corpus would.
    """
    out = Path(out_dir)
    (out / "ref").mkdir(parents=True, exist_ok=True)
    (out / "dis").mkdir(parents=True, exist_ok=True)
    for src in sources:
        demo.package_file(src["package"], src["file"])  # fail early, naming a missing photo

    def make_ref(src: dict) -> None:
        _run(
            demo.reference_argv(exe, src, settings, str(out / demo.ref_rel(src["name"], settings))),
            f"reference {src['name']}",
        )

    def make_dis(job: tuple[dict, dict]) -> None:
        src, hrc = job
        ref = str(out / demo.ref_rel(src["name"], settings))
        _run(hrc_argv(exe, ref, settings, hrc, str(out / dis_rel(src["name"], hrc))), f"{src['name']} {hrc['name']}")

    with ThreadPoolExecutor(max(1, workers)) as pool:  # each job is one ffmpeg process
        list(pool.map(make_ref, sources))
        list(pool.map(make_dis, [(src, hrc) for src in sources for hrc in hrcs]))
    (out / DATASET_FILE).write_text(dataset_text(sources, hrcs, settings), encoding="utf-8")
    return corpus.load_corpus(str(out), DATASET_FILE, default_fps=float(settings.fps))


def hrc_of(clip: corpus.Clip) -> str:
    """The HRC name of a stress clip (from `dis/<Source>_<hrc>.<ext>`)."""
    stem = os.path.splitext(os.path.basename(clip.dis_rel))[0]
    return stem.removeprefix(f"{clip.source}_")


def measure(clips: list[corpus.Clip], exe: str, *, workers: int = 2) -> pl.DataFrame:
    """ONE libvmaf pass per clip (`workers` at a time); per-frame table of the whole corpus.

    Columns: clip_id, source, hrc, frame, the canonical-6 features (FEATURES order), vmaf
    (libvmaf's own per-frame vmaf_v0.6.1). Fails if a clip's frame count differs from its reference.
    """

    def one(c: corpus.Clip) -> pl.DataFrame:
        geo = ClipGeometry.of(c)
        try:
            res = run_pass(exe, geo)
        except FFmpegError as exc:
            raise StressError(f"libvmaf on {c.clip_id}: {exc}") from None
        problem = frame_count_problem(c.dis_rel, res.dis.frames, c.ref_rel, res.ref.frames)
        if problem:
            raise StressError(f"{c.clip_id}: {problem}")
        n = len(res.vmaf)
        return pl.DataFrame(
            {
                "clip_id": [c.clip_id] * n,
                "source": [c.source] * n,
                "hrc": [hrc_of(c)] * n,
                "frame": np.arange(n, dtype=np.int32),
                **{f: res.features[:, j] for j, f in enumerate(FEATURES)},
                "vmaf": res.vmaf,
            }
        )

    with ThreadPoolExecutor(max(1, workers)) as pool:
        parts = list(pool.map(one, clips))
    return pl.concat(parts).sort(["clip_id", "frame"])


def clip_table(frames: pl.DataFrame) -> pl.DataFrame:
    """One row per clip: source, hrc, frames, mean / min / max per-frame vmaf (libvmaf's pooling: mean)."""
    return (
        frames.group_by(["clip_id", "source", "hrc"], maintain_order=True)
        .agg(
            pl.len().alias("n_frames"),
            pl.col("vmaf").mean().alias("vmaf"),
            pl.col("vmaf").min().alias("vmaf_min"),
            pl.col("vmaf").max().alias("vmaf_max"),
        )
        .sort("clip_id")
    )
