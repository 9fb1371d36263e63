"""ULP (unit in the last place) distance between float32 values.

Each float32 is mapped to an integer that orders like the float: the bit pattern for x >= +0.0,
minus the magnitude's bit pattern for negatives, so -0.0 and +0.0 both map to 0, the smallest
subnormals map to -1 / +1, and adjacent floats (across zero too) differ by exactly 1. The distance
is the absolute difference of the mapped integers; a NaN on either side is an infinite distance
(a NaN never matches anything, not even another NaN). +inf is one step above the largest finite
float32. ``compare`` summarises two score vectors (max and p99 ULP, |diff| in VMAF points, NaN rows):
the figures of the engine tables (``engines.engine_table``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def ordered_int(x: np.ndarray) -> np.ndarray:
    """float32 values -> int64 keys with the float order (-0.0 and +0.0 -> 0)."""
    x32 = np.asarray(x, dtype=np.float32)
    bits = np.ascontiguousarray(x32).view(np.int32).astype(np.int64).reshape(x32.shape)
    return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise ULP distance of two float32 arrays (broadcast), float64: inf where a NaN is involved.

    Inputs are cast to float32 first (a float64 array is rounded to float32).
    """
    a32 = np.asarray(a, dtype=np.float32)
    b32 = np.asarray(b, dtype=np.float32)
    a32, b32 = np.broadcast_arrays(a32, b32)
    d = np.abs(ordered_int(a32) - ordered_int(b32)).astype(np.float64)
    return np.where(np.isnan(a32) | np.isnan(b32), np.inf, d)


def max_ulp(a: np.ndarray, b: np.ndarray) -> float:
    """Largest ULP distance of two same-shape float32 arrays (0 for empty ones)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    d = ulp_distance(a, b)
    return float(d.max()) if d.size else 0.0


def compare(reference: np.ndarray, other: np.ndarray) -> dict[str, Any]:
    """``other`` vs ``reference`` (float32 [N]): max and p99 (nearest rank) ULP, max and mean |diff| in
    VMAF points; a NaN on either side counts as an infinite distance (``nan_rows`` says how many).

    ULP is relative to each score: a score near 0 is computed as ``30 h + 50`` and loses its low bits
    to that cancellation, so a few ULP at 50 (3.8e-6 each) read as thousands of ULP at 0.01."""
    a = np.asarray(reference, dtype=np.float32).reshape(-1)
    b = np.asarray(other, dtype=np.float32).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    nan = np.isnan(a) | np.isnan(b)
    ulp = ulp_distance(a, b)
    with np.errstate(invalid="ignore"):
        diff = np.where(nan, np.inf, np.abs(a.astype(np.float64) - b.astype(np.float64)))
    n = int(a.size)
    return {
        "rows": n,
        "max_ulp": float(ulp.max()) if n else 0.0,
        "p99_ulp": float(np.quantile(ulp, 0.99, method="inverted_cdf")) if n else 0.0,
        "max_abs_diff": float(diff.max()) if n else 0.0,
        "mean_abs_diff": float(diff.mean()) if n else 0.0,
        "nan_rows": int(nan.sum()),
    }


__all__ = ["compare", "ordered_int", "ulp_distance", "max_ulp"]
