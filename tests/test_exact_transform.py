"""The engine-exact student with the teacher's score transform and clip computed exactly after its output:
the transform's integer steps against libvmaf's float64 transform, proven and the same bits on every engine,
and an exact student of the phone model reaching its plateau exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from vmafdistill import engines, exact
from vmafdistill.exact.transform import emit, program, run
from vmafdistill.synth import sample_features
from vmafdistill.teacher import load_teacher, teacher_hparams, transform_hparams

from exact_for_tests import BUDGET, META, TINY, bits, student_from


def _transform_graph(steps, lo: float, hi: float) -> bytes:
    """The transform's steps alone as an ONNX graph: input ``score`` float32 [N] -> ``vmaf`` [N]."""
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
        np.testing.assert_array_equal(bits(out), bits(got), err_msg=eng)


def _tract_1d(path, s: np.ndarray) -> np.ndarray:
    tract = pytest.importorskip("tract")
    m = tract.onnx().load(str(path))
    m.set_input_fact(0, "N,f32")
    return m.into_model().into_runnable().run([s])[0].to_numpy()


def test_an_exact_student_of_the_phone_model_applies_its_transform_exactly(tmp_path) -> None:
    teacher = load_teacher("vmaf_v0.6.1", "phone")
    model = student_from(exact.pretrain_exact({**teacher_hparams(teacher), **TINY}, seed=0))
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
        np.testing.assert_array_equal(bits(engines.get_engine(eng).run(path, x)), bits(t), err_msg=eng)
