"""The teacher as a choice, its bad inputs: an unknown name, a file that is not a libvmaf SVM model, a
feature this ffmpeg's libvmaf cannot compute, frames too small for the teacher, a teacher listed twice.
(A VMAF v1.0.16 teacher end to end, beside vmaf_v0.6.1 in one pass: the shared run, tests/test_gate_end_to_end.py.)"""

import json
import shutil

from tiny import build_tiny_corpus, snakemake
from vmafdistill.ffmpeg import resolve_ffmpeg
from vmafdistill.libvmaf_model import MODEL_DIR

V1 = "vmaf_v1.0.16_3d0h"
V1_FEATURES = ["adm3", "cambi", "speed_chroma_uv", "motion3"]


def test_unknown_teacher_lists_the_known_ones(tiny_corpus, tmp_path):
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={tiny_corpus}", "teacher=vmaf_v9")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "config teacher: unknown libvmaf model 'vmaf_v9'" in out and "vmaf_v1.0.16_3d0h" in out
    twice = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={tiny_corpus}",
                      "teachers=[vmaf_v0.6.1, vmaf_v9, vmaf_v0.6.1_phone]")
    out = twice.stdout + twice.stderr
    assert twice.returncode != 0 and "config teachers[1]: unknown libvmaf model 'vmaf_v9'" in out
    same = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={tiny_corpus}",
                     "teachers=[vmaf_v0.6.1, vmaf_v0.6.1]")
    assert same.returncode != 0 and "config key teachers" in same.stdout + same.stderr


def test_a_model_file_lacking_a_field_is_refused(tiny_corpus, tmp_path):
    root = tiny_corpus
    doc = json.loads((MODEL_DIR / "vmaf_v0.6.1.json").read_text())
    del doc["model_dict"]["slopes"]
    bad = tmp_path / "my model.json"
    bad.write_text(json.dumps(doc))
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={root}", f"teacher_model={bad}")
    assert proc.returncode != 0 and f"{bad}: model_dict.slopes is missing" in proc.stdout + proc.stderr
    (tmp_path / "nosvm.json").write_text(json.dumps({"model_dict": {"model_type": "RESIDUEBOOTSTRAP_LIBSVMNUSVR"}}))
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={root}",
                     f"teacher_model={tmp_path / 'nosvm.json'}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "nosvm.json: model_dict.model_type" in out and "bootstrap" in out


def test_frames_too_small_for_the_teacher_are_refused(tmp_path):
    root = build_tiny_corpus(tmp_path / "c")  # 160x96: no cambi
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={root}", f"teacher={V1}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"{V1}: cambi needs a width or height >= 216, not 160x96" in out and "Bikes" in out


def test_a_feature_this_libvmaf_cannot_compute_fails_the_ffmpeg_check(tiny_corpus, tmp_path):
    """An ffmpeg whose libvmaf lacks the cambi extractor (a wrapper that fails the teacher's probe)."""
    root = tiny_corpus
    real, _ = resolve_ffmpeg()
    fake = tmp_path / "ffmpeg-no-cambi"
    fake.write_text(f"""#!/bin/sh
case "$*" in *testsrc2*) echo "[libvmaf] problem loading feature extractor: cambi" >&2; exit 1;; esac
exec "{real}" "$@"
""")
    fake.chmod(0o755)
    work = tmp_path / "w"
    proc = snakemake(work, "--cores", "2", "features", "--config", f"data_root={root}", f"teacher={V1}",
                     f"ffmpeg={fake}")
    assert proc.returncode != 0
    log = (work / "logs/features/ffmpeg_check.log").read_text()
    assert str(fake) in log and "cannot run teacher vmaf_v1.0.16_3d0h" in log and "cambi_hrs_1080" in log
    assert "problem loading feature extractor: cambi" in log
    assert not (work / f"results/teachers/{V1}/features/clips.parquet").exists()
    shutil.rmtree(work, ignore_errors=True)
