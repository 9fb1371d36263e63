"""The one ONNX Runtime session helper: students (float32 `features` [N, F] -> float32 `vmaf` [N]).

Every ORT session of the project is made here (export checks, the gate's reference engine, score.py,
LOSO tables, benchmarks): one intra-op and one inter-op thread by default (deterministic, and how a
student is deployed), all graph optimisations or none, one execution provider (CPU appended as
fallback for any other, which callers that must know check with ``sess.get_providers()``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

CPU = "CPUExecutionProvider"


def session(model: bytes | str | Path, provider: str = CPU, optimize: bool = True, threads: int = 1,
            provider_options: dict[str, Any] | None = None, module: str = "onnxruntime"):
    """An ORT session on model bytes or a path (``module``: the onnxruntime module to use, by name)."""
    import importlib

    ort = importlib.import_module(module)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    level = ort.GraphOptimizationLevel
    opts.graph_optimization_level = level.ORT_ENABLE_ALL if optimize else level.ORT_DISABLE_ALL
    providers: list[Any] = [(provider, provider_options or {})] + ([] if provider == CPU else [CPU])
    src = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(src, sess_options=opts, providers=providers)


def run(sess, features: np.ndarray) -> np.ndarray:
    """float32 scores [N] of raw features [N, F] through a session."""
    name = sess.get_inputs()[0].name
    out = sess.run(None, {name: np.ascontiguousarray(features, dtype=np.float32)})[0]
    return np.asarray(out, dtype=np.float32).reshape(-1)


def predict(model: bytes | str | Path, features: np.ndarray, optimize: bool = True) -> np.ndarray:
    """float32 scores [N] of a model (bytes or path) on ORT CPU."""
    return run(session(model, optimize=optimize), features)


def predict_onnx(path: str | Path, features: np.ndarray) -> np.ndarray:
    """float64 scores [N] (for tables)."""
    return predict(path, features).astype(np.float64)


def input_width(model: str | Path) -> int | None:
    """The feature count F of a model's [N, F] input (None when the file does not say)."""
    shape = session(model).get_inputs()[0].shape
    return int(shape[1]) if len(shape) == 2 and isinstance(shape[1], int) else None


def clip_score(model: bytes | str | Path, frame_features: np.ndarray, pooling: str = "frame") -> float:
    """A clip's score by the model's pooling on ORT CPU: the mean of the per-frame predictions (float64
    mean) for frame pooling, the prediction of the mean features for clip pooling."""
    x = np.asarray(frame_features, dtype=np.float64)
    if pooling == "clip":
        return float(predict(model, x.mean(axis=0, keepdims=True))[0])
    return float(np.mean(predict(model, x).astype(np.float64)))
