"""LOSO plots (matplotlib, PNG): residuals (student - teacher) per model, per-fold PLCC bars."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl

from .atomic import atomic_path


def residuals(predictions: pl.DataFrame, out: str | Path, teacher: str = "teacher") -> None:
    """One panel per model x pooling: each held-out clip's residual (student - teacher, VMAF points)
    against its teacher score, coloured by held-out source, on the panel's own y scale (at ~0.01
    VMAF a student vs teacher scatter sits on the diagonal and shows nothing)."""
    groups = predictions.select(["model", "pooling"]).unique(maintain_order=True).rows()
    n = len(groups)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.4 * rows), squeeze=False, dpi=110)
    sources = sorted(predictions["fold"].unique())
    cmap = plt.get_cmap("tab10" if len(sources) <= 10 else "tab20")
    for ax, (model, pooling) in zip(axes.flat, groups):
        part = predictions.filter((pl.col("model") == model) & (pl.col("pooling") == pooling))
        for i, src in enumerate(sources):
            s = part.filter(pl.col("fold") == src)
            ax.scatter(s["teacher"], s["student"] - s["teacher"], s=12, color=cmap(i % cmap.N), label=src)
        ax.axhline(0.0, color="black", lw=0.8, ls="--")
        err = (part["student"] - part["teacher"]).abs().max() or 0.0
        ax.set(xlim=(0, 102), ylim=(-1.1 * err - 1e-6, 1.1 * err + 1e-6), title=f"{model} / {pooling}",
               xlabel=f"teacher {teacher}")
        ax.set_ylabel("student - teacher (VMAF)")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(sources), 9), fontsize=7, title="held-out source")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _save(fig, out)


def fold_plcc(folds: pl.DataFrame, out: str | Path) -> None:
    """Per-fold PLCC, one group of bars per held-out source, one bar per model x pooling."""
    f = folds.group_by(["model", "pooling", "fold"]).agg(pl.col("plcc").mean()).sort(["fold", "model", "pooling"])
    fold_names = sorted(f["fold"].unique())
    series = f.select(["model", "pooling"]).unique().sort(["model", "pooling"]).rows()
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(fold_names) + 2), 3.8), dpi=110)
    for k, (model, pooling) in enumerate(series):
        s = f.filter((pl.col("model") == model) & (pl.col("pooling") == pooling))
        lookup = dict(zip(s["fold"], s["plcc"]))
        xs = [i + k * width for i in range(len(fold_names))]
        ax.bar(xs, [lookup.get(n, float("nan")) for n in fold_names], width=width, label=f"{model}/{pooling}")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(fold_names))], fold_names, rotation=30, ha="right")
    low = f["plcc"].drop_nans().min()
    ax.set_ylim(max(0.0, (low if low is not None else 0.9) - 0.005), 1.0005)
    ax.set_ylabel("PLCC vs teacher (held-out fold)")
    ax.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    _save(fig, out)


def _save(fig, out: str | Path) -> None:
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
