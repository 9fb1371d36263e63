"""The engine-exact student (vmafdistill.exact): the same bits on every engine, a proven 2^24 bound."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import yaml
from onnx import numpy_helper

from vmafdistill import archs, engines, exact, train
from vmafdistill.contract import GUARD_OPS
from vmafdistill.exact.transform import emit, program, run
from vmafdistill.export.onnx_graph import check_contract, metadata
from vmafdistill.export.tiers import TierSpec
from vmafdistill.synth import BOX_HIGH, BOX_LOW, generic_box, sample_features, sample_generic, synthetic_set
from vmafdistill.teacher import load_teacher, teacher_hparams, transform_hparams

#: the exact tier's byte budget in the default config
BUDGET = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())["tiers"]["exact"][
    "max_bytes"]
# tiny budgets: these tests check exactness and plumbing, not accuracy
TINY = {"pre_n": 8192, "pre_steps": 200, "qat_steps": 60, "pre_batch": 256, "cal_n": 4096, "ft_syn_val_n": 512}
FT = {"ft_steps": 20, "ft_batch": 64, "ft_replay_batch": 64, "ft_jitter": 256, "ft_replay_n": 2048,
      "ft_syn_val_n": 512, "ft_val_every": 5}
META = {"vmafdistill.arch": "exact", "vmafdistill.features": "adm2,vif_scale0,vif_scale1,vif_scale2,vif_scale3,motion2",
        "vmafdistill.features_sha256": "0" * 64, "vmafdistill.libvmaf_version": "3.0.0",
        "vmafdistill.pooling": "frame", "vmafdistill.precision": "exact", "vmafdistill.teacher": "vmaf_v0.6.1",
        "vmafdistill.tier": "nano"}


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32).reshape(-1)).view(np.uint32)


@pytest.fixture(scope="module")
def state() -> dict:
    return exact.pretrain_exact(TINY, seed=0)


def _model(state: dict) -> exact.ExactStudent:
    m = exact.build_exact(state["hparams"])
    m.load_state_dict(state["state_dict"])
    return m.eval()


@pytest.fixture(scope="module")
def model(state: dict) -> exact.ExactStudent:
    return _model(state)


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


def _ort(data_or_path, x: np.ndarray, optimize: bool = True) -> np.ndarray:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    level = ort.GraphOptimizationLevel
    opts.graph_optimization_level = level.ORT_ENABLE_ALL if optimize else level.ORT_DISABLE_ALL
    src = data_or_path if isinstance(data_or_path, bytes) else str(data_or_path)
    sess = ort.InferenceSession(src, sess_options=opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"features": x})[0]


def _openvino(path, x: np.ndarray, config: dict) -> np.ndarray:
    ov = pytest.importorskip("openvino")
    compiled = ov.Core().compile_model(str(path), "CPU", config)
    return np.array(compiled.create_infer_request().infer({0: x})[compiled.output(0)])


def _tract(path, x: np.ndarray, one_by_one: bool = False) -> np.ndarray:
    tract = pytest.importorskip("tract")
    m = tract.onnx().load(str(path))
    m.set_input_fact(0, f"N,{x.shape[1]},f32")
    run = m.into_model().into_runnable()
    if one_by_one:
        return np.concatenate([run.run([x[i : i + 1]])[0].to_numpy().reshape(-1) for i in range(len(x))])
    return run.run([x])[0].to_numpy()


def test_torch_eval_equals_ort_bit_for_bit(model, onnx_file, rows) -> None:
    with torch.no_grad():
        t = model(torch.from_numpy(rows)).numpy()
    o = _ort(onnx_file[1], rows)
    assert o.shape == (len(rows),) and o.dtype == np.float32
    np.testing.assert_array_equal(_bits(t), _bits(o))
    assert np.all((o >= 0) & (o <= 100)) and np.ptp(o) > 1.0  # a real (non-constant) function


@pytest.mark.parametrize("engine", ["ort-noopt", "onnx-reference", "openvino-f32", "tract"])
def test_every_engine_gives_the_same_bits(engine, onnx_file, rows) -> None:
    path, data = onnx_file
    ref = _ort(data, rows)
    if engine == "ort-noopt":
        got = _ort(data, rows, optimize=False)
    elif engine == "onnx-reference":
        from onnx.reference import ReferenceEvaluator

        got = ReferenceEvaluator(data).run(None, {"features": rows})[0]
    elif engine == "openvino-f32":
        got = _openvino(path, rows, {"INFERENCE_PRECISION_HINT": "f32"})
    else:
        got = _tract(path, rows)
    np.testing.assert_array_equal(_bits(ref), _bits(got))


def test_inputs_are_clamped_before_they_are_rounded(onnx_file, model, rows) -> None:
    """Every op reading the raw input is a clamp (Max/Min) or the non-finite guard: no engine rounds a huge
    value; a huge feature scores as the box's end does."""
    proto = onnx.load_from_string(onnx_file[1])
    readers = {n.op_type for n in proto.graph.node if "features" in n.input}
    assert readers <= {"Max", "Min", "IsNaN", "IsInf"} and "Round" not in readers
    x = rows[-64:]
    box = np.clip(x, np.float32(BOX_LOW), np.float32(BOX_HIGH)).astype(np.float32)
    np.testing.assert_array_equal(_bits(_ort(onnx_file[1], x)), _bits(_ort(onnx_file[1], box)))


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
    whole = _ort(data, rows)[::20]
    import onnxruntime as ort

    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    single = np.concatenate([sess.run(None, {"features": x[i : i + 1]})[0] for i in range(len(x))])
    np.testing.assert_array_equal(_bits(whole), _bits(single))
    np.testing.assert_array_equal(_bits(whole), _bits(_tract(path, x, one_by_one=True)))


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
    np.testing.assert_array_equal(_bits(before), _bits(after))


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
        np.testing.assert_array_equal(_bits(m(torch.from_numpy(xs)).numpy()), _bits(_ort(data, xs)))


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
        np.testing.assert_array_equal(_bits(m(x).numpy()), _bits(_ort(data, x.numpy())))
    fixed = exact.ExactStudent(4, hidden=(8,), box_low=lo, box_high=hi, chroma_fix=(2, 0, 1.5))  # dyadic c: exact
    x[::3, 2] = 0.0
    fixed.calibrate_(x)
    with torch.no_grad():
        np.testing.assert_array_equal(_bits(fixed(x).numpy()), _bits(_ort(exact.to_onnx(fixed, {"k": "v"}), x.numpy())))
    for fix in [(2, 2, 1.5), (4, 0, 1.5), (2, 0, 0.1), (2, 0, float("nan"))]:  # same/missing column, c not exact
        with pytest.raises(ValueError, match="chroma"):
            exact.ExactStudent(4, box_low=lo, box_high=hi, chroma_fix=fix)


