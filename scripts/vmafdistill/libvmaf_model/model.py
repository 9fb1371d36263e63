"""One libvmaf SVM model evaluated in float64 (``LibvmafModel``, its ``ScoreTransform``), its features and
scores in libvmaf's JSON log (read by ``vmafdistill.libvmaf_log``) and the ffmpeg ``model=`` option of a pass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..filtergraph import escape_filter_value
from ..libvmaf_log import log_table
from .options import _CANONICAL_GROUPS, _alias, _extractor, _opt_text, log_key

SINGLE_SCORE_KEY = "vmaf"  # libvmaf's per-frame score key for a model run without name=


class ModelError(Exception):
    """A libvmaf model name, file or field that this module cannot use (the message names it)."""


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

    def normalise(self, x: np.ndarray, i: int | slice = slice(1, None)) -> np.ndarray:
        """model_dict's linear rescale of raw values (feature columns by default; index 0: the score's)."""
        return self.slopes[i] * x + self.intercepts[i] if self.norm_type == "linear_rescale" else x

    def denormalise(self, x: np.ndarray, i: int | slice) -> np.ndarray:
        """The inverse of ``normalise`` (normalised values back to raw ones)."""
        return (x - self.intercepts[i]) / self.slopes[i] if self.norm_type == "linear_rescale" else x

    def svm_inputs(self, features: np.ndarray) -> np.ndarray:
        """Raw features [N, F], model order -> the SVM's inputs (normalised, chroma-corrected)."""
        x = self.normalise(np.asarray(features, dtype=np.float64))
        if self.chroma_correction is not None:
            g = next(i for i, f in enumerate(self.features) if "speed_chroma" in f)
            a = next(i for i, f in enumerate(self.features) if "adm3" in f)
            c = self.chroma_correction
            corrected = self.normalise(-c * self.denormalise(x[:, a], a + 1) + c, g + 1)
            x = x.copy()
            x[:, g] = np.where(self.denormalise(x[:, g], g + 1) == 0.0, corrected, x[:, g])
        return x

    def predict(self, features: np.ndarray, clip: bool = True, chunk: int = 65536,
                transform: bool = True) -> np.ndarray:
        """libvmaf's per-frame score, float64 [N], of raw features [N, F] in MODEL order.

        `clip=False`: the score before the final `score_clip` (transform applied when enabled),
        which is what libvmaf gives with `disable_clip=true`; `transform=False` (with `clip=False`): the
        SVM's own de-normalised output, before the score transform (what the students learn). The RBF
        distance is computed as |x|^2 - 2 x.sv + |sv|^2 (one matrix product; within 1e-11 of the direct sum).
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
        y = self.denormalise(out, 0)
        if not transform:
            return y
        y = self.transform.apply(y)
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
        ends = self.denormalise(np.stack([self.support_vectors.min(0), self.support_vectors.max(0)]), slice(1, None))
        perm = self.canonical_to_model()
        return ends.min(0)[perm], ends.max(0)[perm]

    def libvmaf_option(self, name: str | None = None) -> str:
        """The value of ffmpeg's libvmaf `model=` option, escaped for a filtergraph (-lavfi).

        `version=NAME` (built-in) or `path=FILE`, `enable_transform=true` for the phone transform,
        `name=` (the score's log key, default "vmaf") when given. Escaped for three parsers: libvmaf's
        key=value:key=value (av_dict_parse_string; a path's \\ ' : and blanks), the filter's options
        and the filtergraph (`filtergraph.escape_filter_value`). A path with '|' cannot be given.
        """
        return escape_filter_value(self.model_spec(name))

    def model_spec(self, name: str | None = None) -> str:
        """The `model=` value before filtergraph escaping (libvmaf's key=value:key=value; `name`: the score's log
        key)."""
        if not self.version and "|" in str(self.path):
            raise ModelError(f"{self.path}: a model path containing '|' cannot be given to ffmpeg's libvmaf")
        spec = f"version={self.version}" if self.version else "path=" + re.sub(r"([\\':\s])", r"\\\1", str(self.path))
        return spec + (":enable_transform=true" if self.phone else "") + (f":name={name}" if name else "")

    def features_from_log(self, doc: dict, where: str = "libvmaf log") -> np.ndarray:
        """Per-frame features [frames, F], model order, from a parsed libvmaf JSON log."""
        return log_table(doc, self.log_keys(), where)

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


def scores_from_log(doc: dict, key: str = SINGLE_SCORE_KEY, where: str = "libvmaf log") -> np.ndarray:
    """libvmaf's per-frame scores [frames] stored under `key` (see `score_keys`)."""
    return log_table(doc, [key], where)[:, 0]


def score_keys(models: list[LibvmafModel]) -> list[str]:
    """Per-frame score key of each model in a pass run with `libvmaf_models_option(models)`."""
    keys = [m.name for m in models]
    if len(set(keys)) != len(keys):
        raise ModelError(f"several models share a name (score key) in one libvmaf pass: {keys}")
    return keys


def libvmaf_models_option(models: list[LibvmafModel]) -> str:
    """ffmpeg libvmaf `model=` value running several models in one pass, filtergraph-escaped:
    `version=A:name=A|version=B:name=B`; each score is logged under `score_keys(models)`."""
    return escape_filter_value("|".join(m.model_spec(k) for m, k in zip(models, score_keys(models))))


def parse_model_spec(spec: str) -> tuple[str, str, str | None]:
    """The inverse of ``LibvmafModel.model_spec`` (unescaped): ``(key, value, transform)``, e.g.
    ``("version", "vmaf_v0.6.1", "phone")`` or ``("path", "/m/x.json", None)``; key and value are empty
    when the first part is not ``key=value``."""
    parts = [re.sub(r"\\(.)", r"\1", p) for p in re.split(r"(?<!\\):", spec)]
    key, _, value = parts[0].partition("=") if "=" in parts[0] else ("", "", "")
    return key, value, "phone" if "enable_transform=true" in parts[1:] else None


__all__ = ["SINGLE_SCORE_KEY", "LibvmafModel", "ModelError", "ScoreTransform", "libvmaf_models_option",
           "parse_model_spec", "score_keys", "scores_from_log"]
