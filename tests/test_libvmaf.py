"""libvmaf through ffmpeg: binary resolution, filter escaping, log parsing, golden fixture, teacher."""

import json
import os
import shutil
import stat
import subprocess

import numpy as np
import pytest

from vmafdistill import FEATURES
from vmafdistill.ffmpeg import (
    ClipGeometry,
    FFmpegError,
    LibvmafLogError,
    check_libvmaf,
    escape_filter_value,
    libvmaf_argv,
    parse_libvmaf_log,
    resolve_ffmpeg,
)
from vmafdistill.golden import FIXTURE_DIR, load_fixture, measure_fixture
from vmafdistill.teacher import load_teacher, teacher_from_vmaf_torch


@pytest.fixture(scope="module")
def ffmpeg_exe():
    exe, _ = resolve_ffmpeg()
    check_libvmaf(exe)
    return exe


def test_resolution_order(monkeypatch, tmp_path):
    fake = tmp_path / "my-ffmpeg"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("VMAF_FFMPEG", str(fake))
    assert resolve_ffmpeg(None) == (str(fake), "env VMAF_FFMPEG")
    other = tmp_path / "other"
    other.write_text("#!/bin/sh\n")
    assert resolve_ffmpeg(str(other))[0] == str(other)  # config wins over env
    monkeypatch.delenv("VMAF_FFMPEG")
    assert resolve_ffmpeg(None)[1] == "imageio-ffmpeg bundle"


def test_missing_ffmpeg_is_named(tmp_path):
    with pytest.raises(FFmpegError, match=r"not found: '.*nope'.*--config ffmpeg="):
        resolve_ffmpeg(str(tmp_path / "nope"))


