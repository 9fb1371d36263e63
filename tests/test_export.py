"""Export contract of the tiers: ONNX graph, budget errors, ORT vs torch, determinism, fp16/int8."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto

from vmafdistill import FEATURES
from vmafdistill import export as ex
from vmafdistill import onnxrun
from vmafdistill.golden import load_fixture
from vmafdistill.students import build_student
from vmafdistill.synth import sample_features
from vmafdistill.teacher import load_teacher
from vmafdistill.train import predict

from students_for_tests import random_student

OPSET = 20


_student = random_student


def _meta(tier: str = "nano", arch: str = "nano", precision: str = "fp32") -> dict[str, str]:
    return ex.metadata(ex.TierSpec(tier, arch, "frame", precision, 10**6), "ab" * 32, "86da14d", load_teacher())


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    """Real libvmaf features (the golden fixture's frames) and teacher-domain synthetic vectors."""
    return np.concatenate([load_fixture()["frame_features"], sample_features(3000, seed=7)])


@pytest.fixture(scope="module")
def nano() -> tuple[torch.nn.Module, bytes]:
    model = _student("nano")
    return model, ex.build_onnx(model, "fp32", _meta(), OPSET)


def test_contract(nano):
    _, data = nano
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert (inp.name, out.name) == ("features", "vmaf")
    assert inp.type.tensor_type.elem_type == TensorProto.FLOAT and out.type.tensor_type.elem_type == TensorProto.FLOAT
    in_dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    out_dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    assert in_dims == ["N", 6] and out_dims == ["N"]
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert all(t.data_location != TensorProto.EXTERNAL for t in proto.graph.initializer)  # one self-contained file
    meta = {p.key: p.value for p in proto.metadata_props}
    assert set(ex.METADATA_KEYS) <= set(meta)
    assert meta["vmafdistill.features"] == ",".join(FEATURES)
    assert meta["vmafdistill.libvmaf_version"] == "86da14d" and meta["vmafdistill.precision"] == "fp32"
    # the standardisation is in the graph: raw features in, scores in [0, 100] out
    assert [n.op_type for n in proto.graph.node][:2] == ["Sub", "Div"]


def test_symbolic_batch_runs_any_batch(nano, rows):
    _, data = nano
    sess = onnxrun.session(data)
    for n in (1, 7, len(rows)):
        out = onnxrun.run(sess, rows[:n])
        assert out.shape == (n,) and out.dtype == np.float32
        assert np.all((out >= 0) & (out <= 100))


@pytest.mark.parametrize("arch", ["nano", "mlp_64x2"])
def test_fp32_ort_matches_torch_at_4_places(arch, rows):
    model = _student(arch, seed=3)
    data = ex.build_onnx(model, "fp32", _meta(arch=arch), OPSET)
    torch_out = predict(model, rows)
    ort_out = onnxrun.predict(data, rows)
    assert ex.places_mismatches(torch_out, ort_out) == 0
    np.testing.assert_almost_equal(ort_out, torch_out, decimal=4)


def test_export_bytes_are_deterministic(nano):
    model, data = nano
    assert ex.build_onnx(model, "fp32", _meta(), OPSET) == data
    clone = build_student("nano")
    clone.load_state_dict(model.state_dict())
    assert ex.build_onnx(clone, "fp32", _meta(), OPSET) == data  # same weights, another object


def test_budget_failure_names_tier_arch_bytes_budget():
    model = build_student("mlp_128x3")
    data = ex.build_onnx(model, "fp32", _meta("tiny", "mlp_128x3"), OPSET)
    tier = ex.TierSpec("tiny", "mlp_128x3", "frame", "fp32", 102_400)
    with pytest.raises(ex.BudgetError) as err:
        ex.check_budget(tier, len(data))
    msg = str(err.value)
    assert "tier tiny" in msg and "mlp_128x3" in msg and f"{len(data):,} bytes" in msg and "102,400" in msg
    assert "fp16" in msg and "int8" in msg and "smaller arch" in msg
    ex.check_budget(ex.TierSpec("tiny", "mlp_128x3", "frame", "fp32", len(data)), len(data))  # exactly at budget: ok


def test_fp16_keeps_float32_io_and_halves_the_file(rows):
    model = _student("mlp_128x3", seed=1)
    fp32 = ex.build_onnx(model, "fp32", _meta("tiny", "mlp_128x3"), OPSET)
    fp16 = ex.build_onnx(model, "fp16", _meta("tiny", "mlp_128x3", "fp16"), OPSET)
    assert len(fp16) < 0.6 * len(fp32) and len(fp16) <= 102_400 < len(fp32)
    proto = onnx.load_from_string(fp16)
    assert proto.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert proto.graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert any(t.data_type == TensorProto.FLOAT16 for t in proto.graph.initializer)
    out = onnxrun.predict(fp16, rows)
    assert out.dtype == np.float32 and out.shape == (len(rows),)
    cost = ex.precision_cost(predict(model, rows), out)
    assert 0 < cost["max_abs_diff"] < 0.5  # reduced precision costs something, not much
    assert ex.build_onnx(model, "fp16", _meta("tiny", "mlp_128x3", "fp16"), OPSET) == fp16


def test_int8_is_dynamic_and_batch_dependent(rows):
    model = _student("mlp_64x2", seed=2)
    data = ex.build_onnx(model, "int8", _meta("tiny", "mlp_64x2", "int8"), OPSET)
    ops = {n.op_type for n in onnx.load_from_string(data).graph.node}
    assert "DynamicQuantizeLinear" in ops and "Gemm" not in ops
    sess = onnxrun.session(data)
    whole = onnxrun.run(sess, rows)
    alone = np.array([onnxrun.run(sess, rows[i : i + 1])[0] for i in range(50)])
    assert not np.array_equal(alone, whole[:50])


def test_contract_violations_are_named(nano):
    _, data = nano
    proto = onnx.load_from_string(data)
    proto.graph.input[0].name = "x"
    for node in proto.graph.node:
        node.input[:] = ["x" if i == "features" else i for i in node.input]
    del proto.metadata_props[:]
    with pytest.raises(ex.ExportError, match=r"IO names.*features.*metadata_props lacks"):
        ex.check_contract(proto.SerializeToString())
    with pytest.raises(ex.ExportError, match="opset 16 < 17"):
        ex.torch_to_onnx(build_student("nano"), 16)


def test_tier_spec_and_fingerprint():
    with pytest.raises(ex.ExportError, match="precision 'bf16'"):
        ex.TierSpec.from_config("nano", {"arch": "nano", "pooling": "frame", "precision": "bf16", "max_bytes": 1})
    a = ex.config_fingerprint({"arch": "nano", "hparams": {"pre_steps": 10, "pre_lr": 0.01}, "seed": 0})
    b = ex.config_fingerprint({"seed": 0, "hparams": {"pre_lr": 0.01, "pre_steps": 10}, "arch": "nano"})
    c = ex.config_fingerprint({"arch": "nano", "hparams": {"pre_steps": 11, "pre_lr": 0.01}, "seed": 0})
    assert a == b != c and len(a) == 64


def test_golden_score_is_the_mean_of_frame_predictions(nano):
    model, data = nano
    feats = load_fixture()["frame_features"]
    score = onnxrun.clip_score(data, feats)
    assert score == pytest.approx(float(predict(model, feats).mean()), abs=5e-5)
