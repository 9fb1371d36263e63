"""Shared test set-up: the tiny corpus and ONE tiny workflow run, built once per session and shared by every
test that needs them (read-only: a test that changes a run works in a copy or in its own folder). The library
is importable as `vmafdistill` once the project is installed (`pip install -e .`); pyproject.toml puts tests/
and benchmarks/ on the path for their helpers."""

import json
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

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
        """Snakemake in the shared run's folder; a dry run takes no lock (another worker may be running there)."""
        return snakemake(self.work, *args, *(("--nolock",) if "-n" in args else ()), *self.args, **kw)


def shared_dir(tmp_path_factory, worker_id: str, name: str) -> tuple[Path, Path | None]:
    """A folder every pytest-xdist worker of this session sees (the workers' common base), and the lock
    that guards its building; a plain session gets its own folder and no lock."""
    if worker_id == "master":
        return tmp_path_factory.mktemp(name), None
    base = tmp_path_factory.getbasetemp().parent
    return base / name, base / f"{name}.lock"


def built_once(folder: Path, lock: Path | None, build) -> dict:
    """`build(folder)` -> a JSON-able record, run by the first worker that asks; the others wait and read it."""
    if lock is None:
        return build(folder)
    done = folder.parent / f"{folder.name}.json"
    with FileLock(str(lock)):
        if not done.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            done.write_text(json.dumps(build(folder)))
    return json.loads(done.read_text())


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory, worker_id) -> Path:
    """3 sources x (self-pair + 3 encodes) at 256x160, 10 frames: every teacher of the run scores it.
    Built once per session, whichever worker asks first."""
    folder, lock = shared_dir(tmp_path_factory, worker_id, "tiny_corpus")
    built_once(folder, lock, lambda f: {"root": str(build_tiny_corpus(f, 256, 160))})
    return folder


def _process(proc: subprocess.CompletedProcess) -> dict:
    return {"args": [str(a) for a in proc.args], "returncode": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


def _build_run(work: Path, corpus: Path) -> dict:
    before = snapshot(corpus)
    for p in [corpus, *corpus.rglob("*")]:  # a read-only data_root must work
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    args = shared_config(work, corpus)
    strict = snakemake(work, "--cores", "2", "gate", *args)
    kept = work / "logs" / "gate" / "report.json"
    report = json.loads(kept.read_text()) if kept.is_file() else {}
    lenient = snakemake(work, "--cores", "2", "gate", *args, "--config", *(f"{k}={v}" for k, v in FAST_GATE.items()))
    return {"args": list(args), "strict": _process(strict), "report": report, "lenient": _process(lenient),
            "before": before}


@pytest.fixture(scope="session")
def tiny_run(tiny_corpus, tmp_path_factory, worker_id) -> TinyRun:
    """ONE workflow run on the tiny corpus, from a read-only data_root: teachers vmaf_v0.6.1 and
    vmaf_v1.0.16_3d0h in one libvmaf pass per clip, archs linear, nano, exact, reweight_svm (short budgets),
    frame pooling, tiers nano, exact and linear; the gate with the default thresholds, then with FAST_GATE's.
    Built once per session (with pytest-xdist, by the first worker that asks; the others wait for it)."""
    work, lock = shared_dir(tmp_path_factory, worker_id, "tiny_run")
    rec = built_once(work, lock, lambda w: _build_run(w, tiny_corpus))
    strict, lenient = (subprocess.CompletedProcess(**rec[k]) for k in ("strict", "lenient"))
    before = [tuple(row) for row in rec["before"]]
    return TinyRun(tiny_corpus, work, tuple(rec["args"]), strict, rec["report"], lenient, before)


__all__ = ["ROOT", "TEACHERS", "TinyRun", "snapshot"]
