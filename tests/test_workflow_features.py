"""End to end: the workflow's features stage on the tiny corpus with real ffmpeg/libvmaf."""

import json
import os
import stat

import polars as pl
import pytest

from tiny import build_tiny_corpus, snakemake
from vmafdistill import FEATURES


def _snapshot(root):
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
    )


@pytest.fixture(scope="module")
def tiny_features(tmp_path_factory):
    root = build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"))
    before = _snapshot(root)
    for p in [root, *root.rglob("*")]:  # a read-only data_root must work
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    work = tmp_path_factory.mktemp("work")
    proc = snakemake(work, "--cores", "2", "features", "--config", f"data_root={root}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root, work, before


def test_feature_tables(tiny_features):
    root, work, _ = tiny_features
    clips = pl.read_parquet(work / "results/features/clips.parquet")
    frames = pl.read_parquet(work / "results/features/frames.parquet")
    assert clips.height == 12 and clips["source"].n_unique() == 3
    assert clips["self_pair"].sum() == 3
    assert frames.height == 120 and frames.columns[:3] == ["clip_id", "source", "frame"]
    assert frames.columns[3:9] == list(FEATURES) and frames.columns[9] == "vmaf"
    assert clips.filter(pl.col("self_pair"))["vmaf"].min() > 95
    assert clips.filter(~pl.col("self_pair"))["vmaf"].min() < 80
    assert clips["libvmaf_version"].n_unique() == 1 and clips["libvmaf_version"][0] not in ("", "unknown")
    assert clips["dmos"].null_count() == 0
    # clip means are the means of the per-frame table
    per_clip = frames.group_by("clip_id").agg(pl.col("adm2").mean(), pl.col("vmaf").mean()).sort("clip_id")
    joined = clips.sort("clip_id")
    assert (per_clip["adm2"] - joined["adm2"]).abs().max() < 1e-12
    assert (per_clip["vmaf"] - joined["vmaf"]).abs().max() < 1e-12
    assert ((clips["bucket"] >= 0) & (clips["bucket"] < 1)).all()
    check = json.loads((work / "results/features/teacher_check.json").read_text())
    assert check["passed"] and check["max_abs_diff"] <= 5e-4


def test_one_log_and_benchmark_per_clip(tiny_features):
    _, work, _ = tiny_features
    logs = list((work / "results/features/clips").glob("*.json"))
    assert len(logs) == 12
    assert len(list((work / "results/benchmarks/features").glob("*.tsv"))) == 12


def test_nothing_written_under_data_root(tiny_features):
    root, _, before = tiny_features
    assert _snapshot(root) == before


def test_bad_data_root_is_named(tmp_path):
    missing = tmp_path / "no-such-corpus"
    proc = snakemake(tmp_path, "-n", "features", "--config", f"data_root={missing}")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert str(missing) in out and "corpus error" in out


def test_working_directory_inside_data_root_is_refused(tmp_path):
    root = build_tiny_corpus(tmp_path / "corpus")
    inside = root / "work"
    inside.mkdir()
    proc = snakemake(inside, "-n", "features", "--config", f"data_root={root}")
    assert proc.returncode != 0 and "inside data_root" in proc.stdout + proc.stderr
    os.rmdir(inside)


def test_unknown_config_key_is_named(tmp_path):
    proc = snakemake(tmp_path, "-n", "features", "--config", "data_rot=/x")
    assert proc.returncode != 0 and "data_rot" in proc.stdout + proc.stderr


def test_wrong_config_type_is_named(tmp_path):
    proc = snakemake(tmp_path, "-n", "features", "--config", "extract_threads=many")
    assert proc.returncode != 0 and "extract_threads" in proc.stdout + proc.stderr
