"""The pinned math paths (vmafdistill.mathpaths): training gives the same bytes whatever the environment
says about the CPU's code paths, and every entry script pins before numpy or torch loads.

Short trainings (pretraining of nano and exact, a fold fine-tune of nano and its predictions) run in
subprocesses whose outside environment restricts the libraries as on an AVX2-only CPU, or asks for
other paths (MKL's AVX-512 branch, ATen's scalar kernels): pinned, every state dict and prediction has
the same sha256. On a CPU with AVX-512 the same restriction without the pin changes the bytes (so the
outside environments do reach the libraries, and the first test could fail). benchmarks/cpu_paths.py
does the same with the default budgets.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from tiny import ROOT
from vmafdistill import mathpaths

SCRIPTS = ROOT / "scripts"

#: as on an AVX2-only CPU: every library restricted to its AVX2 path from outside
AVX2_OUTSIDE = {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
                "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "OPENBLAS_CORETYPE": "Haswell"}
#: other paths asked for from outside: MKL's AVX-512 branch, ATen's scalar kernels, numpy's enable
#: list, oneDNN's widest ISA (training switches torch's oneDNN off)
OTHER_OUTSIDE = {"MKL_CBWR": "AVX512", "ATEN_CPU_CAPABILITY": "default", "NPY_ENABLE_CPU_FEATURES": "X86_V3",
                 "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}
#: every variable either set above or pinned (cleared from the test's own environment first)
TOUCHED = {*mathpaths.PINS, *mathpaths.UNSET, *AVX2_OUTSIDE, *OTHER_OUTSIDE}

#: a few seconds of training; prints the sha256 of each state dict and of the predictions
WORKER = """
import hashlib, json, sys
sys.path.insert(0, sys.argv[2])
from vmafdistill.mathpaths import pin
if sys.argv[1] == "pin":
    pin()
import numpy as np
import torch
from vmafdistill.synth import synthetic_set
from vmafdistill.teacher import load_teacher
from vmafdistill.train import predict, pretrain, train_fold

HP = {"pre_n": 4096, "pre_steps": 150, "pre_batch": 256, "qat_steps": 50, "cal_n": 2048, "ft_syn_val_n": 512,
      "ft_steps": 40, "ft_batch": 128, "ft_replay_batch": 128, "ft_jitter": 512, "ft_replay_n": 2048,
      "ft_val_every": 20}

def sha(state):
    h = hashlib.sha256()
    for k in sorted(state):
        t = state[k].detach().contiguous()
        h.update(f"{k}:{t.dtype}:{tuple(t.shape)}".encode() + t.numpy().tobytes())
    return h.hexdigest()

