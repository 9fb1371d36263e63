"""The shipped files on real engines: the checks built on a tier's engine table (``engine_summary``).

Every engine of ``engines.engine_names()`` runs the tier's .onnx (torch: its .pt) on each dataset
(the golden fixture frames of this run, the corpus frames, a fresh synthetic sample) and is compared
with ORT's CPU provider (all graph optimisations, one thread): max ULP, p99 ULP, max |diff| in VMAF.
Every figure is reported; the gate holds the *required* engines (config ``engines_required``; with
``ort-cpu`` comes ``ort-cpu-noopt``, all optimisations against none) to:

* ``engines[tier]``: an ``exact`` tier (integer-valued arithmetic, exact in float32) to ``ulp_max`` on
  every dataset; a float tier, which cannot be bit-exact across real engines, to ``engine_tolerance``
  VMAF points (its ULP shown). A required engine that is not checked fails the check with its reason.
* ``golden_engines[tier]``: each required engine's score of the fixture (the tier's pooling rule)
  equal to ORT CPU's at 4 places.
* ``engine_defaults[tier]``: every engine run with its *default* settings (as a user runs it out of the
  box: OpenVINO's CPU plugin, ORT's CUDA provider) that moves scores by more than ``engine_tolerance``
  from ORT CPU is a WARN (never a failure: the student is right, the engine's default is not float32),
  naming the engine, the precision it chose, the error in VMAF points and the setting that fixes it.
  OpenVINO picks bf16 by default on CPUs with AVX512-BF16 or AMX and rounds every value, the output
  included, to 8 significant bits: no float32 [N] graph, the exact tier's included, is exact there.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import engines as en
from .. import export as ex
from ..engine_summary import REFERENCE, default_warnings, engine_rows, gated_engines, summarise
from .checks import Check, Thresholds, missing, places_equal

FIXTURE = "golden fixture"


def _pooled(scores: np.ndarray, pooling: str) -> float:
    return float(np.mean(scores.astype(np.float64))) if pooling == "frame" else float(scores[0])


def check_engines(tier: ex.TierSpec, model: Path, datasets: dict[str, np.ndarray], th: Thresholds,
                  pt_path: Path | None = None, error: str | None = None) -> tuple[Check, list[dict[str, Any]]]:
    """``engines[tier]`` and the engine table it was judged on."""
    name = "engines"
    if not Path(model).is_file():
        return Check(name, tier.name, False, missing(Path(model))), []
    if error:
        return Check(name, tier.name, False, error), []
    table = summarise(engine_rows(Path(model), datasets, pt_path), th.engines_required)
    exact = tier.precision == "exact"
    limit, unit = (th.ulp_max, "ULP") if exact else (th.engine_tolerance, "VMAF")
    problems, judged = [], []
    by_name = {e["engine"]: e for e in table}
    for eng in gated_engines(th.engines_required):
        e = by_name.get(eng)
        if e is None:
            problems.append(f"required engine {eng} is unknown ({', '.join(by_name)})")
        elif e["status"] != "compared":
            problems.append(f"required engine {eng} not checked: {e['reason']}")
        else:
            v = e["max_ulp"] if exact else e["max_abs_diff"]
            judged.append(f"{eng} {e['max_ulp']:g} ULP / {e['max_abs_diff']:.1e} VMAF")
            if not (v is not None and math.isfinite(v) and v <= limit):
                problems.append(f"{eng} is {v:g} {unit} from ORT CPU, "
                                f"over {'ulp_max' if exact else 'engine_tolerance'} {limit:g}")
    rule = (f"max {unit} <= {'ulp_max' if exact else 'engine_tolerance'} {limit:g} "
            f"({'exact' if exact else 'float'} tier)")
    others = [f"{e['engine']} {e['max_ulp']:g} ULP / {e['max_abs_diff']:.1e}" for e in table
              if not e["gated"] and e["status"] == "compared"]
    not_checked = sorted(e["engine"] for e in table if e["status"] != "compared")
    detail = (f"{rule} vs ORT CPU on {', '.join(f'{k} ({len(x)})' for k, x in datasets.items())}: "
              + ("; ".join(problems) if problems else "required " + ", ".join(judged))
              + (f"; not gated: {', '.join(others)}" if others else "")
              + (f"; not checked: {', '.join(not_checked)}" if not_checked else ""))
    values = {"reference": REFERENCE, "rule": rule, "required": list(th.engines_required),
              "gated": gated_engines(th.engines_required), "table": table}
    return Check(name, tier.name, not problems, detail, values=values), table


def check_engine_defaults(tier: ex.TierSpec, table: list[dict[str, Any]], th: Thresholds) -> Check:
    """``engine_defaults[tier]``: a WARN naming every default-settings engine that moves scores (never fails)."""
    lines = default_warnings(table, th.engine_tolerance)
    defaults = [e for e in table if e.get("settings") == "default"]
    ok = [f"{e['engine']} ({e.get('precision') or '?'}) {e['max_abs_diff']:.1e} VMAF" for e in defaults
          if e["status"] == "compared" and e["max_abs_diff"] is not None and e["max_abs_diff"] <= th.engine_tolerance]
    unchecked = [e["engine"] for e in defaults if e["status"] != "compared"]
    detail = "; ".join(lines) if lines else "engines with their default settings within engine_tolerance"
    if ok and lines:
        detail += "; within engine_tolerance: " + ", ".join(ok)
    elif ok:
        detail += ": " + ", ".join(ok)
    if unchecked:
        detail += f"; not checked: {', '.join(unchecked)}"
    values = {"warnings": lines, "engines": {e["engine"]: {k: e.get(k) for k in ("precision", "max_abs_diff", "fix")}
                                             for e in defaults}}
    return Check("engine_defaults", tier.name, True, detail, values=values, warning=bool(lines))


def check_golden_engines(tier: ex.TierSpec, model: Path, fixture: np.ndarray | None, th: Thresholds,
                         pt_path: Path | None = None, error: str | None = None) -> Check:
    """Each required engine's fixture score (the tier's pooling rule) equal to ORT CPU's at 4 places."""
    name = "golden_engines"
    if not Path(model).is_file():
        return Check(name, tier.name, False, missing(Path(model)))
    if fixture is None:
        return Check(name, tier.name, False, error or "no golden fixture measurement")
    rows = fixture if tier.pooling == "frame" else fixture.mean(axis=0, keepdims=True)
    names: list[Any] = [e for e in gated_engines(th.engines_required)]
    statuses = en.probe_engines([REFERENCE, *names], model)
    ref = statuses.pop(REFERENCE)
    if not ref.available:
        return Check(name, tier.name, False, f"reference {REFERENCE} not available: {ref.reason}")
    want = _pooled(ref.engine.run(model, rows), tier.pooling)  # type: ignore[union-attr]
    scores, problems = {}, []
    for eng, st in statuses.items():
        if not st.available:
            problems.append(f"{eng} not checked: {st.reason}")
            continue
        got = _pooled(st.engine.run(model, rows), tier.pooling)  # type: ignore[union-attr]
        scores[eng] = got
        if not places_equal(got, want):
            problems.append(f"{eng} {got:.6f} vs ORT CPU {want:.6f}")
    shown = ", ".join(f"{k} {v:.6f}" for k, v in scores.items())
    detail = f"ORT CPU {want:.6f}; " + ("; ".join(problems) if problems else f"equal at 4 places: {shown}")
    return Check(name, tier.name, not problems, detail, values={"ort-cpu": want, **scores})
