"""vmaf_v0.6.1's SVM as vmaf-torch (BSD-3) carries it: the tests' independent copy to check the vendored
libvmaf model JSON against (tests/test_libvmaf.py). Imports torch and vmaf_torch when called."""

from __future__ import annotations

import numpy as np


def svm_from_vmaf_torch() -> dict[str, np.ndarray | float]:
    """vmaf_v0.6.1's SVM as vmaf-torch (BSD-3) carries it, float64, in libvmaf's model order: an
    independent copy to check the vendored JSON against (imports torch)."""
    import torch
    from vmaf_torch.svm_predict import SVMPredict

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the model's literals become float64 tensors
    try:
        m = SVMPredict()
    finally:
        torch.set_default_dtype(previous)
    return {"slopes": m.slopes.double().numpy().copy(), "intercepts": m.intercepts.double().numpy().copy(),
            "support_vectors": m.support_vectors.double().numpy().copy(),
            "coef": m.alpha.double().numpy().reshape(-1).copy(), "gamma": float(m.gamma), "rho": float(m.rho),
            "score_slope": float(m.slope), "score_intercept": float(m.intercept)}