out = {"aten": torch.backends.cpu.get_cpu_capability()}
states = {arch: pretrain(arch, HP, 0) for arch in ("nano", "exact")}
out.update({f"pretrain/{a}": sha(s["state_dict"]) for a, s in states.items()})
x, y = synthetic_set(2048, 5, clip=False, teacher=load_teacher())
xv, yv = synthetic_set(256, 6, clip=False, teacher=load_teacher())
model, _ = train_fold("nano", HP, x, y, xv, yv, seed=0, init_state=states["nano"])
out["fold/nano"] = sha(model.state_dict())
out["predictions/nano"] = hashlib.sha256(np.ascontiguousarray(predict(model, xv)).tobytes()).hexdigest()
print(json.dumps(out))
"""


def _env(outside: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TOUCHED}
    return {**env, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **outside}


def _train(runs: dict[str, tuple[str, dict]]) -> dict[str, dict]:
    """Each run (pin or nopin, outside environment) in its own process, two at a time."""
    procs = {}
    results = {}
    for name, (mode, outside) in runs.items():
        procs[name] = subprocess.Popen([sys.executable, "-c", WORKER, mode, str(SCRIPTS)], env=_env(outside),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if len(procs) - len(results) >= 2:
            results.update(_wait(procs, results))
    results.update(_wait(procs, results))
    return results


def _wait(procs: dict, done: dict) -> dict[str, dict]:
    out = {}
    for name, proc in procs.items():
        if name in done:
            continue
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{name}: {stderr[-3000:]}"
        out[name] = json.loads(stdout.strip().splitlines()[-1])
    return out


@pytest.mark.skipif(not mathpaths.in_scope(), reason="pinned paths are claimed on x86-64 CPUs with AVX2 only")
def test_training_bytes_do_not_depend_on_outside_paths():
    runs = {"pinned": ("pin", {}), "pinned, AVX2 outside": ("pin", AVX2_OUTSIDE),
            "pinned, other paths outside": ("pin", OTHER_OUTSIDE)}
    avx512 = "avx512f" in mathpaths.cpu_flags()
    if avx512:  # where the default paths are not the AVX2 ones: without the pin the restriction shows
        runs.update({"unpinned": ("nopin", {}), "unpinned, AVX2 outside": ("nopin", AVX2_OUTSIDE)})
    res = _train(runs)
    pinned = [r for name, r in res.items() if name.startswith("pinned")]
    assert all(r["aten"] == "AVX2" for r in pinned), {n: r["aten"] for n, r in res.items()}
    for name in runs:
        if name.startswith("pinned"):
            assert res[name] == res["pinned"], f"{name} differs from pinned: {res[name]} vs {res['pinned']}"
    if avx512:
        plain, restricted = res["unpinned"], res["unpinned, AVX2 outside"]
        differ = [k for k in plain if k != "aten" and plain[k] != restricted[k]]
        assert differ, "without the pin, the AVX2 restriction changed no bytes: the test above proves nothing"
        assert plain["pretrain/nano"] != res["pinned"]["pretrain/nano"]


@pytest.mark.skipif(not mathpaths.in_scope(), reason="pin() sets nothing outside x86-64 with AVX2")
def test_pin_refuses_a_library_loaded_with_other_paths():
    code = (f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); import numpy; from vmafdistill import mathpaths\n"
            "try:\n    mathpaths.pin()\nexcept mathpaths.PinError as exc:\n    print('refused', exc)\n"
            "else:\n    print('pinned')")
    run = lambda env: subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)  # noqa: E731
    late = run(_env({"MKL_CBWR": "AVX512"}))
    assert late.returncode == 0, late.stderr
    assert late.stdout.startswith("refused") and "numpy" in late.stdout and "MKL_CBWR=COMPATIBLE" in late.stdout
    same = run(_env(dict(mathpaths.PINS)))  # loaded, but with the pinned values already (a job of the workflow)
    assert same.returncode == 0 and same.stdout.strip() == "pinned", same.stdout + same.stderr


def _is_stdlib_import(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import):
        return all(a.name.split(".")[0] in sys.stdlib_module_names for a in node.names)
    return isinstance(node, ast.ImportFrom) and not node.level and node.module.split(".")[0] in sys.stdlib_module_names


def _is_sys_path_insert(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == "sys.path.insert")


def _pins_first(path) -> str | None:
    """None when the script pins before anything but the standard library is imported, else why not."""
    body = ast.parse(path.read_text()).body
    i = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        i = 1  # the docstring
    while i < len(body) and (_is_stdlib_import(body[i]) or _is_sys_path_insert(body[i])):
        i += 1
    first = body[i] if i < len(body) else None
    if not (isinstance(first, ast.ImportFrom) and first.module == "vmafdistill.mathpaths"
            and "pin" in [a.name for a in first.names]):
        return f"line {getattr(first, 'lineno', '?')}: {ast.unparse(first) if first else 'end'} before the pin"
    call = body[i + 1] if i + 1 < len(body) else None
    if not (isinstance(call, ast.Expr) and isinstance(call.value, ast.Call) and ast.unparse(call.value) == "pin()"):
        return f"line {first.lineno}: the pin import is not followed by pin()"
    return None


def test_every_entry_script_pins_first():
    """Every script under scripts/ (the rules' jobs, score.py, record_golden.py) calls pin() before it
    imports anything outside the standard library: torch, numpy (and the project modules that load
    them) read their code paths when they load."""
    scripts = sorted(SCRIPTS.glob("*.py"))
    assert {"pretrain.py", "train_student.py", "final_tiers.py", "loso_tier.py", "gate.py"} <= {p.name for p in scripts}
    problems = {p.name: why for p in scripts if (why := _pins_first(p)) is not None}
    assert not problems, problems
    rule_scripts = {line.split('"')[1].removeprefix("../scripts/") for smk in (ROOT / "rules").glob("*.smk")
                    for line in smk.read_text().splitlines() if line.strip().startswith('"../scripts/')}
    assert rule_scripts and rule_scripts <= {p.name for p in scripts}, rule_scripts


def test_pin_check_catches_a_late_pin(tmp_path):
    late = tmp_path / "late.py"
    late.write_text('"""doc"""\n\nimport os\n\nimport numpy\n\nfrom vmafdistill.mathpaths import pin\n\npin()\n')
    assert "numpy" in _pins_first(late)
    ok = tmp_path / "ok.py"
    ok.write_text('"""doc"""\n\nimport os\n\nfrom vmafdistill.mathpaths import pin\n\npin()\n\nimport numpy\n')
    assert _pins_first(ok) is None


def test_snakefile_pins_for_its_jobs():
    text = (ROOT / "Snakefile").read_text()
    assert "mathpaths.pin(" in text and text.index("mathpaths.pin(") < text.index("include:")
