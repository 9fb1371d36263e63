"""The gate: the workflow's verdict on the exported tiers, as pure functions over its inputs.

``run_checks(GateInputs, Thresholds) -> list[Check]`` runs every check; nothing is skipped: a
missing or unreadable input is a failed check naming the file. The checks (threshold keys are
top-level config keys):

1. ``loso_accuracy[tier]``: LOSO mean PLCC >= ``plcc_min`` and SROCC >= ``srocc_min`` of the tier's
   arch and pooling; ``loso_preferred[tier]``: PLCC vs ``plcc_preferred`` (informative, never fails).
2. ``card[tier]``: the model card exists and describes the file (sha256, bytes, tier settings);
   ``byte_budget[tier]``: the .onnx file's bytes <= the tier's ``max_bytes``.
3. ``golden_student[tier]``: the golden fixture's frames through the .onnx on ORT CPU give the card's
   score at 4 places; ``golden_teacher``: the teacher reproduces the fixture's libvmaf vmaf at 4 places.
4. ``cross_backend[tier]``: max float32 ULP distance <= ``ulp_max`` between the CPU provider and every
   other available compute provider, and between all graph optimisations and none, on the fixture
   frames and the corpus frames. Known providers that are not installed are listed as not checked.
5. ``batch_invariance[tier]``: each row alone (batch of 1) vs all rows in one batch, <= ``ulp_max`` ULP.
6. ``teacher_check``: the features stage's teacher check passed within ``teacher_tolerance``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl

from . import export as ex
from .ulp import max_ulp

PLACES = 4
CPU = "CPUExecutionProvider"
#: Listed by onnxruntime but not compute providers (Azure: remote endpoint invocation).
NON_COMPUTE_PROVIDERS = {"AzureExecutionProvider": "not a compute provider (remote endpoint calls)"}
#: Providers reported as "not checked" when this onnxruntime build lacks them.
KNOWN_PROVIDERS = (
    "CUDAExecutionProvider",
    "TensorrtExecutionProvider",
    "OpenVINOExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    "ROCMExecutionProvider",
    "MIGraphXExecutionProvider",
    "QNNExecutionProvider",
    "XnnpackExecutionProvider",
    "WebGpuExecutionProvider",
)


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

    @property
    def label(self) -> str:
        return f"{self.name}[{self.subject}]" if self.subject else self.name

    @property
    def status(self) -> str:
        if self.informative and self.note:
            return self.note
        if self.informative:
            return "info: met" if self.passed else "info: not met"
        return "PASS" if self.passed else "FAIL"

    @property
    def failed(self) -> bool:
        return not self.passed and not self.informative


@dataclass(frozen=True)
class Thresholds:
    plcc_min: float = 0.97
    srocc_min: float = 0.97
    plcc_preferred: float = 0.99
    ulp_max: float = 2
    teacher_tolerance: float = 5e-4

    @classmethod
    def from_config(cls, config: dict) -> "Thresholds":
        return cls(
            plcc_min=float(config["plcc_min"]),
            srocc_min=float(config["srocc_min"]),
            plcc_preferred=float(config["plcc_preferred"]),
            ulp_max=float(config["ulp_max"]),
            teacher_tolerance=float(config["teacher_tolerance"]),
        )


@dataclass(frozen=True)
class GateInputs:
    """Paths the gate reads. ``models``/``cards``: tier -> path (``export_paths`` for the usual layout)."""

    tiers: dict[str, ex.TierSpec]
    summary: Path
    models: dict[str, Path]
    cards: dict[str, Path]
    frames: Path
    teacher_check: Path
    golden: Path


def export_paths(tiers: dict[str, ex.TierSpec], export_dir: str | Path = "results/export") -> tuple[dict, dict]:
    d = Path(export_dir)
    return {t: d / f"{t}.onnx" for t in tiers}, {t: d / f"{t}.json" for t in tiers}


# ------------------------------------------------------------------------------------------------
# loading (a missing/unreadable input is an error string, never an exception)


def _missing(path: Path) -> str:
    return f"missing input: {path}"


def _read(path: Path, reader: Callable[[Path], Any]) -> tuple[Any, str | None]:
    path = Path(path)
    if not path.is_file():
        return None, _missing(path)
    try:
        return reader(path), None
    except Exception as exc:  # noqa: BLE001 - any unreadable input is a failed check
        return None, f"unreadable input: {path} ({type(exc).__name__}: {exc})"


def _json(path: Path) -> tuple[dict | None, str | None]:
    return _read(path, lambda p: json.loads(p.read_text(encoding="utf-8")))


def _places_equal(a: float, b: float, places: int = PLACES) -> bool:
    return math.isfinite(a) and math.isfinite(b) and round(abs(a - b), places) == 0


# ------------------------------------------------------------------------------------------------
# the checks


def check_loso(
    tier: ex.TierSpec, summary: pl.DataFrame | None, th: Thresholds, error: str | None = None
) -> list[Check]:
    """LOSO mean PLCC/SROCC of the tier's arch+pooling vs the minima, and PLCC vs the preferred value."""
    sub = tier.name
    if summary is None:
        msg = error or "no LOSO summary"
        return [Check("loso_accuracy", sub, False, msg), Check("loso_preferred", sub, False, msg, informative=True)]
    rows = summary.filter((pl.col("model") == tier.arch) & (pl.col("pooling") == tier.pooling))
    if rows.height != 1:
        msg = f"the LOSO summary has no row for arch {tier.arch} with pooling {tier.pooling}"
        return [Check("loso_accuracy", sub, False, msg), Check("loso_preferred", sub, False, msg, informative=True)]
    r = rows.row(0, named=True)
    plcc, srocc = float(r["plcc_mean"]), float(r["srocc_mean"])
    ok_p = math.isfinite(plcc) and plcc >= th.plcc_min
    ok_s = math.isfinite(srocc) and srocc >= th.srocc_min
    parts = [f"PLCC {plcc:.5f} {'>=' if ok_p else 'BELOW'} plcc_min {th.plcc_min:g}",
             f"SROCC {srocc:.5f} {'>=' if ok_s else 'BELOW'} srocc_min {th.srocc_min:g}"]  # fmt: skip
    values = {"arch": tier.arch, "pooling": tier.pooling, "plcc_mean": plcc, "srocc_mean": srocc,
              "plcc_std": _num(r.get("plcc_std")), "srocc_std": _num(r.get("srocc_std")),
              "n_folds": int(r["n_folds"]), "plcc_min": th.plcc_min, "srocc_min": th.srocc_min}  # fmt: skip
    ok_pref = math.isfinite(plcc) and plcc >= th.plcc_preferred
    pref = f"PLCC {plcc:.5f} {'>=' if ok_pref else '<'} preferred {th.plcc_preferred:g} (informative)"
    return [
        Check("loso_accuracy", sub, ok_p and ok_s, f"{tier.arch}/{tier.pooling}: " + "; ".join(parts), values=values),
        Check("loso_preferred", sub, ok_pref, pref, informative=True,
              values={"plcc_mean": plcc, "plcc_preferred": th.plcc_preferred}),
    ]  # fmt: skip