# ------------------------------------------------------------------------------------------------
# a teacher with a chroma correction (VMAF v1.0.16): speed_chroma == 0 -> c - c * adm3, in the integers

V16 = "vmaf_v1.0.16_5d0h"


@pytest.fixture(scope="module")
def teacher16():
    return load_teacher(V16)


@pytest.fixture(scope="module")
def model16(teacher16) -> exact.ExactStudent:
    hp = {**teacher_hparams(teacher16), **TINY}
    assert hp["chroma_fix"] is not None and hp["n_features"] == 4
    return _model(exact.pretrain_exact(hp, seed=0))


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
    o = _ort(onnx16[1], rows16)
    assert o.shape == (len(rows16),) and o.dtype == np.float32
    np.testing.assert_array_equal(_bits(t), _bits(o))
    assert np.all((o >= 0) & (o <= 100)) and np.ptp(o) > 1.0


@pytest.mark.parametrize("engine", ["ort-noopt", "onnx-reference", "openvino-f32", "tract"])
def test_chroma_fix_every_engine_gives_the_same_bits(engine, onnx16, rows16) -> None:
    path, data, _ = onnx16
    ref = _ort(data, rows16)
    if engine == "ort-noopt":
        got = _ort(data, rows16, optimize=False)
    elif engine == "onnx-reference":
        from onnx.reference import ReferenceEvaluator

        got = ReferenceEvaluator(data).run(None, {"features": rows16})[0]
    elif engine == "openvino-f32":
        got = _openvino(path, rows16, {"INFERENCE_PRECISION_HINT": "f32"})
    else:
        got = _tract(path, rows16)
    np.testing.assert_array_equal(_bits(ref), _bits(got))


def test_chroma_fix_is_proven_and_fits_the_contract(model16, onnx16, teacher16) -> None:
    path, data, meta = onnx16
    r = exact.check_bound(data)
    assert r["ok"] and r["margin_bits"] > 0 and all(row["margin_bits"] > 0 for row in r["layers"])
    assert exact.prove_bound(model16)["worst"] == r["worst"]
    check_contract(data)
    proto = onnx.load_from_string(data)
    assert len(data) <= BUDGET and len(meta) == 9 and {p.key: p.value for p in proto.metadata_props} == meta
    assert {n.op_type for n in proto.graph.node} <= {"Mul", "Round", "Max", "Min", "Sub", "MatMul", "Add", "Floor",
                                                     "Relu", "Clip", "Cast", *GUARD_OPS}
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
    out = _ort(data, zero_rows)
    np.testing.assert_array_equal(_bits(out), _bits(_ort(data, fixed)))  # the correction is applied
    with torch.no_grad():  # and in the integer stage: the corrected integer, rounded half-even and clipped
        q = model16._input(torch.from_numpy(zero_rows))[:, g] + model16.q_c[g]
    want = np.clip(np.round(value * float(model16.in_mul[g])), float(model16.q_lo[g]), float(model16.q_hi[g]))
    np.testing.assert_array_equal(q.numpy(), want)
    col = np.arange(zero_rows.shape[1]) == g
    for v in (-0.0, 1e-7, -1e-7, 2.0**-21):  # below libvmaf's 6 decimals: 0 too
        np.testing.assert_array_equal(_bits(out), _bits(_ort(data, np.where(col, np.float32(v), zero_rows))))
    tiny = np.where(col, np.float32(1e-6), zero_rows)  # 1e-6 is not 0: not corrected
    small = np.where(col, np.float32(2.0**-11), zero_rows)  # (both round to the integer 0)
    np.testing.assert_array_equal(_bits(_ort(data, tiny)), _bits(_ort(data, small)))
    assert np.mean(_ort(data, tiny) != out) > 0.5


