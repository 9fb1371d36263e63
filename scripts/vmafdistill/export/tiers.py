"""Tiers (config `tiers`): the spec, the final training split, the byte budget, the errors of an export."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .. import FEATURES

PRECISIONS = ("fp32", "fp16", "int8", "exact")
POOLINGS = ("clip", "frame")


class ExportError(Exception):
    """An export breaks its contract (graph, determinism, agreement with torch)."""


class BudgetError(ExportError):
    """An exported tier is larger than its byte budget."""


@dataclass(frozen=True)
class TierSpec:
    """A tier of config ``tiers``: which student, pooled how, exported at which precision, budget."""

    name: str
    arch: str
    pooling: str
    precision: str
    max_bytes: int

    @classmethod
    def from_config(cls, name: str, spec: dict) -> TierSpec:
        t = cls(name, str(spec["arch"]), str(spec["pooling"]), str(spec["precision"]), int(spec["max_bytes"]))
        if t.precision not in PRECISIONS:
            raise ExportError(f"tier {name}: precision {t.precision!r} is not one of {', '.join(PRECISIONS)}")
        if t.pooling not in POOLINGS:
            raise ExportError(f"tier {name}: pooling {t.pooling!r} is not one of {', '.join(POOLINGS)}")
        return t


@dataclass(frozen=True)
class FinalSplit:
    """Every source: training clips (bucket >= val_fraction) and early-stopping clips (bucket < val_fraction)."""

    train_clips: tuple[str, ...]
    val_clips: tuple[str, ...]


def final_split(clips: pl.DataFrame, val_fraction: float) -> FinalSplit:
    """The hash split of the whole corpus (the LOSO validation rule without a held-out source)."""
    c = clips.sort("clip_id")
    val = c.filter(pl.col("bucket") < val_fraction)
    train = c.filter(pl.col("bucket") >= val_fraction)
    if train.height == 0:
        raise ExportError(f"no training clips: every clip has split bucket < val_fraction={val_fraction}")
    return FinalSplit(tuple(train["clip_id"]), tuple(val["clip_id"]))


def corpus_frames(frames: pl.DataFrame, features: tuple[str, ...] | list[str] = FEATURES) -> np.ndarray:
    """The corpus's per-frame features, float64 [N, F] in `features` order (clip_id, frame order)."""
    return frames.sort(["clip_id", "frame"]).select(list(features)).to_numpy().astype(np.float64)



def check_budget(tier: TierSpec, n_bytes: int) -> None:
    """Raise BudgetError, naming tier, arch, bytes, budget and what to do, when the file is too big."""
    if n_bytes <= tier.max_bytes:
        return
    if tier.precision == "fp32":
        hint = "set the tier's precision to fp16 (about half the bytes) or int8, or choose a smaller arch"
    elif tier.precision == "fp16":
        hint = "set the tier's precision to int8, or choose a smaller arch"
    elif tier.precision == "exact":
        hint = "choose a smaller exact arch (fewer hidden units)"
    else:
        hint = "choose a smaller arch"
    raise BudgetError(
        f"tier {tier.name}: arch {tier.arch} at {tier.precision} exports to {n_bytes:,} bytes, over the tier's "
        f"budget of {tier.max_bytes:,} bytes (max_bytes); {hint} (config `tiers`)"
    )

