"""The teacher: libvmaf's vmaf_v0.6.1 SVM, evaluated in float64 on canonical-6 features.

The model's parameters (211 support vectors, RBF gamma 0.04, normalisation) are those libvmaf's
vmaf_v0.6.1 uses, as carried by `vmaf-torch` (BSD-3), stored in float64 in `vmaf_v0.6.1_svm.json`
beside this module (a test checks them against vmaf-torch), so the teacher needs numpy only. libvmaf
feeds the SVM in its model's feature order (adm2, motion2, vif_scale0..3); this module takes
canonical order and permutes internally, normalises with the model's slopes/intercepts, evaluates
the RBF SVM, de-normalises and clips to [0, 100] as libvmaf does by default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# canonical (adm2, vif0, vif1, vif2, vif3, motion2) -> model order (adm2, motion2, vif0..vif3)
_MODEL_ORDER = np.array([0, 5, 1, 2, 3, 4])


@dataclass(frozen=True)
class SVMTeacher:
    slopes: np.ndarray  # [6] feature normalisation, model order
    intercepts: np.ndarray  # [6]
    support_vectors: np.ndarray  # [211, 6] model order, normalised space
    alpha: np.ndarray  # [211]
    gamma: float
    rho: float
    score_slope: float
    score_intercept: float
    clip_min: float = 0.0
    clip_max: float = 100.0

    def normalise(self, features: np.ndarray) -> np.ndarray:
        """Canonical-order raw features [N,6] -> the SVM's normalised inputs [N,6] (model order)."""
        x = np.asarray(features, dtype=np.float64)[:, _MODEL_ORDER]
        return self.slopes * x + self.intercepts

    def predict(self, features: np.ndarray, clip: bool = True, chunk: int = 65536) -> np.ndarray:
        """vmaf_v0.6.1 score of each row of canonical-order raw features [N,6], float64 [N]."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != 6:
            raise ValueError(f"teacher expects features of shape [N, 6], got {features.shape}")
        out = np.empty(len(features), dtype=np.float64)
        sv_sq = np.einsum("ij,ij->i", self.support_vectors, self.support_vectors)
        for start in range(0, len(features), chunk):
            x = self.normalise(features[start : start + chunk])
            d2 = np.einsum("ij,ij->i", x, x)[:, None] - 2.0 * x @ self.support_vectors.T + sv_sq[None, :]
            s = np.exp(-self.gamma * np.maximum(d2, 0.0)) @ self.alpha - self.rho
            out[start : start + chunk] = (s - self.score_intercept) / self.score_slope
        return np.clip(out, self.clip_min, self.clip_max) if clip else out


MODEL_FILE = Path(__file__).with_name("vmaf_v0.6.1_svm.json")


@lru_cache(maxsize=1)
def load_teacher() -> SVMTeacher:
    """The vmaf_v0.6.1 teacher in float64 (numpy only)."""
    doc = json.loads(MODEL_FILE.read_text())
    return SVMTeacher(
        slopes=np.asarray(doc["slopes"], dtype=np.float64),
        intercepts=np.asarray(doc["intercepts"], dtype=np.float64),
        support_vectors=np.asarray(doc["support_vectors"], dtype=np.float64),
        alpha=np.asarray(doc["alpha"], dtype=np.float64),
        gamma=float(doc["gamma"]),
        rho=float(doc["rho"]),
        score_slope=float(doc["score_slope"]),
        score_intercept=float(doc["score_intercept"]),
        clip_min=float(doc["clip_min"]),
        clip_max=float(doc["clip_max"]),
    )


def teacher_from_vmaf_torch() -> SVMTeacher:
    """The same model built from vmaf-torch's SVMPredict in float64 (to check the stored copy)."""
    import torch
    from vmaf_torch.svm_predict import SVMPredict

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the model's literals become float64 tensors
    try:
        m = SVMPredict()
    finally:
        torch.set_default_dtype(previous)
    return SVMTeacher(
        slopes=m.slopes.double().numpy().copy(),
        intercepts=m.intercepts.double().numpy().copy(),
        support_vectors=m.support_vectors.double().numpy().copy(),
        alpha=m.alpha.double().numpy().reshape(-1).copy(),
        gamma=float(m.gamma),
        rho=float(m.rho),
        score_slope=float(m.slope),
        score_intercept=float(m.intercept),
        clip_min=float(m.score_clip_min),
        clip_max=float(m.score_clip_max),
    )