def test_ffmpeg_without_libvmaf_is_refused(tmp_path):
    fake = tmp_path / "ffmpeg-nolibvmaf"
    fake.write_text("#!/bin/sh\necho ' ... scale             V->V       Scale the input video size.'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(FFmpegError, match=r"ffmpeg-nolibvmaf.*no libvmaf filter.*VMAF_FFMPEG"):
        check_libvmaf(str(fake))


def test_bundled_ffmpeg_has_libvmaf(ffmpeg_exe):
    info = check_libvmaf(ffmpeg_exe, "bundle")
    assert info["ffmpeg"] == ffmpeg_exe and "version" in info["ffmpeg_version"]


def test_escaping_lets_libvmaf_write_to_any_path(ffmpeg_exe, tmp_path):
    """A log path with spaces, quotes, colons, commas, brackets, semicolons and non-ASCII letters."""
    nasty = tmp_path / "a b'c:d,e[f];g\\h é"
    nasty.mkdir()
    ref = nasty / "ref: 'x', y.yuv"
    shutil.copy(FIXTURE_DIR / "ref_176x144_25fps.yuv", ref)
    dis = nasty / "dis, \"q\": é.mp4"
    shutil.copy(FIXTURE_DIR / "dis_x264_crf36.mp4", dis)
    log = nasty / "log: 'it', [1]; é.json"
    clip = ClipGeometry(str(ref), str(dis), 176, 144, "yuv420p", 25.0, True, False, 176, 144)
    subprocess.run(libvmaf_argv(ffmpeg_exe, clip, str(log)), check=True, capture_output=True)
    feats, vmaf, _ = parse_libvmaf_log(json.loads(log.read_text()), "nasty")
    assert feats.shape == (12, 6) and np.all(vmaf > 0)
    assert escape_filter_value("a:b") == "a\\\\:b"


def test_log_parsing_refuses_nan_and_missing_keys():
    good = {k: 0.5 for k in ("integer_adm2", "integer_vif_scale0", "integer_vif_scale1")}
    with pytest.raises(LibvmafLogError, match=r"clipX: frame 0 lacks integer_vif_scale2"):
        parse_libvmaf_log({"frames": [{"metrics": good}]}, "clipX")
    full = {
        "integer_adm2": 0.9, "integer_vif_scale0": 0.5, "integer_vif_scale1": 0.6,
        "integer_vif_scale2": 0.7, "integer_vif_scale3": float("nan"), "integer_motion2": 1.0, "vmaf": 80.0,
    }  # fmt: skip
    with pytest.raises(LibvmafLogError, match=r"clipY: frame 0 has a non-finite vif_scale3|integer_vif_scale3"):
        parse_libvmaf_log({"frames": [{"metrics": full}]}, "clipY")
    with pytest.raises(LibvmafLogError, match="no frames"):
        parse_libvmaf_log({"frames": []}, "clipZ")


def test_golden_fixture_reproduces(ffmpeg_exe):
    """Extraction reproduces the committed record at places=4 (means and every frame)."""
    record = load_fixture()
    now = measure_fixture(ffmpeg_exe)
    for f in FEATURES:
        assert now["mean_features"][f] == pytest.approx(record["mean_features"][f], abs=1e-4), f
    assert now["vmaf"] == pytest.approx(record["vmaf"], abs=1e-4)
    np.testing.assert_allclose(now["frame_features"], record["frame_features"], atol=1e-4)
    assert (FIXTURE_DIR / "ref_176x144_25fps.yuv").stat().st_size < 1_000_000


def test_teacher_reproduces_fixture():
    record = load_fixture()
    teacher = load_teacher()
    per_frame = teacher.predict(record["frame_features"])
    assert np.max(np.abs(per_frame - record["frame_vmaf"])) <= 5e-4
    assert per_frame.mean() == pytest.approx(record["vmaf"], abs=1e-4)


def test_teacher_is_float64_and_clipped():
    teacher = load_teacher()
    assert teacher.support_vectors.dtype == np.float64 and teacher.support_vectors.shape == (211, 6)
    beyond = np.array([[1.2, 1.2, 1.2, 1.2, 1.2, 60.0]])  # past the model's range: raw SVM exceeds 100
    assert teacher.predict(beyond, clip=False)[0] > 100.0
    assert teacher.predict(beyond)[0] == 100.0


def test_stored_teacher_equals_vmaf_torch():
    """The committed float64 copy of the model is exactly vmaf-torch's vmaf_v0.6.1."""
    stored, reference = load_teacher(), teacher_from_vmaf_torch()
    for field in ("slopes", "intercepts", "support_vectors", "alpha"):
        np.testing.assert_array_equal(getattr(stored, field), getattr(reference, field), err_msg=field)
    for field in ("gamma", "rho", "score_slope", "score_intercept", "clip_min", "clip_max"):
        assert getattr(stored, field) == getattr(reference, field), field


def test_ten_bit_input(ffmpeg_exe, tmp_path):
    """yuv420p10le raw clips go through the same pass (here: the fixture widened to 10 bits)."""
    ref10, dis10 = tmp_path / "ref10.yuv", tmp_path / "dis10.yuv"
    base = [ffmpeg_exe, "-nostdin", "-loglevel", "error", "-y"]
    raw8 = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "176x144", "-i", str(FIXTURE_DIR / "ref_176x144_25fps.yuv")]
    subprocess.run([*base, *raw8, "-pix_fmt", "yuv420p10le", "-f", "rawvideo", str(ref10)], check=True)
    subprocess.run([*base, "-i", str(FIXTURE_DIR / "dis_x264_crf36.mp4"), "-pix_fmt", "yuv420p10le", "-f", "rawvideo",
                    str(dis10)], check=True)  # fmt: skip
    assert ref10.stat().st_size == 12 * 176 * 144 * 3
    clip = ClipGeometry(str(ref10), str(dis10), 176, 144, "yuv420p10le", 25.0, True, True, 176, 144)
    log = tmp_path / "log.json"
    subprocess.run(libvmaf_argv(ffmpeg_exe, clip, str(log)), check=True, capture_output=True)
    feats, vmaf, _ = parse_libvmaf_log(json.loads(log.read_text()), "10-bit")
    assert feats.shape == (12, 6)
    assert vmaf.mean() == pytest.approx(load_fixture()["vmaf"], abs=1e-4)
