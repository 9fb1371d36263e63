"""Adam without `torch.optim`: the first use of any `torch.optim` optimizer imports `torch._dynamo`
(its `_disable_dynamo` wrapper; ~3 s CPU with sympy), ~15% of a LOSO fold job's CPU
(benchmarks/whole_run.py). This is torch.optim.Adam's CPU update (the single-tensor path it takes
for CPU tensors; L2 weight decay, no amsgrad), step for step the same operations in the same order,
so it gives the same bits (tests/test_adam.py checks it against torch.optim.Adam)."""

from __future__ import annotations

from collections.abc import Iterable

import torch


class Adam:
    """`torch.optim.Adam(params, lr, betas, eps, weight_decay)` on CPU; `param_groups[0]["lr"]` may be
    changed between steps, as with torch's."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.params = list(params)
        self.param_groups = [{"lr": float(lr)}]
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.state: list[dict] = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        lr, beta1, beta2, eps = self.param_groups[0]["lr"], self.beta1, self.beta2, self.eps
        for param, state in zip(self.params, self.state):
            if param.grad is None:
                continue
            if not state:  # torch keeps the step count as a float32 tensor
                state["step"] = torch.tensor(0.0, dtype=torch.float32)
                state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            grad = param.grad
            exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], state["step"]
            step_t += 1
            if self.weight_decay != 0:
                grad = grad.add(param, alpha=self.weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step = step_t.item()
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            denom = (exp_avg_sq.sqrt() / bias_correction2**0.5).add_(eps)
            param.addcdiv_(exp_avg, denom, value=-step_size)
