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

The package, one job a module: ``options`` (libvmaf's extractors, their option tables, ``log_key``),
``model`` (``LibvmafModel``, ``ScoreTransform``, its features and scores in the JSON log, ``score_keys``,
``libvmaf_models_option``, ``parse_model_spec``), ``reader`` (``load_model``, ``builtin_names``, the JSON and libsvm
parsing). The vendored models stay in ``vmafdistill/libvmaf_models/`` (``MODEL_DIR``). The log itself is
read by ``vmafdistill.libvmaf_log``; this package's public names are importable from here.
"""

from .model import (SINGLE_SCORE_KEY, LibvmafModel, ModelError, ScoreTransform, libvmaf_models_option,
                    parse_model_spec, score_keys, scores_from_log)
from .options import log_key
from .reader import MODEL_DIR, PHONE, builtin_names, load_model

__all__ = ["MODEL_DIR", "PHONE", "SINGLE_SCORE_KEY", "LibvmafModel", "ModelError", "ScoreTransform", "builtin_names",
           "libvmaf_models_option", "load_model", "log_key", "parse_model_spec", "score_keys", "scores_from_log"]
