"""Pipeline vs physical limit: the workflow's feature stage against bare ffmpeg+libvmaf.

Measures, in one run, on the demo corpus (built first if needed) or a user corpus:
  1. bare: the same ONE ffmpeg+libvmaf pass per clip the workflow runs, `--cores` at a time,
     from a plain process pool (no Snakemake), i.e. the physical limit of the feature stage;
  2. pipeline: `snakemake --cores N features` from scratch of the feature stage (the per-clip
     logs and tables removed; the demo sources kept);
  3. no-op rerun: `snakemake --cores N features` again when everything is up to date;
  4. bare Snakemake start: `snakemake --version`.
Prints the figures and the ratios. Asserts nothing.

    .venv/bin/python benchmarks/pipeline_vs_libvmaf.py [--cores 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vmafdistill import corpus, demo
from vmafdistill.ffmpeg import ClipGeometry, libvmaf_argv, resolve_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = [str(ROOT / ".venv" / "bin" / "snakemake")]


def run(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    os.chdir(ROOT)

    run([*SNAKEMAKE, "--cores", str(args.cores), "features"])  # make sure the demo corpus exists
    import yaml

    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    demo_root = ROOT / demo.DEMO_ROOT
    clips = corpus.load_corpus(str(demo_root), demo.DATASET_FILE)
    exe, _ = resolve_ffmpeg()

    # 1. bare libvmaf, the same argv, N at a time
    with tempfile.TemporaryDirectory() as tmp:
        def one(c):
            geo = ClipGeometry.of(c)
            argv = libvmaf_argv(exe, geo, os.path.join(tmp, c.clip_id + ".json"), 1, cfg["scaler"], count_frames=False)
            subprocess.run(argv, check=True)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.cores) as pool:
            list(pool.map(one, clips))
        bare = time.perf_counter() - t0

    # 2. the pipeline's feature stage from scratch (sources kept): the per-clip logs, each teacher's tables
    for folder in [ROOT / "results" / "features", *(ROOT / "results" / "teachers").glob("*/features")]:
        shutil.rmtree(folder, ignore_errors=True)
    pipeline = run([*SNAKEMAKE, "--cores", str(args.cores), "features"])
    # 3. no-op rerun, 4. bare start
    noop = run([*SNAKEMAKE, "--cores", str(args.cores), "features"])
    start = run([*SNAKEMAKE, "--version"])

    n_frames = sum(c.n_frames or 0 for c in clips)
    print(f"corpus: {len(clips)} clips, {n_frames} frames, --cores {args.cores}")
    print(f"bare ffmpeg+libvmaf (no frame counts, {args.cores} at a time): {bare:7.2f} s "
          f"({1000 * bare * args.cores / max(n_frames, 1):.2f} ms CPU-slot per frame)")
    print(f"snakemake features from scratch:                 {pipeline:7.2f} s")
    print(f"ratio pipeline / bare:                           {pipeline / bare:7.2f}x  (target <= 1.2x)")
    print(f"no-op rerun of features:                         {noop:7.2f} s  (target < 3 s)")
    print(f"bare `snakemake --version`:                      {start:7.2f} s")


if __name__ == "__main__":
    main()
