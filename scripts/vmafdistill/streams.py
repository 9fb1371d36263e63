"""What ffmpeg says about each input of a libvmaf pass, and the checks of a clip pair.

The libvmaf pass runs with ``FFREPORT=file=...:level=40`` (``report_env``): ffmpeg then writes, beside
its quiet stderr, a report that lists each input's first video stream (codec, pixel format, size,
frame rate), each container's duration and, at exit, how many frames it decoded. The pass sends a
copy of each input to its own null output as well (``ffmpeg.libvmaf_argv``), so both inputs are
decoded to the end whatever their lengths: the decoded counts are the clips' true frame counts, not
the frames libvmaf scored. ``STREAM_LINES`` is what the workflow keeps of the report (``grep -E``);
``scan_report`` reads each input's section of it, ``parse_report`` each input's video stream.

``pair_problems`` holds a pair to one rule: frame i of the distorted clip is compared with frame i
of the reference, so both must have the same number of frames (no truncation in either direction;
an input whose container declares more frames than ffmpeg could decode is named as cut short),
a container's own frame rate must be the declared one, and a container reference's own pixel format
must be the declared one (a distorted container in another pixel format, e.g. a 10-bit encode of an
8-bit reference, is converted to the reference's, as libvmaf needs).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

#: `grep -E` pattern of the report lines `scan_report` needs (headers, container durations, stream dumps,
#: a stream's own duration (Matroska's DURATION tag), decoded counts).
STREAM_LINES = r"^(Input|Output) #|^  Duration: |^  Stream #[0-9]+:[0-9]+[^ ]*: |^      DURATION *: |frames decoded"

_HEADER = re.compile(r"^(Input|Output) #(\d+), ")
_STREAM = re.compile(r"^  Stream #(\d+):(\d+)[^ ]*: (\w+): (.*)$")
_DECODED = re.compile(r"Input stream #(\d+):(\d+) \(video\): .*?(\d+) frames decoded")
_HMS = r"(\d+):(\d\d):(\d\d(?:\.\d+)?)"
_DURATION = re.compile(rf"^  Duration: {_HMS}")
_TAG_DURATION = re.compile(rf"^      DURATION *: {_HMS}")
_SIZE = re.compile(r"^(\d+)x(\d+)(?:\s|$)")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")
_PIX_FMT = re.compile(r"^([a-z][a-z0-9_]*)(?:\(.*\))?$")

#: Declared and measured frame rates agree when equal at ffmpeg's displayed precision (2 decimals):
#: 23.976 and 23.98 agree, 24 and 23.98 (24000/1001) do not.
FPS_TOLERANCE = 0.006

#: An input is cut short when its container declares at least this many frames more than ffmpeg decoded
#: (one frame of slack: ffmpeg shows a container's duration to the centisecond).
CUT_SHORT_SLACK = 2


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
    #: the frames its container declares (duration x rate; None when unknown); not a table column
    declared_frames: int | None = None

    def as_row(self, prefix: str) -> dict:
        return {f"{prefix}_{k}": v for k, v in asdict(self).items() if k != "declared_frames"}


@dataclass
class InputSection:
    """What ffmpeg's report says of one input: its streams, durations and decoded frame counts."""

    streams: dict[int, tuple[str, str]] = field(default_factory=dict)  # stream -> (kind: Video, Audio...; dump)
    duration: float | None = None  # the container's, seconds
    stream_durations: dict[int, float] = field(default_factory=dict)  # a stream's own (Matroska's DURATION tag)
    decoded: dict[int, int] = field(default_factory=dict)  # video stream -> frames decoded

    def first_video(self) -> int | None:
        return next((s for s, (kind, _) in sorted(self.streams.items()) if kind == "Video"), None)

    def declared_frames(self, stream: int, fps: float | None) -> int | None:
        """The frames a stream should have: its own duration (or the container's, when it is the only
        stream) times its rate; None when the report says neither."""
        seconds = self.stream_durations.get(stream)
        if seconds is None and len(self.streams) == 1:
            seconds = self.duration
        return round(seconds * fps) if seconds and fps else None


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


def _seconds(m: re.Match) -> float:
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def scan_report(text: str) -> dict[int, InputSection]:
    """Each input's section of ffmpeg's report (or of its stderr at info level), by input index."""
    inputs: dict[int, InputSection] = {}
    current: InputSection | None = None
    last_stream: int | None = None
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            current = inputs.setdefault(int(m.group(2)), InputSection()) if m.group(1) == "Input" else None
            last_stream = None
            continue
        m = _DECODED.search(line)
        if m:
            inputs.setdefault(int(m.group(1)), InputSection()).decoded[int(m.group(2))] = int(m.group(3))
            continue
        if current is None:
            continue
        m = _STREAM.match(line)
        if m and inputs.get(int(m.group(1))) is current:
            last_stream = int(m.group(2))
            current.streams.setdefault(last_stream, (m.group(3), m.group(4)))
            continue
        m = _DURATION.match(line)
        if m:
            current.duration = _seconds(m)
            continue
        m = _TAG_DURATION.match(line)
        if m and last_stream is not None:
            current.stream_durations[last_stream] = _seconds(m)
    return inputs


def parse_report(text: str, n_inputs: int = 2) -> list[InputStream]:
    """Each input's first video stream and its decoded frame count, in input order."""
    inputs = scan_report(text)
    streams = []
    for i in range(n_inputs):
        section = inputs.get(i, InputSection())
        s = section.first_video()
        if s is None:
            raise ReportError(f"ffmpeg's report shows no video stream for input #{i}")
        if s not in section.decoded:
            raise ReportError(f"ffmpeg's report gives no decoded frame count for input #{i} (stream #{i}:{s})")
        info = parse_stream_dump(section.streams[s][1])
        if info["pix_fmt"] is None or info["width"] is None:
            raise ReportError(f"ffmpeg's report: cannot read the pixel format and size of input #{i}")
        declared = section.declared_frames(s, info["fps"])
        streams.append(InputStream(frames=section.decoded[s], **info, declared_frames=declared))
    return streams


def fps_agree(declared: float, measured: float | None) -> bool:
    return measured is None or abs(round(declared, 2) - measured) <= FPS_TOLERANCE


def decoding_stopped(frames: int, declared: int | None) -> str | None:
    """'decoding stopped after N of M frames' when the container declares M >= N + CUT_SHORT_SLACK frames."""
    if declared is None or declared - frames < CUT_SHORT_SLACK:
        return None
    return f"decoding stopped after {frames} of {declared} frames"


def frame_count_problem(
    dis_name: str, dis_frames: int, ref_name: str, ref_frames: int,
    dis_declared: int | None = None, ref_declared: int | None = None,
) -> str | None:
    """The one message for a pair whose frame counts differ (None when they agree): the input that is cut
    short (its container declares more frames than were decoded: `*_declared`), else both counts."""
    if dis_frames == ref_frames:
        return None
    for role, name, frames, declared, other in (
        ("the distorted clip", dis_name, dis_frames, dis_declared, f"its reference {ref_name} has {ref_frames}"),
        ("the reference", ref_name, ref_frames, ref_declared, f"the distorted clip {dis_name} has {dis_frames}"),
    ):
        stopped = decoding_stopped(frames, declared)
        if stopped:
            return f"{role} {name} is cut short or damaged: {stopped} (the count its container declares); {other}"
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
    counts = frame_count_problem(dis_name, dis.frames, ref_name, ref.frames, dis.declared_frames, ref.declared_frames)
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
