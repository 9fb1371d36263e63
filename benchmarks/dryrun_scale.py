"""Dry-run scaling: how long `snakemake -n gate` takes on 10,000- and 100,000-clip corpora.

Generates synthetic corpora (CSV manifest, 16 sources, raw 64x64 yuv420p 10-frame clips as SPARSE
files of the right size: os.truncate, no data written) under /tmp, then, each in a fresh working
directory, times

  startup   `snakemake --version`                      interpreter + snakemake import
  parse     `snakemake --list-rules`                   + Snakefile parse incl. corpus ingestion
                                                        (rules/common.smk) and config validation
  dry-run   `snakemake -n <target>`                    + DAG building, job printing
  quiet     `snakemake -n <target> --quiet rules`      the same without printing every job
  grouped   `snakemake -n <target> --groups extract_features=extract --group-components extract=N`
                                                        the grouping of profiles/slurm (its `groups`
                                                        and `group-components` keys)
  toy       `snakemake -n` of issue 5's bare toy workflow of the same shape (a `touch` job per clip,
            one aggregate, 36 training jobs) on the same corpus: Snakemake's own floor on this
            machine today, so the ratio ours / toy is comparable across machines (the issue's
            figures, 6.2 s and 57 s, make its targets 1.61x and 1.58x of the toy)

with wall time and peak RSS of each (os.wait4 on the child), plus `load_corpus` alone in a bare
python (the ingestion library without snakemake). It prints the Slurm submission count the
grouping gives: ceil(clips / N) group jobs + every other job that runs (target rules with no
action, e.g. `features`, are not submitted) and checks it against the grouped dry run's own
"Group job extract" count. Asserts nothing (exit 0); targets: 10,000 clips < 10 s, 100,000 < 90 s.

  .venv/bin/python benchmarks/dryrun_scale.py                       # both sizes
  .venv/bin/python benchmarks/dryrun_scale.py --sizes 10000 --profile 25   # + cProfile top 25
  .venv/bin/python benchmarks/dryrun_scale.py --sizes 10000 --repeat 3   # medians of 3, alternated
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = ROOT / ".venv" / "bin" / "snakemake"
PYTHON = ROOT / ".venv" / "bin" / "python"
W, H, FRAMES, FPS = 64, 64, 10, 25
FRAME_BYTES = W * H * 3 // 2
N_SOURCES = 16
BASE = Path("/tmp/vmafdistill-bench")


def make_corpus(n_clips: int) -> tuple[Path, float]:
    """A manifest corpus of n_clips raw clips (sparse files) over N_SOURCES sources; reused if present."""
    root = BASE / f"corpus-{n_clips}"
    done = root / ".complete"
    if done.exists():
        return root, 0.0
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.perf_counter()
    (root / "ref").mkdir(parents=True)
    size = FRAME_BYTES * FRAMES
    rows = ["source,ref_path,dis_path,width,height,pix_fmt,fps,dmos"]
    sources = [f"Src{i:02d}" for i in range(N_SOURCES)]
    for s in sources:
        ref = root / "ref" / f"{s}_{FPS}fps.yuv"
        with open(ref, "wb") as f:
            f.truncate(size)
        (root / "dis" / s).mkdir(parents=True)
    for i in range(n_clips):
        s = sources[i % N_SOURCES]
        rel = f"dis/{s}/{s}_enc{i:06d}.yuv"
        with open(root / rel, "wb") as f:
            f.truncate(size)
        rows.append(f"{s},ref/{s}_{FPS}fps.yuv,{rel},{W},{H},yuv420p,{FPS},{50 + i % 50}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    done.touch()
    return root, time.perf_counter() - t0


def run(cmd: list[str], cwd: Path | None = None, count: str | None = None) -> dict:
    """Run cmd, streaming its merged output (optionally counting lines that contain `count`);
    returns wall s, peak RSS MiB, rc, the output's last 200 lines and the count."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    hits = lines = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        lines += 1
        if count and count in line:
            hits += 1
        tail.append(line)
        if len(tail) > 400:
            del tail[:200]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024,
            "rc": proc.returncode, "tail": "".join(tail[-200:]), "count": hits, "lines": lines}


def snakemake(work: Path, *args: str, count: str | None = None, snakefile: Path = ROOT / "Snakefile") -> dict:
    """`snakemake --snakefile <snakefile> ... args` in a fresh working directory `work`."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    cmd = [str(SNAKEMAKE), "--snakefile", str(snakefile), "--directory", str(work), *args]
    return run(cmd, cwd=work, count=count)


TOY = """\
# The bare toy of issue 5: a job per clip, one aggregate, 36 training jobs; nothing else.
CLIPS = [line.split(",")[2][: -len(".yuv")] for line in open("{root}/manifest.csv").read().split()[1:]]


