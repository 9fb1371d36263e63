"""The whole `gate` target end to end on the shared tiny run (conftest.tiny_run: real ffmpeg/libvmaf, two
teachers, short budgets): the default bars failing every student not to ship by name, the lenient gate passing
with its report, engines and cards, the healthcheck and score.py on the exports, and `snakemake --report`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from vmafdistill import engines as E
from vmafdistill import export as ex
from vmafdistill import gate
from vmafdistill.gate.checks import check_loso
from vmafdistill.teacher import load_teacher

from tiny import TEACHERS

ROOT = Path(__file__).resolve().parent.parent


def test_the_default_bars_fail_every_student_not_to_ship_by_name(tiny_run):
    """With the default config the gate fails naming each student a user should not ship: the linear tier
    (PLCC ~0.99, RMSE of several VMAF: the correlation bars alone let it through) and the students trained
    on short budgets; the teacher itself as a student (reweight_svm at its start) meets the same bars."""
    rep = tiny_run.strict_report
    assert tiny_run.strict.returncode != 0 and rep["verdict"] == "FAIL"
    assert rep["thresholds"]["rmse_max"] == 0.05 and rep["thresholds"]["max_abs_error_max"] == 0.25
    checks = {c["check"]: c for c in rep["checks"]}
    for teacher in TEACHERS:
        for tier in ("linear", "nano", "exact"):
            c = checks[f"loso_accuracy[{teacher}/{tier}]"]
            assert not c["passed"] and "ABOVE rmse_max 0.05" in c["detail"], c["detail"]
            assert f"loso_accuracy[{teacher}/{tier}]" in tiny_run.strict.stderr
        linear = checks[f"loso_accuracy[{teacher}/linear]"]["values"]
        assert linear["plcc_mean"] >= 0.97 and linear["rmse_mean"] > 1.0
    # every failure is an accuracy bar (the rest of the pipeline is right)
    assert {f.split("[")[0] for f in rep["failed"]} <= {"loso_accuracy", "golden"}
    # the same bars on the teacher itself as a student, its held-out predictions from this run
    for teacher in TEACHERS:
        preds = pl.concat([pl.read_parquet(p) for p in
                           (tiny_run.teacher(teacher) / "loso/reweight_svm/frame").glob("*/seed0/predictions.parquet")])
        svm = check_loso(ex.TierSpec("svm", "reweight_svm", "frame", "fp32", 10**6), preds, gate.Thresholds())
        assert svm[0].passed and svm[0].values["rmse_mean"] < 1e-3, svm[0].detail


def test_gate_end_to_end(tiny_run):
    proc, work = tiny_run.lenient, tiny_run.work
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((work / "results/gate/report.json").read_text())
    assert report["verdict"] == "PASS", report["failed"]
    assert [t["name"] for t in report["teachers"]] == TEACHERS
    assert report["thresholds"]["plcc_min"] == 0.97 and report["thresholds"]["ulp_max"] == 2  # the defaults
    assert report["thresholds"]["engines_required"] == ["ort-cpu", "onnx-reference", "openvino-f32", "tract"]
    assert (work / "logs/gate/report.md").read_text() == (work / "results/gate/report.md").read_text()
    labels = {c["check"] for c in report["checks"]}
    for teacher in TEACHERS:
        assert {f"teacher_check[{teacher}]", f"golden_libvmaf[{teacher}]", f"golden_teacher[{teacher}]"} <= labels
        exact_engines = {e["engine"]: e for e in report["engines"][f"{teacher}/exact"]}
        for eng in ("ort-cpu-noopt", "onnx-reference", "openvino-f32", "openvino-default", "tract", "torch"):
            if exact_engines[eng]["precision"] != "f32":  # OpenVINO's default on AVX512-BF16/AMX: bf16, a WARN
                assert eng == "openvino-default" and exact_engines[eng]["max_abs_diff"] > 1e-4
                warn = f"engine_defaults[{teacher}/exact]: openvino-default"
                assert any(w.startswith(warn) for w in report["warnings"])
                assert f"WARN {warn}" in proc.stderr.split("gate PASSED")[0][-20000:]
                continue
            assert exact_engines[eng]["status"] == "compared" and exact_engines[eng]["max_ulp"] == 0, eng  # same bits
        float_engines = {e["engine"]: e for e in report["engines"][f"{teacher}/nano"]}
        assert all(float_engines[e]["max_abs_diff"] <= 1e-4 for e in ("onnx-reference", "openvino-f32", "tract"))
        features = list(load_teacher(teacher).features)
        for tier, budget in (("nano", 10_240), ("exact", 12_288), ("linear", 10_240)):
            data = (tiny_run.teacher(teacher) / f"export/{tier}.onnx").read_bytes()
            card = json.loads((tiny_run.teacher(teacher) / f"export/{tier}.json").read_text())
            assert card["bytes"] == len(data) <= budget and card["sha256"] == ex.sha256_bytes(data)
            assert card["opset"] >= 17 and card["features"] == features and card["teacher"] == teacher
            assert card["loso"]["plcc_mean"] >= 0.97 and card["precision_cost"]["max_abs_diff"] < 5e-5
            engines = {e["engine"]: e for e in card["engines"]["table"]}
            assert engines["tract"]["status"] == "compared" and engines["torch"]["status"] == "compared"
            assert "INFERENCE_PRECISION_HINT" in card["engines"]["openvino_fp32"]
            assert ("computes in float32" in card["engines"]["scope"]) and ("bf16" in card["engines"]["scope"]) == (
                tier == "exact")
            meta = ex.metadata_of(data)
            assert set(ex.METADATA_KEYS) <= set(meta) and meta["vmafdistill.teacher"] == teacher
            assert meta["vmafdistill.features_sha256"] == card["features_sha256"]


def test_healthcheck_and_score_on_the_exports(tiny_run):
    """The healthcheck sees every teacher's exports (seconds, no corpus); score.py scores a pair with each
    teacher's student, its own libvmaf pass matching the workflow's, and names a non-float32 engine."""
    work, root = tiny_run.work, tiny_run.root
    health = tiny_run.run("--cores", "1", "healthcheck")
    assert health.returncode == 0, health.stderr[-3000:]
    log = (work / "logs/healthcheck.log").read_text()
    assert all(f"export[{t}/nano]" in log for t in TEACHERS)
    dis = sorted((root / "dis").glob("Bikes_*crf38*"))[0]
    ref = next((root / "ref").glob("Bikes_*.yuv"))
    for teacher in TEACHERS:
        out = work / f"{teacher}_frames.csv"
        features = list(load_teacher(teacher).features)
        cmd = [sys.executable, str(ROOT / "scripts/score.py"),
               "--model", str(tiny_run.teacher(teacher) / "export/nano.onnx"),
               "--ref", str(ref), "--dis", str(dis), "--width", "256", "--height", "160", "--frames", str(out)]
        score = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=work)
        assert score.returncode == 0, score.stderr
        assert teacher in score.stdout and "student" in score.stdout
        table = pl.read_csv(out)
        assert table.columns == ["frame", *features, "teacher", "student"]
        frames = pl.read_parquet(tiny_run.teacher(teacher) / "features/frames.parquet").filter(
            pl.col("clip_id") == f"dis__{dis.stem}").sort("frame")
        assert table["teacher"].to_list() == pytest.approx(frames["vmaf"].to_list(), abs=1e-6)  # the same pass
    raw = subprocess.run(cmd[:4] + ["--ref", str(ref), "--dis", str(dis)], capture_output=True, text=True, cwd=work)
    assert raw.returncode != 0 and "--width" in raw.stderr
    bf16 = subprocess.run(cmd[:-2] + ["--engine", "openvino-default"], capture_output=True, text=True, cwd=work)
    assert bf16.returncode == 0, bf16.stderr
    engine = E.probe_engines(["openvino-default"], tiny_run.teacher() / "export/nano.onnx")["openvino-default"].engine
    said = "engine openvino-default computes in bf16 on this machine, not float32" in bf16.stderr
    assert said == (engine.precision() == "bf16")  # the warning exactly where OpenVINO chose bf16


def test_report_after_a_run(tiny_run):
    """`snakemake --report` gathers every teacher's LOSO tables and plots, the gate report and the cards."""
    assert tiny_run.lenient.returncode == 0
    out = tiny_run.work / "report.html"
    rep = tiny_run.run("--report", str(out))
    assert rep.returncode == 0, (rep.stdout + rep.stderr)[-3000:]
    html = out.read_text(errors="replace")
    for needle in ("residuals.png", "fold_plcc.png", "summary.csv", "report.md", "nano.json", "leave-one-source-out",
                   *TEACHERS):
        assert needle in html, needle