def _num(v: Any) -> float | None:
    return float(v) if v is not None and math.isfinite(float(v)) else None


def check_card(tier: ex.TierSpec, model: Path, card: dict | None, error: str | None = None) -> Check:
    """The card exists and describes this file and this tier's settings."""
    if card is None:
        return Check("card", tier.name, False, error or "no model card")
    if not Path(model).is_file():
        return Check("card", tier.name, False, _missing(Path(model)))
    data = Path(model).read_bytes()
    problems = []
    want = {"tier": tier.name, "arch": tier.arch, "pooling": tier.pooling, "precision": tier.precision,
            "sha256": ex.sha256_bytes(data), "bytes": len(data)}  # fmt: skip
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
        return Check("byte_budget", tier.name, False, _missing(Path(model)))
    n = Path(model).stat().st_size
    ok = n <= tier.max_bytes
    detail = f"{n:,} bytes {'<=' if ok else '>'} max_bytes {tier.max_bytes:,} ({tier.arch}, {tier.precision})"
    return Check("byte_budget", tier.name, ok, detail, values={"bytes": n, "max_bytes": tier.max_bytes})


def check_golden_student(tier: ex.TierSpec, model: Path, card: dict | None, fixture: dict | None,
                         error: str | None = None, card_error: str | None = None) -> Check:  # fmt: skip
    """Fixture frames through the .onnx on ORT CPU == the card's recorded golden score (4 places)."""
    name = "golden_student"
    if fixture is None:
        return Check(name, tier.name, False, error or "no golden fixture")
    if not Path(model).is_file():
        return Check(name, tier.name, False, _missing(Path(model)))
    if card is None:
        return Check(name, tier.name, False, card_error or "no model card")
    if not isinstance(card.get("golden"), dict) or "score" not in card["golden"]:
        return Check(name, tier.name, False, "the model card records no golden score")
    try:
        got = ex.golden_score(model, fixture["frame_features"])
    except Exception as exc:  # noqa: BLE001
        return Check(name, tier.name, False, f"ORT cannot run {model}: {exc}")
    want = float(card["golden"]["score"])
    ok = _places_equal(got, want)
    return Check(name, tier.name, ok, f"ORT CPU {got:.6f} vs card {want:.6f} (|diff| {abs(got - want):.2e}, 4 places)",
                 values={"ort": got, "card": want})  # fmt: skip


