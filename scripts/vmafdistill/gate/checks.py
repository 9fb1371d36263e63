"""The gate's checks: each a pure function over the shipped files and this run's measurements.

A check never skips: a missing or unreadable input is a failed check naming the file. Every check
can fail in a normal run when what it measures is off (thresholds are top-level config keys):

* ``loso_accuracy[tier]``: the tier's LOSO held-out clips *as shipped* (each fold model exported at
  the tier's precision and run on ORT CPU): mean PLCC >= ``plcc_min``, mean SROCC >= ``srocc_min``,
  mean RMSE <= ``rmse_max``, max |error| <= ``max_abs_error_max`` (VMAF points); a fold whose
  correlation is undefined (fewer than 3 scored clips, constant scores) fails the check by name.
  ``loso_preferred[tier]`` reports PLCC against ``plcc_preferred`` (informative).
* ``card[tier]`` (the card describes the file: sha256, bytes, tier settings), ``byte_budget[tier]``;
  ``bound[tier]`` for an exact tier: its shipped graph proved exact in float32 (``exact.prove_bound``).
* ``golden[tier]``: the tier's score of the golden fixture (this run's libvmaf features, ORT CPU)
  within ``golden_tolerance`` VMAF points of libvmaf's score of it in this run.
* ``engines[tier]`` and ``golden_engines[tier]``: see ``gate.engine_checks``.
* ``batch_invariance[tier]``: each row alone vs all rows in one batch on ORT CPU, <= ``ulp_max`` ULP.
* ``golden_libvmaf``: this run's libvmaf pass over the fixture reproduces the committed record (4
  places); ``golden_teacher``: the float64 teacher on this run's fixture features reproduces this
  run's libvmaf score (4 places); ``teacher_check``: the features stage's check on every corpus frame.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .. import export as ex
from .. import onnxrun
from ..exactproof import prove_graph
from ..loso import fold_table
from ..ulp import max_ulp

PLACES = 4


@dataclass(frozen=True)
class Check:
    """One gate check. ``informative`` checks are reported but never fail the gate."""

    name: str
    subject: str
    passed: bool
    detail: str
    informative: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # status text of an informative check that is a plain note ("info")
    warning: bool = False  # passed, but loud: repeated at the end of the gate's output (WARN)

    @property
    def label(self) -> str:
        return f"{self.name}[{self.subject}]" if self.subject else self.name

    @property
    def status(self) -> str:
        if self.warning and not self.failed:
            return "WARN"
        if self.informative and self.note:
            return self.note
        if self.informative:
            return "info: met" if self.passed else "info: not met"
        return "PASS" if self.passed else "FAIL"

    @property
    def failed(self) -> bool:
        return not self.passed and not self.informative


DEFAULT_ENGINES = ("ort-cpu", "onnx-reference", "openvino-f32", "tract")


@dataclass(frozen=True)
class Thresholds:
    plcc_min: float = 0.97
    srocc_min: float = 0.97
    plcc_preferred: float = 0.99
    rmse_max: float = 0.05
    max_abs_error_max: float = 0.25
    golden_tolerance: float = 0.05
    ulp_max: float = 2
    engine_tolerance: float = 1e-4
    teacher_tolerance: float = 5e-4
    engines_required: tuple[str, ...] = DEFAULT_ENGINES

    @classmethod
    def from_config(cls, config: dict) -> Thresholds:
        kw = {k: float(config[k]) for k in cls.__dataclass_fields__ if k != "engines_required" and k in config}
        return cls(**kw, engines_required=tuple(config.get("engines_required", DEFAULT_ENGINES)))


def missing(path: Path) -> str:
    return f"missing input: {path}"


def read(path: Path, reader: Callable[[Path], Any]) -> tuple[Any, str | None]:
    """(value, None) or (None, error text): a missing/unreadable input never raises."""
    path = Path(path)
    if not path.is_file():
        return None, missing(path)
    try:
        return reader(path), None
    except Exception as exc:  # noqa: BLE001 - any unreadable input is a failed check
        return None, f"unreadable input: {path} ({type(exc).__name__}: {exc})"


def read_json(path: Path) -> tuple[dict | None, str | None]:
    return read(path, lambda p: json.loads(p.read_text(encoding="utf-8")))


def places_equal(a: float, b: float, places: int = PLACES) -> bool:
    return math.isfinite(a) and math.isfinite(b) and round(abs(a - b), places) == 0


def _num(v: Any) -> float | None:
    return float(v) if v is not None and math.isfinite(float(v)) else None


# ------------------------------------------------------------------------------------------------
# LOSO as shipped


def check_loso(tier: ex.TierSpec, predictions: pl.DataFrame | None, th: Thresholds, error: str | None = None,
               self_pairs_in_metrics: bool = False) -> list[Check]:
    """PLCC/SROCC minima and RMSE/max-error maxima of the tier's held-out predictions as shipped."""
    sub = tier.name
    if predictions is None or predictions.height == 0:
        msg = error or "no LOSO predictions for the tier"
        return [Check("loso_accuracy", sub, False, msg), Check("loso_preferred", sub, False, msg, informative=True)]
    p = predictions if self_pairs_in_metrics else predictions.filter(~pl.col("self_pair"))
    folds = fold_table(p.with_columns(pl.lit(tier.name).alias("model"), pl.lit(tier.arch).alias("arch"),
                                      pl.lit(tier.pooling).alias("pooling"), pl.lit(0).alias("seed")))
    undefined = [f"{r['fold']} ({r['n_clips']} clips)" for r in folds.iter_rows(named=True)
                 if not (math.isfinite(r["plcc"]) and math.isfinite(r["srocc"]))]
    plcc, srocc = float(folds["plcc"].mean()), float(folds["srocc"].mean())
    rmse = float(folds["rmse"].mean())
    max_err = float(np.max(np.abs(p["student"].to_numpy() - p["teacher"].to_numpy())))
    tests = [("PLCC", plcc, ">=", th.plcc_min, "plcc_min"), ("SROCC", srocc, ">=", th.srocc_min, "srocc_min"),
             ("RMSE", rmse, "<=", th.rmse_max, "rmse_max"),
             ("max |error|", max_err, "<=", th.max_abs_error_max, "max_abs_error_max")]
    parts, ok = [], not undefined
    for label, v, op, limit, key in tests:
        good = math.isfinite(v) and (v >= limit if op == ">=" else v <= limit)
        ok &= good
        parts.append(f"{label} {v:.5f} {op if good else ('BELOW' if op == '>=' else 'ABOVE')} {key} {limit:g}")
    if undefined:
        parts.append(f"correlation undefined in fold(s) {', '.join(undefined)}: fewer than 3 scored clips or constant")
    values = {"arch": tier.arch, "pooling": tier.pooling, "precision": tier.precision, "plcc_mean": plcc,
              "srocc_mean": srocc, "rmse_mean": rmse, "max_abs_error": max_err, "n_folds": folds.height,
              "n_clips": p.height, "undefined_folds": undefined,
              "per_fold": {r["fold"]: {k: r[k] for k in ("n_clips", "plcc", "srocc", "rmse", "max_abs_error")}
                           for r in folds.iter_rows(named=True)}}
    head = f"{tier.arch}/{tier.pooling} as shipped ({tier.precision}, ORT CPU), {folds.height} folds: "
    pref = math.isfinite(plcc) and plcc >= th.plcc_preferred
    return [
        Check("loso_accuracy", sub, ok, head + "; ".join(parts), values=values),
        Check("loso_preferred", sub, pref, f"PLCC {plcc:.5f} {'>=' if pref else '<'} preferred {th.plcc_preferred:g} "
              "(informative)", informative=True, values={"plcc_mean": plcc, "plcc_preferred": th.plcc_preferred}),
    ]


