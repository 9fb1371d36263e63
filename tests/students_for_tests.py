"""Students with random (non-trivial) weights and a real scaler, for tests of behaviour, not accuracy."""

import torch

from vmafdistill.students import build_student
from vmafdistill.synth import sample_features
from vmafdistill import engines as E


def random_student(arch: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_student(arch)
    x = sample_features(4096, seed=seed)
    model.set_scaler(x.mean(axis=0), x.std(axis=0))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.eval()


def bf16_round(x):  # float32 array
    """float32 values rounded to bfloat16 (8 significant bits, round to nearest even), as float32."""
    import numpy as np

    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    return np.where(np.isnan(x), np.float32(np.nan), r.view(np.float32))


def bf16_engine():  # an engines.Engine
    """ORT CPU with bf16 rounding of its inputs and output, reported as a default-settings engine that
    chose bf16: the bf16 path of the gate on any CPU (OpenVINO chooses bf16 only where the CPU has it)."""
    class Bf16Sim(E.OrtEngine):
        settings, fix = "default", "run it in float32 (simulated engine)"

        def __init__(self) -> None:
            super().__init__()
            self.name = "bf16-sim"

        def open_session(self, path):
            sess = super().open_session(path)
            self.info["precision"] = "bf16 (simulated)"
            return sess

        def infer(self, session, x):
            return bf16_round(super().infer(session, bf16_round(x)))

    return Bf16Sim()
