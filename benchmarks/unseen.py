"""Out of distribution: every exported student against its teacher on the UNSEEN corpus.

The unseen corpus (benchmarks/unseen_corpus.py: 8 procedural and real sources x 11 HRCs of kinds
neither the demo nor the tuning corpus uses, 576x324, 24 fps) is built and measured with real
libvmaf (cached in benchmarks_out/corpora/unseen-<key>/) for every teacher of an exported student
and every teacher of --teachers (default: every built-in teacher and phone), all in one libvmaf
pass per clip. No choice may ever be made on these figures: they are reported, not tuned on.

Students: every *.onnx under --exports (default results/, recursively) with vmafdistill metadata,
paired with its teacher by that metadata; plus the published peers in --peers
(default ../shared/peers/, vmaf_v0.6.1 students; omitted if absent: a benchmark-only folder).
Each runs on ONNX Runtime CPU on its teacher's per-frame features, each clip one batch; a clip's
score is the mean of the per-frame scores (frame pooling) or the score of the mean features (clip
pooling), against libvmaf's clip score (mean of its per-frame scores).

Prints rich tables (the corpus; each teacher's clip-score spread; each student) and writes
benchmarks_out/unseen.csv: teacher, student (tier), kind, pooling, clips, clip RMSE, max |clip
error|, worst clip, per-frame max |error|.

    .venv/bin/python benchmarks/unseen.py [--exports results] [--teachers all] [--workers 2] [--rebuild]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from corpora_report import describe, named_teachers
from corpus_cache import frames
from inference import PEERS_DIR
from rich.console import Console
from rich.table import Table
from student_eval import evaluate, exported_students, peer_students
from unseen_corpus import UNSEEN
from vmafdistill import atomic
from vmafdistill.ffmpeg import check_libvmaf, resolve_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
OUT_CSV = ROOT / "benchmarks_out" / "unseen.csv"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exports", type=Path, default=ROOT / "results", help="folder scanned for exported *.onnx")
    ap.add_argument("--peers", type=Path, default=PEERS_DIR, help="published vmaf_v0.6.1 students (if present)")
    ap.add_argument("--teachers", default="all", help="teachers measured besides the exports' (all, none, or names)")
    ap.add_argument("--workers", type=int, default=2, help="ffmpeg processes at a time")
    ap.add_argument("--rebuild", action="store_true", help="build and measure again even if cached")
    ap.add_argument("--csv", type=Path, default=OUT_CSV)
    args = ap.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 180)

    students, notes = exported_students(args.exports)
    if not students:
        notes.append(f"no exported student under {args.exports}/ (run `snakemake export`)")
    peers = peer_students(args.peers)
    if not peers:
        notes.append(f"no peer folder {args.peers}: peer rows omitted")
    teachers = {t.name: t for t in named_teachers(args.teachers)}
    teachers.update({s.teacher.name: s.teacher for s in students + peers})
    if not teachers:
        raise SystemExit("no teacher to measure: give --teachers or --exports with students")
    exe, origin = resolve_ffmpeg()
    check_libvmaf(exe, origin)
    cf = frames(UNSEEN, exe, list(teachers.values()), workers=args.workers, rebuild=args.rebuild)
    describe(console, cf)
    for name in teachers:
        if not any(s.teacher.name == name for s in students):
            notes.append(f"teacher {name}: measured, but no exported student of it under {args.exports}/")

    rows = [evaluate(s, cf.tables[s.teacher.name]) for s in students + peers]
    t = Table(title="UNSEEN corpus: each student vs its teacher's libvmaf score (VMAF points; out of distribution)")
    for col in ("teacher", "student", "pooling", "clips", "clip RMSE", "clip max", "worst clip (teacher -> student)",
                "frame max", "file"):
        t.add_column(col, justify="left" if col in ("teacher", "student", "file", "pooling") else "right")
    for r in rows:
        frame_max = "-" if r["frame_max_abs"] is None else f"{r['frame_max_abs']:.3f}"
        t.add_row(r["teacher"], r["student"], r["pooling"], str(r["clips"]), f"{r['clip_rmse']:.3f}",
                  f"{r['clip_max_abs']:.3f}",
                  f"{r['worst_clip']} ({r['worst_clip_teacher']:.2f} -> {r['worst_clip_pred']:.2f})", frame_max,
                  _shown(Path(r["file"])))
    console.print(t)
    schema = {"teacher": pl.String, "student": pl.String, "kind": pl.String, "pooling": pl.String, "file": pl.String,
              "clips": pl.Int64, "clip_rmse": pl.Float64, "clip_max_abs": pl.Float64, "worst_clip": pl.String,
              "worst_clip_teacher": pl.Float64, "worst_clip_pred": pl.Float64, "frame_max_abs": pl.Float64}
    atomic.write_csv(args.csv, pl.DataFrame(rows, schema=schema))
    console.print(f"wrote {args.csv}")
    for note in notes:
        console.print(f"note: {note}")


if __name__ == "__main__":
    main()