def check_golden_teacher(fixture: dict | None, error: str | None = None) -> Check:
    """The float64 teacher on the fixture's libvmaf features reproduces its recorded vmaf (4 places)."""
    if fixture is None:
        return Check("golden_teacher", "", False, error or "no golden fixture")
    from .teacher import load_teacher

    got = float(load_teacher().predict(fixture["frame_features"]).mean())
    want = float(fixture["vmaf"])
    ok = _places_equal(got, want)
    detail = f"teacher {got:.6f} vs libvmaf {want:.6f} (|diff| {abs(got - want):.2e}, 4 places)"
    return Check("golden_teacher", "", ok, detail, values={"teacher": got, "libvmaf": want})


def providers_status(available: list[str] | None = None) -> dict[str, list[str]]:
    """Which ORT providers the cross-backend check compares with CPU, and which it cannot."""
    if available is None:
        import onnxruntime as ort

        available = list(ort.get_available_providers())
    compute = [p for p in available if p != CPU and p not in NON_COMPUTE_PROVIDERS]
    return {
        "compared": compute,
        "not_checked": [p for p in KNOWN_PROVIDERS if p not in available],
        "excluded": [f"{p}: {why}" for p, why in NON_COMPUTE_PROVIDERS.items() if p in available],
    }


def check_cross_backend(tier: ex.TierSpec, model: Path, datasets: dict[str, np.ndarray], ulp_max: float,
                        available: list[str] | None = None, error: str | None = None) -> Check:  # fmt: skip
    """Max ULP distance CPU vs every other compute provider, and all graph optimisations vs none."""
    name = "cross_backend"
    if not Path(model).is_file():
        return Check(name, tier.name, False, _missing(Path(model)))
    if error:
        return Check(name, tier.name, False, error)
    status = providers_status(available)
    comparisons: dict[str, dict[str, float]] = {}
    unusable: list[str] = []
    try:
        base = ex.ort_session(model)
        ref = {k: ex.ort_run(base, x) for k, x in datasets.items()}
        noopt = ex.ort_session(model, optimize=False)
        comparisons["CPU all optimisations vs none"] = {
            k: max_ulp(ex.ort_run(noopt, x), ref[k]) for k, x in datasets.items()
        }
        for p in status["compared"]:
            try:
                sess = ex.ort_session(model, provider=p)
            except Exception as exc:  # noqa: BLE001 - a provider that cannot start is not checked
                unusable.append(f"{p} (session failed: {str(exc).splitlines()[0][:120]})")
                continue
            if p not in sess.get_providers():
                unusable.append(f"{p} (fell back to CPU)")
                continue
            comparisons[f"{p} vs CPU"] = {k: max_ulp(ex.ort_run(sess, x), ref[k]) for k, x in datasets.items()}
    except Exception as exc:  # noqa: BLE001
        return Check(name, tier.name, False, f"ORT cannot run {model}: {exc}")
    worst = max((v for c in comparisons.values() for v in c.values()), default=0.0)
    ok = worst <= ulp_max
    checked = [c.removesuffix(" vs CPU") for c in comparisons if c.endswith(" vs CPU")]
    not_checked = status["not_checked"] + unusable
    short = [p.replace("ExecutionProvider", "") for p in not_checked]
    detail = (
        f"max {worst:g} ULP {'<=' if ok else '>'} ulp_max {ulp_max:g}: CPU all graph optimisations vs none"
        f"{''.join(f', CPU vs {p}' for p in checked)}; not checked (not available): {', '.join(short) or 'none'}"
    )
    values = {"max_ulp": worst, "comparisons": comparisons, "providers_checked": [CPU, *checked],
              "providers_not_checked": not_checked, "providers_excluded": status["excluded"],
              "datasets": {k: int(len(x)) for k, x in datasets.items()}}  # fmt: skip
    return Check(name, tier.name, ok, detail, values=values)


