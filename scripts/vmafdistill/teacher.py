"""The teacher: one of libvmaf's SVM models (config `teacher`), as the students see it.

A ``Teacher`` wraps a ``libvmaf_model.LibvmafModel`` (read from libvmaf's own model JSON: a vendored
built-in or a user file) and speaks the students' *canonical* feature order (stable names; for the
vmaf_v0.6.1 family adm2, vif_scale0..3, motion2; for VMAF v1.0.16 adm3, cambi, speed_chroma_uv,
motion3): ``predict`` takes canonical-order raw features and reproduces libvmaf's per-frame score
in float64. ``load_teacher()`` (no argument) is vmaf_v0.6.1, the default.

Spelling of a teacher (config): ``teacher: NAME`` (``libvmaf_model.builtin_names()``),
``teacher_transform: phone`` (the file's score transform enabled: vmaf_v0.6.1's phone model), or
``teacher_model: /path/model.json`` (a libvmaf model file, given to libvmaf as ``model=path=...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .libvmaf_model import LibvmafModel, ModelError, builtin_names, load_model

DEFAULT = "vmaf_v0.6.1"
#: vmaf_v0.6.1 with its phone transform, as config `teachers` lists it (its results folder and score key)
PHONE_NAME = "vmaf_v0.6.1_phone"

__all__ = ["DEFAULT", "PHONE_NAME", "ModelError", "Teacher", "builtin_names", "hp_teacher", "load_teacher",
           "teacher_from_config", "teacher_hparams", "transform_hparams"]


@dataclass(frozen=True, eq=False)
class Teacher:
    """A libvmaf model in the students' canonical feature order."""

    model: LibvmafModel

    @property
    def name(self) -> str:
        """vmaf_v0.6.1, vmaf_v0.6.1_phone, vmaf_v1.0.16_3d0h, or a user file's stem."""
        return self.model.name

    @property
    def features(self) -> tuple[str, ...]:
        """Canonical feature names (table columns, ONNX input order)."""
        return tuple(self.model.canonical_order())

    @property
    def log_keys(self) -> tuple[str, ...]:
        """libvmaf JSON-log key of each canonical feature."""
        keys = self.model.log_keys()
        return tuple(keys[i] for i in self.model.canonical_to_model())

    @property
    def score_range(self) -> tuple[float, float]:
        """The score's clip (libvmaf's score_clip; [0, 100] for most, [0, 110] for 3d0h_2160)."""
        return self.model.score_clip or (0.0, 100.0)

    @property
    def family(self) -> str:
        """``v0.6.1`` when the features are the canonical 6 (v0.6.1, NEG, 4K), else ``generic``."""
        return "v0.6.1" if self.features == V061_FEATURES else "generic"

    def predict(self, features: np.ndarray, clip: bool = True) -> np.ndarray:
        """libvmaf's score of each row of canonical-order raw features [N, F], float64 [N].

        ``clip=False``: before the score clip (a smooth training target)."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != len(self.features):
            raise ValueError(f"teacher {self.name} expects features of shape [N, {len(self.features)}], "
                             f"got {features.shape}")
        return self.model.predict(self.model.to_model_order(features), clip=clip)

    def svm_score(self, features: np.ndarray) -> np.ndarray:
        """The SVM's own de-normalised output of canonical-order raw features [N, F], float64 [N]: before
        the score transform and the clip (smooth; what the students learn, ``finish`` gives the score)."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != len(self.features):
            raise ValueError(f"teacher {self.name} expects features of shape [N, {len(self.features)}], "
                             f"got {features.shape}")
        return self.model.predict(self.model.to_model_order(features), clip=False, transform=False)

    def finish(self, svm: np.ndarray, clip: bool = True) -> np.ndarray:
        """libvmaf's score from the SVM's output: the score transform (when enabled), then the clip."""
        y = self.model.transform.apply(np.asarray(svm, dtype=np.float64))
        return np.clip(y, *self.score_range) if clip and self.model.score_clip else y

    def feature_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Raw range per canonical feature that the model's support vectors span (no corpus)."""
        return self.model.feature_box()

    def libvmaf_option(self) -> str:
        """ffmpeg libvmaf `model=` value (filtergraph-escaped), its score logged under the teacher's name."""
        return self.model.libvmaf_option(self.name)

    def frame_size_problem(self, width: int, height: int, pix_fmt: str = "yuv420p") -> str | None:
        return self.model.frame_size_problem(width, height, pix_fmt)

    def describe(self) -> dict:
        """What a model card and a report say about the teacher."""
        return {"name": self.name, "libvmaf_model": self.model.version or str(self.model.path),
                "transform": "phone" if self.model.phone else None, "features": list(self.features),
                "libvmaf_log_keys": list(self.log_keys), "score_range": list(self.score_range)}


V061_FEATURES = ("adm2", "vif_scale0", "vif_scale1", "vif_scale2", "vif_scale3", "motion2")


@lru_cache(maxsize=16)
def load_teacher(name: str = DEFAULT, transform: str | None = None) -> Teacher:
    """A teacher by built-in name or model JSON path (``transform="phone"``: the file's transform on)."""
    return Teacher(load_model(name, transform))


def teacher_from_config(config: dict) -> Teacher:
    """The configured teacher: ``teacher_model`` (a path) wins over ``teacher``; ``teacher_transform``."""
    spec = config.get("teacher_model") or config.get("teacher") or DEFAULT
    transform = config.get("teacher_transform") or None
    return load_teacher(str(spec), None if transform in (None, "none") else str(transform))


def teacher_hparams(teacher) -> dict:  # a teacher.Teacher
    """What a student needs of its teacher, as hparams (saved with the model)."""
    m = teacher.model
    fix = None
    if m.chroma_correction is not None:
        names = list(teacher.features)
        g = next(i for i, f in enumerate(names) if f.startswith("speed_chroma"))
        a = next(i for i, f in enumerate(names) if f.startswith("adm3"))
        fix = [g, a, float(m.chroma_correction)]
    return {"teacher": [m.version or str(m.path), "phone" if m.phone else None], "n_features": len(teacher.features),
            "score_range": [float(v) for v in teacher.score_range], "chroma_fix": fix,
            "transform": transform_hparams(m.transform)}


def transform_hparams(t) -> dict | None:  # a libvmaf_model.ScoreTransform
    """The score transform as plain data for a student (None when the model does not apply one)."""
    if not t.enabled:
        return None
    return {"p": [t.p0, t.p1, t.p2], "knots": [list(k) for k in t.knots], "out_lte_in": bool(t.out_lte_in),
            "out_gte_in": bool(t.out_gte_in)}


def hp_teacher(hp: dict | None):  # a teacher.Teacher
    """The teacher named by hparams (vmaf_v0.6.1 when they name none)."""
    spec = (hp or {}).get("teacher") or ["vmaf_v0.6.1", None]
    return load_teacher(str(spec[0]), spec[1])
