"""Shared test set-up: the tiny corpus and ONE tiny workflow run, built once per session and shared by every
test that needs them (read-only: a test that changes a run works in a copy or in its own folder). The library
is importable as `vmafdistill` once the project is installed (`pip install -e .`); pyproject.toml puts tests/
and benchmarks/ on the path for their helpers."""

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from tiny import FAST_GATE, TEACHERS, build_tiny_corpus, shared_config, snakemake

ROOT = Path(__file__).resolve().parent.parent


def snapshot(root: Path) -> list:
    """Every file under `root` with its size and mtime (nothing may be written under data_root)."""
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*"))


@dataclass(frozen=True)
class TinyRun:
    """The shared run: `strict` is `snakemake gate` with the default thresholds (it fails: short training
    budgets, a linear tier), `lenient` the same gate re-run with FAST_GATE's thresholds (it passes)."""

    root: Path  # the corpus (data_root), read-only
    work: Path
    args: tuple[str, ...]  # the snakemake arguments that select the run's config
    strict: object  # subprocess.CompletedProcess
    strict_report: dict
    lenient: object
    before: list  # the corpus's snapshot before the run

    def teacher(self, name: str = "vmaf_v0.6.1") -> Path:
        return self.work / "results" / "teachers" / name

    def run(self, *args: str, **kw) -> object:
        return snakemake(self.work, *args, *self.args, **kw)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """3 sources x (self-pair + 3 encodes) at 256x160, 10 frames: every teacher of the run scores it."""
    return build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"), 256, 160)


@pytest.fixture(scope="session")
def tiny_run(tiny_corpus, tmp_path_factory) -> TinyRun:
    """ONE workflow run on the tiny corpus, from a read-only data_root: teachers vmaf_v0.6.1 and
    vmaf_v1.0.16_3d0h in one libvmaf pass per clip, archs linear, nano, exact, reweight_svm (short budgets),
    frame pooling, tiers nano, exact and linear; the gate with the default thresholds, then with FAST_GATE's."""
    before = snapshot(tiny_corpus)
    for p in [tiny_corpus, *tiny_corpus.rglob("*")]:  # a read-only data_root must work
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    work = tmp_path_factory.mktemp("tiny_run")
    args = shared_config(work, tiny_corpus)
    strict = snakemake(work, "--cores", "2", "gate", *args)
    kept = work / "logs" / "gate" / "report.json"
    report = json.loads(kept.read_text()) if kept.is_file() else {}
    lenient = snakemake(work, "--cores", "2", "gate", *args, "--config", *(f"{k}={v}" for k, v in FAST_GATE.items()))
    return TinyRun(tiny_corpus, work, args, strict, report, lenient, before)


__all__ = ["ROOT", "TEACHERS", "TinyRun", "snapshot"]
