"""The gate's checks as pure functions, on a small set of gate inputs (real exports of random students, real
engines, the committed golden fixture as this run's measurement): each threshold failing by name, undefined
folds, missing engines and inputs (never skipped), batch invariance, card and libvmaf drift, the byte budget
and the bound proof, the report, and engine defaults that move scores (a WARN, never a failure)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime
import polars as pl
import pytest
import torch

from vmafdistill import FEATURES, gate, onnxrun
from vmafdistill import engines as en
from vmafdistill import export as ex
from vmafdistill.engine_summary import summarise
from vmafdistill.ffmpeg import resolve_ffmpeg
from vmafdistill.gate.checks import check_bound
from vmafdistill.golden import RECORD, load_fixture, record_fixture
from vmafdistill.synth import sample_features
from vmafdistill.teacher import load_teacher

from students_for_tests import bf16_engine, random_student


_model = random_student
LENIENT = dict(golden_tolerance=1000.0)  # random students are far from the teacher on the fixture


def _write_tier(d: Path, tier: ex.TierSpec, model: torch.nn.Module) -> None:
    data = ex.build_onnx(model, tier.precision, ex.metadata(tier, "ab" * 32, "86da14d", load_teacher()), 20)
    (d / f"{tier.name}.onnx").write_bytes(data)
    card = {"id": ex.card_id(tier.name, tier.arch, tier.precision, ex.sha256_bytes(data)), "tier": tier.name,
            "arch": tier.arch, "pooling": tier.pooling, "precision": tier.precision, "bytes": len(data),
            "sha256": ex.sha256_bytes(data), "n_params": 0,
            "golden": {"score": onnxrun.clip_score(data, load_fixture()["frame_features"])}}
    (d / f"{tier.name}.json").write_text(json.dumps(card))


def _loso(n_folds: int = 3, clips_per_fold: int = 6, noise: float = 0.01, seed: int = 0) -> pl.DataFrame:
    """Held-out predictions as the loso_tier rule writes them: teacher spread 20-95, student = teacher + noise."""
    rng = np.random.default_rng(seed)
    n = n_folds * clips_per_fold
    teacher = rng.uniform(20, 95, n)
    return pl.DataFrame({"clip_id": [f"c{i}" for i in range(n)],
                         "source": [f"S{i // clips_per_fold}" for i in range(n)],
                         "self_pair": [False] * n, "dmos": [None] * n,
                         "fold": [f"S{i // clips_per_fold}" for i in range(n)],
                         "teacher": teacher, "student": teacher + rng.normal(0, noise, n)})


@pytest.fixture(scope="module")
def gate_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("gate")
    tiers = _tiers()
    for i, t in enumerate(tiers.values()):
        _write_tier(d, t, _model(t.arch, i))
        _loso(seed=i).write_parquet(d / f"loso_{t.name}.parquet")
    _write_tier(d, ex.TierSpec("q8", "mlp_64x2", "frame", "int8", 10**6), _model("mlp_64x2", 5))
    _loso(seed=5).write_parquet(d / "loso_q8.parquet")
    x = sample_features(300, seed=11)
    pl.DataFrame({"clip_id": [f"c{i // 10}" for i in range(300)], "frame": [i % 10 for i in range(300)],
                  **{f: x[:, j] for j, f in enumerate(FEATURES)}}).write_parquet(d / "frames.parquet")
    (d / "teacher_check.json").write_text(json.dumps({"passed": True, "max_abs_diff": 1.5e-4, "n_frames": 300}))
    # this run's pass over the golden fixture, measured for real (the gate compares it with the committed record)
    (d / "golden_run.json").write_text(json.dumps(record_fixture(resolve_ffmpeg()[0], [load_teacher("vmaf_v0.6.1")])))
    return d


def _tiers() -> dict[str, ex.TierSpec]:
    return {
        "nano": ex.TierSpec("nano", "nano", "frame", "fp32", 10_240),
        "tiny": ex.TierSpec("tiny", "mlp_64x2", "frame", "fp32", 102_400),
    }


def _inputs(d: Path, tiers: dict | None = None, **over) -> gate.GateInputs:
    tiers = tiers or _tiers()
    models, cards = gate.export_paths(tiers, d)
    base = dict(tiers=tiers, loso={t: d / f"loso_{t}.parquet" for t in tiers}, models=models, cards=cards,
                frames=d / "frames.parquet", teacher_check=d / "teacher_check.json", golden_record=RECORD,
                golden_run=d / "golden_run.json", teacher=load_teacher("vmaf_v0.6.1"))
    base.update(over)
    return gate.GateInputs(**base)


def _run(inputs, **th):
    return gate.run_checks(inputs, gate.Thresholds(**{**LENIENT, **th}))[0]


def _by_label(checks: list[gate.Check]) -> dict[str, gate.Check]:
    return {c.label: c for c in checks}


def test_gate_passes_on_good_inputs(gate_dir):
    checks, tables = gate.run_checks(_inputs(gate_dir), gate.Thresholds(**LENIENT))
    assert gate.passed(checks), [f"{c.label}: {c.detail}" for c in gate.failures(checks)]
    labels = _by_label(checks)
    for t in ("nano", "tiny"):
        for name in ("loso_accuracy", "loso_preferred", "card", "byte_budget", "golden", "engines", "golden_engines",
                     "batch_invariance"):
            assert f"{name}[{t}]" in labels
    assert {"golden_libvmaf", "golden_teacher", "teacher_check"} <= set(labels)
    table = {e["engine"]: e for e in tables["nano"]}
    for eng in ("ort-cpu-noopt", "onnx-reference", "openvino-f32", "openvino-default", "tract"):
        assert table[eng]["status"] == "compared" and set(table[eng]["datasets"]) == {"golden fixture", "corpus frames",
                                                                                     "synthetic"}, eng
    assert table["ort-cpu-noopt"]["gated"] and not table["openvino-default"]["gated"] and not table["torch"]["gated"]
    assert table["torch"]["status"] == "not checked" and "no torch weights" in table["torch"]["reason"]
    cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    assert table["ort-cuda"]["status"] == ("compared" if cuda else "not checked")
    # a real second engine is not bit-identical to ORT on a float tier, and that is shown (the gate holds
    # float tiers to engine_tolerance in VMAF points, not to ulp_max)
    assert max(table[e]["max_ulp"] for e in ("onnx-reference", "openvino-f32", "tract")) > 2
    assert all(table[e]["max_abs_diff"] < 1e-4 for e in ("onnx-reference", "openvino-f32", "tract"))


@pytest.mark.parametrize("key,value,label,words", [
    ("plcc_min", 1.01, "loso_accuracy", "BELOW plcc_min 1.01"),
    ("srocc_min", 1.01, "loso_accuracy", "BELOW srocc_min 1.01"),
    ("rmse_max", 1e-7, "loso_accuracy", "ABOVE rmse_max 1e-07"),
    ("max_abs_error_max", 1e-7, "loso_accuracy", "ABOVE max_abs_error_max 1e-07"),
    ("golden_tolerance", 1e-7, "golden", "> golden_tolerance 1e-07"),
    ("engine_tolerance", 1e-12, "engines", "over engine_tolerance 1e-12"),
])
def test_each_threshold_can_fail_the_gate(gate_dir, key, value, label, words):
    checks = _run(_inputs(gate_dir), **{key: value})
    failed = [c.label for c in gate.failures(checks)]
    assert failed == [f"{label}[nano]", f"{label}[tiny]"]
    assert words in _by_label(checks)[f"{label}[nano]"].detail


def test_an_undefined_fold_fails_by_name(gate_dir, tmp_path):
    loso = _loso()
    tiny_fold = pl.DataFrame({**{c: loso[c][:2] for c in loso.columns}}).with_columns(
        pl.lit("Tiny").alias("fold"), pl.lit("Tiny").alias("source"), pl.Series("clip_id", ["t0", "t1"]))
    pl.concat([loso, tiny_fold]).write_parquet(tmp_path / "loso.parquet")
    tiers = {"nano": _tiers()["nano"]}
    checks = _run(_inputs(gate_dir, tiers, loso={"nano": tmp_path / "loso.parquet"}))
    c = _by_label(checks)["loso_accuracy[nano]"]
    assert c.failed and "correlation undefined in fold(s) Tiny (2 clips)" in c.detail


def test_a_required_engine_that_is_missing_fails(gate_dir):
    checks = _run(_inputs(gate_dir, {"nano": _tiers()["nano"]}), engines_required=("ort-cpu", "tract", "ort-cuda"))
    labels = _by_label(checks)
    assert "CUDAExecutionProvider" not in onnxruntime.get_available_providers()  # CPU-only onnxruntime pinned
    assert labels["engines[nano]"].failed
    assert ("required engine ort-cuda not checked: not installed in this onnxruntime build"
            in labels["engines[nano]"].detail)
    assert labels["golden_engines[nano]"].failed and "ort-cuda not checked" in labels["golden_engines[nano]"].detail


def test_preferred_is_informative_only(gate_dir):
    checks = _run(_inputs(gate_dir), plcc_preferred=1.01)
    pref = _by_label(checks)["loso_preferred[nano]"]
    assert not pref.passed and pref.status == "info: not met"
    assert gate.passed(checks)


def test_dynamic_int8_fails_batch_invariance(gate_dir):
    tiers = {"q8": ex.TierSpec("q8", "mlp_64x2", "frame", "int8", 10**6)}
    checks = _run(_inputs(gate_dir, tiers))
    labels = _by_label(checks)
    assert not labels["batch_invariance[q8]"].passed
    assert "per batch" in labels["batch_invariance[q8]"].detail
    assert "batch_invariance[q8]" in [c.label for c in gate.failures(checks)]


def test_missing_inputs_fail_never_skip(gate_dir, tmp_path):
    for name in ("loso_nano.parquet", "teacher_check.json", "nano.onnx", "nano.json"):
        shutil.copy(gate_dir / name, tmp_path / name)  # no frames, no tiny tier, no fixture run
    checks = _run(_inputs(tmp_path, golden_run=tmp_path / "no-golden.json"))
    assert not gate.passed(checks)
    labels = _by_label(checks)
    missing = ["loso_accuracy[tiny]", "card[tiny]", "byte_budget[tiny]", "golden[tiny]", "engines[tiny]",
               "golden_engines[tiny]", "batch_invariance[tiny]", "golden[nano]", "engines[nano]",
               "golden_engines[nano]", "batch_invariance[nano]", "golden_libvmaf", "golden_teacher"]
    for label in missing:
        assert labels[label].failed, label
        assert "missing input" in labels[label].detail, label
    assert "frames.parquet" in labels["batch_invariance[nano]"].detail


def test_teacher_check_card_mismatch_and_libvmaf_drift(gate_dir, tmp_path):
    for p in gate_dir.iterdir():
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "teacher_check.json").write_text(
        json.dumps({"passed": False, "max_abs_diff": 2e-3, "failures": ["clip x"]})
    )
    card = json.loads((tmp_path / "tiny.json").read_text())
    card["sha256"] = "0" * 64
    (tmp_path / "tiny.json").write_text(json.dumps(card))
    run = json.loads(RECORD.read_text())  # this run's libvmaf differs from the committed record
    entry = run["teachers"]["vmaf_v0.6.1"]
    entry["frame_vmaf"][0] += 0.01
    entry["vmaf"] += 0.01 / len(entry["frame_vmaf"])
    (tmp_path / "golden_run.json").write_text(json.dumps(run))
    checks = _run(_inputs(tmp_path))
    assert {c.label for c in gate.failures(checks)} == {"teacher_check", "card[tiny]", "golden_libvmaf",
                                                        "golden_teacher"}
    assert "sha256" in _by_label(checks)["card[tiny]"].detail


def test_budget_check(gate_dir):
    tier = replace(_tiers()["tiny"], max_bytes=1000)
    c = gate.check_budget(tier, gate_dir / "tiny.onnx")
    assert not c.passed and "> max_bytes 1,000" in c.detail


def test_report_markdown_names_failures(gate_dir):
    inputs = _inputs(gate_dir)
    th = gate.Thresholds(**LENIENT, plcc_min=1.01)
    checks, tables = gate.run_checks(inputs, th)
    rep = gate.report(checks, th, inputs, tables)
    assert rep["verdict"] == "FAIL" and rep["failed"] == ["loso_accuracy[nano]", "loso_accuracy[tiny]"]
    md = gate.report_markdown(rep)
    assert md.startswith("# Gate: FAIL") and "`loso_accuracy[nano]`" in md
    assert "### Engines: nano" in md and "| openvino-default | no |" in md and "| tract | yes |" in md
    json.dumps(rep, allow_nan=False)


def test_an_engine_default_that_moves_scores_warns_by_name(gate_dir):
    """engine_defaults[tier]: a default-settings engine computing in bf16 (simulated here, on any CPU) is a
    WARN naming the engine, its precision, the VMAF error and the fix; it never fails the gate."""
    tier = _tiers()["nano"]
    x = sample_features(500, seed=3)
    table = summarise(en.engine_table(gate_dir / "nano.onnx", {"synthetic": x}, [bf16_engine(), "openvino-f32"]),
                      gate.Thresholds().engines_required)
    th = gate.Thresholds(**LENIENT)
    c = gate.check_engine_defaults(tier, table, th)
    assert c.status == "WARN" and c.passed and not c.failed and c.label == "engine_defaults[nano]"
    line = c.values["warnings"][0]
    assert line.startswith("bf16-sim (its default settings) computes in bf16 (simulated) here: up to ")
    vmaf = float(line.split("up to ")[1].split(" VMAF")[0])
    assert vmaf > th.engine_tolerance and "fix: run it in float32 (simulated engine)" in line
    # within tolerance (a wide one): a plain pass that still shows the engine and its figure
    quiet = gate.check_engine_defaults(tier, table, gate.Thresholds(**LENIENT, engine_tolerance=10.0))
    assert quiet.status == "PASS" and "bf16-sim (bf16 (simulated))" in quiet.detail
    # the report: verdict PASS with the warning at its top, in JSON and Markdown
    inputs = _inputs(gate_dir)
    checks, tables = gate.run_checks(inputs, th)
    rep = gate.report([*checks, c], th, inputs, tables)
    assert rep["verdict"] == "PASS" and rep["warnings"][-1] == f"engine_defaults[nano]: {c.detail}"
    n = len(rep["warnings"])  # OpenVINO's real default adds its own on a CPU with AVX512-BF16/AMX
    md = gate.report_markdown(rep)
    assert (md.startswith(f"# Gate: PASS ({n} warning{'s' * (n > 1)})")
            and f"- **WARN** engine_defaults[nano]: {line}" in md)


def test_openvino_default_is_judged_as_it_runs_here(gate_dir):
    """The real openvino-default row: a WARN exactly when OpenVINO chose a precision other than f32 on
    this CPU and moved scores past engine_tolerance (AVX512-BF16/AMX: bf16), else a pass."""
    checks, tables = gate.run_checks(_inputs(gate_dir), gate.Thresholds(**LENIENT))
    row = {e["engine"]: e for e in tables["nano"]}["openvino-default"]
    c = _by_label(checks)["engine_defaults[nano]"]
    moved = row["max_abs_diff"] > gate.Thresholds().engine_tolerance
    assert row["settings"] == "default" and row["precision"] in ("f32", "bf16")
    assert moved == (row["precision"] == "bf16")
    assert (c.status == "WARN") == moved and not c.failed
    if moved:
        assert "openvino-default (its default settings) computes in bf16 here" in c.detail
        assert "INFERENCE_PRECISION_HINT': 'f32'" in c.detail


def test_bound_check_proves_only_an_exact_graph(gate_dir):
    """bound[tier] (exact tiers): a float graph (GELU, arbitrary weights) is not provably exact."""
    c = check_bound(ex.TierSpec("nano", "nano", "frame", "exact", 10_240), gate_dir / "nano.onnx")
    assert c.failed and c.detail.startswith("not provably exact")
