"""ffmpeg + libvmaf: find the binary, check it has libvmaf, build one libvmaf pass per clip.

Resolution order for the binary: config `ffmpeg`, env `VMAF_FFMPEG`, the static ffmpeg bundled with
`imageio-ffmpeg` (built with --enable-libvmaf). One libvmaf pass per clip gives the per-frame
canonical-6 features and the per-frame vmaf_v0.6.1 score together.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from . import FEATURES, LIBVMAF_KEYS


class FFmpegError(Exception):
    """The ffmpeg binary is missing, unusable, or has no libvmaf filter."""


HOW_TO_POINT = (
    "point at an ffmpeg built with --enable-libvmaf with `--config ffmpeg=/path/to/ffmpeg` "
    "or the environment variable VMAF_FFMPEG=/path/to/ffmpeg"
)


def resolve_ffmpeg(configured: str | None = None) -> tuple[str, str]:
    """Return (path, where-it-came-from) of the ffmpeg to use, without running it."""
    for value, origin in ((configured, "config `ffmpeg`"), (os.environ.get("VMAF_FFMPEG"), "env VMAF_FFMPEG")):
        if value:
            found = shutil.which(value) if os.sep not in value else value
            if not found or not os.path.isfile(found):
                raise FFmpegError(f"ffmpeg from {origin} not found: {value!r}; {HOW_TO_POINT}")
            return os.path.abspath(found), origin
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg bundle"
    except Exception as exc:  # noqa: BLE001 - any failure here means: no bundled binary
        raise FFmpegError(f"no ffmpeg configured and the imageio-ffmpeg bundle is unusable ({exc}); {HOW_TO_POINT}")


def check_libvmaf(exe: str, origin: str = "") -> dict[str, str]:
    """Run `ffmpeg -filters` once; fail naming the binary unless it has the libvmaf filter."""
    label = f"{exe} ({origin})" if origin else exe
    try:
        proc = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FFmpegError(f"ffmpeg {label} could not be run: {exc}; {HOW_TO_POINT}") from exc
    if proc.returncode != 0:
        raise FFmpegError(f"ffmpeg {label} failed (exit {proc.returncode}): {proc.stderr.strip()[:300]}; {HOW_TO_POINT}")
    if not re.search(r"^\s*\S*\s+libvmaf\s", proc.stdout, flags=re.M):
        raise FFmpegError(f"ffmpeg {label} has no libvmaf filter (not built with --enable-libvmaf); {HOW_TO_POINT}")
    version = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=60)
    first = version.stdout.splitlines()[0] if version.stdout else "unknown"
    return {"ffmpeg": exe, "origin": origin, "ffmpeg_version": first}


def escape_filter_value(value: str) -> str:
    """Escape a string for use as a filter option value inside an ffmpeg filtergraph.

    Two levels (ffmpeg-filters(1), "Notes on filtergraph escaping"): the option value
    (backslash, quote, colon), then the filtergraph description (backslash, quote, brackets,
    comma, semicolon).
    """
    level1 = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", level1)


def file_url(path: str) -> str:
    """An input path as ffmpeg reads it whatever its characters (`a:b.mp4` is not a protocol)."""
    return "file:" + os.path.abspath(path)


@dataclass(frozen=True)
class ClipGeometry:
    """What ffmpeg must be told about one clip pair (raw YUV carries no header)."""

    ref_path: str
    dis_path: str
    width: int
    height: int
    pix_fmt: str
    fps: float
    ref_is_raw: bool
    dis_is_raw: bool
    dis_width: int
    dis_height: int


def _input_args(path: str, raw: bool, width: int, height: int, pix_fmt: str, fps: float) -> list[str]:
    if raw:
        return ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", file_url(path)]
    return ["-i", file_url(path)]


def libvmaf_argv(
    exe: str, clip: ClipGeometry, log_path: str, threads: int = 1, scaler: str = "bicubic"
) -> list[str]:
    """argv of ONE ffmpeg+libvmaf pass: distorted (main) vs reference, per-frame JSON log.

    The distorted clip is scaled to the reference geometry with `scaler` (Netflix convention:
    bicubic); both streams are put in the reference pixel format and paired by frame index. The
    pass stops with the shorter stream (`shortest=1`): a distorted clip shorter than its reference
    then shows as a frame-count error in the tables; extra frames of a longer container are not
    compared (raw clips of different lengths are refused at ingestion).
    """
    w, h, fmt = clip.width, clip.height, clip.pix_fmt
    index_pts = f"setpts=N/({clip.fps:g}*TB)"
    graph = (
        f"[0:v]scale={w}:{h}:flags={scaler},format={fmt},{index_pts}[dis];"
        f"[1:v]format={fmt},{index_pts}[ref];"
        f"[dis][ref]libvmaf=log_fmt=json:shortest=1:n_threads={int(threads)}:log_path={escape_filter_value(log_path)}"
    )
    return [
        exe,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        *_input_args(clip.dis_path, clip.dis_is_raw, clip.dis_width, clip.dis_height, fmt, clip.fps),
        *_input_args(clip.ref_path, clip.ref_is_raw, w, h, fmt, clip.fps),
        "-lavfi",
        graph,
        "-f",
        "null",
        "-",
    ]


class LibvmafLogError(Exception):
    """A libvmaf JSON log is missing frames, keys, or holds non-finite values."""


def parse_libvmaf_log(doc: dict, name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(features [F,6] canonical order, vmaf [F], libvmaf version) from a libvmaf JSON log."""
    frames = doc.get("frames")
    if not frames:
        raise LibvmafLogError(f"{name}: libvmaf log has no frames")
    keys = [LIBVMAF_KEYS[f] for f in FEATURES] + ["vmaf"]
    table = np.empty((len(frames), len(keys)), dtype=np.float64)
    for i, frame in enumerate(frames):
        metrics = frame.get("metrics", {})
        missing = [k for k in keys if k not in metrics]
        if missing:
            raise LibvmafLogError(f"{name}: frame {i} lacks {', '.join(missing)}")
        table[i] = [metrics[k] if metrics[k] is not None else np.nan for k in keys]
    bad = ~np.isfinite(table)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise LibvmafLogError(f"{name}: frame {i} has a non-finite {keys[j]} ({table[i, j]})")
    return table[:, :6], table[:, 6], str(doc.get("version", "unknown"))
