"""Every built-in teacher on the demo corpus: teacher check, LOSO of nano and tiny, libvmaf time.

For each teacher (the 9 built-in libvmaf models and vmaf_v0.6.1's phone transform) it runs, in a
fresh working directory of its own over the demo corpus already built in the repository
(`resources/demo`, given as `data_root`: nothing is written there), `snakemake --cores N loso` with
only the two float tiers' archs (nano, mlp_64x2) and frame pooling, then reads:

  * the teacher check: max per-frame |libvmaf - this project's evaluation of the model JSON|;
  * LOSO held-out clips (self-pairs left out): mean RMSE over folds and max |error| of each arch,
    and the held-out source where the max error is;
  * libvmaf time per clip: the CPU seconds (of the ffmpeg child, so a busy machine does not
    skew it) of the bare pass with the teacher's model over one clip of each source, every teacher
    in turn, `--rounds` times, and the ratio to vmaf_v0.6.1's; `--timing-only` prints only that.
Prints one Markdown table. Asserts nothing. Takes ~2-4 min per teacher on 2 cores.

    .venv/bin/python benchmarks/teachers.py [--cores 2] [--teachers vmaf_v0.6.1 vmaf_v1.0.16_3d0h ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from vmafdistill import corpus, demo  # noqa: E402
from vmafdistill.ffmpeg import ClipGeometry, libvmaf_argv, resolve_ffmpeg  # noqa: E402
from vmafdistill.teacher import builtin_names, load_teacher  # noqa: E402

SNAKEMAKE = [str(ROOT / ".venv" / "bin" / "snakemake"), "--snakefile", str(ROOT / "Snakefile")]
ARCHS = {"nano": "nano", "mlp_64x2": "tiny"}


def run_teacher(name: str, transform: str, work: Path, cores: int) -> dict:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg.update(data_root=str(ROOT / demo.DEMO_ROOT), dataset=demo.DATASET_FILE, teacher=name, teacher_transform=transform,
               archs={a: {} for a in ARCHS}, pooling=["frame"],
               tiers={t: {"max_bytes": 102400, "arch": a, "pooling": "frame", "precision": "fp32"}
                      for a, t in ARCHS.items()})  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    t0 = time.perf_counter()
    proc = subprocess.run([*SNAKEMAKE, "--directory", str(work), "--cores", str(cores), "loso", "--configfile",
                           str(work / "config.yaml"), "--replace-workflow-config"], capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        return {"teacher": name + (f" ({transform})" if transform else ""), "error": proc.stderr[-600:]}
    check = json.loads((work / "results/features/teacher_check.json").read_text())
    folds = pl.read_csv(work / "results/loso/folds.csv")
    summary = pl.read_parquet(work / "results/loso/summary.parquet")
    row = {"teacher": check["teacher"], "features": ", ".join(check["features"]), "check": check["max_abs_diff"],
           "wall_s": time.perf_counter() - t0}  # fmt: skip
    for arch in ARCHS:
        s = summary.filter(pl.col("model") == arch).row(0, named=True)
        f = folds.filter(pl.col("model") == arch).sort("max_abs_error", descending=True).row(0, named=True)
        row[f"{arch}_rmse"], row[f"{arch}_max"], row[f"{arch}_worst"] = s["rmse_mean"], s["max_abs_error"], f["fold"]
    return row


def libvmaf_cpu(todo: list[tuple[str, str]], rounds: int) -> dict[str, float]:
    """Mean child CPU seconds per clip of the bare libvmaf pass for each teacher (interleaved rounds)."""
    clips = corpus.load_corpus(str(ROOT / demo.DEMO_ROOT), demo.DATASET_FILE)
    one = {}
    for c in clips:
        if not c.self_pair:
            one.setdefault(c.source, c)
    exe, _ = resolve_ffmpeg()
    cpu = {name + transform: 0.0 for name, transform in todo}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for name, transform in todo:
                option = load_teacher(name, transform or None).libvmaf_option()
                for c in one.values():
                    geo = ClipGeometry.of(c)
                    argv = libvmaf_argv(exe, geo, str(Path(tmp) / "log.json"), 1, "bicubic", False, option)
                    proc = subprocess.Popen(argv)
                    _, status, usage = os.wait4(proc.pid, 0)
                    if status:
                        raise SystemExit(f"libvmaf failed for {name} on {c.clip_id}")
                    cpu[name + transform] += usage.ru_utime + usage.ru_stime
    return {k: v / (rounds * len(one)) for k, v in cpu.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--teachers", nargs="*", default=None)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the interleaved libvmaf timing")
    ap.add_argument("--timing-only", action="store_true", help="only the libvmaf CPU per clip of each teacher")
    args = ap.parse_args()
    if not (ROOT / demo.DEMO_ROOT / demo.DATASET_FILE).is_file():
        subprocess.run([*SNAKEMAKE, "--directory", str(ROOT), "--cores", str(args.cores), "features"], check=True)
    todo = [(n, "") for n in (args.teachers or builtin_names())]
    if args.teachers is None:
        todo.append(("vmaf_v0.6.1", "phone"))
    timing = libvmaf_cpu(todo, args.rounds)
    base = timing.get("vmaf_v0.6.1")
    if args.timing_only:
        print("| teacher | libvmaf CPU s per clip (vs vmaf_v0.6.1) |\n|---|---|")
        for key, t in timing.items():
            print(f"| {key.replace('phone', ' (phone)')} | {t:.3f}" + (f" ({t / base:.2f}x) |" if base else " |"))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="vmafdistill-teachers-") as tmp:
        for i, (name, transform) in enumerate(todo):
            rows.append(run_teacher(name, transform, Path(tmp) / f"t{i}", args.cores))
            rows[-1]["libvmaf_cpu_s_per_clip"] = timing[name + transform]
            print(rows[-1], file=sys.stderr, flush=True)
    print("| teacher | features | teacher check max | nano RMSE / max (worst fold) | tiny RMSE / max (worst fold) "
          "| libvmaf CPU s per clip (vs v0.6.1) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['teacher']} | failed: {r['error'].splitlines()[-1] if r['error'] else ''} | | | | |")
            continue
        ratio = f" ({r['libvmaf_cpu_s_per_clip'] / base:.2f}x)" if base else ""
        print(f"| {r['teacher']} | {r['features']} | {r['check']:.2e} | {r['nano_rmse']:.4f} / {r['nano_max']:.3f} "
              f"({r['nano_worst']}) | {r['mlp_64x2_rmse']:.4f} / {r['mlp_64x2_max']:.3f} ({r['mlp_64x2_worst']}) | "
              f"{r['libvmaf_cpu_s_per_clip']:.3f}{ratio} |")  # fmt: skip


if __name__ == "__main__":
    main()
