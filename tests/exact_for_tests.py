"""Shared by the engine-exact student's tests (test_exact_*.py): the tier's byte budget, tiny training budgets,
the metadata, a student from a trained state, and its scores on ONNX Runtime, OpenVINO and tract, compared bit
for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import yaml
from onnx.reference import ReferenceEvaluator

from vmafdistill import exact

#: the exact tier's byte budget in the default config
BUDGET = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())["tiers"]["exact"][
    "max_bytes"]
# tiny budgets: these tests check exactness and plumbing, not accuracy
TINY = {"pre_n": 8192, "pre_steps": 200, "qat_steps": 60, "pre_batch": 256, "cal_n": 4096, "ft_syn_val_n": 512}
META = {"vmafdistill.arch": "exact", "vmafdistill.features": "adm2,vif_scale0,vif_scale1,vif_scale2,vif_scale3,motion2",
        "vmafdistill.features_sha256": "0" * 64, "vmafdistill.libvmaf_version": "3.0.0",
        "vmafdistill.pooling": "frame", "vmafdistill.precision": "exact", "vmafdistill.teacher": "vmaf_v0.6.1",
        "vmafdistill.tier": "nano"}


def bits(a: np.ndarray) -> np.ndarray:
    """The float32 values as their bit patterns (uint32), to compare bit for bit."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32).reshape(-1)).view(np.uint32)


def student_from(state: dict) -> exact.ExactStudent:
    """The student of a pretrain_exact state, in eval mode."""
    m = exact.build_exact(state["hparams"])
    m.load_state_dict(state["state_dict"])
    return m.eval()


def ort_run(data_or_path, x: np.ndarray, optimize: bool = True) -> np.ndarray:
    """Scores on ONNX Runtime's CPU provider, one thread, with or without its graph optimisations."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    level = ort.GraphOptimizationLevel
    opts.graph_optimization_level = level.ORT_ENABLE_ALL if optimize else level.ORT_DISABLE_ALL
    src = data_or_path if isinstance(data_or_path, bytes) else str(data_or_path)
    sess = ort.InferenceSession(src, sess_options=opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"features": x})[0]


def openvino_run(path, x: np.ndarray, config: dict) -> np.ndarray:
    ov = pytest.importorskip("openvino")
    compiled = ov.Core().compile_model(str(path), "CPU", config)
    return np.array(compiled.create_infer_request().infer({0: x})[compiled.output(0)])


def tract_run(path, x: np.ndarray, one_by_one: bool = False) -> np.ndarray:
    tract = pytest.importorskip("tract")
    m = tract.onnx().load(str(path))
    m.set_input_fact(0, f"N,{x.shape[1]},f32")
    run = m.into_model().into_runnable()
    if one_by_one:
        return np.concatenate([run.run([x[i : i + 1]])[0].to_numpy().reshape(-1) for i in range(len(x))])
    return run.run([x])[0].to_numpy()


#: the float32 engines every exact graph must agree with ORT CPU on, bit for bit
F32_ENGINES = ("ort-noopt", "onnx-reference", "openvino-f32", "tract")


def f32_engine_run(engine: str, path, data: bytes, x: np.ndarray) -> np.ndarray:
    """Scores of ``x`` on one of ``F32_ENGINES`` (the graph as bytes and as the file ``path``)."""
    if engine == "ort-noopt":
        return ort_run(data, x, optimize=False)
    if engine == "onnx-reference":
        return ReferenceEvaluator(data).run(None, {"features": x})[0]
    if engine == "openvino-f32":
        return openvino_run(path, x, {"INFERENCE_PRECISION_HINT": "f32"})
    if engine == "tract":
        return tract_run(path, x)
    raise ValueError(f"unknown engine {engine!r}; known: {F32_ENGINES}")
