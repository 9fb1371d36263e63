"""vmafdistill.engines: every adapter runs a real student and agrees with ORT CPU; missing engines are
reported, not raised; the comparison statistics on hand-made float32 arrays."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from students_for_tests import random_student
from vmafdistill import engines as E
from vmafdistill import export as ex
from vmafdistill import modelio
from vmafdistill.synth import sample_features
from vmafdistill.teacher import load_teacher
from vmafdistill.ulp import ulp_distance

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = ["ort-cpu", "ort-cpu-noopt", "onnx-reference", "openvino-f32", "openvino-default", "tract", "torch"]


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    """A GELU nano student (random weights, real scaler) as nano.onnx (fp32, opset 20) + nano.pt."""
    d = tmp_path_factory.mktemp("engines")
    model = random_student("nano", seed=3)
    modelio.save_student(d / "nano.pt", model, "nano", {}, {})
    meta = ex.metadata(ex.TierSpec("nano", "nano", "frame", "fp32", 10240), "0" * 64, "test", load_teacher())
    (d / "nano.onnx").write_bytes(ex.build_onnx(model, "fp32", meta, 20))
    return d / "nano.onnx"


@pytest.fixture(scope="module")
def features() -> np.ndarray:
    return sample_features(3000, seed=11).astype(np.float32)


def _ort_build_lacks(name: str) -> bool:
    import onnxruntime

    by_name = {E.provider_engine_name(p): p for p in E.KNOWN_PROVIDERS}
    name = name.removesuffix("-default")
    return name in by_name and by_name[name] not in onnxruntime.get_available_providers()


def test_import_loads_no_engine():
    code = "import sys, vmafdistill.engines; print(sorted({m.split('.')[0] for m in sys.modules}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")}).stdout
    for heavy in ("onnxruntime", "onnx", "openvino", "tract", "torch", "polars"):
        assert f"'{heavy}'" not in out


def test_engine_names():
    names = E.engine_names()
    assert names[:2] == ["ort-cpu", "ort-cpu-noopt"]
    assert {"onnx-reference", "openvino-f32", "openvino-default", "tract", "torch", "ort-cuda"} <= set(names)
    assert "ort-azure" not in names and len(names) == len(set(names))
    assert E.provider_engine_name("TensorrtExecutionProvider") == "ort-tensorrt"


@pytest.mark.parametrize("name", ADAPTERS + [n for n in E.engine_names() if n.startswith("ort-")][2:])
def test_adapter_agrees_with_ort_cpu(student, features, name):
    ref = E.get_engine("ort-cpu").run(student, features)
    st = E.probe_engines([name], student)[name]
    if _ort_build_lacks(name):  # a provider this onnxruntime build lacks is reported, with the reason
        assert not st.available and st.reason == "not installed in this onnxruntime build"
        return
    assert st.available, f"{name}: {st.reason}"
    got = st.engine.run(student, features)
    assert got.dtype == np.float32 and got.shape == (len(features),)
    assert st.engine.run(student, features[:1]).shape == (1,)
    if st.engine.precision() == E.F32:
        assert np.abs(got.astype(np.float64) - ref).max() <= 1e-3, st.description
    else:  # OpenVINO's default on a CPU with AVX512-BF16/AMX computes in bf16: scores move, visibly
        assert name == "openvino-default" and st.engine.precision() == "bf16", st.description
        assert 1e-4 < np.abs(got.astype(np.float64) - ref).max() < 2.0
    assert st.description and st.start_s >= 0


def test_chunking_is_exact_per_row(student, features):
    whole = E.get_engine("ort-cpu").run(student, features)
    chunked = E.get_engine("ort-cpu")
    chunked.chunk_rows = 777
    assert np.array_equal(chunked.run(student, features), whole)
    with pytest.raises(ValueError):
        chunked.run(student, features[0])


def test_ort_with_and_without_graph_optimisations_agree(student, features):
    """Opset 20's native Gelu: ORT's optimised and unoptimised graphs give the same bits (at opset 17 its
    fused Gelu kernel moved outputs by 10-130 ULP), and compare says so."""
    c = E.compare(E.get_engine("ort-cpu").run(student, features), E.get_engine("ort-cpu-noopt").run(student, features))
    assert c == {"rows": len(features), "max_ulp": 0.0, "p99_ulp": 0.0, "max_abs_diff": 0.0, "mean_abs_diff": 0.0,
                 "nan_rows": 0}


def test_missing_engines_are_not_checked(student, tmp_path):
    missing = E.TractEngine(module="vmafdistill_no_such_engine")
    st = E.probe_engines(["ort-cuda", "bogus", missing], student)
    assert not st["tract"].available and st["tract"].state == "not checked"
    assert st["tract"].reason == "not installed: No module named 'vmafdistill_no_such_engine'"
    assert not st["bogus"].available and st["bogus"].reason.startswith("unknown engine 'bogus'")
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert st["ort-cuda"].reason == "not installed in this onnxruntime build"
    (tmp_path / "lonely.onnx").write_bytes(student.read_bytes())  # no lonely.pt beside it
    st = E.probe_engines(["torch"], tmp_path / "lonely.onnx")["torch"]
    assert not st.available and st.reason.startswith("no torch weights at")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    st = E.probe_engines(["ort-cpu"], broken)["ort-cpu"]
    assert not st.available and st.reason.startswith("session failed:")


def test_provider_falling_back_to_cpu_is_not_checked(student, tmp_path, monkeypatch):
    (tmp_path / "fake_ort_fallback.py").write_text(textwrap.dedent('''
        from onnxruntime import *  # noqa: F401,F403
        import onnxruntime as _ort
        def get_available_providers():
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        class InferenceSession(_ort.InferenceSession):
            def __init__(self, path, sess_options=None, providers=None):
                super().__init__(path, sess_options=sess_options, providers=["CPUExecutionProvider"])
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    eng = E.OrtEngine("CUDAExecutionProvider", module="fake_ort_fallback")
    st = E.probe_engines([eng], student)["ort-cuda"]
    assert not st.available and st.reason.startswith("fell back to CPU")


def test_openvino_reports_its_precision(student):
    st = E.probe_engines(["openvino-default", "openvino-f32"], student)
    default, f32 = st["openvino-default"], st["openvino-f32"]
    assert default.available and f32.available, (default.reason, f32.reason)
    assert default.info["precision"] in {"f32", "bf16", "f16"}
    assert f"chose {default.info['precision']}" in default.description
    assert f32.info["precision"] == "f32" and f32.info["threads"] == 1
    assert default.engine.settings == "default" and "INFERENCE_PRECISION_HINT" in default.engine.fix
    assert f32.engine.settings == "pinned" and f32.engine.precision() == E.F32


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_row_with_a_non_finite_feature_scores_nan(student, features, name):
    """One behaviour on every engine: NaN or +-inf in any feature -> NaN; the other rows unchanged."""
    x = np.repeat(features[:3], 7, axis=0)
    bad = {1: np.nan, 2: np.inf, 3: -np.inf, 5: np.nan, 6: np.inf}
    for i, v in bad.items():
        x[i, i % x.shape[1]] = v
    st = E.probe_engines([name], student)[name]
    assert st.available, st.reason
    got = st.engine.run(student, x)
    assert np.array_equal(np.isnan(got), np.isin(np.arange(len(x)), list(bad))), got
    good = [i for i in range(len(x)) if i not in bad]  # (torch and onnx-reference are not batch-invariant)
    assert np.abs(got[good] - st.engine.run(student, x[good])).max() <= 1e-4


def test_simulated_bf16_engine_moves_scores(student, features):
    from students_for_tests import bf16_engine

    eng = bf16_engine()
    got, ref = eng.run(student, features), E.get_engine("ort-cpu").run(student, features)
    assert eng.precision() == "bf16 (simulated)" and np.all(got.view(np.uint32) & 0xFFFF == 0)
    assert np.abs(got.astype(np.float64) - ref).max() > 1e-4


def test_compare_known_distances():
    one = np.float32(1.0)
    up = np.nextafter(one, np.float32(2))
    tiny = np.float32(1e-45)  # the smallest subnormal
    ref = np.array([1.0, 1.0, 0.0, tiny, 50.0, np.nan, 3.0], dtype=np.float32)
    oth = np.array([1.0, up, -0.0, -tiny, np.float32(50.0 + 3 * 2**-18), 1.0, np.nan], dtype=np.float32)
    c = E.compare(ref, oth)
    assert c["rows"] == 7 and c["nan_rows"] == 2
    assert c["max_ulp"] == np.inf and c["max_abs_diff"] == np.inf and c["mean_abs_diff"] == np.inf
    finite = E.compare(ref[:5], oth[:5])  # 0, 1, 0 (-0 == +0), 2 (across zero), 3 ULP (ULP at 50 is 2**-18)
    assert np.array_equal(ulp_distance(ref[:5], oth[:5]), [0, 1, 0, 2, 3])
    assert finite["max_ulp"] == 3.0 and finite["nan_rows"] == 0
    assert finite["max_abs_diff"] == 3 * 2**-18
    assert finite["mean_abs_diff"] == pytest.approx((2**-23 + 2 * float(tiny) + 3 * 2**-18) / 5)
    ulps = np.arange(100, dtype=np.int32)  # 0..99 ULP above 1.0: p99 (nearest rank) is 98, max 99
    base = np.full(100, 1.0, np.float32)
    shifted = (base.view(np.int32) + ulps).view(np.float32)
    assert E.compare(base, shifted)["p99_ulp"] == 98.0 and E.compare(base, shifted)["max_ulp"] == 99.0
    assert E.compare(np.zeros(0, np.float32), np.zeros(0, np.float32))["max_ulp"] == 0.0
    with pytest.raises(ValueError):
        E.compare(base, base[:3])


def test_engine_table(student, features):
    data = {"golden": features[:12], "synthetic": features}
    missing = E.TractEngine(module="vmafdistill_no_such_engine")
    rows = E.engine_table(student, data, ["ort-cpu-noopt", "ort-cuda", missing])
    by = {(r["engine"], r["dataset"]): r for r in rows}
    assert len(rows) == 6
    ok = by[("ort-cpu-noopt", "synthetic")]
    assert ok["status"] == "compared" and ok["rows"] == len(features) and ok["reference"] == "ort-cpu"
    assert {"max_ulp", "p99_ulp", "max_abs_diff", "mean_abs_diff", "nan_rows", "run_s", "start_s"} <= set(ok)
    assert by[("tract", "golden")]["status"] == "not checked"
    assert "No module named" in by[("tract", "golden")]["reason"]
    if not E.probe_engines(["ort-cuda"], student)["ort-cuda"].available:
        assert by[("ort-cuda", "synthetic")]["status"] == "not checked"
    no_ref = E.engine_table(student, data, ["ort-cpu-noopt"], reference=E.OrtEngine(module="vmafdistill_no_ort"))
    assert [r["status"] for r in no_ref] == ["not checked"] * 2
    assert no_ref[0]["reason"].startswith("reference ort-cpu: not installed")
