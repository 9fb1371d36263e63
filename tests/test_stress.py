"""The stress corpus (scripts/vmafdistill/stress.py): a small one, built and measured for real.

2 sources x 3 HRCs at 160x96, 10 frames: one ffmpeg+libvmaf pass per clip. Checks that real libvmaf
features come out, that the HRCs reach low scores (the point of the corpus), that the float64
teacher reproduces libvmaf's per-frame vmaf on it, and that a published peer student runs on it.
"""

from pathlib import Path

import numpy as np
import pytest
import yaml

from vmafdistill import FEATURES, demo, onnxrun, stress
from vmafdistill.ffmpeg import resolve_ffmpeg
from vmafdistill.teacher import load_teacher

ROOT = Path(__file__).resolve().parents[1]
PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"

SMALL = demo.DemoSettings(width=160, height=96, fps=25, seconds=0.4)  # 10 frames
SOURCES = tuple(s for s in stress.STRESS_SOURCES if s["name"] in ("Camera", "Grass"))
HRCS = tuple(h for h in stress.HRCS if h["name"] in ("noise-a10", "mjpeg-q31", "gblur-s2"))


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    exe, _ = resolve_ffmpeg()
    out = tmp_path_factory.mktemp("stress")
    clips = stress.build_stress_corpus(out, exe, sources=SOURCES, hrcs=HRCS, settings=SMALL)
    return clips, stress.measure(clips, exe)


def test_stress_sources_are_not_demo_sources():
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    stress.check_disjoint(cfg["demo"])
    with pytest.raises(stress.StressError, match="Astronaut"):
        stress.check_disjoint(cfg["demo"], sources=tuple(cfg["demo"]["sources"][3:4]))


def test_small_stress_corpus(small_corpus):
    clips, frames = small_corpus
    assert len(clips) == 6 and {c.source for c in clips} == {"Camera", "Grass"}
    assert frames.height == 6 * SMALL.frames == 60
    assert sorted(frames["hrc"].unique()) == sorted(h["name"] for h in HRCS)

    # real libvmaf features: finite, in their ranges, varying across clips
    x = frames.select(FEATURES).to_numpy()
    assert np.isfinite(x).all()
    assert (x[:, :5] >= 0).all() and (x[:, :5] <= 1.5).all() and (x[:, 5] >= 0).all()
    assert (x[:, :5].std(axis=0) > 0.01).all()
    assert x[:, 5].max() > 0  # camera motion: motion2 is not zero everywhere

    # a wide spread of scores, down into the range the demo ladder never reaches
    clip_vmaf = stress.clip_table(frames)["vmaf"].to_numpy()
    assert clip_vmaf.min() < 40, clip_vmaf
    assert clip_vmaf.max() - clip_vmaf.min() > 50, clip_vmaf

    # the float64 teacher on libvmaf's features reproduces libvmaf's own vmaf
    diff = np.abs(load_teacher().predict(x) - frames["vmaf"].to_numpy())
    assert diff.max() <= 5e-4, diff.max()

    # a published peer student (when the developer folder exists) runs on it and gives finite scores
    peer = PEERS / "vmaf_tiny_v2.onnx"
    if peer.is_file():
        scores = onnxrun.run(onnxrun.session(peer), x)
        assert scores.shape == (len(x),) and np.isfinite(scores).all()
