"""libvmaf's per-frame JSON log (``log_fmt=json``): the one reader of its frames, and its error.

``log_table`` reads given per-frame metric keys of every frame (a logged null as NaN); ``parse_libvmaf_log``
reads a pass's log as the workflow uses it: the teacher's features, its score and the libvmaf version,
every value finite. A leaf module: ``ffmpeg``, ``features`` and ``libvmaf_model`` read logs through it.
"""

from __future__ import annotations

import numpy as np

from . import FEATURES, LIBVMAF_KEYS


class LibvmafLogError(Exception):
    """A libvmaf JSON log is missing frames, keys, or holds non-finite values."""


def log_table(doc: dict, keys: list[str] | tuple[str, ...], where: str) -> np.ndarray:
    """float64 [frames, len(keys)]: each frame's value of each key (a logged null as NaN); LibvmafLogError,
    naming ``where``, for a log without frames or a frame without a key."""
    frames = doc.get("frames") if isinstance(doc, dict) else None
    if not frames:
        raise LibvmafLogError(f"{where}: libvmaf log has no frames")
    table = np.empty((len(frames), len(keys)), dtype=np.float64)
    for i, frame in enumerate(frames):
        metrics = frame.get("metrics", {})
        missing = [k for k in keys if k not in metrics]
        if missing:
            raise LibvmafLogError(f"{where}: frame {i} lacks {', '.join(missing)}")
        table[i] = [np.nan if metrics[k] is None else metrics[k] for k in keys]
    return table


def parse_libvmaf_log(
    doc: dict, name: str, feature_keys: tuple[str, ...] | list[str] | None = None, score_key: str = "vmaf"
) -> tuple[np.ndarray, np.ndarray, str]:
    """(features [frames, F] in the order of `feature_keys`, score [frames], libvmaf version) from a
    libvmaf JSON log; `feature_keys` default: vmaf_v0.6.1's, canonical order (teacher.Teacher.log_keys
    gives any teacher's). Every value must be finite (LibvmafLogError otherwise)."""
    fkeys = list(feature_keys) if feature_keys is not None else [LIBVMAF_KEYS[f] for f in FEATURES]
    keys = [*fkeys, score_key]
    table = log_table(doc, keys, name)
    bad = ~np.isfinite(table)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise LibvmafLogError(f"{name}: frame {i} has a non-finite {keys[j]} ({table[i, j]})")
    return table[:, :-1], table[:, -1], str(doc.get("version", "unknown"))


__all__ = ["LibvmafLogError", "log_table", "parse_libvmaf_log"]
