"""Running ONNX students ([N,6] float32 `features` -> [N] float32 `vmaf`) with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def session(path: str | Path, providers: list[str] | None = None, optimize: bool = True, threads: int = 1):
    """An ORT session; one intra-op thread by default (deterministic, and how students are deployed)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers or ["CPUExecutionProvider"])


def run(sess, features: np.ndarray) -> np.ndarray:
    """Scores [N] (float32) of raw canonical-6 features [N,6]."""
    name = sess.get_inputs()[0].name
    out = sess.run(None, {name: np.ascontiguousarray(features, dtype=np.float32)})[0]
    return np.asarray(out, dtype=np.float32).reshape(-1)


def predict_onnx(path: str | Path, features: np.ndarray) -> np.ndarray:
    return run(session(path), features).astype(np.float64)
