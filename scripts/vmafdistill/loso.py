"""Leave-one-source-out: fold membership, metrics, and the summary tables.

Honest evaluation: a fold's scaler, early stopping and model selection see only the training
sources; its validation subset is the training clips whose split bucket < val_fraction (the
hash split of the corpus, never the held-out source).

Self-pairs (a reference scored against itself, listed by the Netflix dataset file with dmos 100)
are genuine teacher samples at the top of the scale: they are used for training, but they are
left out of the LOSO metrics (config `self_pairs_in_metrics`), where their 9 near-identical
scores of ~100 would only inflate the correlations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from . import FEATURES, fold_id  # noqa: F401 - fold_id re-exported

METRICS = ("plcc", "srocc", "krocc", "rmse")


@dataclass(frozen=True)
class Fold:
    held_out: str
    train_clips: tuple[str, ...]
    val_clips: tuple[str, ...]  # subset of the training sources (hash split)
    test_clips: tuple[str, ...]  # every clip of the held-out source

    def check(self, clips: pl.DataFrame) -> None:
        """Assert fold membership: nothing of the held-out source is used for fitting or selection."""
        src = dict(zip(clips["clip_id"], clips["source"]))
        fit = set(self.train_clips) | set(self.val_clips)
        assert not fit & set(self.test_clips), "a held-out clip is in training or validation"
        assert all(src[c] != self.held_out for c in fit), "a clip of the held-out source is used for fitting"
        assert all(src[c] == self.held_out for c in self.test_clips), "a test clip is not of the held-out source"
        assert not set(self.train_clips) & set(self.val_clips), "training and validation overlap"


def make_fold(clips: pl.DataFrame, held_out: str, val_fraction: float) -> Fold:
    """Fold for `held_out`: train/validation from the other sources by split bucket."""
    if held_out not in set(clips["source"]):
        raise ValueError(f"no source {held_out!r} in the corpus")
    others = clips.filter(pl.col("source") != held_out).sort("clip_id")
    val = others.filter(pl.col("bucket") < val_fraction)
    train = others.filter(pl.col("bucket") >= val_fraction)
    if train.height == 0:
        raise ValueError(f"fold {held_out}: no training clips left after the validation split")
    test = clips.filter(pl.col("source") == held_out).sort("clip_id")
    fold = Fold(held_out, tuple(train["clip_id"]), tuple(val["clip_id"]), tuple(test["clip_id"]))
    fold.check(clips)
    return fold


def pooled_samples(
    pooling: str, clip_ids: tuple[str, ...], clips: pl.DataFrame, frames: pl.DataFrame,
    features: tuple[str, ...] = FEATURES,
) -> tuple[np.ndarray, np.ndarray]:
    """Training samples of a pooling: (features [N,F] in `features` order, teacher [N]) for the given clips."""
    ids = pl.Series(clip_ids, dtype=pl.String)
    if pooling == "clip":
        sub = clips.filter(pl.col("clip_id").is_in(ids)).sort("clip_id")
    elif pooling == "frame":
        sub = frames.filter(pl.col("clip_id").is_in(ids)).sort(["clip_id", "frame"])
    else:
        raise ValueError(f"unknown pooling {pooling!r} (clip, frame)")
    return sub.select(features).to_numpy().astype(np.float64), sub["vmaf"].to_numpy().astype(np.float64)


def clip_predictions(
    predict, pooling: str, clip_ids: tuple[str, ...], clips: pl.DataFrame, frames: pl.DataFrame,
    features: tuple[str, ...] = FEATURES,
) -> np.ndarray:
    """A clip's prediction: the model on mean-pooled features (clip) or the mean of per-frame ones (frame)."""
    ids = pl.Series(clip_ids, dtype=pl.String)
    if pooling == "clip":
        sub = clips.filter(pl.col("clip_id").is_in(ids)).sort("clip_id")
        return np.asarray(predict(sub.select(features).to_numpy().astype(np.float64)), dtype=np.float64)
    sub = frames.filter(pl.col("clip_id").is_in(ids)).sort(["clip_id", "frame"])
    per_frame = np.asarray(predict(sub.select(features).to_numpy().astype(np.float64)), dtype=np.float64)
    pooled = (
        pl.DataFrame({"clip_id": sub["clip_id"], "p": per_frame})
        .group_by("clip_id", maintain_order=True)
        .agg(pl.col("p").mean())
        .sort("clip_id")
    )
    return pooled["p"].to_numpy()


