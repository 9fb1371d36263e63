"""Fast tests of the students, the synthetic sampler and the training entry points."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from vmafdistill.archs import ARCHS
from vmafdistill.export.onnx_graph import build_onnx, metadata
from vmafdistill.export.tiers import TierSpec
from vmafdistill.students import build_student, n_params
from vmafdistill.synth import BOX_HIGH, BOX_LOW, sample_features, synthetic_set
from vmafdistill.teacher import load_teacher, teacher_hparams
from vmafdistill.train import predict, pretrain, train_fold

# tiny budgets: the tests check behaviour, not accuracy
FAST = {
    "pre_n": 4096,
    "pre_steps": 30,
    "pre_batch": 256,
    "ft_steps": 20,
    "ft_batch": 64,
    "ft_replay_batch": 64,
    "ft_jitter": 256,
    "ft_replay_n": 2048,
    "ft_syn_val_n": 512,
    "ft_val_every": 5,
}


@pytest.fixture(scope="module")
def data():
    x, y = synthetic_set(600, seed=3, teacher=load_teacher())
    return x[:400], y[:400], x[400:], y[400:]


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_arch_builds_and_gives_shape_n(arch):
    model = build_student(arch)
    x = torch.tensor(sample_features(17, seed=1), dtype=torch.float32)
    with torch.no_grad():
        out = model(x)
    assert out.shape == (17,)
    assert out.dtype == torch.float32
    assert torch.all((out >= 0) & (out <= 100))
    assert model.mean.shape == (6,) and model.std.shape == (6,)
    assert model.mean.dtype == torch.float32 and model.std.dtype == torch.float32


def test_reweight_svm_starts_as_the_teacher():
    model = build_student("reweight_svm")
    assert n_params(model) == 12
    x = sample_features(2000, seed=5)
    np.testing.assert_allclose(predict(model, x), load_teacher().predict(x), atol=1e-3)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("teacher", ["vmaf_v0.6.1", "vmaf_v1.0.16_hfr_3d0h"])
def test_nano_fits_the_size_budget(teacher):
    """As exported (the config's opset, metadata, non-finite guard; v1.0.16 adds its chroma fix and
    transform): under the nano tier's 10 KB."""
    t = load_teacher(teacher)
    model = build_student("nano", {**ARCHS["nano"], **teacher_hparams(t)}).eval()
    assert n_params(model) <= 2000
    spec = TierSpec("nano", "nano", "frame", "fp32", 10_240)
    data = build_onnx(model, "fp32", metadata(spec, "0" * 64, "3.0.0", t), opset=20)
    assert len(data) <= spec.max_bytes


@pytest.mark.parametrize("arch", ["linear", "nano", "mlp_64x2", "reweight_svm"])
def test_rescale_keeps_the_function(arch):
    torch.manual_seed(0)
    model = build_student(arch)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    model.set_scaler(np.array([0.8, 0.4, 0.6, 0.7, 0.8, 3.0]), np.array([0.2, 0.25, 0.2, 0.2, 0.2, 4.0]))
    x = torch.tensor(sample_features(500, seed=2), dtype=torch.float32)
    with torch.no_grad():
        before = model.raw(x).clone()
        model.rescale_(np.array([0.6, 0.1, 0.5, 0.5, 0.9, 10.0]), np.array([0.3, 0.1, 0.3, 0.15, 0.1, 9.0]))
        after = model.raw(x)
    np.testing.assert_allclose(model.mean.numpy(), [0.6, 0.1, 0.5, 0.5, 0.9, 10.0], rtol=1e-6)
    np.testing.assert_allclose(after.numpy(), before.numpy(), rtol=1e-4, atol=1e-3)


def test_scaler_uses_training_rows_only(data):
    x_tr, y_tr, x_va, y_va = data
    model, _ = train_fold("nano", FAST, x_tr, y_tr, x_va + 5.0, y_va, seed=0)
    np.testing.assert_allclose(model.mean.numpy(), x_tr.mean(axis=0).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(model.std.numpy(), x_tr.std(axis=0).astype(np.float32), rtol=1e-6)


def test_fine_tune_starts_from_the_pretrained_function(data):
    x_tr, y_tr, x_va, y_va = data
    state = pretrain("nano", FAST, seed=0)
    pre = build_student("nano")
    pre.load_state_dict(state["state_dict"])
    model, hist = train_fold("nano", {**FAST, "ft_steps": 0}, x_tr, y_tr, x_va, y_va, seed=0, init_state=state)
    assert hist["best_step"] == 0
    assert not np.allclose(model.mean.numpy(), pre.mean.numpy())  # another scaler ...
    np.testing.assert_allclose(predict(model, x_va), predict(pre, x_va), atol=2e-3)  # ... same function


@pytest.mark.parametrize("arch", ["nano", "reweight_svm"])
def test_train_fold_is_deterministic(data, arch):
    x_tr, y_tr, x_va, y_va = data
    state = pretrain(arch, FAST, seed=1)
    calls = []
    runs = []
    for _ in range(2):
        model, hist = train_fold(
            arch, FAST, x_tr, y_tr, x_va, y_va, seed=1, init_state=state, progress=lambda *a: calls.append(a)
        )
        runs.append((predict(model, x_va).tobytes(), hist["val"]))
    assert runs[0] == runs[1]
    assert calls and len(calls[0]) == 3


def test_sampler_is_deterministic_and_in_the_box():
    a = sample_features(3000, seed=11)
    b = sample_features(3000, seed=11)
    c = sample_features(3000, seed=12)
    assert a.shape == (3000, 6) and a.dtype == np.float64
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(a >= BOX_LOW - 1e-12) and np.all(a <= BOX_HIGH + 1e-12)
    # most vectors keep the real ordering vif0 <= vif1 <= vif2 <= vif3
    assert np.mean(np.all(np.diff(a[:, 1:5], axis=1) >= 0, axis=1)) > 0.7
    x, y = synthetic_set(500, seed=4, teacher=load_teacher())
    assert y.shape == (500,) and y.min() >= 0 and y.max() <= 100 and np.ptp(y) > 50
