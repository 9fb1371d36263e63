"""ffmpeg + libvmaf: find the binary, check it has libvmaf, build one libvmaf pass per clip.

Resolution order for the binary: config `ffmpeg`, env `VMAF_FFMPEG`, the static ffmpeg bundled with
`imageio-ffmpeg` (built with --enable-libvmaf). One libvmaf pass per clip gives the teacher's per-frame
features (canonical order) and its per-frame score together (its log is read by ``libvmaf_log``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, fields

import numpy as np

from .diagnose import PASS_ROLES, explain_failure
from .filtergraph import escape_filter_value
from .libvmaf_log import parse_libvmaf_log
from .streams import InputStream, parse_report, parse_stream_dump, report_env


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
    except Exception as exc:  # any failure here means: no bundled binary
        raise FFmpegError(
            f"no ffmpeg configured and the imageio-ffmpeg bundle is unusable ({exc}); {HOW_TO_POINT}"
        ) from exc


def check_libvmaf(exe: str, origin: str = "") -> dict[str, str]:
    """Run `ffmpeg -filters` once; fail naming the binary unless it has the libvmaf filter."""
    label = f"{exe} ({origin})" if origin else exe
    try:
        proc = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FFmpegError(f"ffmpeg {label} could not be run: {exc}; {HOW_TO_POINT}") from exc
    if proc.returncode != 0:
        raise FFmpegError(
            f"ffmpeg {label} failed (exit {proc.returncode}): {proc.stderr.strip()[:300]}; {HOW_TO_POINT}"
        )
    if not re.search(r"^\s*\S*\s+libvmaf\s", proc.stdout, flags=re.M):
        raise FFmpegError(f"ffmpeg {label} has no libvmaf filter (not built with --enable-libvmaf); {HOW_TO_POINT}")
    version = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=60)
    first = version.stdout.splitlines()[0] if version.stdout else "unknown"
    return {"ffmpeg": exe, "origin": origin, "ffmpeg_version": first}


def check_teacher_features(exe: str, teacher, origin: str = "") -> list[str]:  # a teacher.Teacher
    """Run the teacher's model once on a generated pair (testsrc2, 576x324, 3 frames, one blurred) and
    fail naming the binary, the teacher and each feature its libvmaf cannot compute. Returns the log keys."""
    label = f"{exe} ({origin})" if origin else exe
    with tempfile.TemporaryDirectory(prefix="vmafdistill-check-") as tmp:
        log = os.path.join(tmp, "probe.json")
        src = "testsrc2=size=576x324:rate=25,format=yuv420p"
        graph = (f"[0:v]boxblur=2[dis];[1:v]null[ref];[dis][ref]libvmaf=model={teacher.libvmaf_option()}:"
                 f"log_fmt=json:log_path={escape_filter_value(log)}")
        argv = [exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", src, "-f", "lavfi", "-i",
                src, "-lavfi", graph, "-frames:v", "3", "-f", "null", "-"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FFmpegError(f"ffmpeg {label} could not run teacher {teacher.name}: {exc}") from exc
        doc = None
        if proc.returncode == 0 and os.path.isfile(log):
            with open(log, encoding="utf-8") as f:
                doc = json.load(f)
    if doc is None:
        raise FFmpegError(
            f"ffmpeg {label}: its libvmaf cannot run teacher {teacher.name} (model {teacher.libvmaf_option()}; "
            f"features {', '.join(teacher.log_keys)}): {proc.stderr.strip()[-400:]}; {HOW_TO_POINT}"
        )
    metrics = (doc.get("frames") or [{}])[0].get("metrics", {})
    missing = [k for k in (*teacher.log_keys, teacher.name) if metrics.get(k) is None]
    if missing:
        raise FFmpegError(f"ffmpeg {label}: its libvmaf does not compute {', '.join(missing)} for teacher "
                          f"{teacher.name}; {HOW_TO_POINT}")
    return list(teacher.log_keys)


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

    @classmethod
    def of(cls, clip: object) -> ClipGeometry:
        """The geometry of an ingested clip (a `corpus.Clip`, or anything with these attributes)."""
        return cls(**{f.name: getattr(clip, f.name) for f in fields(cls)})


def _input_args(path: str, raw: bool, width: int, height: int, pix_fmt: str, fps: float) -> list[str]:
    if raw:
        return ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{width}x{height}", "-r", f"{fps:g}",
                "-i", file_url(path)]
    return ["-i", file_url(path)]


def libvmaf_argv(
    exe: str,
    clip: ClipGeometry,
    log_path: str,
    threads: int = 1,
    scaler: str = "bicubic",
    count_frames: bool = True,
    model: str | None = None,
) -> list[str]:
    """argv of ONE ffmpeg+libvmaf pass: distorted (main) vs reference, per-frame JSON log.

    The distorted clip is scaled to the reference geometry with `scaler` (Netflix convention:
    bicubic) and both streams are put in the reference pixel format. Frames are paired by index:
    each stream is given the time base 1 and its frame number as timestamp (`settb=1,setpts=N`),
    so libvmaf's frame sync meets frame i with frame i whatever the containers' time bases and
    rates (deriving timestamps from a frame rate, `N/(fps*TB)`, truncates to a tick one short
    whenever 1/(fps*TB) is inexact, and pairs a frame with the previous reference frame). A copy of
    each stream goes to its own null output, so both inputs are decoded to the end: run with
    `streams.report_env` to get their true frame counts, pixel formats and rates (the pass itself
    stops with the shorter stream, `shortest=1`; the counts then tell a mismatch). `count_frames=False`
    leaves the copies out: the bare pass, for benchmarks. `model`: libvmaf's `model=` value (the
    teacher's `libvmaf_option()`, filtergraph-escaped); None: libvmaf's default (vmaf_v0.6.1).
    """
    copies = PASS_OUTPUTS if count_frames else ("vmaf",)
    nulls = [a for label in copies for a in ("-map", f"[{label}]", "-f", "null", "-")]
    graph = pass_graph(clip, log_path, threads, scaler, model, count_frames)
    return [exe, "-nostdin", "-hide_banner", "-loglevel", "error", *pass_inputs(clip), "-lavfi", graph, *nulls]


#: the pass's outputs, each to a null muxer: libvmaf's, and a copy of each decoded input (frame counts)
PASS_OUTPUTS = ("vmaf", "dis_n", "ref_n")


def pass_inputs(clip: ClipGeometry) -> list[str]:
    """The input arguments of a pass: the distorted clip (input 0), then the reference (input 1)."""
    fmt = clip.pix_fmt
    return [*_input_args(clip.dis_path, clip.dis_is_raw, clip.dis_width, clip.dis_height, fmt, clip.fps),
            *_input_args(clip.ref_path, clip.ref_is_raw, clip.width, clip.height, fmt, clip.fps)]


def pass_graph(clip: ClipGeometry, log_path: str, threads: int = 1, scaler: str = "bicubic", model: str | None = None,
               count_frames: bool = True) -> str:
    """The pass's filtergraph (``libvmaf_argv`` explains it); its labelled outputs are PASS_OUTPUTS."""
    w, h, fmt = clip.width, clip.height, clip.pix_fmt
    index = "settb=1,setpts=N"
    split = ",split[{0}][{0}_n]" if count_frames else "[{0}]"
    return (
        f"[0:v]scale={w}:{h}:flags={scaler},format={fmt},{index}{split.format('dis')};"
        f"[1:v]format={fmt},{index}{split.format('ref')};"
        f"[dis][ref]libvmaf={f'model={model}:' if model else ''}log_fmt=json:shortest=1:n_threads={int(threads)}"
        f":log_path={escape_filter_value(log_path)}[vmaf]"
    )


