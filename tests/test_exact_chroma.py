"""The engine-exact student of a teacher with a chroma correction (VMAF v1.0.16: speed_chroma == 0 ->
c - c * adm3, in the integers): the same bits in torch and on every engine, proven and within the contract,
and the correction applied exactly (rounding ties; every non-zero normal float32 left alone, as libvmaf does)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from vmafdistill import exact
from vmafdistill.contract import GUARD_OPS
from vmafdistill.export.onnx_graph import check_contract, metadata
from vmafdistill.export.tiers import TierSpec
from vmafdistill.synth import generic_box, sample_generic
from vmafdistill.teacher import load_teacher, teacher_hparams

from exact_for_tests import BUDGET, F32_ENGINES, TINY, bits, f32_engine_run, ort_run, student_from

V16 = "vmaf_v1.0.16_5d0h"


@pytest.fixture(scope="module")
def teacher16():
    return load_teacher(V16)


@pytest.fixture(scope="module")
def model16(teacher16) -> exact.ExactStudent:
    hp = {**teacher_hparams(teacher16), **TINY}
    assert hp["chroma_fix"] is not None and hp["n_features"] == 4
    return student_from(exact.pretrain_exact(hp, seed=0))


@pytest.fixture(scope="module")
def onnx16(model16, teacher16, tmp_path_factory):
    meta = metadata(TierSpec("nano", "exact", "frame", "exact", BUDGET), "0" * 64, "3.0.0", teacher16)
    data = exact.to_onnx(model16, meta)
    path = tmp_path_factory.mktemp("exact16") / "exact16.onnx"
    path.write_bytes(data)
    return path, data, meta


def _adm3_q(model: exact.ExactStudent, adm3: np.ndarray) -> np.ndarray:
    """adm3 as the student sees it: rounded (half-even) and clipped to the box's grid, float64."""
    a, mul = model.chroma_fix[1], float(model.in_mul[model.chroma_fix[1]])
    return np.clip(np.round(adm3.astype(np.float32).astype(np.float64) * mul), float(model.q_lo[a]),
                   float(model.q_hi[a])) / mul


@pytest.fixture(scope="module")
def zero_rows(model16, teacher16) -> np.ndarray:
    """Rows with speed_chroma exactly 0: adm3 over and past the box, on rounding ties of adm3 and of the
    corrected value, the other features anywhere."""
    g, a, _ = model16.chroma_fix
    rng = np.random.default_rng(5)
    lo, hi = generic_box(teacher16)
    span = hi - lo
    x = rng.uniform(lo - 0.2 * span, hi + 0.2 * span, (900, 4))
    mul = float(model16.in_mul[a])
    n = rng.integers(float(model16.q_lo[a]), float(model16.q_hi[a]), 300)
    x[:300, a] = (n - n % 8 + 4) / mul  # c (1 - adm3) 2^s_g on a tie (c 2^(s_g - s_a) = 15/8)
    x[300:600, a] = (n + 0.5) / mul  # adm3 itself on a tie
    x[:, g] = 0.0
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def rows16(model16, teacher16, zero_rows) -> np.ndarray:
    g = model16.chroma_fix[0]
    near = zero_rows[:200].copy()
    near[:, g] = np.tile(np.float32([1e-6, -1e-6, 1e-7, -1e-7, 2.0**-21, -0.0, 2.0**-11, 1e-3]), 25)
    x = np.concatenate([sample_generic(teacher16, 2000, 11).astype(np.float32), zero_rows, near])
    return np.ascontiguousarray(x, dtype=np.float32)


def test_chroma_fix_torch_eval_equals_ort_bit_for_bit(model16, onnx16, rows16) -> None:
    assert np.sum(rows16[:, 2] == 0) > 500 and np.sum(rows16[:, 2] != 0) > 1500
    with torch.no_grad():
        t = model16(torch.from_numpy(rows16)).numpy()
    o = ort_run(onnx16[1], rows16)
    assert o.shape == (len(rows16),) and o.dtype == np.float32
    np.testing.assert_array_equal(bits(t), bits(o))
    assert np.all((o >= 0) & (o <= 100)) and np.ptp(o) > 1.0


@pytest.mark.parametrize("engine", F32_ENGINES)
def test_chroma_fix_every_engine_gives_the_same_bits(engine, onnx16, rows16) -> None:
    path, data, _ = onnx16
    np.testing.assert_array_equal(bits(ort_run(data, rows16)), bits(f32_engine_run(engine, path, data, rows16)))


def test_chroma_fix_is_proven_and_fits_the_contract(model16, onnx16, teacher16) -> None:
    path, data, meta = onnx16
    r = exact.check_bound(data)
    assert r["ok"] and r["margin_bits"] > 0 and all(row["margin_bits"] > 0 for row in r["layers"])
    assert exact.prove_bound(model16)["worst"] == r["worst"]
    check_contract(data)
    proto = onnx.load_from_string(data)
    assert len(data) <= BUDGET and len(meta) == 9 and {p.key: p.value for p in proto.metadata_props} == meta
    assert {n.op_type for n in proto.graph.node} <= {"Abs", "Mul", "Round", "Max", "Min", "Sub", "MatMul", "Add",
                                                     "Floor", "Relu", "Clip", "Cast", *GUARD_OPS}
    lo, hi = generic_box(teacher16)  # speed_chroma's box end widened to hold c (1 - adm3) at adm3's low end
    high = float(model16.q_hi[2]) / float(model16.in_mul[2])
    assert high >= 120.0 * (1.0 - lo[0]) - 1.0 / float(model16.in_mul[2]) and high > hi[2]


def test_chroma_fix_is_applied_exactly(model16, onnx16, zero_rows) -> None:
    g, a, c = model16.chroma_fix
    fixed = zero_rows.copy()
    value = c - c * _adm3_q(model16, zero_rows[:, a])  # libvmaf's corrected value of the quantised adm3
    assert np.all(value.astype(np.float32) == value)
    fixed[:, g] = value.astype(np.float32)
    data = onnx16[1]
    out = ort_run(data, zero_rows)
    np.testing.assert_array_equal(bits(out), bits(ort_run(data, fixed)))  # the correction is applied
    with torch.no_grad():  # and in the integer stage: the corrected integer, rounded half-even and clipped
        q = model16._input(torch.from_numpy(zero_rows))[:, g] + model16.q_c[g]
    want = np.clip(np.round(value * float(model16.in_mul[g])), float(model16.q_lo[g]), float(model16.q_hi[g]))
    np.testing.assert_array_equal(q.numpy(), want)
    col = np.arange(zero_rows.shape[1]) == g
    for v in (-0.0, 1e-40, -1e-40, -(2.0**-126) * 0.75):  # 0, and subnormals (flushed or not): corrected
        np.testing.assert_array_equal(bits(out), bits(ort_run(data, np.where(col, np.float32(v), zero_rows))))
    small = np.where(col, np.float32(2.0**-11), zero_rows)  # not 0: not corrected (rounds to the integer 0)
    for v in (1.6e-7, -1e-7, 1e-6, 2.0**-21, 2.0**-126, -(2.0**-126)):  # libvmaf logs speed_chroma values such as
        tiny = np.where(col, np.float32(v), zero_rows)  # 1.6e-7 and corrects only 0.0: nor are these
        np.testing.assert_array_equal(bits(ort_run(data, tiny)), bits(ort_run(data, small)))
        assert np.mean(ort_run(data, tiny) != out) > 0.5
