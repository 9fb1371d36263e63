"""ULP distance between float32 values (vmafdistill.ulp), as the gate's engine comparisons use it: known
floats across zero, negatives, infinities and NaN, and arrays."""

from __future__ import annotations

import numpy as np
import pytest

from vmafdistill.ulp import max_ulp, ulp_distance

f32 = np.float32


def _up(x, n=1):
    x = f32(x)
    for _ in range(n):
        x = np.nextafter(x, f32(np.inf))
    return x


def test_ulp_known_floats():
    assert ulp_distance(f32(1.0), _up(1.0)) == 1
    assert ulp_distance(f32(1.0), _up(1.0, 2)) == 2
    assert ulp_distance(f32(1.0), f32(1.0)) == 0
    assert ulp_distance(f32(-0.0), f32(0.0)) == 0
    tiny = _up(0.0)  # smallest positive subnormal
    assert ulp_distance(-tiny, tiny) == 2  # across zero: -tiny, 0, +tiny
    assert ulp_distance(f32(-0.0), tiny) == 1
    assert ulp_distance(f32(-1.0), np.nextafter(f32(-1.0), f32(0))) == 1  # negatives
    assert ulp_distance(f32(-1.0), f32(1.0)) == 2 * ulp_distance(f32(0.0), f32(1.0))
    assert ulp_distance(np.finfo(np.float32).max, f32(np.inf)) == 1
    assert ulp_distance(f32(np.nan), f32(1.0)) == np.inf
    assert ulp_distance(f32(np.nan), f32(np.nan)) == np.inf
    assert ulp_distance(f32(2.0), f32(1.0)) == 2**23  # one binade of float32


def test_ulp_arrays():
    a = np.array([1.0, 50.0, -3.0, 0.0], dtype=np.float32)
    b = np.array([_up(1.0), _up(50.0, 3), -3.0, -0.0], dtype=np.float32)
    np.testing.assert_array_equal(ulp_distance(a, b), [1, 3, 0, 0])
    assert max_ulp(a, b) == 3
    with pytest.raises(ValueError, match="shapes differ"):
        max_ulp(a, b[:2])
