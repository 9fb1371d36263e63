"""The golden fixture: a small committed YUV pair (real content, an x264 encode) and its record.

`tests/fixtures/golden/golden.json` holds the libvmaf per-frame canonical-6 features, the per-frame
vmaf and their means, as recorded by `measure_fixture`. The gate and the healthcheck re-use it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import FEATURES
from .ffmpeg import ClipGeometry, run_pass

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "golden"
RECORD = FIXTURE_DIR / "golden.json"
GEOMETRY = dict(width=176, height=144, pix_fmt="yuv420p", fps=25.0)
REF = "ref_176x144_25fps.yuv"
DIS = "dis_x264_crf36.mp4"


def measure_fixture(exe: str, fixture_dir: Path = FIXTURE_DIR) -> dict:
    """Run the fixture through ONE libvmaf pass; return its per-frame record and means."""
    clip = ClipGeometry(
        ref_path=str(fixture_dir / REF),
        dis_path=str(fixture_dir / DIS),
        ref_is_raw=True,
        dis_is_raw=False,
        dis_width=GEOMETRY["width"],
        dis_height=GEOMETRY["height"],
        **GEOMETRY,
    )
    res = run_pass(exe, clip)
    feats, vmaf, version = res.features, res.vmaf, res.libvmaf_version
    return {
        "ref": REF,
        "dis": DIS,
        **GEOMETRY,
        "libvmaf_version": version,
        "features": list(FEATURES),
        "frame_features": np.round(feats, 6).tolist(),
        "frame_vmaf": np.round(vmaf, 6).tolist(),
        "mean_features": {f: float(feats[:, j].mean()) for j, f in enumerate(FEATURES)},
        "vmaf": float(vmaf.mean()),
    }


def load_fixture(path: Path = RECORD) -> dict:
    rec = json.loads(Path(path).read_text())
    rec["frame_features"] = np.asarray(rec["frame_features"], dtype=np.float64)
    rec["frame_vmaf"] = np.asarray(rec["frame_vmaf"], dtype=np.float64)
    return rec