# ------------------------------------------------------------------------------------------------
# the files


def check_card(tier: ex.TierSpec, model: Path, card: dict | None, error: str | None = None) -> Check:
    """The card exists and describes this file and this tier's settings."""
    if card is None:
        return Check("card", tier.name, False, error or "no model card")
    if not Path(model).is_file():
        return Check("card", tier.name, False, missing(Path(model)))
    data = Path(model).read_bytes()
    problems = []
    want = {"tier": tier.name, "arch": tier.arch, "pooling": tier.pooling, "precision": tier.precision,
            "sha256": ex.sha256_bytes(data), "bytes": len(data)}
    for k, v in want.items():
        if card.get(k) != v:
            problems.append(
                f"{k} is {card.get(k)!r}, the {'file' if k in ('sha256', 'bytes') else 'config'} says {v!r}"
            )
    if problems:
        return Check("card", tier.name, False, f"card {card.get('id', '?')} does not match: " + "; ".join(problems))
    return Check("card", tier.name, True, f"{card.get('id')} matches the file and the tier config")


def check_budget(tier: ex.TierSpec, model: Path) -> Check:
    if not Path(model).is_file():
        return Check("byte_budget", tier.name, False, missing(Path(model)))
    n = Path(model).stat().st_size
    ok = n <= tier.max_bytes
    detail = f"{n:,} bytes {'<=' if ok else '>'} max_bytes {tier.max_bytes:,} ({tier.arch}, {tier.precision})"
    return Check("byte_budget", tier.name, ok, detail, values={"bytes": n, "max_bytes": tier.max_bytes})


