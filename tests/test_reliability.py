"""Reliability: the same bytes twice, and SIGKILL during extraction and training loses nothing."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tiny import ROOT, build_tiny_corpus, fast_config, snakemake

TARGET = "gate"
COMPARED = (
    "results/features/frames.parquet",
    "results/features/clips.parquet",
    "results/loso/summary.csv",
    "results/loso/folds.csv",
    "results/export/nano.onnx",
)


def _config(work: Path, root: Path) -> tuple[str, ...]:
    return fast_config(work, root)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"))


@pytest.fixture(scope="module")
def clean_runs(corpus, tmp_path_factory):
    works = []
    for name in ("clean_a", "clean_b"):
        work = tmp_path_factory.mktemp(name)
        proc = snakemake(work, "--cores", "2", TARGET, *_config(work, corpus))
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        works.append(work)
    return works


def _existing(work: Path) -> list[str]:
    return [p for p in COMPARED if (work / p).exists()]


def test_two_clean_runs_give_the_same_bytes(clean_runs):
    a, b = clean_runs
    assert _existing(a) == list(COMPARED), "a compared output is missing"
    for rel in COMPARED:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), f"{rel} differs between two clean runs"
    models = sorted(p.relative_to(a) for p in (a / "results/loso").rglob("predictions.parquet"))
    assert models and all((a / m).read_bytes() == (b / m).read_bytes() for m in models)


def _start(work: Path, corpus: Path, cores: str) -> subprocess.Popen:
    exe = ROOT / ".venv" / "bin" / "snakemake"
    cmd = [str(exe), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(work), "--cores", cores, TARGET,
           *_config(work, corpus)]  # fmt: skip
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


def test_sigkill_during_extraction_and_training(corpus, clean_runs, tmp_path):
    work = tmp_path / "killed"
    work.mkdir()
    logs = work / "results/features/clips"
    # 1. killed during extraction: some per-clip logs exist, the feature tables do not
    proc = _start(work, corpus, "1")
    hit = _kill_when(proc, lambda: logs.is_dir() and len(list(logs.glob("*.json"))) >= 2)
    assert hit, "the run ended before extraction could be interrupted"
    assert not (work / "results/features/clips.parquet").exists()
    assert snakemake(work, "--unlock").returncode == 0
    # 2. killed during training: a fold job has started, the LOSO summary does not exist
    proc = _start(work, corpus, "2")
    started = work / "logs/loso"
    hit = _kill_when(proc, lambda: started.is_dir() and any(started.rglob("*.log")))
    assert hit, "the run ended before training could be interrupted"
    assert not (work / "results/loso/summary.csv").exists()
    assert snakemake(work, "--unlock").returncode == 0
    # no temporary leftovers of atomic writes are mistaken for outputs; the rerun completes
    done = snakemake(work, "--cores", "2", TARGET, *_config(work, corpus))
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    reference = clean_runs[0]
    for rel in COMPARED:
        assert (work / rel).read_bytes() == (reference / rel).read_bytes(), f"{rel} differs after interruption"