def probe_stream(exe: str, path: str, role: str = "the input") -> dict:
    """Codec, pixel format, size and frame rate of a container's first video stream (ffmpeg's stream dump);
    else an FFmpegError of one line naming `role` and `path` and what is wrong (diagnose.explain_failure)."""
    proc = subprocess.run([exe, "-hide_banner", "-nostdin", "-i", file_url(path)], capture_output=True, text=True)
    for line in proc.stderr.splitlines():
        m = re.match(r"^  Stream #0:\d+\S*: Video: (.*)$", line)
        if m:
            info = parse_stream_dump(m.group(1))
            if info["pix_fmt"] not in (None, "none") and info["width"]:  # "none": no frame could be decoded
                return info
    raise FFmpegError(explain_failure(proc.stderr, proc.stderr, [(role, path)]))


@dataclass(frozen=True)
class PassResult:
    """One libvmaf pass: per-frame features and vmaf, the libvmaf version, and both inputs' streams."""

    features: np.ndarray
    vmaf: np.ndarray
    libvmaf_version: str
    dis: InputStream
    ref: InputStream


def run_pass(exe: str, clip: ClipGeometry, threads: int = 1, scaler: str = "bicubic", *, teacher) -> PassResult:
    """Run ONE libvmaf pass in a temporary folder (the command the workflow runs) and read it back:
    the teacher's features (canonical order) and score (`teacher`: a teacher.Teacher)."""
    with tempfile.TemporaryDirectory(prefix="vmafdistill-pass-") as tmp:
        log, report = os.path.join(tmp, "libvmaf.json"), os.path.join(tmp, "report.log")
        env = {**os.environ, **report_env(report)}
        argv = libvmaf_argv(exe, clip, log, threads, scaler, model=teacher.libvmaf_option())
        proc = subprocess.run(argv, capture_output=True, text=True, env=env)
        name = f"{clip.dis_path} vs {clip.ref_path}"
        text = ""
        if os.path.isfile(report):
            with open(report, encoding="utf-8", errors="replace") as f:
                text = f.read()
        if proc.returncode != 0:  # one line: the input ffmpeg could not use, and why
            raise FFmpegError(explain_failure(proc.stderr, text, list(zip(PASS_ROLES, (clip.dis_path, clip.ref_path)))))
        if not os.path.isfile(log):
            raise FFmpegError(f"ffmpeg/libvmaf wrote no log for {name}: {proc.stderr.strip()[-600:]}")
        dis, ref = parse_report(text)
        with open(log, encoding="utf-8") as f:
            feats, vmaf, version = parse_libvmaf_log(json.load(f), name, teacher.log_keys, teacher.name)
    return PassResult(feats, vmaf, version, dis, ref)