def check_batch_invariance(tier: ex.TierSpec, model: Path, datasets: dict[str, np.ndarray], ulp_max: float,
                           error: str | None = None) -> Check:  # fmt: skip
    """Each row alone (batch of 1) vs all the dataset's rows in one batch, max ULP <= ulp_max."""
    name = "batch_invariance"
    if not Path(model).is_file():
        return Check(name, tier.name, False, _missing(Path(model)))
    if error:
        return Check(name, tier.name, False, error)
    try:
        sess = ex.ort_session(model)
        per: dict[str, float] = {}
        for k, x in datasets.items():
            whole = ex.ort_run(sess, x)
            alone = np.array([ex.ort_run(sess, x[i : i + 1])[0] for i in range(len(x))], dtype=np.float32)
            per[k] = max_ulp(alone, whole)
    except Exception as exc:  # noqa: BLE001
        return Check(name, tier.name, False, f"ORT cannot run {model}: {exc}")
    worst = max(per.values(), default=0.0)
    ok = worst <= ulp_max
    rows = ", ".join(f"{k} ({len(datasets[k])} rows): {v:g}" for k, v in per.items())
    hint = "" if ok or tier.precision != "int8" else " (dynamic int8 computes activation scales per batch)"
    return Check(name, tier.name, ok, f"max {worst:g} ULP {'<=' if ok else '>'} ulp_max {ulp_max:g}: {rows}{hint}",
                 values={"max_ulp": worst, "per_dataset": per})  # fmt: skip


def check_teacher(doc: dict | None, tolerance: float, error: str | None = None) -> Check:
    """The features stage's teacher check (libvmaf per-frame vmaf vs the float64 SVM)."""
    if doc is None:
        return Check("teacher_check", "", False, error or "no teacher check")
    diff = float(doc.get("max_abs_diff", float("nan")))
    ok = bool(doc.get("passed")) and math.isfinite(diff) and diff <= tolerance
    detail = (f"max per-frame |libvmaf - SVM| {diff:.2e} {'<=' if ok else 'vs'} teacher_tolerance {tolerance:g} "
              f"over {doc.get('n_frames', '?')} frames; features stage says passed={doc.get('passed')}")  # fmt: skip
    if doc.get("failures"):
        detail += f"; {len(doc['failures'])} failing clips, first: {doc['failures'][0]}"
    return Check("teacher_check", "", ok, detail, values={"max_abs_diff": diff, "tolerance": tolerance})


def run_checks(inputs: GateInputs, th: Thresholds) -> list[Check]:
    """Every check of the gate, in report order."""
    from .golden import load_fixture

    summary, summary_err = _read(inputs.summary, pl.read_parquet)
    fixture, fixture_err = _read(inputs.golden, load_fixture)
    frames, frames_err = _read(inputs.frames, pl.read_parquet)
    teacher_doc, teacher_err = _json(inputs.teacher_check)
    datasets: dict[str, np.ndarray] = {}
    if fixture is not None:
        datasets["golden fixture frames"] = np.asarray(fixture["frame_features"], dtype=np.float64)
    if frames is not None:
        datasets["corpus frames"] = ex.corpus_frames(frames)
    data_err = "; ".join(e for e in (fixture_err, frames_err) if e) or None

    checks: list[Check] = []
    for name, tier in inputs.tiers.items():
        model = Path(inputs.models[name])
        card, card_err = _json(inputs.cards[name])
        checks += check_loso(tier, summary, th, summary_err)
        checks.append(check_card(tier, model, card, card_err))
        checks.append(check_budget(tier, model))
        checks.append(check_golden_student(tier, model, card, fixture, fixture_err, card_err))
        checks.append(check_cross_backend(tier, model, datasets, th.ulp_max, error=data_err))
        checks.append(check_batch_invariance(tier, model, datasets, th.ulp_max, error=data_err))
    checks.append(check_golden_teacher(fixture, fixture_err))
    checks.append(check_teacher(teacher_doc, th.teacher_tolerance, teacher_err))
    return checks