def check_golden(tier: ex.TierSpec, model: Path, fixture: dict | None, tolerance: float,
                 error: str | None = None) -> Check:
    """The tier's fixture score (its pooling rule, ORT CPU) vs libvmaf's score of the fixture in this run."""
    name = "golden"
    if fixture is None:
        return Check(name, tier.name, False, error or "no golden fixture measurement")
    if not Path(model).is_file():
        return Check(name, tier.name, False, missing(Path(model)))
    try:
        got = onnxrun.clip_score(model, fixture["frame_features"], tier.pooling)
    except Exception as exc:  # noqa: BLE001
        return Check(name, tier.name, False, f"ORT cannot run {model}: {exc}")
    want = float(fixture["vmaf"])
    diff = abs(got - want)
    ok = math.isfinite(got) and diff <= tolerance
    return Check(name, tier.name, ok, f"student {got:.4f} vs libvmaf {want:.4f} on the fixture: |diff| {diff:.4f} "
                 f"{'<=' if ok else '>'} golden_tolerance {tolerance:g}",
                 values={"student": got, "libvmaf": want, "abs_diff": diff})


def check_bound(tier: ex.TierSpec, model: Path) -> Check:
    """An exact tier's shipped graph: every value and partial sum provably an integer < 2^24 (its margin)."""
    if not Path(model).is_file():
        return Check("bound", tier.name, False, missing(Path(model)))
    try:
        proof = prove_graph(Path(model).read_bytes())
    except Exception as exc:  # noqa: BLE001 - an unreadable graph cannot be proved
        return Check("bound", tier.name, False, f"{model} cannot be proved: {type(exc).__name__}: {exc}")
    layers = ", ".join(f"{r['weight']} {r['margin_bits']:.2f}" for r in proof["layers"])
    detail = (f"every partial sum < 2^24 proved from the weights over the clipped input box: "
              f"worst {proof['worst']:,.0f} grid units (margin {proof['margin_bits']:.4f} bits; "
              f"dot products: {layers})") if proof["ok"] else \
        "not provably exact: " + "; ".join(proof["problems"][:3])
    return Check("bound", tier.name, bool(proof["ok"]), detail, values=proof)


def check_batch_invariance(tier: ex.TierSpec, model: Path, datasets: dict[str, np.ndarray], ulp_max: float,
                           error: str | None = None) -> Check:
    """Each row alone (batch of 1) vs all the dataset's rows in one batch, max ULP <= ulp_max (ORT CPU)."""
    name = "batch_invariance"
    if not Path(model).is_file():
        return Check(name, tier.name, False, missing(Path(model)))
    if error:
        return Check(name, tier.name, False, error)
    try:
        sess = onnxrun.session(model)
        per: dict[str, float] = {}
        for k, x in datasets.items():
            whole = onnxrun.run(sess, x)
            alone = np.array([onnxrun.run(sess, x[i : i + 1])[0] for i in range(len(x))], dtype=np.float32)
            per[k] = max_ulp(alone, whole)
    except Exception as exc:  # noqa: BLE001
        return Check(name, tier.name, False, f"ORT cannot run {model}: {exc}")
    worst = max(per.values(), default=0.0)
    ok = worst <= ulp_max
    rows = ", ".join(f"{k} ({len(datasets[k])} rows): {v:g}" for k, v in per.items())
    hint = "" if ok or tier.precision != "int8" else " (dynamic int8 computes activation scales per batch)"
    return Check(name, tier.name, ok, f"max {worst:g} ULP {'<=' if ok else '>'} ulp_max {ulp_max:g}: {rows}{hint}",
                 values={"max_ulp": worst, "per_dataset": per})


