"""The engine-exact student (vmafdistill.exact) on the 6-feature vmaf_v0.6.1 box: the same bits in torch and on
every engine (clamped inputs, non-finite features, batch of one), the proven 2^24 bound and its refusals, the
export's contract and determinism, and training (pre-training, train_fold's fine-tuning, other input widths)."""

from __future__ import annotations

import copy

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import numpy_helper

from vmafdistill import archs, engines, exact, train
from vmafdistill.contract import GUARD_OPS
from vmafdistill.synth import BOX_HIGH, BOX_LOW, sample_features, synthetic_set
from vmafdistill.teacher import load_teacher

from exact_for_tests import BUDGET, F32_ENGINES, META, TINY, bits, f32_engine_run, ort_run, student_from, tract_run

FT = {"ft_steps": 20, "ft_batch": 64, "ft_replay_batch": 64, "ft_jitter": 256, "ft_replay_n": 2048,
      "ft_syn_val_n": 512, "ft_val_every": 5}


@pytest.fixture(scope="module")
def state() -> dict:
    return exact.pretrain_exact(TINY, seed=0)


@pytest.fixture(scope="module")
def model(state: dict) -> exact.ExactStudent:
    return student_from(state)


@pytest.fixture(scope="module")
def onnx_file(model, tmp_path_factory):
    data = exact.to_onnx(model, META)
    path = tmp_path_factory.mktemp("exact") / "exact.onnx"
    path.write_bytes(data)
    return path, data


@pytest.fixture(scope="module")
def rows(model) -> np.ndarray:
    """Realistic draws, rows far outside the box, the box's corners, and exact rounding ties (k + 1/2 steps)."""
    rng = np.random.default_rng(0)
    span = BOX_HIGH - BOX_LOW
    corners = np.array([[BOX_HIGH[j] if (i >> j) & 1 else BOX_LOW[j] for j in range(6)] for i in range(64)])
    mul = model.in_mul.numpy().astype(np.float64)
    ties = (rng.integers(np.ceil(BOX_LOW * mul), np.floor(BOX_HIGH * mul), (500, 6)) + 0.5) / mul
    huge = rng.choice(np.array([-3.4e38, -1e30, 1e30, 3.4e38]), (64, 6))  # finite, far beyond the box
    x = np.concatenate([sample_features(3000, 11), rng.uniform(BOX_LOW - span, BOX_HIGH + span, (500, 6)), corners,
                        ties, huge])
    return x.astype(np.float32)


def test_torch_eval_equals_ort_bit_for_bit(model, onnx_file, rows) -> None:
    with torch.no_grad():
        t = model(torch.from_numpy(rows)).numpy()
    o = ort_run(onnx_file[1], rows)
    assert o.shape == (len(rows),) and o.dtype == np.float32
    np.testing.assert_array_equal(bits(t), bits(o))
    assert np.all((o >= 0) & (o <= 100)) and np.ptp(o) > 1.0  # a real (non-constant) function


@pytest.mark.parametrize("engine", F32_ENGINES)
def test_every_engine_gives_the_same_bits(engine, onnx_file, rows) -> None:
    path, data = onnx_file
    np.testing.assert_array_equal(bits(ort_run(data, rows)), bits(f32_engine_run(engine, path, data, rows)))


def test_inputs_are_clamped_before_they_are_rounded(onnx_file, model, rows) -> None:
    """Every op reading the raw input is a clamp (Max/Min) or the non-finite guard: no engine rounds a huge
    value; a huge feature scores as the box's end does."""
    proto = onnx.load_from_string(onnx_file[1])
    readers = {n.op_type for n in proto.graph.node if "features" in n.input}
    assert readers <= {"Max", "Min", "IsNaN", "IsInf"} and "Round" not in readers
    x = rows[-64:]
    box = np.clip(x, np.float32(BOX_LOW), np.float32(BOX_HIGH)).astype(np.float32)
    np.testing.assert_array_equal(bits(ort_run(onnx_file[1], x)), bits(ort_run(onnx_file[1], box)))