# ------------------------------------------------------------------------------------------------
# verdict and reports


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.failed]


def passed(checks: list[Check]) -> bool:
    return bool(checks) and not failures(checks)


def report(checks: list[Check], th: Thresholds, inputs: GateInputs) -> dict:
    """The JSON report (verdict, thresholds, inputs, every check)."""
    cards = {}
    for name in inputs.tiers:
        card, _ = _json(inputs.cards[name])
        if card:
            cards[name] = {
                k: card.get(k) for k in ("id", "arch", "pooling", "precision", "bytes", "n_params", "sha256")
            }
    return {
        "verdict": "PASS" if passed(checks) else "FAIL",
        "failed": [c.label for c in failures(checks)],
        "thresholds": asdict(th),
        "tiers": {k: asdict(v) for k, v in inputs.tiers.items()},
        "models": cards,
        "providers": providers_status(),
        "checks": [{"check": c.label, "status": c.status, "passed": c.passed, "informative": c.informative,
                    "detail": c.detail, "values": ex.jsonable(c.values, "name")} for c in checks],  # fmt: skip
    }


def report_markdown(rep: dict) -> str:
    lines = [f"# Gate: {rep['verdict']}", ""]
    if rep["failed"]:
        lines += ["Failed checks: " + ", ".join(f"`{f}`" for f in rep["failed"]), ""]
    th = rep["thresholds"]
    lines += ["Thresholds: " + ", ".join(f"{k}={v:g}" for k, v in th.items()), ""]
    lines += ["| check | status | detail |", "|---|---|---|"]
    for c in rep["checks"]:
        detail = c["detail"].replace("|", "\\|")  # a literal pipe inside a markdown table cell
        lines.append(f"| {c['check']} | {c['status']} | {detail} |")
    pv = rep["providers"]
    lines += [
        "",
        "ONNX Runtime providers: compared with CPU: " + (", ".join(pv["compared"]) or "none (CPU only)")
        + "; not checked (not installed): " + (", ".join(pv["not_checked"]) or "none")
        + ("; excluded: " + ", ".join(pv["excluded"]) if pv["excluded"] else ""),
    ]  # fmt: skip
    if rep["models"]:
        lines += ["", "| tier | model | arch | pooling | precision | bytes | params |", "|---|---|---|---|---|---|---|"]
        for t, m in rep["models"].items():
            lines.append(
                f"| {t} | "
                + " | ".join(str(m[k]) for k in ("id", "arch", "pooling", "precision", "bytes", "n_params"))
                + " |"
            )
    return "\n".join(lines) + "\n"


def rich_table(checks: list[Check], title: str = "gate"):  # noqa: ANN201 - rich.table.Table
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    style = {"PASS": "green", "FAIL": "bold red"}
    for c in checks:
        table.add_row(escape(c.label), f"[{style.get(c.status, 'yellow')}]{escape(c.status)}[/]", escape(c.detail))
    return table


# ------------------------------------------------------------------------------------------------
# healthcheck (no corpus: the toolchain, the golden fixture, and whatever exports exist)


def check_ffmpeg(exe: str, origin: str = "") -> Check:
    from .ffmpeg import FFmpegError, check_libvmaf

    try:
        info = check_libvmaf(exe, origin)
    except FFmpegError as exc:
        return Check("ffmpeg_libvmaf", "", False, str(exc))
    return Check("ffmpeg_libvmaf", "", True, f"{exe} ({origin}) has libvmaf; {info['ffmpeg_version']}", values=info)


