"""The project's Adam equals torch.optim.Adam bit for bit on CPU, and a fold fine-tune never imports
torch._dynamo (what torch.optim and torch.use_deterministic_algorithms would pull in at start-up)."""

import subprocess
from pathlib import Path
import sys

import pytest
import torch

from vmafdistill.adam import Adam

ROOT = Path(__file__).resolve().parent.parent


def _train(make_opt, weight_decay: float, steps: int = 120) -> torch.Tensor:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.GELU(), torch.nn.Linear(16, 1))
    opt = make_opt(model.parameters(), weight_decay)
    g = torch.Generator().manual_seed(1)
    for step in range(steps):
        for group in opt.param_groups:  # a schedule, as the training loops use
            group["lr"] = 3e-3 * (1 - step / steps) + 1e-5
        x = torch.randn(32, 6, generator=g)
        loss = ((model(x).squeeze(1) - x.pow(2).sum(1)) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.mark.parametrize("weight_decay", [0.0, 1e-4])
def test_adam_matches_torch_bit_for_bit(weight_decay: float) -> None:
    ours = _train(lambda p, wd: Adam(p, lr=3e-3, weight_decay=wd), weight_decay)
    theirs = _train(lambda p, wd: torch.optim.Adam(p, lr=3e-3, weight_decay=wd), weight_decay)
    assert torch.equal(ours, theirs)
    start = _train(lambda p, wd: Adam(p, lr=3e-3, weight_decay=wd), weight_decay, steps=0)
    assert not torch.equal(ours, start)  # it trained


def test_fold_fine_tune_is_deterministic_without_dynamo() -> None:
    code = (
        "import sys, numpy as np, torch\n"
        "from vmafdistill.train import train_fold\n"
        "from vmafdistill.synth import sample_for\n"
        "from vmafdistill.teacher import load_teacher\n"
        "t = load_teacher()\n"
        "x = sample_for(t, 400, 3)\n"
        "y = t.predict(x)\n"
        "hp = {'pre_steps': 0, 'ft_steps': 20, 'ft_jitter': 50, 'ft_replay_n': 256, 'ft_syn_val_n': 128}\n"
        "m, h = train_fold('nano', hp, x[:300], y[:300], x[300:], y[300:], seed=0)\n"
        "assert torch.are_deterministic_algorithms_enabled()\n"
        "print('dynamo' if 'torch._dynamo' in sys.modules else 'lean')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT / "scripts")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "lean"
