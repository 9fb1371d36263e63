#!/usr/bin/env python3
"""Rebuild the golden fixture's record (tests/fixtures/golden/golden.json) with this machine's ffmpeg:
every built-in teacher and vmaf_v0.6.1's phone transform, in one libvmaf pass. A developer tool: the
record changes only when libvmaf does (the gate's golden_libvmaf check then fails until it is re-recorded).

    .venv/bin/python scripts/record_golden.py [--ffmpeg PATH]
"""

from __future__ import annotations

import argparse
import json
import sys

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from vmafdistill.atomic import write_text  # noqa: E402
from vmafdistill.ffmpeg import resolve_ffmpeg  # noqa: E402
from vmafdistill.golden import RECORD, record_fixture  # noqa: E402
from vmafdistill.teacher import builtin_names, load_teacher  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ffmpeg", default=None)
    args = ap.parse_args()
    exe, _ = resolve_ffmpeg(args.ffmpeg)
    teachers = [load_teacher(n) for n in builtin_names()] + [load_teacher("vmaf_v0.6.1", "phone")]
    rec = record_fixture(exe, teachers)
    write_text(RECORD, json.dumps(rec, indent=1) + "\n")
    for name, t in rec["teachers"].items():
        print(f"{name:24s} {t['vmaf']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
