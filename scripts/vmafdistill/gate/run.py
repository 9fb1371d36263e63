"""All the gate's checks over one run's files, in report order: one teacher's (``run_checks``), every
teacher's (``run_teachers``: each check's subject names its teacher, ``vmaf_v0.6.1/nano``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .. import export as ex
from ..golden import load_fixture
from ..synth import synthetic_rows
from .checks import (Check, Thresholds, check_batch_invariance, check_bound, check_budget, check_card, check_golden,
                     check_golden_libvmaf, check_golden_teacher, check_loso, check_teacher, read, read_json)
from .engine_checks import check_engine_defaults, check_engines, check_golden_engines


@dataclass(frozen=True)
class GateInputs:
    """Paths the gate reads. ``models``/``cards``/``loso``: tier -> path (``export_paths`` for the usual layout)."""

    tiers: dict[str, ex.TierSpec]
    loso: dict[str, Path]  # tier -> its held-out LOSO as shipped (results/teachers/<teacher>/loso/tiers/{tier}.parquet)
    models: dict[str, Path]
    cards: dict[str, Path]
    frames: Path
    teacher_check: Path
    golden_record: Path  # the committed fixture record
    golden_run: Path  # this run's libvmaf pass over the fixture
    teacher: Any  # a teacher.Teacher: the one these files are of
    self_pairs_in_metrics: bool = False


def export_paths(tiers: dict[str, ex.TierSpec], export_dir: str | Path) -> tuple[dict, dict]:
    """(tier -> .onnx, tier -> card) in a teacher's export folder (``results/teachers/<teacher>/export``)."""
    d = Path(export_dir)
    return {t: d / f"{t}.onnx" for t in tiers}, {t: d / f"{t}.json" for t in tiers}


def run_checks(inputs: GateInputs, th: Thresholds) -> tuple[list[Check], dict[str, list[dict]]]:
    """Every check of the gate, in report order, and each tier's engine table."""
    teacher = inputs.teacher
    record, record_err = read(inputs.golden_record, lambda p: load_fixture(p, teacher.name))
    run, run_err = read(inputs.golden_run, lambda p: load_fixture(p, teacher.name))
    frames, frames_err = read(inputs.frames, pl.read_parquet)
    teacher_doc, teacher_err = read_json(inputs.teacher_check)
    datasets: dict[str, np.ndarray] = {}
    if run is not None:
        datasets["golden fixture"] = np.asarray(run["frame_features"], dtype=np.float64)
    if frames is not None:
        datasets["corpus frames"] = ex.corpus_frames(frames, teacher.features)
    data_err = "; ".join(e for e in (run_err, frames_err) if e) or None
    engine_sets = {**datasets, "synthetic": synthetic_rows(teacher)} if not data_err else {}
    fixture = datasets.get("golden fixture")

    checks: list[Check] = []
    tables: dict[str, list[dict]] = {}
    for name, tier in inputs.tiers.items():
        model = Path(inputs.models[name])
        pt = model.with_suffix(".pt")
        card, card_err = read_json(inputs.cards[name])
        loso, loso_err = read(inputs.loso[name], pl.read_parquet)
        checks += check_loso(tier, loso, th, loso_err, inputs.self_pairs_in_metrics)
        checks.append(check_card(tier, model, card, card_err))
        checks.append(check_budget(tier, model))
        if tier.precision == "exact":
            checks.append(check_bound(tier, model))
        checks.append(check_golden(tier, model, run, th.golden_tolerance, run_err))
        engines, tables[name] = check_engines(tier, model, engine_sets, th, pt if pt.is_file() else None, data_err)
        checks.append(engines)
        checks.append(check_engine_defaults(tier, tables[name], th))
        checks.append(check_golden_engines(tier, model, fixture, th, error=run_err))
        checks.append(check_batch_invariance(tier, model, datasets, th.ulp_max, error=data_err))
    checks.append(check_golden_libvmaf(run, record, run_err, record_err))
    checks.append(check_golden_teacher(run, run_err, teacher))
    checks.append(check_teacher(teacher_doc, th.teacher_tolerance, teacher_err))
    return checks, tables


def run_teachers(per_teacher: list[GateInputs], th: Thresholds) -> tuple[list[Check], dict[str, list[dict]]]:
    """``run_checks`` for each teacher's inputs; subjects become ``<teacher>/<tier>`` (a teacher-wide check's:
    ``<teacher>``), engine tables are keyed the same way."""
    checks: list[Check] = []
    tables: dict[str, list[dict]] = {}
    for inputs in per_teacher:
        name = inputs.teacher.name
        got, t = run_checks(inputs, th)
        checks += [replace(c, subject=f"{name}/{c.subject}" if c.subject else name) for c in got]
        tables.update({f"{name}/{tier}": table for tier, table in t.items()})
    return checks, tables


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.failed]


def warnings(checks: list[Check]) -> list[Check]:
    """Checks that passed but must not be missed (status WARN)."""
    return [c for c in checks if c.status == "WARN"]


def passed(checks: list[Check]) -> bool:
    return bool(checks) and not failures(checks)
