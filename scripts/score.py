#!/usr/bin/env python3
"""Score a (reference, distorted) pair with an exported student, beside libvmaf's vmaf_v0.6.1.

    python scripts/score.py --model results/export/nano.onnx --ref REF --dis DIS \\
        [--width W --height H --pix-fmt P --fps F --ffmpeg PATH] [--frames out.csv]

ONE ffmpeg + libvmaf pass gives the per-frame canonical-6 features and libvmaf's per-frame vmaf (the
teacher); the student scores the same features on ONNX Runtime (CPU). A clip's student score follows
the model's pooling (metadata ``vmafdistill.pooling``): frame -> the mean of per-frame scores, clip ->
the score of the mean features. Raw ``.yuv`` inputs need ``--width``/``--height`` (and ``--pix-fmt``,
``--fps``); containers carry their geometry. Standalone: needs only this repository's scripts/.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from vmafdistill import FEATURES  # noqa: E402
from vmafdistill import export as ex  # noqa: E402
from vmafdistill.ffmpeg import ClipGeometry, FFmpegError, libvmaf_argv, parse_libvmaf_log, resolve_ffmpeg  # noqa: E402


class ScoreError(Exception):
    """A clear, user-facing problem with the arguments or the inputs."""


def is_raw(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".yuv"


def probe_size(exe: str, path: str | Path) -> tuple[int, int]:
    """Width and height of a container's first video stream (from ffmpeg's stream listing)."""
    proc = subprocess.run([exe, "-hide_banner", "-i", f"file:{Path(path).resolve()}"], capture_output=True, text=True)
    m = re.search(r"Stream #\S+.*?Video: .*?(\d{2,5})x(\d{2,5})", proc.stderr)
    if not m:
        raise ScoreError(f"cannot read the video size of {path} with {exe}: {proc.stderr.strip()[-300:]}")
    return int(m.group(1)), int(m.group(2))


def geometry(args: argparse.Namespace, exe: str) -> ClipGeometry:
    ref_raw, dis_raw = is_raw(args.ref), is_raw(args.dis)
    for path, raw in ((args.ref, ref_raw), (args.dis, dis_raw)):
        if not Path(path).is_file():
            raise ScoreError(f"no such file: {path}")
        if raw and not (args.width and args.height):
            raise ScoreError(f"{path} is raw YUV (no header): pass --width and --height (and --pix-fmt, --fps)")
    if args.width and args.height:
        w, h = args.width, args.height
    else:
        w, h = probe_size(exe, args.ref)
    return ClipGeometry(
        ref_path=str(Path(args.ref).resolve()), dis_path=str(Path(args.dis).resolve()), width=w, height=h,
        pix_fmt=args.pix_fmt, fps=args.fps, ref_is_raw=ref_raw, dis_is_raw=dis_raw, dis_width=w, dis_height=h,
    )  # fmt: skip


def run_libvmaf(exe: str, clip: ClipGeometry) -> tuple[np.ndarray, np.ndarray, str]:
    """(features [F, 6], libvmaf vmaf [F], libvmaf version) of one libvmaf pass, in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="vmafdistill-score-") as tmp:
        log = Path(tmp) / "libvmaf.json"
        proc = subprocess.run(libvmaf_argv(exe, clip, str(log)), capture_output=True, text=True)
        if proc.returncode != 0 or not log.is_file():
            raise ScoreError(f"ffmpeg/libvmaf failed (exit {proc.returncode}): {proc.stderr.strip()[-600:]}")
        return parse_libvmaf_log(json.loads(log.read_text()), f"{clip.dis_path} vs {clip.ref_path}")


def student_scores(model: str | Path, feats: np.ndarray) -> tuple[np.ndarray, float, str]:
    """(per-frame student scores, the clip's student score by the model's pooling, pooling)."""
    pooling = ex.metadata_of(Path(model)).get("vmafdistill.pooling", "frame")
    sess = ex.ort_session(model)
    per_frame = ex.ort_run(sess, feats).astype(np.float64)
    if pooling == "clip":
        clip = float(ex.ort_run(sess, feats.mean(axis=0, keepdims=True))[0])
    else:
        clip = float(per_frame.mean())
    return per_frame, clip, pooling


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", required=True, help="an exported student (.onnx)")
    ap.add_argument("--ref", required=True, help="reference clip (.yuv raw, or a container)")
    ap.add_argument("--dis", required=True, help="distorted clip (.yuv raw at the reference geometry, or a container)")
    ap.add_argument("--width", type=int, default=0, help="reference width (required for raw .yuv)")
    ap.add_argument("--height", type=int, default=0, help="reference height (required for raw .yuv)")
    ap.add_argument("--pix-fmt", default="yuv420p", choices=["yuv420p", "yuv420p10le"], help="raw pixel format")
    ap.add_argument("--fps", type=float, default=25.0, help="frame rate of raw inputs")
    ap.add_argument(
        "--ffmpeg", default=None, help="ffmpeg with libvmaf (default: env VMAF_FFMPEG, else imageio-ffmpeg's)"
    )
    ap.add_argument("--frames", default=None, help="write per-frame frame, features, teacher, student to this CSV")
    args = ap.parse_args(argv)
    err = Console(stderr=True, highlight=False)
    try:
        if not Path(args.model).is_file():
            raise ScoreError(f"no such model: {args.model}")
        exe, _ = resolve_ffmpeg(args.ffmpeg)
        feats, teacher, version = run_libvmaf(exe, geometry(args, exe))
        student, student_clip, pooling = student_scores(args.model, feats)
    except (ScoreError, FFmpegError) as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        return 1
    meta = ex.metadata_of(Path(args.model))
    teacher_clip = float(teacher.mean())
    table = Table(title=f"{Path(args.dis).name} vs {Path(args.ref).name}: {len(teacher)} frames")
    table.add_column("scorer")
    table.add_column("clip score", justify="right")
    table.add_row(f"teacher: libvmaf {version} vmaf_v0.6.1 (mean of frames)", f"{teacher_clip:.4f}")
    arch, precision = meta.get("vmafdistill.arch", "?"), meta.get("vmafdistill.precision", "?")
    label = f"student: {Path(args.model).name} ({arch}, {precision}, {pooling} pooling)"
    table.add_row(label, f"{student_clip:.4f}")
    table.add_row("student - teacher", f"{student_clip - teacher_clip:+.4f}")
    Console(highlight=False).print(table)
    if args.frames:
        import polars as pl

        from vmafdistill.atomic import write_csv

        out = pl.DataFrame({"frame": np.arange(len(teacher)), **{f: feats[:, j] for j, f in enumerate(FEATURES)},
                            "teacher": teacher, "student": student})  # fmt: skip
        write_csv(args.frames, out)
        err.print(f"per-frame scores written to {args.frames}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
