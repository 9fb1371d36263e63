"""What ffmpeg says about each input of a libvmaf pass, and the checks of a clip pair.

The libvmaf pass runs with ``FFREPORT=file=...:level=40`` (``report_env``): ffmpeg then writes, beside
its quiet stderr, a report that lists each input's first video stream (codec, pixel format, size,
frame rate) and, at exit, how many frames it decoded. The pass sends a copy of each input to its own
null output as well (``ffmpeg.libvmaf_argv``), so both inputs are decoded to the end whatever their
lengths: the decoded counts are the clips' true frame counts, not the frames libvmaf scored.
``STREAM_LINES`` is what the workflow keeps of the report (``grep -E``); ``parse_report`` reads it.

``pair_problems`` holds a pair to one rule: frame i of the distorted clip is compared with frame i
of the reference, so both must have the same number of frames (no truncation in either direction),
a container's own frame rate must be the declared one, and a container reference's own pixel format
must be the declared one (a distorted container in another pixel format, e.g. a 10-bit encode of an
8-bit reference, is converted to the reference's, as libvmaf needs).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

#: `grep -E` pattern of the report lines `parse_report` needs (headers, stream dumps, decoded counts).
STREAM_LINES = r"^(Input|Output) #|^  Stream #[0-9]+:[0-9]+.*: Video: |frames decoded"

_HEADER = re.compile(r"^(Input|Output) #(\d+), ")
_STREAM = re.compile(r"^  Stream #(\d+):(\d+)\S*: Video: (.*)$")
_DECODED = re.compile(r"Input stream #(\d+):(\d+) \(video\): .*?(\d+) frames decoded")
_SIZE = re.compile(r"^(\d+)x(\d+)(?:\s|$)")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")
_PIX_FMT = re.compile(r"^([a-z][a-z0-9_]*)(?:\(.*\))?$")

#: Declared and measured frame rates agree when equal at ffmpeg's displayed precision (2 decimals):
#: 23.976 and 23.98 agree, 24 and 23.98 (24000/1001) do not.
FPS_TOLERANCE = 0.006


class ReportError(Exception):
    """ffmpeg's report lacks a stream or a frame count the checks need."""


@dataclass(frozen=True)
class InputStream:
    """The first video stream of one input, as ffmpeg read and decoded it."""

    frames: int
    pix_fmt: str
    width: int
    height: int
    fps: float | None  # average frame rate, else the stream's base rate (tbr); None if ffmpeg shows none
    codec: str

    def as_row(self, prefix: str) -> dict:
        return {f"{prefix}_{k}": v for k, v in asdict(self).items()}


def report_env(report_path: str) -> dict[str, str]:
    """The environment that makes ffmpeg write its verbose report to ``report_path``."""
    return {"FFREPORT": f"file={escape_report_path(report_path)}:level=40"}


def escape_report_path(path: str) -> str:
    """FFREPORT's value is `key=value:key=value` with backslash escapes, and `%` expands in file names."""
    return re.sub(r"([\\:='])", r"\\\1", path.replace("%", "%%"))


def _split_top(text: str) -> list[str]:
    """Split a stream dump at top-level commas (commas inside parentheses stay)."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def parse_stream_dump(dump: str) -> dict:
    """codec, pix_fmt, width, height, fps of one `Stream #i:j: Video: ...` line (after `Video: `)."""
    parts = _split_top(dump)
    out: dict = {"codec": parts[0].split(" ")[0], "pix_fmt": None, "width": None, "height": None}
    rates: dict[str, float] = {}
    for p in parts[1:]:
        m = _SIZE.match(p)
        if m and out["width"] is None:
            out["width"], out["height"] = int(m.group(1)), int(m.group(2))
            continue
        m = _RATE.match(p)
        if m:
            rates[m.group(3)] = float(m.group(1)) * (1000.0 if m.group(2) else 1.0)
            continue
        m = _PIX_FMT.match(p)
        if m and out["pix_fmt"] is None and out["width"] is None:
            out["pix_fmt"] = m.group(1)
    out["fps"] = rates.get("fps", rates.get("tbr"))
    return out


def parse_report(text: str, n_inputs: int = 2) -> list[InputStream]:
    """Each input's first video stream and its decoded frame count, in input order."""
    section: tuple[str, int] | None = None
    dumps: dict[int, tuple[int, dict]] = {}
    decoded: dict[tuple[int, int], int] = {}
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            section = (m.group(1), int(m.group(2)))
            continue
        m = _STREAM.match(line)
        if m and section is not None and section[0] == "Input":
            i, s = int(m.group(1)), int(m.group(2))
            if i == section[1] and i not in dumps:
                dumps[i] = (s, parse_stream_dump(m.group(3)))
            continue
        m = _DECODED.search(line)
        if m:
            decoded[(int(m.group(1)), int(m.group(2)))] = int(m.group(3))
    streams = []
    for i in range(n_inputs):
        if i not in dumps:
            raise ReportError(f"ffmpeg's report shows no video stream for input #{i}")
        s, info = dumps[i]
        if (i, s) not in decoded:
            raise ReportError(f"ffmpeg's report gives no decoded frame count for input #{i} (stream #{i}:{s})")
        if info["pix_fmt"] is None or info["width"] is None:
            raise ReportError(f"ffmpeg's report: cannot read the pixel format and size of input #{i}")
        streams.append(InputStream(frames=decoded[(i, s)], **info))
    return streams


def fps_agree(declared: float, measured: float | None) -> bool:
    return measured is None or abs(round(declared, 2) - measured) <= FPS_TOLERANCE


def frame_count_problem(dis_name: str, dis_frames: int, ref_name: str, ref_frames: int) -> str | None:
    """The one message for a pair whose frame counts differ (None when they agree)."""
    if dis_frames == ref_frames:
        return None
    return (
        f"the distorted clip {dis_name} has {dis_frames} frames but its reference {ref_name} has {ref_frames}; "
        "frame i is compared with frame i, so both must have the same number of frames (nothing is truncated)"
    )


def pair_problems(
    *,
    dis: InputStream,
    ref: InputStream,
    dis_name: str,
    ref_name: str,
    dis_is_raw: bool,
    ref_is_raw: bool,
    fps: float,
    pix_fmt: str,
    fps_hint: str,
    pix_fmt_hint: str,
    check_fps: bool = True,
) -> list[str]:
    """Every way a measured pair breaks the pairing rules (empty when it is sound)."""
    problems = []
    counts = frame_count_problem(dis_name, dis.frames, ref_name, ref.frames)
    if counts:
        problems.append(counts)
    for name, stream, raw in ((ref_name, ref, ref_is_raw), (dis_name, dis, dis_is_raw)):
        if check_fps and not raw and not fps_agree(fps, stream.fps):
            problems.append(
                f"{name} runs at {stream.fps:g} fps (its container says so) but the declared frame rate is {fps:g} "
                f"fps; {fps_hint}"
            )
    if not ref_is_raw and ref.pix_fmt != pix_fmt:
        problems.append(
            f"the reference {ref_name} is {ref.pix_fmt} (its container says so) but the declared pixel format is "
            f"{pix_fmt}; {pix_fmt_hint}"
        )
    return problems
