"""Every teacher's students, demo and unseen, from ONE workflow run; and what a multi-teacher pass costs.

1. `--pass-cost`: libvmaf CPU per clip (the ffmpeg child's CPU seconds: a busy machine does not skew
   it), one clip of each demo source, `--rounds` interleaved rounds, of (a) ONE pass running every listed
   teacher's model, (b) each teacher's own pass and (c) the pass without libvmaf (decoding and scaling
   only); prints (a) / the vmaf_v0.6.1 pass (the issue's bar: < 1.3x), (a) / the dearest of (b), (a) / the
   sum of (b), and libvmaf's own work (minus (c)) in one pass and in the separate ones.
2. Otherwise: `snakemake --cores N gate --config teachers=[...]` on the demo corpus in `--work` (one
   libvmaf pass per clip for all; the gate's report in logs/gate/report.md), then per teacher and tier:
   the demo LOSO as shipped (mean held-out clip RMSE over folds, max |error|: what the gate judges) and
   the UNSEEN corpus (students trained on the demo; `unseen_corpus.py`, never used for a choice): clip
   RMSE and max |error|. One Markdown table.

    .venv/bin/python benchmarks/teachers.py --pass-cost [--teachers ...] [--rounds 3]
    .venv/bin/python benchmarks/teachers.py --work benchmarks_out/teachers [--teachers ...] [--cores 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from corpus_cache import frames
from student_eval import evaluate, exported_students
from unseen_corpus import UNSEEN
from vmafdistill import corpus, demo
from vmafdistill.configcheck import teacher_specs
from vmafdistill.ffmpeg import ClipGeometry, libvmaf_argv, resolve_ffmpeg
from vmafdistill.libvmaf_model import libvmaf_models_option
from vmafdistill.loso import fold_table
from vmafdistill.teacher import PHONE_NAME, builtin_names, load_teacher

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = [str(ROOT / ".venv" / "bin" / "snakemake"), "--snakefile", str(ROOT / "Snakefile")]
PASS_TEACHERS = ["vmaf_v0.6.1", "vmaf_v0.6.1neg", "vmaf_4k_v0.6.1", "vmaf_v1.0.16_3d0h"]
TIERS = ("nano", "tiny", "exact")


def _teachers(names: list[str]) -> list:
    return [load_teacher(*spec) for _, spec in teacher_specs({"teachers": names})]


def pass_cost(names: list[str], rounds: int, demo_root: Path) -> dict[str, float]:
    """Mean child CPU seconds per clip: key 'all' (one pass, every teacher) and each teacher alone."""
    clips = corpus.load_corpus(str(demo_root), demo.DATASET_FILE)
    one = {}
    for c in clips:
        if not c.self_pair:
            one.setdefault(c.source, c)
    exe, _ = resolve_ffmpeg()
    teachers = _teachers(names)
    options = {"all": libvmaf_models_option([t.model for t in teachers])}
    options.update({t.name: t.libvmaf_option() for t in teachers})
    options["decode"] = None  # the pass without libvmaf: decoding, scaling, format conversion
    cpu = dict.fromkeys(options, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for key, option in options.items():
                for c in one.values():
                    argv = libvmaf_argv(exe, ClipGeometry.of(c), str(Path(tmp) / "log.json"), 1, "bicubic", True,
                                        option)
                    if option is None:
                        argv = decode_only(argv)
                    proc = subprocess.Popen(argv)
                    _, status, usage = os.wait4(proc.pid, 0)
                    if status:
                        raise SystemExit(f"libvmaf failed ({key}) on {c.clip_id}")
                    cpu[key] += usage.ru_utime + usage.ru_stime
    return {k: v / (rounds * len(one)) for k, v in cpu.items()}


def decode_only(argv: list[str]) -> list[str]:
    """A pass's argv without libvmaf: the same inputs, scaling and conversions, each stream to a null output."""
    i = argv.index("-lavfi")
    graph = ";".join(argv[i + 1].split(";")[:2])  # the distorted and the reference chains
    return [*argv[:i], "-lavfi", graph, *(a for label in ("dis", "dis_n", "ref", "ref_n")
                                          for a in ("-map", f"[{label}]", "-f", "null", "-"))]


