"""The teacher as a choice: a VMAF v1.0.16 teacher end to end through the gate on the tiny corpus, and
the bad inputs (unknown name, a file that is not a libvmaf SVM model, a feature this ffmpeg's libvmaf
cannot compute, frames too small for the teacher)."""

import json
import shutil
import subprocess
import sys

import polars as pl
import pytest

from tiny import ROOT, build_tiny_corpus, fast_config, snakemake
from vmafdistill import export as ex
from vmafdistill.ffmpeg import resolve_ffmpeg
from vmafdistill.libvmaf_model import MODEL_DIR

V1 = "vmaf_v1.0.16_3d0h"
V1_FEATURES = ["adm3", "cambi", "speed_chroma_uv", "motion3"]


@pytest.fixture(scope="module")
def v1_gate(tmp_path_factory):
    root = build_tiny_corpus(tmp_path_factory.mktemp("tiny_v1"), 256, 160)  # 3d0h: a side >= 216
    work = tmp_path_factory.mktemp("work_v1")
    tiers = {"nano": {"max_bytes": 10240, "arch": "nano", "pooling": "frame", "precision": "fp32"},
             "exact": {"max_bytes": 10240, "arch": "exact", "pooling": "frame", "precision": "exact"}}  # fmt: skip
    args = fast_config(work, root, teacher=V1, tiers=tiers)
    proc = snakemake(work, "--cores", "2", "gate", *args)
    return root, work, proc


def test_v1_teacher_through_the_gate(v1_gate):
    root, work, proc = v1_gate
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((work / "results/gate/report.json").read_text())
    assert report["verdict"] == "PASS" and report["teacher"]["name"] == V1
    assert report["teacher"]["features"] == V1_FEATURES
    check = json.loads((work / "results/features/teacher_check.json").read_text())
    assert check["teacher"] == V1 and check["passed"] and check["max_abs_diff"] <= 5e-4
    frames = pl.read_parquet(work / "results/features/frames.parquet")
    assert frames.columns[3:8] == [*V1_FEATURES, "vmaf"]
    for tier in ("nano", "exact"):
        data = (work / f"results/export/{tier}.onnx").read_bytes()
        meta = ex.metadata_of(data)
        assert meta["vmafdistill.teacher"] == V1 and meta["vmafdistill.features"] == ",".join(V1_FEATURES)
        card = json.loads((work / f"results/export/{tier}.json").read_text())
        assert card["teacher"] == V1 and card["input"]["shape"] == ["N", 4]
    exact = {e["engine"]: e for e in report["engines"]["exact"]}
    assert all(exact[e]["max_ulp"] == 0 for e in ("onnx-reference", "openvino-f32", "tract"))


def test_score_follows_the_students_teacher(v1_gate):
    root, work, proc = v1_gate
    assert proc.returncode == 0
    dis = sorted((root / "dis").glob("Bikes_*crf38*"))[0]
    ref = next((root / "ref").glob("Bikes_*.yuv"))
    out = work / "v1_frames.csv"
    cmd = [sys.executable, str(ROOT / "scripts/score.py"), "--model", str(work / "results/export/nano.onnx"),
           "--ref", str(ref), "--dis", str(dis), "--width", "256", "--height", "160", "--frames", str(out)]  # fmt: skip
    score = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert score.returncode == 0, score.stderr
    assert V1 in score.stdout
    table = pl.read_csv(out)
    assert table.columns == ["frame", *V1_FEATURES, "teacher", "student"]
    frames = pl.read_parquet(work / "results/features/frames.parquet").filter(
        pl.col("clip_id") == f"dis__{dis.stem}").sort("frame")  # fmt: skip
    assert table["teacher"].to_list() == pytest.approx(frames["vmaf"].to_list(), abs=1e-6)  # the same pass


def test_unknown_teacher_lists_the_known_ones(tmp_path):
    root = build_tiny_corpus(tmp_path / "c")
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={root}", "teacher=vmaf_v9")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "unknown libvmaf model 'vmaf_v9'" in out and "vmaf_v1.0.16_3d0h" in out


def test_a_model_file_lacking_a_field_is_refused(tmp_path):
    root = build_tiny_corpus(tmp_path / "c")
    doc = json.loads((MODEL_DIR / "vmaf_v0.6.1.json").read_text())
    del doc["model_dict"]["slopes"]
    bad = tmp_path / "my model.json"
    bad.write_text(json.dumps(doc))
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={root}", f"teacher_model={bad}")
    assert proc.returncode != 0 and f"{bad}: model_dict.slopes is missing" in proc.stdout + proc.stderr
    (tmp_path / "nosvm.json").write_text(json.dumps({"model_dict": {"model_type": "RESIDUEBOOTSTRAP_LIBSVMNUSVR"}}))
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={root}",
                     f"teacher_model={tmp_path / 'nosvm.json'}")  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "nosvm.json: model_dict.model_type" in out and "bootstrap" in out


def test_frames_too_small_for_the_teacher_are_refused(tmp_path):
    root = build_tiny_corpus(tmp_path / "c")  # 160x96: no cambi
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={root}", f"teacher={V1}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"{V1}: cambi needs a width or height >= 216, not 160x96" in out and "Bikes" in out


def test_a_feature_this_libvmaf_cannot_compute_fails_the_ffmpeg_check(tmp_path):
    """An ffmpeg whose libvmaf lacks the cambi extractor (a wrapper that fails the teacher's probe)."""
    root = build_tiny_corpus(tmp_path / "c", 256, 160)
    real, _ = resolve_ffmpeg()
    fake = tmp_path / "ffmpeg-no-cambi"
    fake.write_text(f"""#!/bin/sh
case "$*" in *testsrc2*) echo "[libvmaf] problem loading feature extractor: cambi" >&2; exit 1;; esac
exec "{real}" "$@"
""")
    fake.chmod(0o755)
    work = tmp_path / "w"
    proc = snakemake(work, "--cores", "2", "features", "--config", f"data_root={root}", f"teacher={V1}",
                     f"ffmpeg={fake}")  # fmt: skip
    assert proc.returncode != 0
    log = (work / "logs/features/ffmpeg_check.log").read_text()
    assert str(fake) in log and "cannot run teacher vmaf_v1.0.16_3d0h" in log and "cambi_hrs_1080" in log
    assert "problem loading feature extractor: cambi" in log
    assert not (work / "results/features/clips.parquet").exists()
    shutil.rmtree(work, ignore_errors=True)
