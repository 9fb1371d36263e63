"""vmafdistill: the library behind the workflow (corpus, libvmaf, teacher, students, export, gate).

Rules and entry-point scripts stay thin; the logic lives here so tests can import it directly.
"""

import re

#: The default teacher's (vmaf_v0.6.1's) canonical features, in the one order used everywhere for it
#: (tables, models, ONNX); another teacher has its own (teacher.Teacher.features).
FEATURES: tuple[str, ...] = ("adm2", "vif_scale0", "vif_scale1", "vif_scale2", "vif_scale3", "motion2")

#: Keys of libvmaf's per-frame JSON log for each canonical feature (integer feature extractors).
LIBVMAF_KEYS: dict[str, str] = {
    "adm2": "integer_adm2",
    "vif_scale0": "integer_vif_scale0",
    "vif_scale1": "integer_vif_scale1",
    "vif_scale2": "integer_vif_scale2",
    "vif_scale3": "integer_vif_scale3",
    "motion2": "integer_motion2",
}

#: The default teacher (config `teacher`; see vmafdistill.teacher).
TEACHER = "vmaf_v0.6.1"

#: Ingested clip metadata carried into the feature tables (attributes of corpus.Clip).
CLIP_META: tuple[str, ...] = (
    "clip_id", "source", "dis_rel", "ref_rel", "self_pair", "bucket", "width", "height", "dmos", "n_frames",
    "fps", "pix_fmt", "ref_is_raw", "dis_is_raw",
)  # fmt: skip


def fold_id(source: str) -> str:
    """A source name as a safe LOSO fold id (file-name characters only)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", source)
