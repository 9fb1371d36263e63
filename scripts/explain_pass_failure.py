#!/usr/bin/env python3
"""After a clip's libvmaf pass failed: one line naming the input ffmpeg could not use and what is wrong.

    ffmpeg ... 2> LOG || { rc=$?; python scripts/explain_pass_failure.py --clip ID --log LOG \\
        --report REPORT --dis DIS --ref REF; exit $rc; }

Reads ffmpeg's stderr (the job's log) and its report on the inputs (FFREPORT), writes
``error: clip ID: <the line>`` to stderr and appends it to the log (ffmpeg's own words stay above it).
Runs only when the pass failed (rules/features.smk, extract_features); the standard library only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vmafdistill.mathpaths import pin

pin()  # (this script loads no math library; every entry script pins first all the same)

from vmafdistill.diagnose import PASS_ROLES, explain_failure  # noqa: E402


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", required=True, help="the clip id")
    ap.add_argument("--log", required=True, help="ffmpeg's stderr; the line is appended to it")
    ap.add_argument("--report", required=True, help="ffmpeg's report (FFREPORT) of the pass")
    ap.add_argument("--dis", required=True, help="the distorted clip (ffmpeg's input #0)")
    ap.add_argument("--ref", required=True, help="the reference (ffmpeg's input #1)")
    args = ap.parse_args(argv)
    stderr = _read(args.log)
    line = f"error: clip {args.clip}: " + explain_failure(
        stderr, _read(args.report), list(zip(PASS_ROLES, (args.dis, args.ref)))
    )
    # one write, on a line of its own: Snakemake writes a message and its newline in two writes to the same
    # stderr, so a line of ours that started where it stood would be glued to the end of its message
    sys.stderr.write("\n" + line + "\n")
    sys.stderr.flush()
    with open(args.log, "a", encoding="utf-8") as f:
        f.write(("" if stderr.endswith("\n") or not stderr else "\n") + line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
