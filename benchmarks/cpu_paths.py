"""Pretraining bytes and CPU time under several outside environments, with and without the pinned math
paths (vmafdistill.mathpaths).

Each default arch that has a pretraining job (nano, mlp_64x2, exact) is pretrained (train.pretrain,
seed 0, the default budgets; --quick: 300 steps on 8,192 vectors) in a fresh process per
environment: the pin first (as every entry script does) or not, under an outside environment that
restricts the libraries as on an AVX2-only CPU, asks for their AVX-512 paths, or for ATen's scalar
kernels. Prints the sha256 of each state dict (tensor names, dtypes, shapes and bytes), whether the
pinned runs agree and whether the unpinned ones differ, and the training CPU seconds (synthetic draw,
teacher labels and the Adam steps: the history's cpu_s) pinned vs unpinned, measured in this run
(pinned and unpinned processes alternate). Every run trains with torch's oneDNN off, as training
always does (train.deterministic_torch). Asserts nothing.

Claimed for x86-64 CPUs with AVX2 (Intel since Haswell, AMD since Zen); not for aarch64, nor for
x86-64 CPUs without AVX2 (there the pin sets nothing).

    .venv/bin/python benchmarks/cpu_paths.py [--quick] [--archs nano,mlp_64x2,exact]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from vmafdistill import mathpaths

ROOT = Path(__file__).resolve().parent.parent
ARCHS = ("nano", "mlp_64x2", "exact")
AVX2_ONLY = {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
             "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "OPENBLAS_CORETYPE": "Haswell"}
AVX512 = {"MKL_CBWR": "AVX512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX", "ATEN_CPU_CAPABILITY": "avx512"}
#: name -> (pin?, outside environment); pinned and unpinned alternate (the timing pairs)
ENVS: dict[str, tuple[bool, dict]] = {
    "pinned": (True, {}),
    "unpinned": (False, {}),
    "pinned, AVX2-only outside": (True, AVX2_ONLY),
    "unpinned, AVX2-only outside": (False, AVX2_ONLY),
    "pinned, AVX-512 asked outside": (True, AVX512),
    "pinned, ATen scalar outside": (True, {"ATEN_CPU_CAPABILITY": "default"}),
}
TOUCHED = {*mathpaths.PINS, *mathpaths.UNSET, *AVX2_ONLY, *AVX512, "DNNL_MAX_CPU_ISA"}


#: one pretraining in a fresh process (argv: arch, pin|nopin, quick|default, scripts folder); prints
#: {sha256, cpu_s, aten, paths} as JSON. The pin, when asked, comes before numpy and torch load.
WORKER = """
import hashlib, json, sys
sys.path.insert(0, sys.argv[4])
from vmafdistill import mathpaths
if sys.argv[2] == "pin":
    mathpaths.pin()
import torch
from vmafdistill.train import pretrain
quick = {"pre_n": 8192, "pre_steps": 300, "pre_batch": 256, "qat_steps": 100, "cal_n": 4096, "ft_syn_val_n": 1024}
state = pretrain(sys.argv[1], quick if sys.argv[3] == "quick" else None, 0)
h = hashlib.sha256()
for k in sorted(state["state_dict"]):
    t = state["state_dict"][k].detach().contiguous()
    h.update(f"{k}:{t.dtype}:{tuple(t.shape)}".encode() + t.numpy().tobytes())
print(json.dumps({"sha256": h.hexdigest(), "cpu_s": state["history"]["cpu_s"],
                  "aten": torch.backends.cpu.get_cpu_capability(), "paths": mathpaths.describe()}))
"""


def run(arch: str, pin: bool, outside: dict, quick: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in TOUCHED}
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **outside})
    argv = [sys.executable, "-c", WORKER, arch, "pin" if pin else "nopin", "quick" if quick else "default",
            str(ROOT / "scripts")]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{arch} ({'pinned' if pin else 'unpinned'}, {outside}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cpu_model() -> str:
    name = next((line.partition(":")[2].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")), platform.processor())
    flags = mathpaths.cpu_flags()
    has = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{name} ({', '.join(has) or 'no AVX2'})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="300 steps on 8,192 vectors instead of the default budgets")
    ap.add_argument("--archs", default=",".join(ARCHS))
    args = ap.parse_args()
    print(f"CPU: {cpu_model()}; torch {metadata.version('torch')}, numpy {metadata.version('numpy')}; "
          f"{'quick budgets' if args.quick else 'default budgets'}; {time.strftime('%Y-%m-%d')}; "
          f"load average {os.getloadavg()[0]:.1f}")
    if not mathpaths.in_scope():
        print("this machine is outside the pinned paths' scope (x86-64 with AVX2): the pin sets nothing here")
    print("pin: " + " ".join(f"{k}={v}" for k, v in mathpaths.PINS.items()))
    archs = [a for a in args.archs.split(",") if a]
    res: dict[str, dict[str, dict]] = {a: {} for a in archs}
    for arch in archs:
        for name, (pin, outside) in ENVS.items():
            res[arch][name] = r = run(arch, pin, outside, args.quick)
            print(f"  {arch:9s} {name:30s} {r['sha256'][:16]}  {r['cpu_s']:7.2f} CPU s  ATen {r['aten']}", flush=True)
    print("\n| arch | " + " | ".join(ENVS) + " |")
    print("|---|" + "---|" * len(ENVS))
    for arch in archs:
        print(f"| {arch} | " + " | ".join(f"`{res[arch][n]['sha256'][:12]}`" for n in ENVS) + " |")
    print()
    for arch in archs:
        r = res[arch]
        pinned = {r[n]["sha256"] for n in ENVS if ENVS[n][0]}
        unpinned = {n: r[n]["sha256"] for n in ENVS if not ENVS[n][0]}
        ref = r["pinned"]["sha256"]
        t_pin = sum(r[n]["cpu_s"] for n in ("pinned", "pinned, AVX2-only outside"))
        t_free = sum(r[n]["cpu_s"] for n in ("unpinned", "unpinned, AVX2-only outside"))
        print(f"{arch}: pinned runs agree: {'yes' if len(pinned) == 1 else 'NO'} ({len(ENVS) - len(unpinned)} "
              f"environments); unpinned equal to pinned: {[n for n, s in unpinned.items() if s == ref] or 'none'}; "
              f"unpinned AVX2-only outside differs from unpinned: "
              f"{'yes' if len(set(unpinned.values())) > 1 else 'no'}; training CPU pinned / unpinned "
              f"{t_pin:.1f} / {t_free:.1f} s = {t_pin / t_free:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
