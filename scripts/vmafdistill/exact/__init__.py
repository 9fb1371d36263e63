"""The engine-exact student (arch ``exact``): integer arithmetic that float32 computes exactly.

Every value of the graph is an integer times a power of two, and every value, product and partial
sum is, in units of its grid, an integer of magnitude < 2^24: float32 computes each one exactly, so
every engine that computes in float32 gives the same bits whatever its summation order, SIMD width or
FMA use (not an engine that computes in bf16, fp16 or TF32: OpenVINO's CPU default on AVX512-BF16/AMX
CPUs rounds MatMul operands inside its fused kernels, and no float32 graph is exact there; the gate
warns, ``gate.engine_checks``). Graph::

    a0 = Round(Min(Max(x, q_lo 2^-s), q_hi 2^-s) * 2^s) - q_c           in_bits integers from the fixed box
    t  = Floor((a W_hi + b) 2^-k) [+ Floor(a W_lo 2^-(k+p))]           per-channel power-of-two requantise
    a' = Min(Floor(Min(Relu(t + C), 2C - 1)^2 / 4C) + Relu(t + C - (2C - 1)), cap)      srelu, C = 2^-e
    vmaf = Clip((a w_hi + b + Floor(a w_lo 2^-p)) 2^s_out, lo, hi)     the teacher's score range ([0, 100])
    vmaf = Where(any(IsNaN(x) | IsInf(x)), NaN, vmaf)                   the contract's non-finite guard

srelu(u) = relu(u - 1) + (clip(u, -1, 1) + 1)^2 / 4 is ReLU with a C1 quadratic knee (tuning corpus clip
RMSE 2.9x lower than ReLU at this size, benchmarks/tune.py); its integer form above is exactly floor(C
srelu(t / C)). The input quantisation comes from the box (``synth.BOX_LOW/BOX_HIGH``), so ``rescale_``
leaves the function unchanged. Weights are latent float parameters; layer ``i``'s integers are ``round(W
step_in / 2^e_j)`` with per-output-channel accumulator steps 2^e_j chosen by ``calibrate_`` so that the
channel's worst-case partial sum is ~2^(24 - margin_bits); an L1 projection in the quantiser keeps it <
2^24 whatever training does. The first and last layers carry ``split_bits`` more weight bits in a
second, low-order integer matrix (its dot product floored into the sum). Training mode uses
straight-through estimators (QAT); eval mode computes exactly what the graph computes. ``prove_bound``
proves the bound from the graph's constants alone; ``to_onnx`` refuses a graph it cannot prove.

A teacher with a chroma correction (v1.0.16, ``chroma_fix = (g, a, c)``: libvmaf feeds its SVM
c - c * adm3 for a speed_chroma of exactly 0) gets it in the integer input stage, before the centring
(x_b: the clipped rounded inputs, e_g: the one-hot row of column g, e_a: the one-hot column of a)::

    z    = Floor(Min(|x|, 2^-126) 2^126);    keep = Relu(e_g - z)   1 at column g iff x_g is 0 or subnormal
    corr = Round(x_b e_a (-c 2^(s_g - s_a)) + c 2^s_g)                  c (1 - adm3) on speed_chroma's grid
    x_b' = Min(Max(x_b + keep (corr - x_b), q_lo), q_hi)

so the corrected value is c - c * (the quantised adm3), rounded half-even and clipped like any input
(the box's speed_chroma end is widened to hold it, ``build_exact``). "Exactly 0" is 0 or a subnormal:
every normal float32 but 0 is non-zero, as for libvmaf's `== 0.0` (its log holds speed_chroma values such as
1.6e-7; a test at 2^-21 once sent such a frame through the correction: 21 VMAF off), and a subnormal counts
as 0 whether an engine flushes it or not (Floor of a value < 1), so the test is exact on any engine that
computes in float32. Every product
and sum is exact (c 2^s_g and c 2^(s_g - s_a) must be float32-exact: ValueError otherwise);
``prove_bound`` proves it.

The package, one job a module: ``transform`` (the teacher's score transform in exact arithmetic),
``graph`` (``to_onnx``, the ONNX proto), ``model`` (``ExactStudent``, its STE helpers, ``build_exact``,
``EXACT_DEFAULTS``), ``prover`` (``prove_bound``, ``check_bound`` of a student or its bytes), ``training``
(``pretrain_exact``, on ``vmafdistill.train_base``). The proof itself reads a graph, not a model, and lives
outside the package (``vmafdistill.exactproof``: ``LIMIT``, ``BoundError``), so the gate proves a shipped
file without loading torch. The package exports its public API.
"""

from ..exactproof import LIMIT, BoundError
from .graph import to_onnx
from .model import ACTS, EXACT_DEFAULTS, ExactStudent, build_exact
from .prover import check_bound, prove_bound
from .training import pretrain_exact

__all__ = ["ACTS", "EXACT_DEFAULTS", "LIMIT", "BoundError", "ExactStudent", "build_exact", "check_bound",
           "pretrain_exact", "prove_bound", "to_onnx"]
