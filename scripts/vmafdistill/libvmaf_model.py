"""Any libvmaf SVM model as the teacher: read libvmaf's model JSON, evaluate it in float64 (numpy).

The per-frame score is computed as libvmaf does (Netflix/vmaf f85a853: libvmaf/src/predict.c,
`vmaf_predict_score_at_index`; the JSON is read as read_json_model.c `parse_model_dict` reads it):

1. normalise each raw feature: `model_dict.norm_type` "linear_rescale" -> slopes[i] * x +
   intercepts[i] (index 0 of both is the score's); "none" -> unchanged. Any other value is refused
   by libvmaf and here: "clip_0to1" is a *training* recipe (`param_dict.norm_type`; python/vmaf
   train_test_model.py picks slopes/intercepts mapping the training set's min..max to [0, 1] and
   stores them as "linear_rescale"). libvmaf never reads `param_dict` and never clamps features.
2. `chroma_correction_parameter` c (v1.0.16; predict.c `post_process_feature_from_another`): when
   the speed_chroma feature is exactly 0.0 (identical chroma, or too few chroma blocks), its SVM
   input becomes normalise(c - c * adm3). It acts on the score, not inside feature extraction.
3. libsvm regression, RBF kernel (svm.cpp): s = sum_j coef_j exp(-gamma |x - sv_j|^2) - rho.
4. de-normalise: y = (s - intercepts[0]) / slopes[0] (linear_rescale only).
5. `score_transform`, only when enabled: `"enabled": true` in the file (v1.0.16), or the model
   loaded with VMAF_MODEL_FLAG_ENABLE_TRANSFORM (ffmpeg's `enable_transform=true`; the "phone"
   model is vmaf_v0.6.1 so loaded): polynomial p0 + p1 y + p2 y^2 (each term only when given),
   then the piecewise-linear `knots`, then `out_lte_in` min(out, y) / `out_gte_in` max(out, y).
6. `score_clip` [lo, hi] when model_dict has one (none: no clip; ffmpeg `disable_clip=true`: off).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .ffmpeg import LibvmafLogError, escape_filter_value

MODEL_DIR = Path(__file__).with_name("libvmaf_models")
PHONE = "phone"  # transform= value: enable the file's score_transform (ffmpeg enable_transform=true)
SINGLE_SCORE_KEY = "vmaf"  # libvmaf's per-frame score key for a model run without name=

# libvmaf's extractors: the score features each provides, and its feature-parameter options
# (`options[]` flagged VMAF_OPT_FLAG_FEATURE_PARAM in libvmaf/src/feature/{integer_adm,integer_vif,
# integer_motion,cambi,speed}.c) as name -> (alias, type d/i/b/s, default).
_SPEED = {"speed_kernelscale": ("ks", "d", 1.0), "speed_prescale": ("ps", "d", 1.0), "speed_prescale_method":
          ("psm", "s", "nearest"), "speed_sigma_nn": ("snn", "d", 0.29), "speed_nn_floor": ("nnf", "d", 0.0),
          "speed_max_val": ("mxv", "d", 1000.0)}  # fmt: skip
_EXTRACTORS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, str, object]]]] = {
    "adm": (tuple(f"VMAF_integer_feature_{f}_score" for f in ("adm2", "aim", "adm3")),
            {"adm_csf_scale": ("scf", "d", 1.0), "adm_csf_diag_scale": ("scfd", "d", 1.0), "adm_dlm_weight":
             ("dlmw", "d", 0.5), "adm_enhn_gain_limit": ("egl", "d", 100.0), "adm_norm_view_dist": ("nvd", "d", 3.0),
             "adm_ref_display_height": ("rdh", "i", 1080), "adm_csf_mode": ("csf", "i", 0), "adm_noise_weight":
             ("nw", "d", 0.03125), "adm_skip_scale0": ("ssz", "b", False), "adm_min_val": ("min", "d", 0.0)}),
    "vif": (tuple(f"VMAF_integer_feature_vif_scale{i}_score" for i in range(4)),
            {"vif_enhn_gain_limit": ("egl", "d", 100.0), "vif_skip_scale0": ("ssclz", "b", False)}),
    "cambi": (("Cambi_feature_cambi_score",),
              {"cambi_max_val": ("cmxv", "d", 1000.0), "enc_width": ("encw", "i", 0), "enc_height": ("ench", "i", 0),
               "enc_bitdepth": ("encbd", "i", 0), "src_width": ("srcw", "i", 0), "src_height": ("srch", "i", 0),
               "window_size": ("ws", "i", 65), "topk": ("topk", "d", 0.6), "cambi_topk": ("ctpk", "d", 0.6),
               "tvi_threshold": ("tvit", "d", 0.019), "cambi_vis_lum_threshold": ("vlt", "d", 0.0),
               "max_log_contrast": ("mlc", "i", 2), "eotf": ("eotf", "s", "bt1886"),
               "cambi_eotf": ("ceot", "s", "bt1886"), "cambi_high_res_speedup": ("hrs", "i", 0)}),
    "speed_chroma": (tuple(f"Speed_chroma_feature_speed_chroma_{c}_score" for c in ("u", "v", "uv")),
                     {**_SPEED, "speed_weight_var_mode": ("wvm", "i", 0)}),
    "speed_temporal": (("Speed_temporal_feature_speed_temporal_score",),
                       {**_SPEED, "speed_use_ref_diff": ("urd", "b", False)}),
    "motion": (tuple(f"VMAF_integer_feature_motion{s}_score" for s in ("", "2", "3")),
               {"motion_force_zero": ("force_0", "b", False), "motion_blend_factor": ("mbf", "d", 1.0),
                "motion_blend_offset": ("mbo", "d", 40.0), "motion_fps_weight": ("mfw", "d", 1.0),
                "motion_max_val": ("mmxv", "d", 10000.0), "motion_five_frame_window": ("mffw", "b", False),
                "motion_moving_average": ("mma", "b", False)}),
}  # fmt: skip
# The canonical order groups features by extractor in this order, model order inside a group:
# v0.6.1 family -> adm2, vif_scale0..3, motion2; v1.0.16 -> adm3, cambi, speed_chroma_uv, motion3.
_CANONICAL_GROUPS = ("adm", "vif", "cambi", "speed_chroma", "speed_temporal", "motion")
_PARSE = {"d": float, "i": lambda t: int(re.match(r"[+-]?\d*", t).group() or 0), "b": lambda t: t == "true", "s": str}


class ModelError(Exception):
    """A libvmaf model name, file or field that this module cannot use (the message names it)."""


def builtin_names() -> list[str]:
    """Names of the vendored libvmaf models (`libvmaf_models/*.json`, Netflix/vmaf f85a853)."""
    return sorted(p.stem for p in MODEL_DIR.glob("*.json"))


def _extractor(feature: object) -> str | None:
    return next((ex for ex, (provided, _) in _EXTRACTORS.items() if feature in provided), None)


def _alias(feature: str) -> str:
    """libvmaf's alias of a score feature (feature/alias.c): VMAF_integer_feature_adm2_score -> integer_adm2."""
    m = re.fullmatch(r"(?:VMAF_(integer_)|Cambi_|Speed_chroma_|Speed_temporal_)feature_(\w+)_score", feature)
    return (m.group(1) or "") + m.group(2) if m else feature


