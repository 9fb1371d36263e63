"""Reading a libvmaf model JSON (a vendored built-in or a user file) into a ``LibvmafModel``, refusing
what libvmaf refuses (``ModelError``, naming the file and field): ``load_model``, ``builtin_names``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .model import LibvmafModel, ModelError, ScoreTransform
from .options import _extractor

#: the vendored models: scripts/vmafdistill/libvmaf_models/ (beside this package, not inside it)
MODEL_DIR = Path(__file__).resolve().parent.parent / "libvmaf_models"
PHONE = "phone"  # transform= value: enable the file's score_transform (ffmpeg enable_transform=true)


def builtin_names() -> list[str]:
    """Names of the vendored libvmaf models (`libvmaf_models/*.json`, Netflix/vmaf f85a853)."""
    return sorted(p.stem for p in MODEL_DIR.glob("*.json"))


def load_model(name_or_path: str, transform: str | None = None) -> LibvmafModel:
    """A vendored built-in by name (`builtin_names()`) or a libvmaf model JSON file by path.

    `transform`: None (the file's own behaviour) or "phone": enable a score_transform the file has
    but leaves off, as ffmpeg's enable_transform=true does (the phone model is vmaf_v0.6.1 so).
    """
    known = builtin_names()
    if name_or_path in known:
        path, version = MODEL_DIR / f"{name_or_path}.json", name_or_path
    elif Path(name_or_path).is_file() or "/" in name_or_path or name_or_path.endswith(".json"):
        path, version = Path(name_or_path).resolve(), None
    else:
        raise ModelError(f"unknown libvmaf model {name_or_path!r}; built-in models: {', '.join(known)} "
                         f"(or a JSON path)")
    if transform not in (None, PHONE):
        raise ModelError(f"{path}: unknown transform {transform!r}; use None or {PHONE!r}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise ModelError(f"{path}: not a libvmaf SVM model (not JSON: {exc})") from exc
    return _parse_model(doc, path, version, transform == PHONE)


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v))


def _field(md: dict, key: str, where: str, ok: Callable[[object], bool], default: object = ..., what: str = ""):
    """model_dict[key] when `ok` accepts it; missing (and no default) or refused -> ModelError."""
    if key not in md:
        if default is ...:
            raise ModelError(f"{where}: model_dict.{key} is missing")
        return default
    if not ok(md[key]):
        raise ModelError(f"{where}: model_dict.{key} is invalid{what} (got {str(md[key])[:60]!r})")
    return md[key]


def _is_list(n: int | None, item: Callable[[object], object]) -> Callable[[object], bool]:
    return lambda v: isinstance(v, list) and (n is None or len(v) == n) and all(map(item, v))


def _parse_model(doc: object, path: Path, version: str | None, phone: bool) -> LibvmafModel:
    where = str(path)
    md = doc.get("model_dict") if isinstance(doc, dict) else None
    if not isinstance(md, dict):
        raise ModelError(f"{where}: not a libvmaf SVM model (no model_dict object)")
    model_type = _field(md, "model_type", where, lambda v: isinstance(v, str))
    if model_type != "LIBSVMNUSVR":
        kind = "a bootstrap model collection" if "BOOTSTRAP" in model_type else "not a libvmaf SVM model"
        raise ModelError(f"{where}: model_dict.model_type {model_type!r}: {kind}; only LIBSVMNUSVR is supported")
    features = _field(md, "feature_names", where, lambda v: _is_list(None, _extractor)(v) and len(v) > 0,
                      what=": a non-empty list of scores of libvmaf's integer adm/vif/motion, cambi, speed")
    n = len(features)
    opts = _field(md, "feature_opts_dicts", where, lambda v: _is_list(None, lambda o: isinstance(o, dict) and all(
        isinstance(x, (int, float, str)) for x in o.values()))(v) and len(v) <= n, [], ": <= 1 object per feature")
    norm = _field(md, "norm_type", where, lambda v: v in ("linear_rescale", "none"), what=": libvmaf knows only "
                  "'linear_rescale' and 'none' ('clip_0to1' is a training recipe, param_dict.norm_type)")
    rescale = {}
    for key, identity in (("slopes", 1.0), ("intercepts", 0.0)):
        ok = _is_list(n + 1, lambda v: _num(v) and (key == "intercepts" or v != 0))  # noqa: B023 - _field calls it below
        default = ... if norm == "linear_rescale" else [identity] * (n + 1)
        what = f": {n + 1} finite numbers, the score's then one per feature" + ", none zero" * (key == "slopes")
        rescale[key] = np.asarray(_field(md, key, where, ok, default, what), dtype=np.float64)
    gamma, rho, sv, coef = _parse_libsvm(_field(md, "model", where, lambda v: isinstance(v, str)), n, where)
    transform = _parse_transform(_field(md, "score_transform", where, lambda v: isinstance(v, dict), None), where,
                                 phone)
    clip = _field(md, "score_clip", where, lambda v: _is_list(2, _num)(v) and v[0] <= v[1], None, ": [low, high]")
    unique = all(sum(s in f for f in features) == 1 for s in ("speed_chroma", "adm3"))
    chroma = _field(md, "chroma_correction_parameter", where, lambda v: _num(v) and v != 0 and unique, None,
                    ": a non-zero number, for a model with exactly one speed_chroma and one adm3 feature")
    model = LibvmafModel(
        name=(version or re.sub(r"[^A-Za-z0-9._-]", "_", path.stem)) + ("_phone" if phone else ""), version=version,
        path=path, features=tuple(features), feature_opts=tuple(opts) + ({},) * (n - len(opts)), norm_type=norm,
        slopes=rescale["slopes"], intercepts=rescale["intercepts"], gamma=gamma, rho=rho, support_vectors=sv,
        coef=coef, transform=transform, phone=phone, score_clip=None if clip is None else tuple(map(float, clip)),
        chroma_correction=None if chroma is None else float(chroma),
    )
    try:
        model.log_keys()
    except ValueError as exc:
        raise ModelError(f"{where}: model_dict.feature_opts_dicts holds a value libvmaf cannot parse ({exc})") from exc
    return model


def _parse_transform(st: dict | None, where: str, phone: bool) -> ScoreTransform:
    key = f"{where}: model_dict.score_transform"
    if st is None:
        if phone:
            raise ModelError(f"{key} is missing: transform 'phone' has nothing to enable")
        return ScoreTransform(False, None, None, None, (), False, False)
    if phone and st.get("enabled") is True:
        raise ModelError(f"{key} is enabled already: transform 'phone' (enable_transform) would change nothing")
    bad = ["enabled"] if not isinstance(st.get("enabled", False), bool) else []
    bad += [p for p in ("p0", "p1", "p2") if st.get(p) is not None and not _num(st[p])]
    bad += [f for f in ("out_lte_in", "out_gte_in") if f in st and not isinstance(st[f], str)]
    knots = st.get("knots") or []
    if not (_is_list(None, _is_list(2, _num))(knots) and len(knots) in range(2 * bool(knots), 11)
            and all(a[0] < b[0] and a[1] <= b[1] for a, b in zip(knots, knots[1:]))):
        bad.append("knots (2..10 [x, y] pairs, x increasing, y non-decreasing)")
    if bad:
        raise ModelError(f"{key}: invalid {', '.join(bad)}")
    ps = [None if st.get(p) is None else float(st[p]) for p in ("p0", "p1", "p2")]
    return ScoreTransform(bool(st.get("enabled")) or phone, *ps, tuple((float(x), float(y)) for x, y in knots),
                          st.get("out_lte_in") == "true", st.get("out_gte_in") == "true")


_LIBSVM_HEADER = ("svm_type", "kernel_type", "degree", "gamma", "coef0", "nr_class", "total_sv", "rho", "label",
                  "probA", "probB", "nr_sv")


def _parse_libsvm(text: str, n_features: int, where: str) -> tuple[float, float, np.ndarray, np.ndarray]:
    """libsvm's model text (libvmaf svm.cpp SVMModelParser): header lines, `SV`, `coef i:v ...` lines."""
    key = f"{where}: model_dict.model"
    lines = text.split("\n")
    head = {}
    while lines and lines[0].strip() != "SV":
        parts = lines.pop(0).split()
        if parts and parts[0] not in _LIBSVM_HEADER:
            raise ModelError(f"{key}: unknown libsvm header {parts[0]!r}")
        head.update({parts[0]: parts[1:]} if parts else {})
    missing = [k for k in ("svm_type", "kernel_type", "gamma", "nr_class", "total_sv", "rho") if not head.get(k)]
    if not lines or missing:
        raise ModelError(f"{key}: the libsvm text lacks {', '.join(missing) or 'the SV section'}")
    if head["svm_type"][0] not in ("nu_svr", "epsilon_svr") or head["nr_class"][0] != "2":
        raise ModelError(f"{key}: svm_type {head['svm_type'][0]}, nr_class {head['nr_class'][0]}: "
                         f"not an SVM regression")
    if head["kernel_type"][0] != "rbf":
        raise ModelError(f"{key}: kernel_type {head['kernel_type'][0]!r} is not supported, only 'rbf'")
    try:
        gamma, rho, total = float(head["gamma"][0]), float(head["rho"][0]), int(head["total_sv"][0])
        rows = [line.split() for line in lines[1 : 1 + total]]
        if len(rows) != total or total < 1 or not all(rows):
            raise ValueError(f"total_sv {total} but {sum(map(bool, rows))} support vector lines")
        sv = np.zeros((total, n_features))
        for i, row in enumerate(rows):
            for index, value in (item.split(":") for item in row[1:]):
                if not 1 <= int(index) <= n_features:
                    raise ValueError(f"support vector {i} has feature index {index}; the model has {n_features}")
                sv[i, int(index) - 1] = float(value)
        return gamma, rho, sv, np.array([float(row[0]) for row in rows])
    except ValueError as exc:
        raise ModelError(f"{key}: bad libsvm text ({exc})") from exc


__all__ = ["MODEL_DIR", "PHONE", "builtin_names", "load_model"]
