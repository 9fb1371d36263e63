"""Every built-in teacher on the demo corpus: teacher check, LOSO of nano and tiny, libvmaf time.

For each teacher (the 9 built-in libvmaf models and vmaf_v0.6.1's phone transform) it runs, in a
fresh working directory of its own over the demo corpus already built in the repository
(`resources/demo`, given as `data_root`: nothing is written there), `snakemake --cores N loso` with
only the two float tiers' archs (nano, mlp_64x2) and frame pooling, then reads:

  * the teacher check: max per-frame |libvmaf - this project's evaluation of the model JSON|;
  * LOSO held-out clips (self-pairs left out): mean RMSE over folds and max |error| of each arch,
    and the held-out source where the max error is;
  * libvmaf time per clip: the extraction jobs' mean wall seconds (their `benchmark:` files),
    and the ratio to vmaf_v0.6.1's.
Prints one Markdown table. Asserts nothing. Takes ~2-4 min per teacher on 2 cores.

    .venv/bin/python benchmarks/teachers.py [--cores 2] [--teachers vmaf_v0.6.1 vmaf_v1.0.16_3d0h ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from vmafdistill import demo  # noqa: E402
from vmafdistill.teacher import builtin_names  # noqa: E402

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
    extract = [float(pl.read_csv(p, separator="\t")["s"][0]) for p in (work / "results/benchmarks/features").glob("*.tsv")
               if p.name != "golden_fixture.tsv"]  # fmt: skip
    row = {"teacher": check["teacher"], "features": ", ".join(check["features"]), "check": check["max_abs_diff"],
           "libvmaf_s_per_clip": sum(extract) / len(extract), "wall_s": time.perf_counter() - t0}  # fmt: skip
    for arch in ARCHS:
        s = summary.filter(pl.col("model") == arch).row(0, named=True)
        f = folds.filter(pl.col("model") == arch).sort("max_abs_error", descending=True).row(0, named=True)
        row[f"{arch}_rmse"], row[f"{arch}_max"], row[f"{arch}_worst"] = s["rmse_mean"], s["max_abs_error"], f["fold"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--teachers", nargs="*", default=None)
    args = ap.parse_args()
    if not (ROOT / demo.DEMO_ROOT / demo.DATASET_FILE).is_file():
        subprocess.run([*SNAKEMAKE, "--directory", str(ROOT), "--cores", str(args.cores), "features"], check=True)
    todo = [(n, "") for n in (args.teachers or builtin_names())]
    if args.teachers is None:
        todo.append(("vmaf_v0.6.1", "phone"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="vmafdistill-teachers-") as tmp:
        for i, (name, transform) in enumerate(todo):
            rows.append(run_teacher(name, transform, Path(tmp) / f"t{i}", args.cores))
            print(rows[-1], file=sys.stderr, flush=True)
    base = next((r["libvmaf_s_per_clip"] for r in rows if r.get("teacher") == "vmaf_v0.6.1"), None)
    print("| teacher | features | teacher check max | nano RMSE / max (worst fold) | tiny RMSE / max (worst fold) "
          "| libvmaf s per clip (vs v0.6.1) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['teacher']} | failed: {r['error'].splitlines()[-1] if r['error'] else ''} | | | | |")
            continue
        ratio = f" ({r['libvmaf_s_per_clip'] / base:.2f}x)" if base else ""
        print(f"| {r['teacher']} | {r['features']} | {r['check']:.2e} | {r['nano_rmse']:.4f} / {r['nano_max']:.3f} "
              f"({r['nano_worst']}) | {r['mlp_64x2_rmse']:.4f} / {r['mlp_64x2_max']:.3f} ({r['mlp_64x2_worst']}) | "
              f"{r['libvmaf_s_per_clip']:.2f}{ratio} |")  # fmt: skip


if __name__ == "__main__":
    main()