@pytest.mark.parametrize("engine", ["ort-cpu", "ort-cpu-noopt", "onnx-reference", "openvino-f32", "openvino-default",
                                    "tract"])
def test_a_non_finite_feature_scores_nan_on_every_engine(engine, onnx_file, model, rows) -> None:
    x = np.repeat(rows[:4], 4, axis=0)
    bad = [1, 6, 11, 12]
    for i, v in zip(bad, (np.nan, np.inf, -np.inf, np.nan)):
        x[i, i % 6] = v
    want = np.isin(np.arange(len(x)), bad)
    assert np.array_equal(np.isnan(engines.get_engine(engine).run(onnx_file[0], x)), want)
    with torch.no_grad():
        assert np.array_equal(np.isnan(model(torch.from_numpy(x)).numpy()), want)


def test_batch_of_one_equals_the_batch(onnx_file, rows) -> None:
    path, data = onnx_file
    x = rows[::20]
    whole = ort_run(data, rows)[::20]
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    single = np.concatenate([sess.run(None, {"features": x[i : i + 1]})[0] for i in range(len(x))])
    np.testing.assert_array_equal(bits(whole), bits(single))
    np.testing.assert_array_equal(bits(whole), bits(tract_run(path, x, one_by_one=True)))


def test_prover_accepts_the_trained_model(model, onnx_file) -> None:
    r = exact.check_bound(onnx_file[1])
    assert r["ok"] and r["worst"] < exact.LIMIT and r["margin_bits"] > 0
    assert len(r["layers"]) >= 3 and all(0 < row["worst_partial_sum"] < exact.LIMIT for row in r["layers"])
    assert exact.prove_bound(model)["worst"] == r["worst"]  # the model and its bytes: one proof


def _replace_weight(data: bytes, name: str, f) -> bytes:
    """The graph with MatMul weight ``name`` (int16 + Cast) replaced by float32 ``f(weights)``."""
    proto = onnx.load_from_string(data)
    w = next(numpy_helper.to_array(i) for i in proto.graph.initializer if i.name == f"{name}_i")
    proto.graph.initializer.append(numpy_helper.from_array(f(w.astype(np.float32)).astype(np.float32), f"{name}_bad"))
    for nd in proto.graph.node:
        if nd.op_type == "MatMul" and nd.input[1] == name:
            nd.input[1] = f"{name}_bad"
    return proto.SerializeToString()


def test_prover_refuses_overflow_and_non_integer_weights(model, onnx_file) -> None:
    data = onnx_file[1]
    big = exact.prove_bound(_replace_weight(data, "w1", lambda w: w * 2.0**12))
    assert not big["ok"] and any(">= 2^24" in p for p in big["problems"])
    frac = exact.prove_bound(_replace_weight(data, "w1", lambda w: w + 0.5))
    assert not frac["ok"] and any("non-integer" in p for p in frac["problems"])
    with pytest.raises(exact.BoundError, match="2\\^24"):
        exact.check_bound(_replace_weight(data, "w0", lambda w: w * 2.0**12))
    bad = copy.deepcopy(model)
    bad.project = False  # without its L1 projection, scaled-up weights overflow and the export refuses
    with torch.no_grad():
        bad.layers[1].weight.mul_(2.0**12)
    with pytest.raises(exact.BoundError, match="2\\^24"):
        exact.to_onnx(bad, META)


def test_export_contract_size_and_determinism(model, onnx_file) -> None:
    data = onnx_file[1]
    assert len(data) <= BUDGET
    assert exact.to_onnx(model, META) == data
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert [i.name for i in proto.graph.input] == ["features"] and dims == ["N", 6]
    assert [o.name for o in proto.graph.output] == ["vmaf"]
    assert [d.dim_param for d in proto.graph.output[0].type.tensor_type.shape.dim] == ["N"]
    assert {p.key: p.value for p in proto.metadata_props} == META
    ops = {n.op_type for n in proto.graph.node}
    assert ops <= {"Mul", "Round", "Max", "Min", "Sub", "MatMul", "Add", "Floor", "Relu", "Clip", "Cast", *GUARD_OPS}
    with pytest.raises(exact.BoundError, match="not calibrated"):
        exact.to_onnx(exact.build_exact(), META)