def held_out(path: Path) -> tuple[float, float]:
    """(mean fold RMSE, max |error|) of a tier's LOSO as shipped, self-pairs left out (as the gate)."""
    p = pl.read_parquet(path).filter(~pl.col("self_pair"))
    folds = fold_table(p.with_columns(pl.lit("t").alias("model"), pl.lit(0).alias("seed")))
    return float(folds["rmse"].mean()), float((p["student"] - p["teacher"]).abs().max())


def accuracy(names: list[str], work: Path, cores: int, run: bool = True) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    listing = "[" + ", ".join(names) + "]"
    argv = [*SNAKEMAKE, "--directory", str(work), "--cores", str(cores), "gate", "--config", f"teachers={listing}"]
    gate = subprocess.run(argv) if run else None
    if gate is not None:
        print(f"gate exit status {gate.returncode} (report: {work / 'logs/gate/report.md'})", file=sys.stderr)
    exe, _ = resolve_ffmpeg()
    students, _ = exported_students(work / "results" / "teachers")
    tables = frames(UNSEEN, exe, _teachers(names)).tables
    rows = []
    for name in names:
        row: dict = {"teacher": name}
        for tier in TIERS:
            rmse, mx = held_out(work / "results" / "teachers" / name / "loso" / "tiers" / f"{tier}.parquet")
            s = next(s for s in students if s.teacher.name == name and s.label == tier)
            u = evaluate(s, tables[name])
            row[tier] = (rmse, mx, u["clip_rmse"], u["clip_max_abs"])
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teachers", nargs="*", default=None)
    ap.add_argument("--pass-cost", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks_out" / "teachers")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--no-run", action="store_true", help="only read an existing run in --work")
    args = ap.parse_args()
    if args.pass_cost:
        names = args.teachers or PASS_TEACHERS
        demo_root = args.work / demo.DEMO_ROOT
        if not (demo_root / demo.DATASET_FILE).is_file():
            args.work.mkdir(parents=True, exist_ok=True)
            subprocess.run([*SNAKEMAKE, "--directory", str(args.work), "--cores", str(args.cores),
                            f"{demo.DEMO_ROOT}/{demo.DATASET_FILE}"], check=True)
        cpu = pass_cost(names, args.rounds, demo_root)
        base, alone = cpu[names[0]], sum(cpu[n] for n in names)
        print(f"| pass | libvmaf CPU s per clip | vs {names[0]} alone |\n|---|---|---|")
        for key, v in cpu.items():
            label = {"all": "ONE pass: " + ", ".join(names), "decode": "decoding and scaling only (no libvmaf)"}
            print(f"| {label.get(key, key)} | {v:.3f} | {v / base:.2f}x |")
        dec = cpu["decode"]
        top = max(names, key=lambda n: cpu[n])
        print(f"\none pass for {len(names)} teachers: {cpu['all'] / base:.2f}x one teacher's pass "
              f"({cpu['all'] / cpu[top]:.2f}x the dearest, {top}); {cpu['all'] / alone:.2f}x the {len(names)} passes "
              f"it replaces ({alone:.3f} s). Decoding and scaling alone: {dec:.3f} s ({dec / base:.0%} of "
              f"{names[0]}'s pass); libvmaf's own work: {cpu['all'] - dec:.3f} s in one pass vs "
              f"{alone - len(names) * dec:.3f} s in {len(names)}")
        return
    names = args.teachers or [*builtin_names(), PHONE_NAME]
    rows = accuracy(names, args.work, args.cores, run=not args.no_run)
    print("| teacher | " + " | ".join(f"{t}: demo LOSO RMSE / max; unseen RMSE / max" for t in TIERS) + " |")
    print("|---|" + "---|" * len(TIERS))
    for r in rows:
        cells = [f"{a:.4f} / {b:.3f}; {c:.4f} / {d:.3f}" for a, b, c, d in (r[t] for t in TIERS)]
        print(f"| {r['teacher']} | " + " | ".join(cells) + " |")
    pl.DataFrame([{"teacher": r["teacher"], **{f"{t}_{k}": v for t in TIERS for k, v in
                   zip(("demo_rmse", "demo_max", "unseen_rmse", "unseen_max"), r[t])}} for r in rows]).write_csv(
        args.work / "teachers.csv")


if __name__ == "__main__":
    main()
