"""The gate: ULP distance, each check as a pure function, failures named, and the whole `gate` target
end to end on the tiny corpus."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
import yaml

from vmafdistill import FEATURES
from vmafdistill import export as ex
from vmafdistill import gate
from vmafdistill.golden import RECORD, load_fixture
from vmafdistill.synth import sample_features
from vmafdistill.ulp import max_ulp, ulp_distance

from students_for_tests import random_student

ROOT = Path(__file__).resolve().parent.parent
f32 = np.float32


# ------------------------------------------------------------------------------------------------
# ULP


def _up(x, n=1):
    x = f32(x)
    for _ in range(n):
        x = np.nextafter(x, f32(np.inf))
    return x


def test_ulp_known_floats():
    assert ulp_distance(f32(1.0), _up(1.0)) == 1
    assert ulp_distance(f32(1.0), _up(1.0, 2)) == 2
    assert ulp_distance(f32(1.0), f32(1.0)) == 0
    assert ulp_distance(f32(-0.0), f32(0.0)) == 0
    tiny = _up(0.0)  # smallest positive subnormal
    assert ulp_distance(-tiny, tiny) == 2  # across zero: -tiny, 0, +tiny
    assert ulp_distance(f32(-0.0), tiny) == 1
    assert ulp_distance(f32(-1.0), np.nextafter(f32(-1.0), f32(0))) == 1  # negatives
    assert ulp_distance(f32(-1.0), f32(1.0)) == 2 * ulp_distance(f32(0.0), f32(1.0))
    assert ulp_distance(np.finfo(np.float32).max, f32(np.inf)) == 1
    assert ulp_distance(f32(np.nan), f32(1.0)) == np.inf
    assert ulp_distance(f32(np.nan), f32(np.nan)) == np.inf
    assert ulp_distance(f32(2.0), f32(1.0)) == 2**23  # one binade of float32


def test_ulp_arrays():
    a = np.array([1.0, 50.0, -3.0, 0.0], dtype=np.float32)
    b = np.array([_up(1.0), _up(50.0, 3), -3.0, -0.0], dtype=np.float32)
    np.testing.assert_array_equal(ulp_distance(a, b), [1, 3, 0, 0])
    assert max_ulp(a, b) == 3
    with pytest.raises(ValueError, match="shapes differ"):
        max_ulp(a, b[:2])


# ------------------------------------------------------------------------------------------------
# checks as pure functions, on a small synthetic set of gate inputs


_model = random_student


def _write_tier(d: Path, tier: ex.TierSpec, model: torch.nn.Module) -> None:
    data = ex.build_onnx(model, tier.precision, ex.metadata(tier, "ab" * 32, "86da14d"), 20)
    (d / f"{tier.name}.onnx").write_bytes(data)
    card = {"id": ex.card_id(tier.name, tier.arch, tier.precision, ex.sha256_bytes(data)), "tier": tier.name,
            "arch": tier.arch, "pooling": tier.pooling, "precision": tier.precision, "bytes": len(data),
            "sha256": ex.sha256_bytes(data), "n_params": 0,
            "golden": {"score": ex.golden_score(data, load_fixture()["frame_features"])}}  # fmt: skip
    (d / f"{tier.name}.json").write_text(json.dumps(card))


@pytest.fixture(scope="module")
def gate_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("gate")
    tiers = _tiers()
    for i, t in enumerate(tiers.values()):
        _write_tier(d, t, _model(t.arch, i))
    _write_tier(d, ex.TierSpec("q8", "mlp_64x2", "frame", "int8", 10**6), _model("mlp_64x2", 5))
    metrics = {
        "n_folds": 3,
        "n_seeds": 1,
        "plcc_mean": 0.9995,
        "plcc_std": 0.0002,
        "srocc_mean": 0.998,
        "srocc_std": 0.001,
    }
    rows = [{"model": a, "arch": a, "pooling": p, **metrics} for a in ("nano", "mlp_64x2") for p in ("clip", "frame")]
    pl.DataFrame(rows).write_parquet(d / "summary.parquet")
    x = sample_features(300, seed=11)
    pl.DataFrame({"clip_id": [f"c{i // 10}" for i in range(300)], "frame": [i % 10 for i in range(300)],
                  **{f: x[:, j] for j, f in enumerate(FEATURES)}}).write_parquet(d / "frames.parquet")  # fmt: skip
    (d / "teacher_check.json").write_text(json.dumps({"passed": True, "max_abs_diff": 1.5e-4, "n_frames": 300}))
    return d


def _tiers() -> dict[str, ex.TierSpec]:
    return {
        "nano": ex.TierSpec("nano", "nano", "frame", "fp32", 10_240),
        "tiny": ex.TierSpec("tiny", "mlp_64x2", "frame", "fp32", 102_400),
    }


def _inputs(d: Path, tiers: dict | None = None, **over) -> gate.GateInputs:
    tiers = tiers or _tiers()
    models, cards = gate.export_paths(tiers, d)
    base = dict(tiers=tiers, summary=d / "summary.parquet", models=models, cards=cards, frames=d / "frames.parquet",
                teacher_check=d / "teacher_check.json", golden=RECORD)  # fmt: skip
    base.update(over)
    return gate.GateInputs(**base)


def _by_label(checks: list[gate.Check]) -> dict[str, gate.Check]:
    return {c.label: c for c in checks}


def test_gate_passes_on_good_inputs(gate_dir):
    checks = gate.run_checks(_inputs(gate_dir), gate.Thresholds())
    assert gate.passed(checks), [f"{c.label}: {c.detail}" for c in gate.failures(checks)]
    labels = _by_label(checks)
    for t in ("nano", "tiny"):
        for name in ("loso_accuracy", "loso_preferred", "card", "byte_budget", "golden_student", "cross_backend",
                     "batch_invariance"):  # fmt: skip
            assert f"{name}[{t}]" in labels
    assert "golden_teacher" in labels and "teacher_check" in labels
    cb = labels["cross_backend[nano]"].values
    assert cb["providers_checked"][0] == "CPUExecutionProvider"
    assert "CUDAExecutionProvider" in cb["providers_not_checked"] or "CUDAExecutionProvider" in cb["providers_checked"]
    assert "AzureExecutionProvider" not in cb["providers_checked"]
    assert "CPU all optimisations vs none" in cb["comparisons"]


@pytest.mark.parametrize("plcc_min", [1.01, 0.999999])
def test_gate_fails_when_a_threshold_is_raised(gate_dir, plcc_min):
    checks = gate.run_checks(_inputs(gate_dir), gate.Thresholds(plcc_min=plcc_min))
    failed = [c.label for c in gate.failures(checks)]
    assert failed == ["loso_accuracy[nano]", "loso_accuracy[tiny]"]
    assert f"BELOW plcc_min {plcc_min:g}" in _by_label(checks)["loso_accuracy[nano]"].detail


def test_preferred_is_informative_only(gate_dir):
    checks = gate.run_checks(_inputs(gate_dir), gate.Thresholds(plcc_preferred=0.99999))
    pref = _by_label(checks)["loso_preferred[nano]"]
    assert not pref.passed and pref.status == "info: not met"
    assert gate.passed(checks)


def test_dynamic_int8_fails_batch_invariance(gate_dir):
    tiers = {"q8": ex.TierSpec("q8", "mlp_64x2", "frame", "int8", 10**6)}
    checks = gate.run_checks(_inputs(gate_dir, tiers), gate.Thresholds())
    labels = _by_label(checks)
    assert not labels["batch_invariance[q8]"].passed
    assert "per batch" in labels["batch_invariance[q8]"].detail
    assert "batch_invariance[q8]" in [c.label for c in gate.failures(checks)]


def test_ulp_max_zero_is_met_by_fp32(gate_dir):
    checks = gate.run_checks(_inputs(gate_dir), gate.Thresholds(ulp_max=0))
    assert _by_label(checks)["batch_invariance[nano]"].passed  # fp32 on ORT CPU: bit-identical per row
    assert _by_label(checks)["cross_backend[nano]"].passed  # opset 20: no fusion changes the numbers


def test_missing_inputs_fail_never_skip(gate_dir, tmp_path):
    for name in ("summary.parquet", "teacher_check.json", "nano.onnx", "nano.json"):
        shutil.copy(gate_dir / name, tmp_path / name)  # no frames, no tiny tier
    inputs = _inputs(tmp_path, golden=tmp_path / "no-golden.json")
    checks = gate.run_checks(inputs, gate.Thresholds())
    assert not gate.passed(checks)
    labels = _by_label(checks)
    missing = [
        "card[tiny]",
        "byte_budget[tiny]",
        "golden_student[tiny]",
        "cross_backend[tiny]",
        "batch_invariance[tiny]",
    ]
    missing += ["golden_teacher", "cross_backend[nano]", "batch_invariance[nano]"]
    for label in missing:
        assert labels[label].failed, label
        assert "missing input" in labels[label].detail, label
    assert "frames.parquet" in labels["batch_invariance[nano]"].detail
    empty = gate.run_checks(_inputs(tmp_path / "nothing"), gate.Thresholds())  # only the golden fixture exists
    assert [c.label for c in empty if not (c.failed or c.informative)] == ["golden_teacher"]


def test_teacher_check_and_card_mismatch(gate_dir, tmp_path):
    for p in gate_dir.iterdir():
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "teacher_check.json").write_text(
        json.dumps({"passed": False, "max_abs_diff": 2e-3, "failures": ["clip x"]})
    )
    card = json.loads((tmp_path / "tiny.json").read_text())
    card["sha256"] = "0" * 64
    (tmp_path / "tiny.json").write_text(json.dumps(card))
    checks = gate.run_checks(_inputs(tmp_path), gate.Thresholds())
    assert {c.label for c in gate.failures(checks)} == {"teacher_check", "card[tiny]"}
    assert "sha256" in _by_label(checks)["card[tiny]"].detail


def test_budget_and_golden_checks(gate_dir):
    tier = replace(_tiers()["tiny"], max_bytes=1000)
    c = gate.check_budget(tier, gate_dir / "tiny.onnx")
    assert not c.passed and "> max_bytes 1,000" in c.detail
    card = json.loads((gate_dir / "tiny.json").read_text())
    card["golden"]["score"] += 1e-3
    g = gate.check_golden_student(tier, gate_dir / "tiny.onnx", card, load_fixture())
    assert not g.passed and "vs card" in g.detail


def test_providers_status_lists_what_is_not_checked():
    s = gate.providers_status(["AzureExecutionProvider", "CPUExecutionProvider"])
    assert s["compared"] == []
    assert "CUDAExecutionProvider" in s["not_checked"] and "TensorrtExecutionProvider" in s["not_checked"]
    assert s["excluded"][0].startswith("AzureExecutionProvider")
    s = gate.providers_status(["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert s["compared"] == ["CUDAExecutionProvider"] and "CUDAExecutionProvider" not in s["not_checked"]


def test_report_markdown_names_failures(gate_dir):
    inputs = _inputs(gate_dir)
    th = gate.Thresholds(plcc_min=1.01)
    rep = gate.report(gate.run_checks(inputs, th), th, inputs)
    assert rep["verdict"] == "FAIL" and rep["failed"] == ["loso_accuracy[nano]", "loso_accuracy[tiny]"]
    md = gate.report_markdown(rep)
    assert md.startswith("# Gate: FAIL") and "`loso_accuracy[nano]`" in md
    json.dumps(rep, allow_nan=False)


# ------------------------------------------------------------------------------------------------
# end to end: `snakemake gate` on the tiny corpus (real ffmpeg/libvmaf, short training budgets)

@pytest.fixture(scope="module")
def tiny_gate(tmp_path_factory):
    from tiny import build_tiny_corpus, fast_config, snakemake

    root = build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"))
    work = tmp_path_factory.mktemp("work_gate")
    args = fast_config(work, root)  # only the tiers' archs, short budgets
    proc = snakemake(work, "--cores", "2", "gate", *args)
    return root, work, args, proc


def test_gate_end_to_end(tiny_gate):
    from tiny import snakemake

    root, work, args, proc = tiny_gate
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((work / "results/gate/report.json").read_text())
    assert report["verdict"] == "PASS", report["failed"]
    assert report["thresholds"]["plcc_min"] == 0.97 and report["thresholds"]["ulp_max"] == 2  # the defaults
    assert (work / "logs/gate/report.md").read_text() == (work / "results/gate/report.md").read_text()
    for tier, budget in (("nano", 10_240), ("tiny", 102_400)):
        data = (work / f"results/export/{tier}.onnx").read_bytes()
        card = json.loads((work / f"results/export/{tier}.json").read_text())
        assert card["bytes"] == len(data) <= budget and card["sha256"] == ex.sha256_bytes(data)
        assert card["opset"] >= 17 and card["features"] == list(FEATURES)
        assert card["loso"]["plcc_mean"] >= 0.97 and card["precision_cost"]["max_abs_diff"] < 5e-5
        assert set(ex.METADATA_KEYS) <= set(ex.metadata_of(data))
        assert ex.metadata_of(data)["vmafdistill.features_sha256"] == card["features_sha256"]
    # the healthcheck sees the exports (seconds, no corpus)
    health = snakemake(work, "--cores", "1", "healthcheck", *args)
    assert health.returncode == 0, health.stderr[-3000:]
    assert "export[nano]" in (work / "logs/healthcheck.log").read_text()
    # score.py standalone on a corpus pair (containers: no geometry needed)
    out = work / "frames.csv"
    dis = sorted((root / "dis").glob("*crf38*"))[0]
    ref = sorted((root / "dis").glob(f"{dis.name.split('_')[0]}*crf26*"))[0]
    score_py = [sys.executable, str(ROOT / "scripts/score.py"), "--model", str(work / "results/export/nano.onnx")]
    score = subprocess.run(
        [*score_py, "--ref", str(ref), "--dis", str(dis), "--frames", str(out)],
        capture_output=True, text=True, timeout=120, cwd=work,
    )  # fmt: skip
    assert score.returncode == 0, score.stderr
    assert "teacher" in score.stdout and "student" in score.stdout
    assert pl.read_csv(out).columns == ["frame", *FEATURES, "teacher", "student"]
    raw_ref = next((root / "ref").glob("*.yuv"))
    raw = subprocess.run(
        [*score_py, "--ref", str(raw_ref), "--dis", str(dis)], capture_output=True, text=True, cwd=work
    )
    assert raw.returncode != 0 and "--width" in raw.stderr


def test_gate_end_to_end_fails_naming_the_check(tiny_gate):
    from tiny import snakemake

    _, work, args, _ = tiny_gate
    proc = snakemake(work, "--cores", "2", "gate", *args, "--config", "plcc_min=1.01")
    assert proc.returncode != 0
    log = (work / "logs/gate/gate.log").read_text()
    assert "gate FAILED" in log and "loso_accuracy[nano]" in log and "loso_accuracy[tiny]" in log
    assert "loso_accuracy[nano]" in proc.stderr
    kept = json.loads((work / "logs/gate/report.json").read_text())  # the report survives the failed job
    assert kept["verdict"] == "FAIL" and kept["failed"] == ["loso_accuracy[nano]", "loso_accuracy[tiny]"]
    assert not (work / "results/gate/report.json").exists()  # Snakemake removed the failed job's outputs


def test_report_after_a_run(tiny_gate):
    """`snakemake --report` gathers the LOSO tables and plots, the gate report and the model cards."""
    from tiny import snakemake

    _, work, args, proc = tiny_gate
    assert proc.returncode == 0
    # an earlier test re-ran the gate with an unreachable threshold (its failed report was removed)
    again = snakemake(work, "--cores", "2", "gate", *args)
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    out = work / "report.html"
    rep = snakemake(work, "--report", str(out), *args)
    assert rep.returncode == 0, (rep.stdout + rep.stderr)[-3000:]
    html = out.read_text(errors="replace")
    for needle in ("scatter.png", "fold_plcc.png", "summary.csv", "report.md", "nano.json", "leave-one-source-out"):
        assert needle in html, needle