def test_rescale_keeps_the_function(model, rows) -> None:
    m = copy.deepcopy(model)
    x = torch.from_numpy(rows)
    with torch.no_grad():
        before = m.raw(x).numpy()
        m.rescale_(np.array([0.8, 0.4, 0.6, 0.7, 0.8, 3.0]), np.array([0.2, 0.25, 0.2, 0.2, 0.2, 4.0]))
        after = m.raw(x).numpy()
    np.testing.assert_array_equal(bits(before), bits(after))


def test_training_is_deterministic(state) -> None:
    again = exact.pretrain_exact(TINY, seed=0)
    assert state["state_dict"].keys() == again["state_dict"].keys()
    for k, v in state["state_dict"].items():
        assert torch.equal(v, again["state_dict"][k]), k
    assert state["history"]["best_val"] == again["history"]["best_val"]


@pytest.fixture
def registered(monkeypatch):
    """``exact`` as an arch of train.train_fold (a no-op once archs.py / students.py register it)."""
    if "exact" not in archs.ARCHS:
        monkeypatch.setitem(archs.ARCHS, "exact", {"kind": "exact", "pre_steps": 12000})
        build = train.build_student

        def build_student(arch: str, hparams: dict | None = None):
            hp = archs.resolve_hparams(arch, hparams)
            return exact.build_exact(hp) if hp["kind"] == "exact" else build(arch, hparams)

        monkeypatch.setattr(train, "build_student", build_student)


def test_train_fold_fine_tunes_the_exact_student(registered, state) -> None:
    x, y = synthetic_set(600, seed=3, teacher=load_teacher())
    m, h = train.train_fold("exact", {**TINY, **FT}, x[:400], y[:400], x[400:], y[400:], seed=0, init_state=state)
    assert isinstance(m, exact.ExactStudent) and bool(m.quantized) and not m.training
    np.testing.assert_allclose(m.mean.numpy(), x[:400].mean(axis=0), rtol=1e-5)  # scaler: the training rows
    assert h["best_val"] <= h["val"][0]
    data = exact.to_onnx(m, META)
    xs = x.astype(np.float32)
    with torch.no_grad():
        np.testing.assert_array_equal(bits(m(torch.from_numpy(xs)).numpy()), bits(ort_run(data, xs)))


def test_other_input_widths_and_refusals() -> None:
    torch.manual_seed(0)
    lo, hi = np.array([0.0, 0.0, 0.0, 0.0]), np.array([1.0, 8.0, 1.0, 100.0])
    m = exact.ExactStudent(4, hidden=(8,), box_low=lo, box_high=hi, score_range=(0.0, 110.0))
    x = torch.tensor(np.random.default_rng(1).uniform(lo, hi, (512, 4)), dtype=torch.float32)
    m.calibrate_(x)
    data = exact.to_onnx(m, {"k": "v"})
    dims = [d.dim_param or d.dim_value for d in onnx.load_from_string(data).graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 4]
    with torch.no_grad():
        np.testing.assert_array_equal(bits(m(x).numpy()), bits(ort_run(data, x.numpy())))
    fixed = exact.ExactStudent(4, hidden=(8,), box_low=lo, box_high=hi, chroma_fix=(2, 0, 1.5))  # dyadic c: exact
    x[::3, 2] = 0.0
    fixed.calibrate_(x)
    with torch.no_grad():
        np.testing.assert_array_equal(bits(fixed(x).numpy()),
                                      bits(ort_run(exact.to_onnx(fixed, {"k": "v"}), x.numpy())))
    for fix in [(2, 2, 1.5), (4, 0, 1.5), (2, 0, 0.1), (2, 0, float("nan"))]:  # same/missing column, c not exact
        with pytest.raises(ValueError, match="chroma"):
            exact.ExactStudent(4, box_low=lo, box_high=hi, chroma_fix=fix)
