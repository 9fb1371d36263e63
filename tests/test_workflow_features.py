"""End to end: the workflow's features stage on the tiny corpus with real ffmpeg/libvmaf."""

import json
import re

import polars as pl

from conftest import snapshot
from tiny import TEACHERS, snakemake
from vmafdistill.teacher import load_teacher


def test_feature_tables(tiny_run):
    """One libvmaf pass per clip for both teachers; each teacher's tables from it."""
    work = tiny_run.work
    for teacher in TEACHERS:
        t = load_teacher(teacher)
        clips = pl.read_parquet(tiny_run.teacher(teacher) / "features/clips.parquet")
        frames = pl.read_parquet(tiny_run.teacher(teacher) / "features/frames.parquet")
        assert clips.height == 12 and clips["source"].n_unique() == 3
        assert clips["self_pair"].sum() == 3
        assert frames.height == 120 and frames.columns[:3] == ["clip_id", "source", "frame"]
        assert frames.columns[3:] == [*t.features, "vmaf"]
        assert clips.filter(pl.col("self_pair"))["vmaf"].min() > 95
        assert clips.filter(~pl.col("self_pair"))["vmaf"].min() < 80
        assert clips["libvmaf_version"].n_unique() == 1 and clips["libvmaf_version"][0] not in ("", "unknown")
        assert clips["dmos"].null_count() == 0
        # clip means are the means of the per-frame table
        f0 = t.features[0]
        per_clip = frames.group_by("clip_id").agg(pl.col(f0).mean(), pl.col("vmaf").mean()).sort("clip_id")
        joined = clips.sort("clip_id")
        assert (per_clip[f0] - joined[f0]).abs().max() < 1e-12
        assert (per_clip["vmaf"] - joined["vmaf"]).abs().max() < 1e-12
        assert ((clips["bucket"] >= 0) & (clips["bucket"] < 1)).all()
        check = json.loads((tiny_run.teacher(teacher) / "features/teacher_check.json").read_text())
        assert check["teacher"] == teacher and check["passed"] and check["max_abs_diff"] <= 5e-4
        # the table's scores are the teacher's own, recomputed from its features (its float64 SVM)
        x = frames.select(t.features).to_numpy()
        assert abs(t.predict(x) - frames["vmaf"].to_numpy()).max() <= 5e-4
    logs = list((work / "results/features/clips").glob("*.json"))  # ONE pass per clip, both teachers' scores
    assert len(logs) == 12
    assert len(list((work / "results/benchmarks/features").glob("*__*.tsv"))) == 12  # a benchmark per clip job
    metrics = json.loads(logs[0].read_text())["frames"][0]["metrics"]
    assert set(TEACHERS) <= set(metrics)


def test_another_set_of_teachers_reruns_the_pass(tiny_run):
    """The per-clip libvmaf logs hold the scores of the teachers they were made for: a run asking for
    another set of teachers redoes every clip's pass (and nothing when the set is the same)."""
    same = tiny_run.run("-n", "features")
    other = tiny_run.run("-n", "features", "--config", "teachers=[vmaf_v0.6.1, vmaf_v0.6.1neg]")
    assert same.returncode == 0 and other.returncode == 0, same.stderr[-2000:] + other.stderr[-2000:]
    jobs = re.compile(r"^extract_features\s+(\d+)$", re.M)
    assert not jobs.search(same.stdout + same.stderr)
    found = jobs.search(other.stdout + other.stderr)
    assert found and int(found.group(1)) == 12


def test_nothing_written_under_data_root(tiny_run):
    assert snapshot(tiny_run.root) == tiny_run.before


def test_bad_data_root_is_named(tmp_path):
    missing = tmp_path / "no-such-corpus"
    proc = snakemake(tmp_path, "-n", "features", "--config", f"data_root={missing}")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert str(missing) in out and "corpus error" in out


def test_working_directory_inside_data_root_is_refused(tmp_path):
    root = tmp_path / "corpus"
    (root / "dis").mkdir(parents=True)
    inside = root / "work"
    inside.mkdir()
    proc = snakemake(inside, "-n", "features", "--config", f"data_root={root}")
    assert proc.returncode != 0 and "inside data_root" in proc.stdout + proc.stderr


def test_unknown_config_key_is_named(tmp_path):
    proc = snakemake(tmp_path, "-n", "features", "--config", "data_rot=/x")
    assert proc.returncode != 0 and "data_rot" in proc.stdout + proc.stderr


def test_wrong_config_type_is_named(tmp_path):
    proc = snakemake(tmp_path, "-n", "features", "--config", "extract_threads=many")
    assert proc.returncode != 0 and "extract_threads" in proc.stdout + proc.stderr
