"""Reliability: a run SIGKILLed during extraction and again during training, then completed, loses nothing
and gives the same bytes as the shared run (a clean run of the same config in another folder)."""

import os
import signal
import subprocess
import time
from pathlib import Path

from tiny import ROOT, snakemake

TEACHER = "results/teachers/vmaf_v0.6.1"
#: the first teacher's LOSO and its nano tier as shipped (fold models exported, run on ORT): the pass (both
#: teachers), pretraining, every fold job and the export of the fold models
TARGETS = (f"{TEACHER}/loso/summary.csv", f"{TEACHER}/loso/tiers/nano.parquet")


def _compared(work: Path) -> list[Path]:
    """Every output whose bytes must not depend on the run: feature tables, LOSO tables and predictions, the
    nano tier's LOSO as shipped (the .pt files, libvmaf's logs and ffmpeg's reports also record timings)."""
    d = work / TEACHER
    out = [d / "features/frames.parquet", d / "features/clips.parquet", d / "loso/summary.csv", d / "loso/folds.csv",
           d / "loso/tiers/nano.parquet", *sorted(d.glob("loso/*/*/*/seed0/predictions.parquet"))]
    return [p.relative_to(work) for p in out]


def _start(work: Path, args: tuple[str, ...], cores: str) -> subprocess.Popen:
    exe = ROOT / ".venv" / "bin" / "snakemake"
    cmd = [str(exe), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(work), "--cores", cores, *TARGETS,
           *args]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> bool:
    """SIGKILL the whole run (process group) as soon as `ready()` holds; False if it never did."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and proc.poll() is None:
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.01)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return False


def test_sigkilled_twice_then_completed_gives_the_shared_runs_bytes(tiny_run, tmp_path):
    work = tmp_path / "killed"
    work.mkdir()
    logs = work / "results/features/clips"
    # 1. killed during extraction: some per-clip logs exist, the feature tables do not
    proc = _start(work, tiny_run.args, "1")
    hit = _kill_when(proc, lambda: logs.is_dir() and len(list(logs.glob("*.json"))) >= 2)
    assert hit, "the run ended before extraction could be interrupted"
    assert not any((work / "results/teachers").glob("*/features/clips.parquet"))
    assert snakemake(work, "--unlock").returncode == 0
    # 2. killed during training: a fold job has started, the LOSO summaries do not exist
    proc = _start(work, tiny_run.args, "2")
    started = work / "logs/teachers"
    hit = _kill_when(proc, lambda: started.is_dir() and any(started.glob("*/loso/*.log")))
    assert hit, "the run ended before training could be interrupted"
    assert not (work / TARGETS[0]).exists()
    assert snakemake(work, "--unlock").returncode == 0
    # the rerun completes, and every output is byte for byte the shared run's
    done = snakemake(work, "--cores", "2", *TARGETS, *tiny_run.args)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    compared = _compared(tiny_run.work)
    assert compared == _compared(work) and len(compared) > 15
    for rel in compared:
        assert (work / rel).read_bytes() == (tiny_run.work / rel).read_bytes(), f"{rel} differs from the shared run"
