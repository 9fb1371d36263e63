"""LOSO: fold membership, metrics against scipy, tables, and the loso target end to end."""

import numpy as np
import polars as pl
import pytest
from scipy import stats

from tiny import PEERS, TEACHERS
from vmafdistill import fold_id
from vmafdistill.loso import clip_predictions, fold_table, make_fold, metrics, pooled_samples, summary_table
from vmafdistill.teacher import load_teacher

def _clips(n_sources=4, per_source=5, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sources):
        for k in range(per_source):
            rows.append({"clip_id": f"dis__S{s}_{k}", "source": f"S{s}", "bucket": float(rng.random())})
    return pl.DataFrame(rows)


def test_fold_membership_never_leaks_the_held_out_source():
    clips = _clips()
    for held_out in clips["source"].unique():
        fold = make_fold(clips, held_out, 0.3)
        src = dict(zip(clips["clip_id"], clips["source"]))
        assert {src[c] for c in fold.test_clips} == {held_out}
        assert held_out not in {src[c] for c in fold.train_clips + fold.val_clips}
        assert set(fold.train_clips).isdisjoint(fold.val_clips)
        assert len(fold.train_clips) + len(fold.val_clips) + len(fold.test_clips) == clips.height
        # the validation subset is the hash split: bucket < val_fraction, nothing else
        buckets = dict(zip(clips["clip_id"], clips["bucket"]))
        assert all(buckets[c] < 0.3 for c in fold.val_clips) and all(buckets[c] >= 0.3 for c in fold.train_clips)


def test_fold_check_catches_a_leak():
    clips = _clips()
    fold = make_fold(clips, "S0", 0.3)
    leaky = type(fold)(fold.held_out, fold.train_clips + fold.test_clips[:1], fold.val_clips, fold.test_clips)
    with pytest.raises(AssertionError):
        leaky.check(clips)


def test_metrics_match_scipy_with_ties():
    teacher = np.array([10.0, 20.0, 20.0, 30.0, 55.5, 70.0, 70.0, 99.0])
    student = np.array([11.0, 19.0, 21.0, 30.0, 50.0, 72.0, 69.0, 99.0])
    m = metrics(teacher, student)
    assert m["plcc"] == pytest.approx(stats.pearsonr(teacher, student).statistic, abs=1e-12)
    assert m["srocc"] == pytest.approx(stats.spearmanr(teacher, student).statistic, abs=1e-12)
    assert m["krocc"] == pytest.approx(stats.kendalltau(teacher, student, variant="b").statistic, abs=1e-12)
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((teacher - student) ** 2)), abs=1e-12)
    assert m["max_abs_error"] == pytest.approx(5.5)


def test_summary_mean_and_std_across_folds_use_ddof_1():
    rows = []
    for f, err in zip(["A", "B", "C"], [0.1, 0.2, 0.6]):
        for i, t in enumerate([20.0, 50.0, 80.0, 95.0]):
            rows.append({"model": "m", "arch": "m", "pooling": "frame", "seed": 0, "fold": f,
                         "clip_id": f"{f}{i}", "teacher": t, "student": t + (err if i % 2 else -err), "dmos": None})
    pred = pl.DataFrame(rows, schema_overrides={"dmos": pl.Float64})
    folds = fold_table(pred)
    summary = summary_table(pred, folds)
    assert summary["rmse_mean"][0] == pytest.approx(np.mean([0.1, 0.2, 0.6]))
    assert summary["rmse_std"][0] == pytest.approx(np.std([0.1, 0.2, 0.6], ddof=1))
    assert summary["max_abs_error"][0] == pytest.approx(0.6)
    assert folds.height == 3


def test_loso_tables_end_to_end(tiny_run):
    """The shared run's LOSO tables for each teacher: every arch and pooling, the published peers scored as
    external rows for the teacher whose features they take (vmaf_v0.6.1), plots."""
    for teacher in TEACHERS:
        summary = pl.read_csv(tiny_run.teacher(teacher) / "loso/summary.csv")
        folds = pl.read_csv(tiny_run.teacher(teacher) / "loso/folds.csv")
        for col in ("arch", "pooling", "plcc_mean", "plcc_std", "srocc_mean", "srocc_std", "krocc_mean",
                    "krocc_std", "rmse_mean", "rmse_std", "plcc_pooled", "rmse_pooled", "max_abs_error",
                    "dmos_plcc_student", "dmos_plcc_teacher"):
            assert col in summary.columns, col
        trained = summary.filter(~pl.col("model").str.starts_with("external:"))
        archs = ("linear", "nano", "exact", "reweight_svm")
        assert set(zip(trained["arch"], trained["pooling"])) == {(a, "frame") for a in archs}
        assert folds["fold"].n_unique() == 3 and set(folds["n_clips"]) == {3}  # self-pairs left out of metrics
        externals = summary.filter(pl.col("model").str.starts_with("external:")).height
        assert externals == (2 if PEERS.is_dir() and teacher == "vmaf_v0.6.1" else 0)
        # a real student tracks the teacher far better than the linear baseline; the teacher itself best
        rmse = {a: trained.filter((pl.col("arch") == a) & (pl.col("pooling") == "frame"))["rmse_mean"][0]
                for a in archs}
        assert rmse["reweight_svm"] < rmse["nano"] < rmse["linear"]
        for png in ("residuals.png", "fold_plcc.png"):
            assert (tiny_run.teacher(teacher) / "loso" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_loso_predictions_are_held_out_only(tiny_run):
    paths = list(tiny_run.work.glob("results/teachers/*/loso/*/*/*/seed0/predictions.parquet"))
    assert len(paths) == len(TEACHERS) * 4 * 3
    for path in paths:
        pred = pl.read_parquet(path)
        fold = path.parts[-3]
        assert {fold_id(s) for s in pred["source"]} == {fold} and set(pred["fold"]) == {fold}


def test_the_two_poolings(tiny_run):
    """On the shared run's tables: `frame` pooling trains on every frame and scores a clip by the mean of its
    frames' predictions; `clip` pooling trains on the clip means and scores the mean features (libvmaf's
    own pooling is the mean of per-frame scores, which only the frame pooling reproduces exactly)."""
    teacher = load_teacher("vmaf_v0.6.1")
    clips = pl.read_parquet(tiny_run.teacher() / "features/clips.parquet")
    frames = pl.read_parquet(tiny_run.teacher() / "features/frames.parquet")
    ids = tuple(sorted(clips["clip_id"]))[:5]
    xf, yf = pooled_samples("frame", ids, clips, frames, teacher.features)
    xc, yc = pooled_samples("clip", ids, clips, frames, teacher.features)
    assert xf.shape == (50, 6) and xc.shape == (5, 6) and np.allclose(xc, xf.reshape(5, 10, 6).mean(axis=1))
    assert np.allclose(yc, yf.reshape(5, 10).mean(axis=1))
    frame = clip_predictions(teacher.predict, "frame", ids, clips, frames, teacher.features)
    clip = clip_predictions(teacher.predict, "clip", ids, clips, frames, teacher.features)
    assert np.abs(frame - yc).max() <= 5e-4  # the teacher, frame-pooled, is libvmaf's clip score
    assert np.allclose(clip, teacher.predict(xc)) and np.abs(clip - yc).max() > np.abs(frame - yc).max()
    with pytest.raises(ValueError, match="unknown pooling"):
        pooled_samples("median", ids, clips, frames, teacher.features)