def _opt_text(value: object) -> str:
    """An option value as libvmaf's dictionary holds it (JSON numbers go through strtof and "%g")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "%g" % float(np.float32(value)) if isinstance(value, (int, float)) else str(value)


def log_key(feature: str, opts: dict) -> str:
    """The key of `feature` extracted with `opts` in libvmaf's JSON log (feature/feature_name.c).

    The alias, then for each feature-parameter option whose parsed value is not its default, in
    alphabetical order of option name: `_ALIAS_VALUE` (value as "%g" / "%d" / the string), or just
    `_ALIAS` for a boolean. E.g. `integer_adm2_egl_1`, `cambi_hrs_1080_cmxv_17_vlt_0.06`.
    """
    table = _EXTRACTORS[_extractor(feature)][1]
    parts = []
    for name in sorted(opts):
        if name in table:  # libvmaf ignores options its extractor lacks; other options name nothing
            alias, kind, default = table[name]
            value = _PARSE[kind](_opt_text(opts[name]))
            if value != default:
                parts.append(alias if kind == "b" else f"{alias}_{'%g' % value if kind == 'd' else value}")
    return "_".join([_alias(feature), *parts])


@dataclass(frozen=True)
class ScoreTransform:
    """model_dict.score_transform as libvmaf applies it (predict.c `transform`)."""

    enabled: bool
    p0: float | None
    p1: float | None
    p2: float | None
    knots: tuple[tuple[float, float], ...]
    out_lte_in: bool
    out_gte_in: bool

    def apply(self, y: np.ndarray) -> np.ndarray:
        """The transformed scores (unchanged when not enabled)."""
        if not self.enabled:
            return y
        out = y
        if any(p is not None for p in (self.p0, self.p1, self.p2)):
            out = np.zeros_like(y)
            for power, p in enumerate((self.p0, self.p1, self.p2)):
                out = out + (p * y**power if p is not None else 0.0)
        if self.knots:
            out = _piecewise_linear(out, self.knots)
        if self.out_lte_in:
            out = np.where(out > y, y, out)
        return np.where(out < y, y, out) if self.out_gte_in else out


def _piecewise_linear(x: np.ndarray, knots: tuple[tuple[float, float], ...]) -> np.ndarray:
    """predict.c `piecewise_linear_mapping`: segments in order (a later one wins), ends extrapolated."""
    y = np.zeros_like(x)
    for i, ((x0, y0), (x1, y1)) in enumerate(zip(knots, knots[1:])):
        alpha = 0.0 if y0 == y1 else (y1 - y0) / (x1 - x0)
        mask = ((x0 <= x) & (x <= x1)) | ((x < x0) & (i == 0)) | ((x > x1) & (i == len(knots) - 2))
        y = np.where(mask, alpha * x + (y0 - x0 * alpha), y)
    return y


@dataclass(frozen=True, eq=False)
class LibvmafModel:
    """One libvmaf SVM model (a vendored built-in or a user JSON), evaluated in float64."""

    name: str  # its score key when several models run in one pass
    version: str | None  # built-in name for ffmpeg's model=version=..., else None (path=)
    path: Path
    features: tuple[str, ...]  # libvmaf feature names, model order
    feature_opts: tuple[dict, ...]
    norm_type: str
    slopes: np.ndarray  # [1 + F], index 0 the score's
    intercepts: np.ndarray
    gamma: float
    rho: float
    support_vectors: np.ndarray  # [S, F] normalised space, model order
    coef: np.ndarray  # [S]
    transform: ScoreTransform
    phone: bool  # loaded with enable_transform
    score_clip: tuple[float, float] | None
    chroma_correction: float | None

    def _normalise(self, x: np.ndarray, i: int | slice = slice(1, None)) -> np.ndarray:
        return self.slopes[i] * x + self.intercepts[i] if self.norm_type == "linear_rescale" else x

    def _denormalise(self, x: np.ndarray, i: int | slice) -> np.ndarray:
        return (x - self.intercepts[i]) / self.slopes[i] if self.norm_type == "linear_rescale" else x

    def svm_inputs(self, features: np.ndarray) -> np.ndarray:
        """Raw features [N, F], model order -> the SVM's inputs (normalised, chroma-corrected)."""
        x = self._normalise(np.asarray(features, dtype=np.float64))
        if self.chroma_correction is not None:
            g = next(i for i, f in enumerate(self.features) if "speed_chroma" in f)
            a = next(i for i, f in enumerate(self.features) if "adm3" in f)
            c = self.chroma_correction
            corrected = self._normalise(-c * self._denormalise(x[:, a], a + 1) + c, g + 1)
            x = x.copy()
            x[:, g] = np.where(self._denormalise(x[:, g], g + 1) == 0.0, corrected, x[:, g])
        return x

    def predict(self, features: np.ndarray, clip: bool = True, chunk: int = 65536) -> np.ndarray:
        """libvmaf's per-frame score, float64 [N], of raw features [N, F] in MODEL order.

        `clip=False`: the score before the final `score_clip` (transform applied when enabled),
        which is what libvmaf gives with `disable_clip=true`. The RBF distance is computed as
        |x|^2 - 2 x.sv + |sv|^2 (one matrix product; within 1e-11 of the direct sum).
        """
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != len(self.features):
            raise ValueError(f"{self.name} expects features of shape [N, {len(self.features)}], got {features.shape}")
        out = np.empty(len(features))
        sv = self.support_vectors
        sv_sq = np.einsum("ij,ij->i", sv, sv)
        for start in range(0, len(features), chunk):
            x = self.svm_inputs(features[start : start + chunk])
            d2 = np.einsum("ij,ij->i", x, x)[:, None] - 2.0 * x @ sv.T + sv_sq[None, :]
            out[start : start + chunk] = np.exp(-self.gamma * np.maximum(d2, 0.0)) @ self.coef - self.rho
        y = self.transform.apply(self._denormalise(out, 0))
        return np.clip(y, *self.score_clip) if clip and self.score_clip else y

    def log_keys(self) -> list[str]:
        """Per-frame key of each feature (model order) in ffmpeg's libvmaf JSON log."""
        return [log_key(f, o) for f, o in zip(self.features, self.feature_opts)]

    def stable_names(self) -> list[str]:
        """Short column names (model order): the alias less `integer_` (adm2, cambi, motion3...);
        options are added (from the log key) only to tell apart two features of the same name."""
        names = [_alias(f).removeprefix("integer_") for f in self.features]
        keys = [k.removeprefix("integer_") for k in self.log_keys()]
        return [k if names.count(n) > 1 else n for n, k in zip(names, keys)]

    def canonical_to_model(self) -> np.ndarray:
        """perm with `canonical = model[:, perm]` (and `model = canonical[:, argsort(perm)]`)."""
        group = [_CANONICAL_GROUPS.index(_extractor(f)) for f in self.features]
        return np.array(sorted(range(len(group)), key=lambda i: (group[i], i)))

    def canonical_order(self) -> list[str]:
        """The students' feature order (stable names): extractor groups adm, vif, cambi,
        speed_chroma, speed_temporal, motion, model order inside a group. v0.6.1 family: adm2,
        vif_scale0..3, motion2 (= vmafdistill.FEATURES); v1.0.16: adm3, cambi, speed_chroma_uv, motion3."""
        return [self.stable_names()[i] for i in self.canonical_to_model()]

    def to_model_order(self, canonical: np.ndarray) -> np.ndarray:
        """Features [N, F] in canonical order -> model order (what `predict` takes)."""
        return np.asarray(canonical)[:, np.argsort(self.canonical_to_model())]

    def feature_box(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) raw feature range, CANONICAL order, that the support vectors span.

        From the model alone: per feature, the min and max of the support vectors (stored in
        normalised space) mapped back through the inverse linear rescale (v - b_i) / a_i, ordered
        (a slope may be negative); with norm_type "none" the SVs are raw already. For a model
        trained with param_dict norm_type "clip_0to1" the normalised SVs lie in [0, 1], the
        training set's range, so the box lies inside that range (the built-ins' SVs span exactly
        [0, 1]). speed_chroma's box is that of its SVM input: a raw 0 is replaced by the chroma
        correction before the SVM. No corpus involved.
        """
        ends = self._denormalise(np.stack([self.support_vectors.min(0), self.support_vectors.max(0)]), slice(1, None))
        perm = self.canonical_to_model()
        return ends.min(0)[perm], ends.max(0)[perm]

    def libvmaf_option(self, name: str | None = None) -> str:
        """The value of ffmpeg's libvmaf `model=` option, escaped for a filtergraph (-lavfi).

        `version=NAME` (built-in) or `path=FILE`, `enable_transform=true` for the phone transform,
        `name=` (the score's log key, default "vmaf") when given. Escaped for three parsers: libvmaf's
        key=value:key=value (av_dict_parse_string; a path's \\ ' : and blanks), the filter's options
        and the filtergraph (`ffmpeg.escape_filter_value`). A path with '|' cannot be given.
        """
        return escape_filter_value(self._model_spec(name))

    def _model_spec(self, name: str | None) -> str:
        if not self.version and "|" in str(self.path):
            raise ModelError(f"{self.path}: a model path containing '|' cannot be given to ffmpeg's libvmaf")
        spec = f"version={self.version}" if self.version else "path=" + re.sub(r"([\\':\s])", r"\\\1", str(self.path))
        return spec + (":enable_transform=true" if self.phone else "") + (f":name={name}" if name else "")

    def features_from_log(self, doc: dict, where: str = "libvmaf log") -> np.ndarray:
        """Per-frame features [frames, F], model order, from a parsed libvmaf JSON log."""
        return _log_table(doc, self.log_keys(), where)

    def frame_size_problem(self, width: int, height: int, pix_fmt: str = "yuv420p") -> str | None:
        """Why libvmaf cannot score this model on width x height frames (None when it can).

        cambi needs max(w, h) >= 216 (cambi.c CAMBI_MIN_WIDTH_HEIGHT; else no cambi, no score);
        speed_chroma needs each chroma side x speed_prescale (rounded), >> 4, to hold one 5-pixel
        block (speed.c speed_init_dimensions; else libvmaf crashes). Measured with this ffmpeg
        (4:2:0): v1.0.16 3d0h/1d5h_2160/hfr_3d0h need both sides >= 160 and one >= 216 (216x160),
        5d0h (prescale 0.6) >= 266x266, 3d0h_2160 (0.5) >= 318x318 (16:9: 566x318). Other
        extractors' limits are not checked (v0.6.1 works at 176x144).
        """
        sub = {"yuv420p": (2, 2), "yuv422p": (2, 1), "yuv444p": (1, 1)}[pix_fmt.removesuffix("10le")]
        for feature, opts in zip(self.features, self.feature_opts):
            if _extractor(feature) == "cambi" and max(width, height) < 216:
                return f"{self.name}: cambi needs a width or height >= 216, not {width}x{height}"
            if _extractor(feature) == "speed_chroma":
                ps = float(_opt_text(opts.get("speed_prescale", 1.0)))
                if any((int(side // s * ps + 0.5) >> 4) < 5 for side, s in zip((width, height), sub)):
                    return f"{self.name}: speed_chroma (prescale {ps:g}) needs larger frames than {width}x{height}"
        return None


def _log_table(doc: dict, keys: list[str], where: str) -> np.ndarray:
    frames = doc.get("frames") if isinstance(doc, dict) else None
    if not frames:
        raise LibvmafLogError(f"{where}: libvmaf log has no frames")
    table = np.empty((len(frames), len(keys)))
    for i, frame in enumerate(frames):
        metrics = frame.get("metrics", {})
        missing = [k for k in keys if k not in metrics]
        if missing:
            raise LibvmafLogError(f"{where}: frame {i} lacks {', '.join(missing)}")
        table[i] = [np.nan if metrics[k] is None else metrics[k] for k in keys]
    return table


def scores_from_log(doc: dict, key: str = SINGLE_SCORE_KEY, where: str = "libvmaf log") -> np.ndarray:
    """libvmaf's per-frame scores [frames] stored under `key` (see `score_keys`)."""
    return _log_table(doc, [key], where)[:, 0]


def score_keys(models: list[LibvmafModel]) -> list[str]:
    """Per-frame score key of each model in a pass run with `libvmaf_models_option(models)`."""
    keys = [m.name for m in models]
    if len(set(keys)) != len(keys):
        raise ModelError(f"several models share a name (score key) in one libvmaf pass: {keys}")
    return keys


def libvmaf_models_option(models: list[LibvmafModel]) -> str:
    """ffmpeg libvmaf `model=` value running several models in one pass, filtergraph-escaped:
    `version=A:name=A|version=B:name=B`; each score is logged under `score_keys(models)`."""
    return escape_filter_value("|".join(m._model_spec(k) for m, k in zip(models, score_keys(models))))


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
        raise ModelError(f"unknown libvmaf model {name_or_path!r}; built-in models: {', '.join(known)} (or a JSON path)")
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
                      what=": a non-empty list of scores of libvmaf's integer adm/vif/motion, cambi, speed")  # fmt: skip
    n = len(features)
    opts = _field(md, "feature_opts_dicts", where, lambda v: _is_list(None, lambda o: isinstance(o, dict) and all(
        isinstance(x, (int, float, str)) for x in o.values()))(v) and len(v) <= n, [], ": <= 1 object per feature")  # fmt: skip
    norm = _field(md, "norm_type", where, lambda v: v in ("linear_rescale", "none"), what=": libvmaf knows only "
                  "'linear_rescale' and 'none' ('clip_0to1' is a training recipe, param_dict.norm_type)")  # fmt: skip
    rescale = {}
    for key, identity in (("slopes", 1.0), ("intercepts", 0.0)):
        ok = _is_list(n + 1, lambda v: _num(v) and (key == "intercepts" or v != 0))
        default = ... if norm == "linear_rescale" else [identity] * (n + 1)
        what = f": {n + 1} finite numbers, the score's then one per feature" + ", none zero" * (key == "slopes")
        rescale[key] = np.asarray(_field(md, key, where, ok, default, what), dtype=np.float64)
    gamma, rho, sv, coef = _parse_libsvm(_field(md, "model", where, lambda v: isinstance(v, str)), n, where)
    transform = _parse_transform(_field(md, "score_transform", where, lambda v: isinstance(v, dict), None), where, phone)
    clip = _field(md, "score_clip", where, lambda v: _is_list(2, _num)(v) and v[0] <= v[1], None, ": [low, high]")
    unique = all(sum(s in f for f in features) == 1 for s in ("speed_chroma", "adm3"))
    chroma = _field(md, "chroma_correction_parameter", where, lambda v: _num(v) and v != 0 and unique, None,
                    ": a non-zero number, for a model with exactly one speed_chroma and one adm3 feature")  # fmt: skip
    model = LibvmafModel(
        name=(version or re.sub(r"[^A-Za-z0-9._-]", "_", path.stem)) + ("_phone" if phone else ""), version=version,
        path=path, features=tuple(features), feature_opts=tuple(opts) + ({},) * (n - len(opts)), norm_type=norm,
        slopes=rescale["slopes"], intercepts=rescale["intercepts"], gamma=gamma, rho=rho, support_vectors=sv,
        coef=coef, transform=transform, phone=phone, score_clip=None if clip is None else tuple(map(float, clip)),
        chroma_correction=None if chroma is None else float(chroma),
    )  # fmt: skip
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
            and all(a[0] < b[0] and a[1] <= b[1] for a, b in zip(knots, knots[1:]))):  # fmt: skip
        bad.append("knots (2..10 [x, y] pairs, x increasing, y non-decreasing)")
    if bad:
        raise ModelError(f"{key}: invalid {', '.join(bad)}")
    ps = [None if st.get(p) is None else float(st[p]) for p in ("p0", "p1", "p2")]
    return ScoreTransform(bool(st.get("enabled")) or phone, *ps, tuple((float(x), float(y)) for x, y in knots),
                          st.get("out_lte_in") == "true", st.get("out_gte_in") == "true")  # fmt: skip


_LIBSVM_HEADER = ("svm_type", "kernel_type", "degree", "gamma", "coef0", "nr_class", "total_sv", "rho", "label",
                  "probA", "probB", "nr_sv")  # fmt: skip


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
        raise ModelError(f"{key}: svm_type {head['svm_type'][0]}, nr_class {head['nr_class'][0]}: not an SVM regression")
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
