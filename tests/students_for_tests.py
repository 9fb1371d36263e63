"""Students with random (non-trivial) weights and a real scaler, for tests of behaviour, not accuracy."""

import torch

from vmafdistill.students import build_student
from vmafdistill.synth import sample_features


def random_student(arch: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_student(arch)
    x = sample_features(4096, seed=seed)
    model.set_scaler(x.mean(axis=0), x.std(axis=0))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.eval()
