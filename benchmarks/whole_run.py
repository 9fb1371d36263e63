"""The whole demo run from nothing against the bare libvmaf work of the same clips, in one run.

  1. `snakemake --cores N gate` in a fresh working directory (the demo corpus built there too);
  2. bare: the same clips' ONE ffmpeg+libvmaf pass each (the teacher's model, no frame-count copies),
     N at a time from a plain thread pool, on the corpus the run just built;
  3. where the run's time went, from its own files: every job's wall and CPU seconds (the rules'
     `benchmark:` files; jobs without one are counted from the Snakemake log's timestamps), by stage
     and by kind (encoding, libvmaf, training, start-up/imports, export and gate), and each training
     job's start-up share (its log's last line: job CPU vs training CPU; target <= 25%).
Prints the figures and the ratio whole-run / bare (targets <= 10x, stretch 6x). Asserts nothing.

    .venv/bin/python benchmarks/whole_run.py [--cores 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from vmafdistill import corpus, demo
from vmafdistill.ffmpeg import ClipGeometry, libvmaf_argv, resolve_ffmpeg
from vmafdistill.teacher import load_teacher

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = [str(ROOT / ".venv" / "bin" / "snakemake"), "--snakefile", str(ROOT / "Snakefile")]
#: rule -> kind of work (what is not the work of a training job is start-up, counted apart)
KIND = {"demo_source": "encoding", "demo_dataset": "encoding", "extract_features": "libvmaf",
        "ffmpeg_check": "libvmaf", "golden_fixture": "libvmaf", "features_table": "tables",
        "pretrain": "training", "train_fold": "training", "train_student": "training", "final_tiers": "training",
        "loso_summary": "tables", "loso_tier": "export and gate",
        "gate": "export and gate"}
CPU_LINE = re.compile(r"job CPU ([\d.]+) s, [^,]*? ([\d.]+) s, start-up")


def bare_libvmaf(work: Path, cores: int) -> tuple[float, int, int]:
    """(wall s, clips, frames) of the plain loop over the demo corpus built in `work`."""
    clips = corpus.load_corpus(str(work / demo.DEMO_ROOT), demo.DATASET_FILE)
    exe, _ = resolve_ffmpeg()
    model = load_teacher().libvmaf_option()
    with tempfile.TemporaryDirectory() as tmp:
        def one(c: corpus.Clip) -> None:
            geo = ClipGeometry.of(c)
            argv = libvmaf_argv(exe, geo, str(Path(tmp) / f"{c.clip_id}.json"), 1, "bicubic", False, model)
            subprocess.run(argv, check=True)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(one, clips))
        return time.perf_counter() - t0, len(clips), sum(c.n_frames or 0 for c in clips)


def jobs_table(work: Path) -> pl.DataFrame:
    """One row per job: rule, wall s, CPU s (benchmark files; timestamps of the Snakemake log otherwise)."""
    rows = []
    for tsv in sorted((work / "results" / "benchmarks").rglob("*.tsv")):
        t = pl.read_csv(tsv, separator="\t")
        rel = tsv.relative_to(work / "results" / "benchmarks")
        parts = rel.parts[2:] if rel.parts[0] == "teachers" else rel.parts  # a teacher's: teachers/<teacher>/...
        rule = {"features": "extract_features", "demo": "demo_source", "export": "final_tiers"}.get(parts[0], "")
        name = tsv.stem
        if parts[0] == "loso":
            rule = "loso_tier" if name.startswith("tier_") else "loso_summary" if name == "summary" else "train_fold"
        elif name in ("features_table", "gate", "golden_fixture", "demo_dataset"):
            rule = name
        rows.append({"rule": rule, "job": str(rel), "wall_s": float(t["s"][0]), "cpu_s": float(t["cpu_time"][0])})
    # jobs without a benchmark file (pretrain: a cached rule has none; ffmpeg_check): their logs
    for log in sorted((work / "logs" / "teachers").glob("*/pretrain/**/*.log")):
        m = CPU_LINE.search(log.read_text())
        if m:
            rows.append({"rule": "pretrain", "job": str(log.relative_to(work)), "wall_s": float(m.group(1)),
                         "cpu_s": float(m.group(1))})
    return pl.DataFrame(rows)


def training_shares(work: Path) -> pl.DataFrame:
    rows = []
    for log in sorted((work / "logs").rglob("*.log")):
        m = CPU_LINE.search(log.read_text())
        if m:
            total, train = float(m.group(1)), float(m.group(2))
            rows.append({"job": str(log.relative_to(work / "logs")), "job_cpu_s": total, "training_cpu_s": train,
                         "startup_share": 1 - train / total if total else 0.0})
    return pl.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="working directory to use and keep (default: a temp one)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="vmafdistill-whole-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    proc = subprocess.run([*SNAKEMAKE, "--directory", str(work), "--cores", str(args.cores), "gate"],
                          capture_output=True, text=True)
    whole = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"the run failed:\n{proc.stderr[-3000:]}")
    bare, n_clips, n_frames = bare_libvmaf(work, args.cores)
    jobs = jobs_table(work)
    jobs = jobs.with_columns(pl.col("rule").replace_strict(KIND, default="other").alias("kind"))
    shares = training_shares(work)
    print(f"whole demo run from nothing, `snakemake --cores {args.cores} gate`: {whole:7.1f} s wall")
    print(f"bare ffmpeg+libvmaf of the same {n_clips} clips ({n_frames} frames), {args.cores} at a time: {bare:7.1f} s")
    print(f"ratio whole run / bare libvmaf: {whole / bare:5.1f}x  (target <= 10x, stretch 6x)\n")
    by_rule = jobs.group_by("rule", "kind").agg(pl.len().alias("jobs"), pl.col("wall_s").sum(), pl.col("cpu_s").sum())
    print("by rule (sum over jobs; wall s add up across parallel jobs):")
    print(by_rule.sort("cpu_s", descending=True))
    total_train = float(shares["training_cpu_s"].sum()) if shares.height else 0.0
    startup = float((shares["job_cpu_s"] - shares["training_cpu_s"]).sum()) if shares.height else 0.0
    kinds = jobs.group_by("kind").agg(pl.col("cpu_s").sum()).sort("cpu_s", descending=True)
    print("\nCPU s by kind (training jobs split into training and start-up/I-O):")
    for r in kinds.iter_rows(named=True):
        if r["kind"] == "training":
            print(f"  training              {total_train:8.1f}")
            print(f"  start-up/imports, I/O {startup:8.1f}  (of the training jobs)")
        else:
            print(f"  {r['kind']:21s} {r['cpu_s']:8.1f}")
    if shares.height:
        worst = shares.sort("startup_share", descending=True).row(0, named=True)
        print(f"\ntraining jobs: {shares.height}; start-up share median {shares['startup_share'].median():.0%}, "
              f"worst {worst['startup_share']:.0%} ({worst['job']}; target <= 25%)")
        print(shares.sort("startup_share", descending=True))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