def metrics(teacher: np.ndarray, student: np.ndarray) -> dict[str, float]:
    """PLCC, SROCC, KROCC (tau-b: ties handled), RMSE and max |error| of student vs teacher."""
    from scipy import stats  # 2 s to import: only the jobs that compute correlations pay it

    teacher = np.asarray(teacher, dtype=np.float64)
    student = np.asarray(student, dtype=np.float64)
    err = student - teacher
    out = {"rmse": float(np.sqrt(np.mean(err**2))), "max_abs_error": float(np.max(np.abs(err)))}
    if len(teacher) < 3 or np.ptp(teacher) == 0 or np.ptp(student) == 0:
        out.update(plcc=float("nan"), srocc=float("nan"), krocc=float("nan"))
    else:
        out["plcc"] = float(stats.pearsonr(teacher, student).statistic)
        out["srocc"] = float(stats.spearmanr(teacher, student).statistic)
        out["krocc"] = float(stats.kendalltau(teacher, student).statistic)
    return out


def fold_table(predictions: pl.DataFrame) -> pl.DataFrame:
    """Per-fold metrics from held-out predictions (model, arch, pooling, seed, fold, clip_id, teacher, student)."""
    rows = []
    keys = ["model", "arch", "pooling", "seed", "fold"]
    for key, part in predictions.group_by(keys, maintain_order=True):
        m = metrics(part["teacher"].to_numpy(), part["student"].to_numpy())
        rows.append({**dict(zip(keys, key)), "n_clips": part.height, **m})
    return pl.DataFrame(rows).sort(keys)


def _num(value) -> float:  # a polars scalar (None when nothing was defined)
    return float("nan") if value is None else float(value)


def _dmos_corr(part: pl.DataFrame, column: str) -> tuple[float, float]:
    from scipy import stats

    sub = part.filter(pl.col("dmos").is_not_null())
    if sub.height < 3:
        return float("nan"), float("nan")
    x, y = sub[column].to_numpy(), sub["dmos"].to_numpy()
    return float(stats.pearsonr(x, y).statistic), float(stats.spearmanr(x, y).statistic)


def summary_table(predictions: pl.DataFrame, folds: pl.DataFrame) -> pl.DataFrame:
    """One row per model x pooling: mean/std (ddof=1) across folds (and seeds), pooled metrics, DMOS."""
    rows = []
    for (model, arch, pooling), part in predictions.group_by(["model", "arch", "pooling"], maintain_order=True):
        f = folds.filter((pl.col("model") == model) & (pl.col("pooling") == pooling))
        row: dict = {"model": model, "arch": arch, "pooling": pooling, "n_folds": f["fold"].n_unique()}
        row["n_seeds"] = f["seed"].n_unique()
        for m in METRICS:
            # across folds: per seed first, then averaged over seeds
            # a fold whose correlation is undefined (fewer than 3 clips, or constant) is left out
            col = pl.col(m).fill_nan(None)
            per_seed = f.group_by("seed").agg(col.mean().alias("mean"), col.std(ddof=1).alias("std"))
            row[f"{m}_mean"] = _num(per_seed["mean"].mean())
            row[f"{m}_std"] = _num(per_seed["std"].mean())
            row[f"{m}_seed_std"] = _num(per_seed["mean"].std(ddof=1)) if per_seed.height > 1 else float("nan")
        pooled = [metrics(p["teacher"].to_numpy(), p["student"].to_numpy()) for _, p in part.group_by("seed")]
        for m in (*METRICS, "max_abs_error"):
            row[f"{m}_pooled"] = float(np.mean([p[m] for p in pooled]))
        row["max_abs_error"] = float(np.max(np.abs(part["student"].to_numpy() - part["teacher"].to_numpy())))
        row["dmos_plcc_student"], row["dmos_srocc_student"] = _dmos_corr(part, "student")
        row["dmos_plcc_teacher"], row["dmos_srocc_teacher"] = _dmos_corr(part, "teacher")
        rows.append(row)
    return pl.DataFrame(rows).sort(["pooling", "rmse_mean"])


def summary_markdown(summary: pl.DataFrame) -> str:
    cols = ["model", "pooling", "plcc_mean", "plcc_std", "srocc_mean", "krocc_mean", "rmse_mean", "rmse_std",
            "rmse_pooled", "max_abs_error"]
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    lines = []
    for r in summary.iter_rows(named=True):
        cells = []
        for c in cols:
            v = r[c]
            cells.append(f"{v:.5f}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"