def check_golden_libvmaf(exe: str, fixture: dict | None, error: str | None = None) -> Check:
    """One libvmaf pass over the fixture reproduces its recorded features and vmaf (4 places)."""
    name = "golden_libvmaf"
    if fixture is None:
        return Check(name, "", False, error or "no golden fixture")
    from .golden import measure_fixture

    try:
        got = measure_fixture(exe)
    except Exception as exc:  # noqa: BLE001 - ffmpeg/libvmaf failure
        return Check(name, "", False, f"libvmaf on the golden fixture failed: {exc}")
    want_f, got_f = np.asarray(fixture["frame_features"]), np.asarray(got["frame_features"])
    want_v, got_v = np.asarray(fixture["frame_vmaf"]), np.asarray(got["frame_vmaf"])
    if want_f.shape != got_f.shape or want_v.shape != got_v.shape:
        return Check(name, "", False, f"frame count {len(got_v)} vs recorded {len(want_v)}")
    d_f = float(np.abs(got_f - want_f).max())
    d_v = float(np.abs(got_v - want_v).max())
    ok = _places_equal(d_f, 0.0) and _places_equal(d_v, 0.0) and _places_equal(got["vmaf"], fixture["vmaf"])
    version = f"libvmaf {got['libvmaf_version']} (recorded with {fixture.get('libvmaf_version')})"
    return Check(name, "", ok, f"vmaf {got['vmaf']:.6f} vs recorded {fixture['vmaf']:.6f}; max per-frame |diff| "
                 f"features {d_f:.2e}, vmaf {d_v:.2e} (4 places); {version}",
                 values={"vmaf": got["vmaf"], "recorded": fixture["vmaf"],
                         "libvmaf_version": got["libvmaf_version"]})  # fmt: skip


def check_export_file(model: Path, fixture: dict | None) -> Check:
    """An exported .onnx loads in ORT and matches its card (sha256, bytes, golden score at 4 places)."""
    model = Path(model)
    card_path = model.with_suffix(".json")
    card, err = _json(card_path)
    if card is None:
        return Check("export", model.stem, False, err or f"no card {card_path}")
    data = model.read_bytes()
    problems = []
    if card.get("sha256") != ex.sha256_bytes(data):
        got, want = ex.sha256_bytes(data)[:12], str(card.get("sha256"))[:12]
        problems.append(f"sha256 {got}… differs from the card's {want}…")
    if card.get("bytes") != len(data):
        problems.append(f"{len(data):,} bytes, the card says {card.get('bytes')}")
    try:
        ex.check_contract(data)
        score = ex.golden_score(data, fixture["frame_features"]) if fixture is not None else None
    except Exception as exc:  # noqa: BLE001
        return Check("export", model.stem, False, f"{model} does not load/run in ORT or breaks the contract: {exc}")
    want = (card.get("golden") or {}).get("score")
    if score is None:
        problems.append("no golden fixture to score")
    elif want is None or not _places_equal(score, float(want)):
        problems.append(f"golden score {score:.6f} vs card {want}")
    if problems:
        return Check("export", model.stem, False, f"{model}: " + "; ".join(problems))
    return Check("export", model.stem, True, f"{model} ({card.get('id')}): sha256, bytes and golden score "
                 f"{score:.4f} match the card", values={"golden": score})  # fmt: skip


def health_checks(exe: str, origin: str, export_dir: str | Path, golden: str | Path) -> list[Check]:
    from .golden import load_fixture

    fixture, err = _read(Path(golden), load_fixture)
    checks = [check_ffmpeg(exe, origin)]
    if checks[0].passed:
        checks.append(check_golden_libvmaf(exe, fixture, err))
    else:
        checks.append(Check("golden_libvmaf", "", False, "not run: no usable ffmpeg with libvmaf"))
    checks.append(check_golden_teacher(fixture, err))
    models = sorted(Path(export_dir).glob("*.onnx"))
    if not models:
        checks.append(
            Check("export", "", True, f"no exported models yet in {export_dir}", informative=True, note="info")
        )
    checks += [check_export_file(m, fixture) for m in models]
    return checks