# ------------------------------------------------------------------------------------------------
# the teacher's score transform and clip, computed exactly after the student's output


def _transform_graph(steps, lo: float, hi: float) -> bytes:
    """The transform's steps alone as an ONNX graph: input ``score`` float32 [N] -> ``vmaf`` [N]."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def node(op, ins, out):
        nodes.append(helper.make_node(op, ins, [out]))
        return out

    def const(name, v):
        inits.append(numpy_helper.from_array(np.asarray(v, dtype=np.float32), name))
        return name

    emit(steps, node, const, "score", "vmaf")
    io = ([helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
          [helper.make_tensor_value_info("vmaf", TensorProto.FLOAT, ["N"])])
    proto = helper.make_model(helper.make_graph(nodes, "t", *io, inits), ir_version=10,
                              opset_imports=[helper.make_opsetid("", 20)])
    return proto.SerializeToString()


@pytest.mark.parametrize("name,transform", [("vmaf_v0.6.1", "phone"), ("vmaf_v1.0.16_3d0h", None),
                                            ("vmaf_v1.0.16_3d0h_2160", None), ("vmaf_v1.0.16_1d5h_2160", None),
                                            ("vmaf_v0.6.1", None)])
def test_the_transform_is_exact_provable_and_close_to_libvmaf(name, transform, tmp_path) -> None:
    """clip(T(s)) in exact integer steps: within 2.5e-4 VMAF of the float64 transform for every s a student can
    give, the same bits in torch and on every engine computing in float32, and proved < 2^24 like the graph."""
    teacher = load_teacher(name, transform)
    lo, hi = teacher.score_range
    steps, _ = program(transform_hparams(teacher.model.transform), lo, hi)
    rng = np.random.default_rng(1)
    s = np.concatenate([np.linspace(lo - 60, hi + 60, 20001), rng.uniform(lo - 40, hi + 40, 20000),
                        [-1e30, -300.0, 300.0, 1e30]]).astype(np.float32)
    want = teacher.finish(s.astype(np.float64))
    with torch.no_grad():
        got = run(steps, torch.from_numpy(s)).numpy()
    near = np.abs(s) < 1000  # beyond, v1.0.16's quadratic turns down; no student's s gets there
    assert np.abs(got - want)[near].max() <= 2.5e-4, float(np.abs(got - want)[near].max())
    path = tmp_path / "t.onnx"
    path.write_bytes(_transform_graph(steps, lo, hi))
    if teacher.model.transform.enabled:  # (without one, the steps are a lone Clip of the proven score)
        proof = exact.prove_bound(path.read_bytes())
        assert proof["ok"], proof["problems"]
    for eng in ("ort-cpu", "ort-cpu-noopt", "onnx-reference", "openvino-f32", "tract"):
        e = engines.get_engine(eng)
        out = e.infer(e.start(path), s) if eng != "tract" else _tract_1d(path, s)
        np.testing.assert_array_equal(_bits(out), _bits(got), err_msg=eng)


def _tract_1d(path, s: np.ndarray) -> np.ndarray:
    tract = pytest.importorskip("tract")
    m = tract.onnx().load(str(path))
    m.set_input_fact(0, "N,f32")
    return m.into_model().into_runnable().run([s])[0].to_numpy()


def test_an_exact_student_of_the_phone_model_applies_its_transform_exactly(tmp_path) -> None:
    teacher = load_teacher("vmaf_v0.6.1", "phone")
    model = _model(exact.pretrain_exact({**teacher_hparams(teacher), **TINY}, seed=0))
    data = exact.to_onnx(model, {**META, "vmafdistill.teacher": teacher.name})
    assert len(data) <= BUDGET and exact.prove_bound(data)["ok"]
    path = tmp_path / "phone.onnx"
    path.write_bytes(data)
    x = sample_features(3000, 5).astype(np.float32)
    with torch.no_grad():
        t = model(torch.from_numpy(x)).numpy()
        s = model.raw(torch.from_numpy(x)).numpy().astype(np.float64)
    assert np.abs(t - teacher.finish(s)).max() <= 2.5e-4  # the student's score is the transform of its s
    assert np.mean(t == 100.0) > 0.1  # the phone model's plateau (every v0.6.1 score above ~90), reached exactly
    for eng in ("ort-cpu", "onnx-reference", "openvino-f32", "tract"):
        np.testing.assert_array_equal(_bits(engines.get_engine(eng).run(path, x)), _bits(t), err_msg=eng)
