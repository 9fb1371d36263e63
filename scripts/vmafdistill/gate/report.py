"""The gate's report: JSON (verdict, thresholds, every check, each tier's engine table), Markdown, rich."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .. import export as ex
from .checks import Check, Thresholds, read_json
from .run import GateInputs, failures, passed, warnings


def report(checks: list[Check], th: Thresholds, inputs: GateInputs | list[GateInputs],
           tables: dict[str, list[dict]]) -> dict:
    """The JSON report (verdict, teachers, thresholds, tiers, every check, the engine tables); ``inputs``: one
    teacher's, or every teacher's (``run_teachers``: models keyed ``<teacher>/<tier>``)."""
    many = isinstance(inputs, list)
    cards = {}
    for inp in inputs if many else [inputs]:
        for name in inp.tiers:
            card, _ = read_json(inp.cards[name])
            if card:
                key = f"{inp.teacher.name}/{name}" if many else name
                cards[key] = {k: card.get(k) for k in ("id", "arch", "pooling", "precision", "bytes", "n_params",
                                                      "sha256", "teacher")}
    first = inputs[0] if many else inputs
    return {
        "verdict": "PASS" if passed(checks) else "FAIL",
        "teacher": first.teacher.describe(),
        "teachers": [i.teacher.describe() for i in (inputs if many else [inputs])],
        "failed": [c.label for c in failures(checks)],
        "warnings": [f"{c.label}: {c.detail}" for c in warnings(checks)],
        "thresholds": ex.jsonable(asdict(th)),
        "tiers": {k: asdict(v) for k, v in first.tiers.items()},
        "models": cards,
        "engines": ex.jsonable(tables, "name"),
        "checks": [{"check": c.label, "status": c.status, "passed": c.passed, "informative": c.informative,
                    "detail": c.detail, "values": ex.jsonable(c.values, "name")} for c in checks],
    }


def _fmt(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def engine_markdown(tier: str, table: list[dict]) -> list[str]:
    """One tier's engine table: every engine, gated or not, each dataset's max / p99 ULP and max |diff|."""
    datasets = list(dict.fromkeys(d for e in table for d in e.get("datasets", {})))
    head = "| engine | gated | " + " | ".join(f"{d}: max / p99 ULP, max \\|diff\\|" for d in datasets) + " |"
    lines = [f"### Engines: {tier} (vs ORT CPU, all optimisations, 1 thread)", "", head,
             "|---|---|" + "---|" * len(datasets)]
    missing: dict[tuple[str, str], list[str]] = {}  # engines not checked, grouped by reason
    for e in table:
        if e["status"] != "compared":
            missing.setdefault((e["reason"], "yes" if e["gated"] else "no"), []).append(e["engine"])
            continue
        cells = []
        for d in datasets:
            x = e["datasets"].get(d)
            cells.append("-" if x is None else f"{_fmt(x['max_ulp'], 'g')} / {_fmt(x['p99_ulp'], 'g')}, "
                         f"{_fmt(x['max_abs_diff'], '.1e')}")
        lines.append(f"| {e['engine']} | {'yes' if e['gated'] else 'no'} | " + " | ".join(cells) + " |")
    for (reason, gated), names in missing.items():
        lines.append(f"| {', '.join(names)} | {gated} | not checked: {reason.replace('|', '/')} |"
                     + " |" * (len(datasets) - 1))
    return lines


def report_markdown(rep: dict) -> str:
    warned = rep.get("warnings") or []
    head = f"# Gate: {rep['verdict']}" + (f" ({len(warned)} warning{'s' * (len(warned) != 1)})" if warned else "")
    lines = [head, ""]
    for t in rep.get("teachers") or [rep.get("teacher") or {}]:
        lines.append(f"Teacher: {t.get('name', '?')} (libvmaf model {t.get('libvmaf_model', '?')}; "
                     f"features {', '.join(t.get('features', []))})")
    lines.append("")
    if rep["failed"]:
        lines += ["Failed checks: " + ", ".join(f"`{f}`" for f in rep["failed"]), ""]
    if warned:
        lines += ["**Warnings** (the students are right; these engines' defaults are not float32):", ""]
        lines += [f"- **WARN** {w}" for w in warned] + [""]
    th = rep["thresholds"]
    lines += ["Thresholds: " + ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={','.join(v)}"
                                         for k, v in th.items()), ""]
    lines += ["| check | status | detail |", "|---|---|---|"]
    for c in rep["checks"]:
        detail = c["detail"].replace("|", "\\|")  # a literal pipe inside a markdown table cell
        lines.append(f"| {c['check']} | {c['status']} | {detail} |")
    if rep["models"]:
        lines += ["", "| tier | model | teacher | arch | pooling | precision | bytes | params |",
                  "|---|---|---|---|---|---|---|---|"]
        for t, m in rep["models"].items():
            lines.append(f"| {t} | " + " | ".join(str(m.get(k)) for k in ("id", "teacher", "arch", "pooling",
                                                                           "precision", "bytes", "n_params")) + " |")
    for tier, table in rep.get("engines", {}).items():
        if table:
            lines += ["", *engine_markdown(tier, table)]
    return "\n".join(lines) + "\n"


def rich_table(checks: list[Check], title: str = "gate"):  # rich.table.Table
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    style = {"PASS": "green", "FAIL": "bold red", "WARN": "bold yellow"}
    for c in checks:
        table.add_row(escape(c.label), f"[{style.get(c.status, 'yellow')}]{escape(c.status)}[/]", escape(c.detail))
    return table
