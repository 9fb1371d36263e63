"""The engine table of one model as the export and the gate read it: ``engine_rows`` (every engine of
``engines.engine_names()``, the missing ones as not checked, on each dataset, against ``REFERENCE``),
``summarise`` (one line per engine: worst figures, status, whether the gate holds it to a threshold),
``gated_engines`` (which ones it holds) and ``default_warnings`` (engines whose default settings move
scores). Beside ``engines`` (the adapters), below ``final`` (the card's table) and ``gate`` (its checks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import engines as en

#: The engine every other one is compared with: ORT's CPU provider, all graph optimisations, one thread.
REFERENCE = "ort-cpu"


def gated_engines(required: tuple[str, ...]) -> list[str]:
    """The engines the gate holds to a threshold (the reference's no-optimisation twin comes with it)."""
    out = [e for e in required if e != REFERENCE]
    if REFERENCE in required and "ort-cpu-noopt" not in out:
        out.insert(0, "ort-cpu-noopt")
    return out


def engine_rows(model: Path, datasets: dict[str, np.ndarray], pt_path: Path | None = None) -> list[dict[str, Any]]:
    """The engine table of one model: every engine (the missing ones as not checked) on every dataset."""
    names: list[Any] = [n for n in en.engine_names() if n not in (REFERENCE, "torch")]
    names.append(en.TorchEngine(pt_path) if pt_path is not None else "torch")
    return en.engine_table(model, datasets, names, reference=REFERENCE)


def summarise(rows: list[dict[str, Any]], required: tuple[str, ...]) -> list[dict[str, Any]]:
    """One line per engine: worst figures over the datasets, status, whether it is gated."""
    gated = set(gated_engines(required))
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        e = out.setdefault(r["engine"], {"engine": r["engine"], "gated": r["engine"] in gated, "status": "compared",
                                         "reason": "", "description": r.get("description", ""), "datasets": {},
                                         **{k: r.get(k, "") for k in ("settings", "precision", "fix")}})
        if r["status"] != "compared":
            e["status"], e["reason"] = "not checked", r["reason"]
            continue
        e["datasets"][r["dataset"]] = {k: r[k] for k in ("rows", "max_ulp", "p99_ulp", "max_abs_diff")}
    for e in out.values():
        d = e["datasets"].values()
        e.update(max_ulp=max((x["max_ulp"] for x in d), default=None),
                 p99_ulp=max((x["p99_ulp"] for x in d), default=None),
                 max_abs_diff=max((x["max_abs_diff"] for x in d), default=None))
    return list(out.values())


def default_warnings(table: list[dict[str, Any]], tolerance: float) -> list[str]:
    """One line per engine run with its default settings whose scores move more than ``tolerance`` VMAF."""
    out = []
    for e in table:
        if e.get("settings") != "default" or e["status"] != "compared" or e["max_abs_diff"] is None:
            continue
        if e["max_abs_diff"] > tolerance:
            worst = max(e["datasets"].items(), key=lambda kv: kv[1]["max_abs_diff"])
            out.append(f"{e['engine']} (its default settings) computes in {e.get('precision') or '?'} here: up to "
                       f"{e['max_abs_diff']:.3g} VMAF from ORT CPU ({worst[0]}), over engine_tolerance {tolerance:g}; "
                       f"fix: {e.get('fix') or 'run it in float32'}")
    return out


__all__ = ["REFERENCE", "default_warnings", "engine_rows", "gated_engines", "summarise"]
