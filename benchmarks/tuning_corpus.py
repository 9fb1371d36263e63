"""The TUNING corpus: where every hyper-parameter, recipe and sampler choice is made.

A student must follow its teacher far from the demo corpus it is trained on: heavy blur, heavy
noise, very low scores, other codecs, other content. This corpus is where such choices are tried
and compared (the training recipe was chosen on it), so its figures are never reported as
held-out or out-of-distribution results: that is the unseen corpus's job (`unseen_corpus.py`).

Sources: photos bundled with scikit-image that the demo config does not list, each given camera
motion exactly as the demo does (`demo.reference_argv`):

    Camera  grey portrait photo                          zoom in
    Hubble  dark, sparse deep-field astronomy             pan right
    Page    scanned text page (grey, unevenly lit)        pan down
    Grass   grey natural texture                          zoom out
    Retina  retina fundus photo (colour, dark border)     zoom in
    IHC     colour microscopy slide                       pan left

HRCs, of other kinds than the demo's H.264/H.265 ladder: Gaussian blur (sigma 2, 6) and temporal
Gaussian noise (10, 30, 70; seeded), both stored losslessly (FFV1); VP9 at 10 kbit/s; MPEG-2 and
MJPEG at their coarsest quantiser (and MJPEG at qscale 8); one that shares the demo's codec
(`SHARED_WITH_DEMO`): H.264 CRF 51 at quarter resolution, scaled back by the libvmaf pass, far past
the demo ladder's strongest rung (CRF 49 at 360p); and, added 2026-12-06 (kinds it lacked, none of
the unseen corpus's): temporal smear (tmix of 5 frames), desaturation (x 0.15), contrast compression
(x 0.5), all stored losslessly, Cinepak and Theora at its coarsest quality.

Geometry 576x324 (every built-in teacher scores it: v1.0.16's cambi needs a side >= 216 and its
speed_chroma up to 318x318), 25 fps, 2 s: 6 sources x 15 HRCs = 90 clips, 4,500 frames.

    tf = corpus_cache.frames(TUNING, exe, teachers)  # cached in benchmarks_out/corpora/tuning-<key>/
    tf.tables["vmaf_v0.6.1"]                       # clip_id, source, hrc, frame, features, vmaf
"""

from __future__ import annotations

import polars as pl
from corpora import LOSSLESS, ONE_THREAD, CorpusDef
from corpus_cache import CorpusFrames, frames
from vmafdistill import demo
from vmafdistill.teacher import Teacher

SETTINGS = demo.DemoSettings(width=576, height=324, fps=25, seconds=2.0)

SOURCES: tuple[dict, ...] = (
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
)

HRCS: tuple[dict, ...] = (
    {"name": "gblur-s2", "kind": "Gaussian blur sigma 2 (lossless)", "vf": "gblur=sigma=2",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "gblur-s6", "kind": "Gaussian blur sigma 6 (lossless)", "vf": "gblur=sigma=6",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "noise-a10", "kind": "temporal Gaussian noise 10 (lossless)", "vf": "noise=alls=10:allf=t:all_seed=1",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "noise-a30", "kind": "temporal Gaussian noise 30 (lossless)", "vf": "noise=alls=30:allf=t:all_seed=1",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "noise-a70", "kind": "temporal Gaussian noise 70 (lossless)", "vf": "noise=alls=70:allf=t:all_seed=1",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "vp9-10k", "kind": "VP9 at 10 kbit/s", "vf": "",
     "enc": ["-c:v", "libvpx-vp9", "-b:v", "10k", "-deadline", "good", "-cpu-used", "4", "-row-mt", "0",
             *ONE_THREAD], "ext": "webm"},
    # MPEG-2 rate control cannot go below its coarsest quantiser (asking a lower rate gives more):
    # qscale 31 is the lowest bitrate MPEG-2 reaches
    {"name": "mpeg2-q31", "kind": "MPEG-2 at its coarsest quantiser", "vf": "",
     "enc": ["-c:v", "mpeg2video", "-q:v", "31", *ONE_THREAD], "ext": "mkv"},
    {"name": "mjpeg-q8", "kind": "MJPEG at qscale 8", "vf": "",
     "enc": ["-c:v", "mjpeg", "-q:v", "8", *ONE_THREAD], "ext": "mkv"},
    {"name": "mjpeg-q31", "kind": "MJPEG at its coarsest quantiser", "vf": "",
     "enc": ["-c:v", "mjpeg", "-q:v", "31", *ONE_THREAD], "ext": "mkv"},
    {"name": "avc-crf51-q", "kind": "H.264 CRF 51 at quarter resolution, scaled back",
     "vf": "scale=iw/4:-2:flags=bicubic",
     "enc": ["-c:v", "libx264", "-crf", "51", "-preset", "medium", *ONE_THREAD], "ext": "mp4"},
    # added 2026-12-06, kinds the tuning corpus lacked (temporal smear, chroma loss, tone compression, vector
    # quantisation, a VP3-family codec), none of the unseen corpus's kinds
    {"name": "tmix-5", "kind": "temporal smear: each frame the mean of 5 (lossless)", "vf": "tmix=frames=5",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "desat", "kind": "chroma loss: saturation x 0.15 (lossless)", "vf": "hue=s=0.15",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "contrast", "kind": "tone compression: contrast x 0.5, brightness +0.05 (lossless)",
     "vf": "eq=contrast=0.5:brightness=0.05", "enc": LOSSLESS, "ext": "mkv"},
    {"name": "cinepak", "kind": "Cinepak (vector quantisation)", "vf": "",
     "enc": ["-c:v", "cinepak", *ONE_THREAD], "ext": "mkv"},
    # (Theora's rate control drops frames at low rates: its coarsest quality instead)
    {"name": "theora-q0", "kind": "Theora at its coarsest quality", "vf": "",
     "enc": ["-c:v", "libtheora", "-q:v", "0", *ONE_THREAD], "ext": "ogv"},
)

#: HRC kinds (`corpora.hrc_kinds`) this corpus shares with the demo corpus, knowingly: only these.
SHARED_WITH_DEMO = {"codec:libx264"}

TUNING = CorpusDef(
    name="tuning",
    doc="vmafdistill tuning corpus: where recipe and hyper-parameter choices are made (never reported as held-out).",
    sources=SOURCES,
    hrcs=HRCS,
    settings=SETTINGS,
)


def tuning_frames(exe: str, teachers: list[Teacher], *, workers: int = 2, rebuild: bool = False) -> CorpusFrames:
    """The tuning corpus measured for `teachers` (cached), with its build and measure record."""
    return frames(TUNING, exe, teachers, workers=workers, rebuild=rebuild)


def tuning_tables(exe: str, teachers: list[Teacher], *, workers: int = 2) -> dict[str, pl.DataFrame]:
    """Teacher name -> the tuning corpus's per-frame table (clip_id, source, hrc, frame, the teacher's
    canonical features, vmaf), cached: for benchmarks that diagnose students on it."""
    return tuning_frames(exe, teachers, workers=workers).tables
