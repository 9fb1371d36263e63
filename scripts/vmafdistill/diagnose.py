"""Why ffmpeg could not use an input: one line naming the file and what is wrong.

ffmpeg's own words on a failed run name neither the file nor the cause plainly ("Task finished with
error code: -22", "Stream specifier ':v' ... matches no streams"). ``explain_failure`` reads them (its
stderr at ``-loglevel error``: the errors, tagged ``[in#i ...]``, ``[vist#i:s ...]`` or "input i:s" by
input) together with its report on the inputs (``streams.scan_report``: streams, durations, decoded
counts) and returns one line: the input, then the cause, in this order of precedence:

- it cannot be opened: it does not exist, is empty (0 bytes), is not media ffmpeg can read, or
  the system refuses it (the reason ffmpeg gives);
- it has no video stream (its streams are listed);
- ffmpeg's errors point at it: it is cut short or damaged ("decoding stopped after N of M frames"
  when its container declares M), or cannot be decoded;
- otherwise ffmpeg's first error, with both inputs named.

Only a failed run is explained: nothing here runs on the happy path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from .streams import InputSection, decoding_stopped, parse_stream_dump, scan_report

_TAG = re.compile(r"^\[(?:in|vist)#(\d+)[^\]]*\]")  # an error line of input i's demuxer or decoder
_INPUT_IN_TEXT = re.compile(r"\binput (\d+):\d+\b")  # "Cannot determine format of input 0:0 after EOF"
_OPEN_FAILED = re.compile(r"^\[in#(\d+)[^\]]*\] Error opening input: (.*)$")
_OPEN_FAILED_URL = re.compile(r"^Error opening input file (.*)\.$")
_BRACKETS = re.compile(r"^(?:\[[^\]]*\] ?)+")
#: ffmpeg's lines that follow any failure and say nothing about its cause
_NOISE = re.compile(
    r"Task finished with error code|Terminating thread with return code|Could not open encoder before EOF|"
    r"Nothing was written into output file|^Error opening input files?\b|^Error opening output files?\b|"
    r"Conversion failed|Error binding filtergraph inputs/outputs|matches no streams"
)
_GUESS = re.compile(r"detected only with low score of \d+, misdetection possible")  # a probe's warning
_INVALID_DATA = "Invalid data found when processing input"
#: the roles of a libvmaf pass's two inputs, in its `-i` order (ffmpeg.libvmaf_argv)
PASS_ROLES = ("the distorted clip", "the reference")
#: at most this many characters of ffmpeg's own words in the line
_DETAIL_CHARS = 160


def _plain(line: str) -> str:
    """An ffmpeg log line without its `[tag @ 0x...]` prefixes."""
    return _BRACKETS.sub("", line).strip()


def _short(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."


def _same_file(url: str, path: str) -> bool:
    return os.path.abspath(url.removeprefix("file:")) == os.path.abspath(path)


def _open_failure(path: str, lines: list[str], index: int) -> str:
    """The reason input `index` (`path`) could not be opened, from the file itself and ffmpeg's lines."""
    if not os.path.exists(path):
        return "does not exist"
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        return "cannot be opened: the file is empty (0 bytes)"
    said = next((m.group(2) for m in map(_OPEN_FAILED.match, lines) if m and int(m.group(1)) == index), "")
    details = [_plain(x) for x in lines if (m := _TAG.match(x)) and int(m.group(1)) == index]
    details = [d for d in details if not d.startswith("Error opening input") and not _GUESS.search(d)]
    if said == _INVALID_DATA or not said:
        why = "not media ffmpeg can read (invalid data" + (f": {_short('; '.join(details))})" if details else ")")
        return f"cannot be opened: {why}"
    return f"cannot be opened: {_short(said)}"


def _streams_of(section: InputSection) -> str:
    kinds = [f"{kind.lower()} {parse_stream_dump(dump)['codec']}" for kind, dump in section.streams.values()]
    return f"its streams: {', '.join(kinds)}" if kinds else "ffmpeg finds no stream in it"


def _blamed(lines: list[str], n_inputs: int) -> dict[int, list[str]]:
    """ffmpeg's error lines that name an input (by its tag or its text), by input index."""
    out: dict[int, list[str]] = {}
    for line in lines:
        m = _TAG.match(line) or _INPUT_IN_TEXT.search(line)
        if m and int(m.group(1)) < n_inputs and not _NOISE.search(line):
            out.setdefault(int(m.group(1)), []).append(_plain(line))
    return out


def _decode_failure(section: InputSection, said: list[str]) -> str:
    s = section.first_video()
    ffmpeg_said = f"ffmpeg: {_short('; '.join(dict.fromkeys(said)))}"
    if s is not None:
        frames = section.decoded.get(s, 0)
        stopped = decoding_stopped(frames, section.declared_frames(s, parse_stream_dump(section.streams[s][1])["fps"]))
        if stopped:
            return f"is cut short or damaged: {stopped} ({ffmpeg_said})"
    return f"cannot be decoded ({ffmpeg_said})"


def explain_failure(stderr: str, report: str, inputs: Sequence[tuple[str, str]]) -> str:
    """One line naming the input of a failed ffmpeg run that ffmpeg could not use, and what is wrong.

    `stderr`: ffmpeg's stderr (errors only: `-loglevel error`, or a probe's info-level output);
    `report`: its FFREPORT (or the same stderr); `inputs`: (role, path) of each `-i` in order, e.g.
    ("the distorted clip", path). When no input is to blame, ffmpeg's first error, naming them all.
    """
    lines = [x.rstrip() for x in stderr.splitlines() if x.strip()]
    sections = scan_report(report)
    for i, (role, path) in enumerate(inputs):
        failed_here = any(
            (m := _OPEN_FAILED.match(x)) and int(m.group(1)) == i
            or (u := _OPEN_FAILED_URL.match(x)) and _same_file(u.group(1), path)
            for x in lines
        )
        if failed_here or not os.path.exists(path):
            return f"{role} {path} {_open_failure(path, lines, i)}"
    for i, (role, path) in enumerate(inputs):
        section = sections.get(i)
        if section is not None and section.first_video() is None:
            return f"{role} {path} has no video stream ({_streams_of(section)})"
    blamed = _blamed(lines, len(inputs))
    for i, (role, path) in enumerate(inputs):
        if i in blamed:
            return f"{role} {path} {_decode_failure(sections.get(i, InputSection()), blamed[i])}"
    first = next((_plain(x) for x in lines if not _NOISE.search(x)), _plain(lines[0]) if lines else "no message")
    named = " and ".join(f"{role} {path}" for role, path in inputs)
    return f"ffmpeg could not use {named}: {_short(first)}"
