"""libvmaf through ffmpeg: binary resolution, filter escaping, log parsing, golden fixture, teacher."""

import json
import shutil
import stat
import subprocess

import numpy as np
import pytest

from vmaf_torch_svm import svm_from_vmaf_torch
from vmafdistill.ffmpeg import (
    ClipGeometry,
    FFmpegError,
    check_libvmaf,
    libvmaf_argv,
    resolve_ffmpeg,
)
from vmafdistill.filtergraph import escape_filter_value
from vmafdistill.golden import DIS, FIXTURE_DIR, REF, load_fixture, measure_fixture
from vmafdistill.libvmaf_log import LibvmafLogError, parse_libvmaf_log
from vmafdistill.teacher import builtin_names, load_teacher


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
    ref = nasty / "ref: 'x', y.mkv"
    shutil.copy(FIXTURE_DIR / REF, ref)
    dis = nasty / "dis, \"q\": é.mp4"
    shutil.copy(FIXTURE_DIR / DIS, dis)
    log = nasty / "log: 'it', [1]; é.json"
    clip = ClipGeometry(str(ref), str(dis), 576, 324, "yuv420p", 25.0, False, False, 576, 324)
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
    }
    with pytest.raises(LibvmafLogError, match=r"clipY: frame 0 has a non-finite vif_scale3|integer_vif_scale3"):
        parse_libvmaf_log({"frames": [{"metrics": full}]}, "clipY")
    with pytest.raises(LibvmafLogError, match="no frames"):
        parse_libvmaf_log({"frames": []}, "clipZ")


def test_golden_fixture_reproduces(ffmpeg_exe):
    """Extraction reproduces the committed record at places=4 (every frame and the mean), per teacher."""
    for name, transform in (("vmaf_v0.6.1", None), ("vmaf_v1.0.16_3d0h", None), ("vmaf_v0.6.1", "phone")):
        teacher = load_teacher(name, transform)
        record = load_fixture(teacher=teacher.name)
        now = measure_fixture(ffmpeg_exe, teacher)
        assert now["features"] == record["features"] == list(teacher.features)
        assert now["vmaf"] == pytest.approx(record["vmaf"], abs=1e-4)
        np.testing.assert_allclose(now["frame_features"], record["frame_features"], atol=1e-4)
        np.testing.assert_allclose(now["frame_vmaf"], record["frame_vmaf"], atol=1e-4)
    assert sum(p.stat().st_size for p in FIXTURE_DIR.iterdir()) < 1_000_000


def test_fixture_records_every_built_in_teacher():
    rec = json.loads((FIXTURE_DIR / "golden.json").read_text())
    assert set(rec["teachers"]) == {*builtin_names(), "vmaf_v0.6.1_phone"}
    with pytest.raises(KeyError, match="records no teacher 'nope'"):
        load_fixture(teacher="nope")


@pytest.mark.parametrize("name", [*builtin_names(), "vmaf_v0.6.1_phone"])
def test_teacher_reproduces_fixture(name):
    """Every teacher, in the students' canonical order, against libvmaf's own per-frame scores (the committed
    record); its score is the transform and clip of its SVM output (what the students learn)."""
    teacher = load_teacher(*(("vmaf_v0.6.1", "phone") if name.endswith("_phone") else (name,)))
    record = load_fixture(teacher=name)
    per_frame = teacher.predict(record["frame_features"])
    assert np.max(np.abs(per_frame - record["frame_vmaf"])) <= 5e-4
    assert per_frame.mean() == pytest.approx(record["vmaf"], abs=1e-4)
    svm = teacher.svm_score(record["frame_features"])
    assert np.max(np.abs(teacher.finish(svm) - record["frame_vmaf"])) <= 5e-4
    if teacher.model.transform.enabled and name != "vmaf_v1.0.16_1d5h_2160":  # (1d5h's transform is the identity)
        assert np.max(np.abs(svm - record["frame_vmaf"])) > 1e-3


def test_teacher_is_float64_and_clipped():
    teacher = load_teacher()
    sv = teacher.model.support_vectors
    assert sv.dtype == np.float64 and sv.shape == (211, 6)
    beyond = np.array([[1.2, 1.2, 1.2, 1.2, 1.2, 60.0]])  # past the model's range: raw SVM exceeds 100
    assert teacher.predict(beyond, clip=False)[0] > 100.0
    assert teacher.predict(beyond)[0] == 100.0


def test_vendored_teacher_equals_vmaf_torch():
    """libvmaf's own vmaf_v0.6.1.json, as vendored and read here, is exactly vmaf-torch's vmaf_v0.6.1."""
    m, ref = load_teacher().model, svm_from_vmaf_torch()
    np.testing.assert_array_equal(m.slopes[1:], ref["slopes"])
    np.testing.assert_array_equal(m.intercepts[1:], ref["intercepts"])
    np.testing.assert_array_equal(m.support_vectors, ref["support_vectors"])
    np.testing.assert_array_equal(m.coef, ref["coef"])
    assert (m.gamma, m.rho, m.slopes[0], m.intercepts[0]) == (ref["gamma"], ref["rho"], ref["score_slope"],
                                                              ref["score_intercept"])


def test_ten_bit_input(ffmpeg_exe, tmp_path):
    """yuv420p10le raw clips go through the same pass (here: the fixture widened to 10 bits)."""
    ref10, dis10 = tmp_path / "ref10.yuv", tmp_path / "dis10.yuv"
    base = [ffmpeg_exe, "-nostdin", "-loglevel", "error", "-y"]
    subprocess.run([*base, "-i", str(FIXTURE_DIR / REF), "-pix_fmt", "yuv420p10le", "-f", "rawvideo", str(ref10)],
                   check=True)
    subprocess.run([*base, "-i", str(FIXTURE_DIR / DIS), "-vf", "scale=576:324:flags=bicubic",
                    "-pix_fmt", "yuv420p10le", "-f", "rawvideo", str(dis10)], check=True)
    assert ref10.stat().st_size == 12 * 576 * 324 * 3
    clip = ClipGeometry(str(ref10), str(dis10), 576, 324, "yuv420p10le", 25.0, True, True, 576, 324)
    log = tmp_path / "log.json"
    subprocess.run(libvmaf_argv(ffmpeg_exe, clip, str(log)), check=True, capture_output=True)
    feats, vmaf, _ = parse_libvmaf_log(json.loads(log.read_text()), "10-bit")
    assert feats.shape == (12, 6)
    assert vmaf.mean() == pytest.approx(load_fixture()["vmaf"], abs=0.05)  # 8-bit bicubic vs 10-bit: close