# ------------------------------------------------------------------------------------------------
# the teacher and the golden fixture


def check_golden_libvmaf(run: dict | None, record: dict | None, run_error: str | None = None,
                         record_error: str | None = None) -> Check:
    """This run's libvmaf pass over the fixture reproduces the committed record (features, vmaf; 4 places)."""
    name = "golden_libvmaf"
    if run is None or record is None:
        return Check(name, "", False, run_error or record_error or "no golden fixture")
    want_f, got_f = np.asarray(record["frame_features"]), np.asarray(run["frame_features"])
    want_v, got_v = np.asarray(record["frame_vmaf"]), np.asarray(run["frame_vmaf"])
    if want_f.shape != got_f.shape or want_v.shape != got_v.shape:
        return Check(name, "", False, f"{len(got_v)} frames with {got_f.shape[1:]} features vs the record's "
                     f"{len(want_v)} with {want_f.shape[1:]}")
    d_f, d_v = float(np.abs(got_f - want_f).max()), float(np.abs(got_v - want_v).max())
    ok = places_equal(d_f, 0.0) and places_equal(d_v, 0.0) and places_equal(run["vmaf"], record["vmaf"])
    version = f"libvmaf {run.get('libvmaf_version')} (recorded with {record.get('libvmaf_version')})"
    return Check(name, "", ok, f"vmaf {run['vmaf']:.6f} vs recorded {record['vmaf']:.6f}; max per-frame |diff| "
                 f"features {d_f:.2e}, vmaf {d_v:.2e} (4 places); {version}",
                 values={"vmaf": run["vmaf"], "recorded": record["vmaf"], "max_feature_diff": d_f,
                         "max_vmaf_diff": d_v})


def check_golden_teacher(run: dict | None, error: str | None, teacher) -> Check:
    """The float64 teacher (a teacher.Teacher) on this run's fixture features reproduces this run's libvmaf
    score (4 places)."""
    if run is None:
        return Check("golden_teacher", "", False, error or "no golden fixture measurement")
    per_frame = teacher.predict(np.asarray(run["frame_features"], dtype=np.float64))
    got, want = float(per_frame.mean()), float(run["vmaf"])
    worst = float(np.abs(per_frame - np.asarray(run["frame_vmaf"])).max())
    ok = places_equal(got, want)
    detail = (f"teacher {teacher.name} {got:.6f} vs libvmaf {want:.6f} (|diff| {abs(got - want):.2e}, 4 places; "
              f"per frame max {worst:.2e})")
    return Check("golden_teacher", "", ok, detail, values={"teacher": got, "libvmaf": want, "max_frame_diff": worst})


def check_teacher(doc: dict | None, tolerance: float, error: str | None = None) -> Check:
    """The features stage's teacher check (libvmaf per-frame vmaf vs the float64 SVM)."""
    if doc is None:
        return Check("teacher_check", "", False, error or "no teacher check")
    diff = float(doc.get("max_abs_diff", float("nan")))
    ok = bool(doc.get("passed")) and math.isfinite(diff) and diff <= tolerance
    detail = (f"max per-frame |libvmaf - SVM| {diff:.2e} {'<=' if ok else 'vs'} teacher_tolerance {tolerance:g} "
              f"over {doc.get('n_frames', '?')} frames; features stage says passed={doc.get('passed')}")
    if doc.get("failures"):
        detail += f"; {len(doc['failures'])} failing clips, first: {doc['failures'][0]}"
    return Check("teacher_check", "", ok, detail, values={"max_abs_diff": diff, "tolerance": tolerance})
