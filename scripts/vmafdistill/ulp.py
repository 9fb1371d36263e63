"""ULP (unit in the last place) distance between float32 values.

Each float32 is mapped to an integer that orders like the float: the bit pattern for x >= +0.0,
minus the magnitude's bit pattern for negatives, so -0.0 and +0.0 both map to 0, the smallest
subnormals map to -1 / +1, and adjacent floats (across zero too) differ by exactly 1. The distance
is the absolute difference of the mapped integers; a NaN on either side is an infinite distance
(a NaN never matches anything, not even another NaN). +inf is one step above the largest finite
float32.
"""

from __future__ import annotations

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


__all__ = ["ordered_int", "ulp_distance", "max_ulp"]
