"""Exported students on a measured corpus: find them, pair each with its teacher, score them per clip.

`exported_students(folder)` scans a folder recursively for *.onnx and reads each file's
metadata_props (`vmafdistill.teacher`, `.tier`, `.pooling`, `.features`, `.libvmaf_model`, as
`export.onnx_graph.metadata` writes them); the teacher is loaded from `vmafdistill.libvmaf_model`
(a built-in `version=NAME`, with `:enable_transform=true` for phone, or a model file `path=...`).
`peer_students(folder)` adds the published vmaf_v0.6.1 students of a peers folder (no metadata;
the project's contract: canonical-6 features, frame pooling).

`evaluate(student, table)` runs a student with ONNX Runtime CPU (`onnxrun`, one thread) on a
corpus table of its teacher (`corpora.measure`), each clip's frames as one batch, and pools as
libvmaf does: a clip's score is the mean of its per-frame scores (frame pooling), or the score of
the clip's mean features (clip pooling); the teacher's clip score is the mean of libvmaf's
per-frame scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from vmafdistill import onnxrun
from vmafdistill.export.onnx_graph import metadata_of
from vmafdistill.libvmaf_model import parse_model_spec
from vmafdistill.teacher import Teacher, load_teacher


@dataclass(frozen=True)
class Student:
    """One ONNX student and what it follows."""

    label: str  # tier name, or peer:<name>
    kind: str  # "export" or "peer"
    path: Path
    teacher: Teacher
    features: tuple[str, ...]  # its input order
    pooling: str  # "frame" or "clip"


def teacher_of(meta: dict[str, str]) -> Teacher | None:
    """The teacher an export's metadata names (None when its model file is not on this machine)."""
    key, value, transform = parse_model_spec(meta.get("vmafdistill.libvmaf_model", ""))
    if key == "version" or (key == "path" and Path(value).is_file()):
        return load_teacher(value, transform)
    return None


def exported_students(folder: Path) -> tuple[list[Student], list[str]]:
    """Every *.onnx under folder (recursively) with vmafdistill metadata, and notes on the others."""
    students, notes = [], []
    for path in sorted(Path(folder).rglob("*.onnx")) if Path(folder).is_dir() else []:
        meta = metadata_of(path)
        if "vmafdistill.teacher" not in meta:
            notes.append(f"{path}: no vmafdistill metadata, skipped")
            continue
        teacher = teacher_of(meta)
        if teacher is None or teacher.name != meta["vmafdistill.teacher"]:
            notes.append(f"{path}: teacher {meta['vmafdistill.teacher']} ({meta.get('vmafdistill.libvmaf_model')}) "
                         "cannot be loaded here, skipped")
            continue
        features = tuple(meta.get("vmafdistill.features", ",".join(teacher.features)).split(","))
        if features != teacher.features:
            notes.append(f"{path}: features {features} are not {teacher.name}'s {teacher.features}, skipped")
            continue
        tier = meta.get("vmafdistill.tier", path.stem)
        students.append(Student(tier, "export", path, teacher, features, meta.get("vmafdistill.pooling", "frame")))
    return students, notes


def peer_students(folder: Path) -> list[Student]:
    """The published vmaf_v0.6.1 students in a peers folder (empty when it does not exist)."""
    teacher = load_teacher("vmaf_v0.6.1")
    paths = sorted(Path(folder).glob("*.onnx")) if Path(folder).is_dir() else []
    return [Student(f"peer:{p.stem}", "peer", p, teacher, teacher.features, "frame") for p in paths]


def predictions(student: Student, table: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray | None]:
    """(per clip: clip_id, hrc, teacher, pred) and the per-frame predictions (frame pooling; else None).

    Each clip's frames go through the model as one batch (how a clip is scored in deployment)."""
    sess = onnxrun.session(student.path)
    x = table.select(student.features).to_numpy()
    counts = table.group_by("clip_id", maintain_order=True).agg(pl.col("hrc").first(), pl.len(),
                                                                 pl.col("vmaf").mean())
    per_frame = np.empty(table.height) if student.pooling == "frame" else None
    clip_pred, start = [], 0
    for n in counts["len"].to_list():
        xs = x[start : start + n]
        if per_frame is not None:
            p = onnxrun.run(sess, xs).astype(np.float64)
            per_frame[start : start + n] = p
            clip_pred.append(float(p.mean()))
        else:
            clip_pred.append(float(onnxrun.run(sess, xs.mean(axis=0, keepdims=True))[0]))
        start += n
    clips = counts.select("clip_id", "hrc", pl.col("vmaf").alias("teacher")).with_columns(pl.Series("pred", clip_pred))
    return clips, per_frame


def evaluate(student: Student, table: pl.DataFrame) -> dict:
    """Clip RMSE, max |clip error| and its clip, per-frame max |error| (frame pooling) vs libvmaf."""
    if not table["clip_id"].is_sorted():
        raise ValueError("the corpus table must be sorted by clip_id, frame")
    clips, per_frame = predictions(student, table)
    err = (clips["pred"] - clips["teacher"]).to_numpy()
    worst = int(np.argmax(np.abs(err)))
    frame_max = float(np.max(np.abs(per_frame - table["vmaf"].to_numpy()))) if per_frame is not None else None
    return {"teacher": student.teacher.name, "student": student.label, "kind": student.kind,
            "pooling": student.pooling, "file": str(student.path), "clips": clips.height,
            "clip_rmse": float(np.sqrt(np.mean(err**2))), "clip_max_abs": float(abs(err[worst])),
            "worst_clip": clips["clip_id"][worst], "worst_clip_teacher": float(clips["teacher"][worst]),
            "worst_clip_pred": float(clips["pred"][worst]), "frame_max_abs": frame_max}
