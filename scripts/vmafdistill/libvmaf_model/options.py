"""libvmaf's feature extractors as the model JSON names them: the score features each provides, its
feature-parameter option tables, and the JSON log key of a feature run with options (``log_key``)."""

from __future__ import annotations

import re

import numpy as np

# libvmaf's extractors: the score features each provides, and its feature-parameter options
# (`options[]` flagged VMAF_OPT_FLAG_FEATURE_PARAM in libvmaf/src/feature/{integer_adm,integer_vif,
# integer_motion,cambi,speed}.c) as name -> (alias, type d/i/b/s, default).
_SPEED = {"speed_kernelscale": ("ks", "d", 1.0), "speed_prescale": ("ps", "d", 1.0), "speed_prescale_method":
          ("psm", "s", "nearest"), "speed_sigma_nn": ("snn", "d", 0.29), "speed_nn_floor": ("nnf", "d", 0.0),
          "speed_max_val": ("mxv", "d", 1000.0)}
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
}
# The canonical order groups features by extractor in this order, model order inside a group:
# v0.6.1 family -> adm2, vif_scale0..3, motion2; v1.0.16 -> adm3, cambi, speed_chroma_uv, motion3.
_CANONICAL_GROUPS = ("adm", "vif", "cambi", "speed_chroma", "speed_temporal", "motion")
_PARSE = {"d": float, "i": lambda t: int(re.match(r"[+-]?\d*", t).group() or 0), "b": lambda t: t == "true", "s": str}


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
    return f"{float(np.float32(value)):g}" if isinstance(value, (int, float)) else str(value)


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
                parts.append(alias if kind == "b" else f"{alias}_{format(value, 'g') if kind == 'd' else value}")
    return "_".join([_alias(feature), *parts])


__all__ = ["log_key"]
