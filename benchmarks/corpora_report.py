"""The benchmark corpora themselves: build and measure the tuning and the unseen corpus for every
teacher (cached, benchmarks_out/corpora/) and print each teacher's clip-score spread, the teacher
check (float64 model vs libvmaf, per frame) and the build and measure times. No student involved.

    .venv/bin/python benchmarks/corpora_report.py [tuning] [unseen] [--teachers all] [--workers 2] [--rebuild]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from corpora import clip_table
from corpus_cache import CorpusFrames, frames
from rich.console import Console
from rich.table import Table
from tuning_corpus import TUNING
from unseen_corpus import UNSEEN
from vmafdistill.ffmpeg import check_libvmaf, resolve_ffmpeg
from vmafdistill.libvmaf_model import PHONE
from vmafdistill.teacher import Teacher, builtin_names, load_teacher

ROOT = Path(__file__).resolve().parent.parent
CORPORA = {"tuning": TUNING, "unseen": UNSEEN}


def all_teachers() -> list[Teacher]:
    """Every built-in teacher and vmaf_v0.6.1's phone transform."""
    return [load_teacher(n) for n in builtin_names()] + [load_teacher("vmaf_v0.6.1", PHONE)]


def named_teachers(spec: str) -> list[Teacher]:
    """--teachers: `all`, `none`, or comma-separated names (`vmaf_v0.6.1_phone` for the phone transform)."""
    if spec == "all":
        return all_teachers()
    if spec == "none":
        return []
    by_name = {t.name: t for t in all_teachers()}
    return [by_name[n] if n in by_name else load_teacher(n) for n in spec.split(",")]


def describe(console: Console, cf: CorpusFrames) -> None:
    """The corpus, how it was obtained, and each teacher's clip-score spread."""
    c, s = cf.corpus, cf.corpus.settings
    any_table = next(iter(cf.tables.values()))
    built = f"built now in {cf.build_s:.1f} s" if cf.built_now else f"cached (built in {cf.build_s:.1f} s)"
    measured = (f"measured now ({', '.join(cf.measured_now)}) in {max(cf.measure_s[n] for n in cf.measured_now):.1f} s"
                if cf.measured_now else "all tables cached")
    console.print(
        f"[bold]{c.name} corpus[/]: {any_table['clip_id'].n_unique()} clips = {len(c.sources)} sources x "
        f"{len(c.hrcs)} HRCs, {any_table.height} frames, {s.width}x{s.height} {s.fps} fps {s.seconds:g} s; "
        f"{built}; {measured}; cache {cf.folder.relative_to(ROOT) if cf.folder.is_relative_to(ROOT) else cf.folder}"
    )
    t = Table(title=f"{c.name} corpus: libvmaf clip scores per teacher (mean of frames)")
    for col in ("teacher", "min", "p10", "median", "p90", "max", "clips < 20", "clips > 90", "teacher check"):
        t.add_column(col, justify="left" if col == "teacher" else "right")
    for name, table in cf.tables.items():
        v = clip_table(table)["vmaf"]
        t.add_row(name, f"{v.min():.1f}", f"{v.quantile(0.1):.1f}", f"{v.median():.1f}", f"{v.quantile(0.9):.1f}",
                  f"{v.max():.1f}", str((v < 20).sum()), str((v > 90).sum()), f"{cf.teacher_diff[name]:.1e}")
    console.print(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpora", nargs="*", help=f"which corpora: {', '.join(CORPORA)} (default: all)")
    ap.add_argument("--teachers", default="all", help="all, or comma-separated teacher names")
    ap.add_argument("--workers", type=int, default=2, help="ffmpeg processes at a time")
    ap.add_argument("--rebuild", action="store_true", help="build and measure again even if cached")
    args = ap.parse_args()
    unknown = sorted(set(args.corpora) - set(CORPORA))
    if unknown:
        ap.error(f"unknown corpus {', '.join(unknown)}; known: {', '.join(CORPORA)}")
    console = Console(width=None if sys.stdout.isatty() else 180)
    exe, origin = resolve_ffmpeg()
    check_libvmaf(exe, origin)
    teachers = named_teachers(args.teachers)
    for name in args.corpora or list(CORPORA):
        describe(console, frames(CORPORA[name], exe, teachers, workers=args.workers, rebuild=args.rebuild))


if __name__ == "__main__":
    main()