rule all:
    input:
        expand("results/train/{{fold}}/{{arch}}.txt", fold=range(9), arch=range(4)),


rule extract:
    input:
        "{root}/{{clip}}.yuv",
    output:
        "results/clips/{{clip}}.json",
    shell:
        "touch {{output}}"


rule table:
    input:
        expand("results/clips/{{clip}}.json", clip=CLIPS),
    output:
        "results/table.parquet",
    shell:
        "touch {{output}}"


rule train:
    input:
        "results/table.parquet",
    output:
        "results/train/{{fold}}/{{arch}}.txt",
    shell:
        "touch {{output}}"
"""


def toy_dry_run(root: Path) -> dict:
    """`snakemake -n` of the issue's bare toy workflow of the same shape, on the same corpus."""
    toy = BASE / "toy"
    toy.mkdir(parents=True, exist_ok=True)
    (toy / "Snakefile").write_text(TOY.format(root=root))
    return snakemake(BASE / "work-toy", "-n", snakefile=toy / "Snakefile")


def job_stats(text: str) -> dict[str, int]:
    m = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal\s+(\d+)", text, re.S)
    if not m:
        return {}
    return {k: int(v) for k, v in re.findall(r"^(\S+)\s+(\d+)$", m.group(1), re.M)}


def target_rules() -> tuple[str, set[str]]:
    """(gate or loso, rules without an action: not submitted to Slurm)."""
    proc = subprocess.run([str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--list-target-rules"],
                          capture_output=True, text=True, cwd="/tmp")
    target = "gate" if "gate" in proc.stdout.split() else "loso"
    norun = set()
    for smk in [ROOT / "Snakefile", *(ROOT / "rules").glob("*.smk")]:
        for m in re.finditer(r"^rule (\w+):\n((?:[ \t].*\n|\n)*)", smk.read_text(), re.M):
            if not re.search(r"^    (shell|script|run|wrapper|notebook):", m.group(2), re.M):
                norun.add(m.group(1))
    return target, norun


def load_corpus_alone(root: Path) -> dict:
    code = (
        "import sys, time; t0 = time.perf_counter(); sys.path.insert(0, sys.argv[2]);"
        "from vmafdistill.corpus import load_corpus; t1 = time.perf_counter();"
        "clips = load_corpus(sys.argv[1]); t2 = time.perf_counter();"
        "print(f'import {t1 - t0:.3f} load {t2 - t1:.3f} clips {len(clips)}')"
    )
    r = run([str(PYTHON), "-c", code, str(root), str(ROOT / "scripts")])
    m = re.search(r"import ([\d.]+) load ([\d.]+) clips (\d+)", r["tail"])
    r.update(import_s=float(m.group(1)), load_s=float(m.group(2)), clips=int(m.group(3))) if m else None
    return r


def cprofile(work: Path, root: Path, target: str, top: int) -> str:
    import pstats

    out = BASE / "dryrun.prof"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    cmd = [str(PYTHON), "-m", "cProfile", "-o", str(out), str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(work), "-n", target, "--quiet", "rules", "--config", f"data_root={root}"]
    subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    import io

    buf = io.StringIO()
    stats = pstats.Stats(str(out), stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    buf.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the quiet dry run, top N")
    ap.add_argument("--skip-plain", action="store_true", help="skip the (slow) dry run that prints every job")
    ap.add_argument("--skip-toy", action="store_true", help="skip the bare toy workflow of the same shape")
    ap.add_argument("--repeat", type=int, default=1, metavar="K",
                    help="run `-n gate` and the toy K times each, alternated, and compare their medians")
    args = ap.parse_args()

    slurm = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    per_group = int(slurm["group-components"]["extract"])
    groups = [f"{rule}={group}" for rule, group in slurm["groups"].items()]
    target, norun = target_rules()
    targets_s = {10_000: 10.0, 100_000: 90.0}
    print(f"target rule: {target}; rules not submitted (no action): {', '.join(sorted(norun))}")
    print(f"profiles/slurm groups {' '.join(groups)}, group-components.extract = {per_group}; "
          f"cores: {os.cpu_count()}\n")
    base = run([str(SNAKEMAKE), "--version"])
    print(f"snakemake --version: {base['wall']:.2f} s wall, {base['cpu']:.2f} s CPU, {base['rss_mib']:.0f} MiB\n")

    for n in args.sizes:
        root, gen_s = make_corpus(n)
        print(f"=== {n:,} clips, {N_SOURCES} sources ({root}; generated in {gen_s:.1f} s"
              f"{', reused' if not gen_s else ''}); load average {os.getloadavg()[0]:.1f} ===")
        cfg = ["--config", f"data_root={root}"]
        work = BASE / f"work-{n}"
        lc = load_corpus_alone(root)
        print(f"  load_corpus alone            {lc['load_s']:7.2f} s wall (python + import {lc['import_s']:.2f} s; "
              f"process {lc['cpu']:.2f} s CPU, {lc['rss_mib']:.0f} MiB, {lc.get('clips')} clips)")

        def show(label: str, r: dict, extra: str = "") -> None:
            print(f"  {label:<28} {r['wall']:7.2f} s wall {r['cpu']:7.2f} s CPU {r['rss_mib']:6.0f} MiB peak"
                  f"  rc={r['rc']}{extra}")

        parse = snakemake(work, "--list-rules", *cfg)
        show("parse (--list-rules)", parse)
        res = {}
        if not args.skip_plain:
            res["plain"] = snakemake(work, "-n", target, *cfg)
            goal = targets_s.get(n)
            verdict = ("" if goal is None
                       else f"  target < {goal:.0f} s: {'OK' if res['plain']['wall'] < goal else 'MISSED'}")
            show(f"-n {target}", res["plain"], f"  {res['plain']['lines']:,} lines{verdict}")
        res["quiet"] = snakemake(work, "-n", target, "--quiet", "rules", *cfg)
        show(f"-n {target} --quiet rules", res["quiet"])
        res["grouped"] = snakemake(work, "-n", target, "--groups", *groups, "--group-components",
                                   f"extract={per_group}", *cfg, count="Group job extract")
        show(f"-n {target} --group-comp. {per_group}", res["grouped"])
        if not args.skip_toy:
            res["toy"] = toy_dry_run(root)
            show("bare toy -n (same shape)", res["toy"], f"  {res['toy']['lines']:,} lines")
            if "plain" in res and args.repeat > 1:
                walls = {"plain": [res["plain"]["wall"]], "toy": [res["toy"]["wall"]]}
                for _ in range(args.repeat - 1):
                    walls["plain"].append(snakemake(work, "-n", target, *cfg)["wall"])
                    walls["toy"].append(toy_dry_run(root)["wall"])
                for key, w in walls.items():
                    res[key]["wall"] = sorted(w)[len(w) // 2]
                print(f"  alternated {args.repeat}x: -n {target} {', '.join(f'{w:.1f}' for w in walls['plain'])} s; "
                      f"toy {', '.join(f'{w:.1f}' for w in walls['toy'])} s (medians below)")
            if "plain" in res:
                ratio = res["plain"]["wall"] / res["toy"]["wall"]
                goal = {10_000: 10.0 / 6.2, 100_000: 90.0 / 57.0}.get(n)
                verdict = ("" if goal is None
                           else f"; the targets allow {goal:.2f}x: {'OK' if ratio < goal else 'MISSED'}")
                print(f"  -n {target} / bare toy = {ratio:.2f}x (both measured in this run{verdict})")
        failed = [k for k, r in res.items() if r["rc"]]
        if failed:
            print("  FAILED:\n" + res[failed[0]]["tail"][-3000:])
            continue
        stats = job_stats(res["quiet"]["tail"])
        extract = stats.get("extract_features", 0)
        others = sum(v for k, v in stats.items() if k != "extract_features" and k not in norun)
        predicted = math.ceil(extract / per_group) + others
        print(f"  jobs: {stats}")
        print(f"  Slurm submissions: without grouping {extract + others:,}; with extract={per_group}: "
              f"ceil({extract:,}/{per_group}) + {others} = {predicted:,}; the grouped dry run shows "
              f"{res['grouped']['count']:,} 'Group job extract' (expected {math.ceil(extract / per_group):,})")
        q = res["quiet"]
        print(f"  where the CPU goes (quiet dry run {q['cpu']:.1f} s): startup {base['cpu']:.1f} s, "
              f"Snakefile parse incl. ingestion {parse['cpu'] - base['cpu']:.1f} s (load_corpus alone "
              f"{lc['load_s']:.1f} s), snakemake DAG + job bookkeeping {q['cpu'] - parse['cpu']:.1f} s"
              f" = {1000 * (q['cpu'] - parse['cpu']) / max(1, sum(stats.values())):.2f} ms per job"
              + ("" if args.skip_plain else f"; printing every job {res['plain']['cpu'] - q['cpu']:+.1f} s"))
        print()
        if args.profile:
            print(cprofile(work, root, target, args.profile))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
