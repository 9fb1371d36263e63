"""Pinned code paths of the math libraries: the same training bytes on any x86-64 CPU with AVX2.

torch's MKL (BLAS) and ATen (its own vectorised kernels), numpy's SIMD loops and OpenBLAS each pick
a code path for the CPU they load on (torch's oneDNN too: training switches it off); AVX-512 and AVX2
paths round differently, so the same commit trained other weights on another CPU (measured: README,
"Pinned math paths and the pretraining cache key"). Each library reads its variable once, when it
loads or first computes, so ``pin()`` must run before anything imports numpy or torch: it is the
first statement of every entry script (tests/test_cpu_paths.py checks it), and the Snakefile sets
the same variables for every job.

The values OVERRIDE whatever the environment had: the point is that the bytes do not depend on it. A
library already loaded when ``pin()`` would change its variables is an error (the pin would not take).

Scope: x86-64 Linux CPUs with AVX2 and FMA (Intel since Haswell, AMD since Zen). Elsewhere (aarch64,
x86-64 without AVX2) ``pin()`` sets nothing: forcing OpenBLAS's Haswell kernels would crash a CPU
without AVX2, and no bytes are claimed there. This module imports nothing but the standard library.
"""

from __future__ import annotations

import os
import platform
import sys

#: variable -> value, every job that trains or computes persisted numpy/torch results
PINS: dict[str, str] = {
    # MKL, torch's BLAS (Linear forward/backward): its conditional-reproducibility branch for SSE2
    # without the approximate rcpps/rsqrtps. MKL documents only AUTO and COMPATIBLE for non-Intel
    # CPUs (AVX2 falls back to AUTO on AMD), so COMPATIBLE is the one branch equal on Intel and AMD.
    "MKL_CBWR": "COMPATIBLE",
    # ATen's own vectorised kernels (reductions, clamp, GELU...): the AVX2 build of each. (torch's
    # oneDNN, whose JIT GELU takes the widest ISA, is switched off in train_base.deterministic_torch
    # instead of capped with ONEDNN_MAX_CPU_ISA: OpenVINO's CPU plugin reads that variable too, and
    # its default engine crashed under it in the job that also trains, final_tiers)
    "ATEN_CPU_CAPABILITY": "avx2",
    # numpy's dispatched loops (exp, log, power in the synthetic draw and the teacher SVM): at most
    # X86_V3 (AVX2 + FMA3); disabling a feature the CPU lacks is a no-op
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    # OpenBLAS (numpy's and scipy's: the teacher's matrix products): its Haswell kernels everywhere
    # (left alone it picks SkylakeX on AVX-512 CPUs, Zen on AMD)
    "OPENBLAS_CORETYPE": "Haswell",
}
#: removed: numpy refuses to load with both NPY_ENABLE_CPU_FEATURES and NPY_DISABLE_CPU_FEATURES set
UNSET: tuple[str, ...] = ("NPY_ENABLE_CPU_FEATURES",)
#: modules whose libraries read the variables when they load (or first compute)
LIBRARIES: tuple[str, ...] = ("torch", "numpy", "scipy")
#: CPU flags (/proc/cpuinfo) the pinned paths need
NEEDS: frozenset[str] = frozenset({"avx2", "fma"})


class PinError(RuntimeError):
    """A math library was loaded before the pin, with other settings than the pinned ones."""


def cpu_flags(path: str = "/proc/cpuinfo") -> frozenset[str]:
    """The first CPU's flags (reads only up to its ``flags`` line: cheap on many-core machines)."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def in_scope() -> bool:
    """Whether this machine is one the pinned paths are claimed for: x86-64 Linux with AVX2 and FMA."""
    return platform.machine().lower() in ("x86_64", "amd64") and NEEDS <= cpu_flags()


def pending(environ: dict | None = None) -> dict[str, str | None]:
    """What ``pin()`` would change in ``environ`` (default os.environ): variable -> new value (None: removed)."""
    env = os.environ if environ is None else environ
    todo: dict[str, str | None] = {k: v for k, v in PINS.items() if env.get(k) != v}
    todo.update({k: None for k in UNSET if k in env})
    return todo


def pin(strict: bool = True) -> dict[str, str]:
    """Set ``PINS`` (and remove ``UNSET``) in os.environ; returns the pinned values ({} out of scope).

    ``strict``: raise ``PinError`` when a library of ``LIBRARIES`` is already loaded and a variable
    still has to change (it would not take). The Snakefile passes False: it pins for its jobs, and its
    own process computes nothing persisted with these libraries."""
    if not in_scope():
        return {}
    todo = pending()
    loaded = [m for m in LIBRARIES if m in sys.modules]
    if strict and todo and loaded:
        raise PinError(f"math paths pinned after {', '.join(loaded)} loaded with other settings "
                       f"({', '.join(f'{k}={v}' for k, v in todo.items())}): call vmafdistill.mathpaths.pin() "
                       "before anything imports numpy or torch")
    for key, value in todo.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    return dict(PINS)


def describe() -> str:
    """One line for a job's log: the pinned values, or why nothing is pinned."""
    if not in_scope():
        return f"math paths NOT pinned ({platform.machine()} without {'/'.join(sorted(NEEDS))}: bytes not claimed)"
    return "math paths pinned: " + " ".join(f"{k}={os.environ.get(k, '')}" for k in PINS)


__all__ = ["LIBRARIES", "NEEDS", "PINS", "UNSET", "PinError", "cpu_flags", "describe", "in_scope", "pending", "pin"]
