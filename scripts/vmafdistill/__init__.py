"""vmafdistill: the library behind the workflow (corpus, libvmaf, teacher, students, export, gate).

Rules and entry-point scripts stay thin; the logic lives here so tests can import it directly.
"""

import re

#: The vmaf_v0.6.1 family's canonical features (vmaf_v0.6.1, its NEG and 4K models), in the one order used for
#: them everywhere (tables, models, ONNX): the default of the helpers that read such tables (``loso``,
#: ``export.tiers.corpus_frames``, ``libvmaf_log.parse_libvmaf_log``). Every teacher has its own, in its
#: canonical order: ``teacher.Teacher.features`` (4 features for VMAF v1.0.16).
FEATURES: tuple[str, ...] = ("adm2", "vif_scale0", "vif_scale1", "vif_scale2", "vif_scale3", "motion2")

#: Keys of libvmaf's per-frame JSON log for each of FEATURES (integer feature extractors); any teacher's
#: own: ``teacher.Teacher.log_keys``.
LIBVMAF_KEYS: dict[str, str] = {
    "adm2": "integer_adm2",
    "vif_scale0": "integer_vif_scale0",
    "vif_scale1": "integer_vif_scale1",
    "vif_scale2": "integer_vif_scale2",
    "vif_scale3": "integer_vif_scale3",
    "motion2": "integer_motion2",
}

#: Ingested clip metadata carried into the feature tables (attributes of corpus.Clip).
CLIP_META: tuple[str, ...] = (
    "clip_id", "source", "dis_rel", "ref_rel", "self_pair", "bucket", "width", "height", "dmos", "n_frames",
    "fps", "pix_fmt", "ref_is_raw", "dis_is_raw",
)


def fold_id(source: str) -> str:
    """A source name as a safe LOSO fold id (file-name characters only)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", source)
