"""Export of the final students per tier: ``tiers`` (spec, split, budget, errors), ``onnx_graph``
(torch -> ONNX, metadata, the contract), ``precision`` (fp16, dynamic int8, their cost), ``card`` (the
model card). ORT sessions come from ``vmafdistill.onnxrun`` (re-exported here as ``ort_*``)."""

from ..onnxrun import clip_score as golden_score
from ..onnxrun import predict as ort_predict
from ..onnxrun import run as ort_run
from ..onnxrun import session as ort_session
from .card import (EXACT_SCOPE, OPENVINO_NOTE, card_id, config_fingerprint, heldout_errors, jsonable, loso_metrics, loso_row,
                   model_card, sha256_bytes, versions)  # fmt: skip
from .onnx_graph import (BATCH_DIM, INPUT, METADATA_KEYS, MIN_OPSET, OUTPUT, build_onnx, check_contract, metadata,
                         metadata_of, torch_to_onnx)  # fmt: skip
from .precision import (PLACES, PRECISION_NOTES, gemm_to_matmul, places_mismatches, precision_cost, to_fp16,
                        to_int8_dynamic)  # fmt: skip
from .tiers import (POOLINGS, PRECISIONS, BudgetError, ExportError, FinalSplit, TierSpec, check_budget,
                    corpus_frames, final_split)  # fmt: skip

__all__ = ["EXACT_SCOPE", "BATCH_DIM", "INPUT", "METADATA_KEYS", "MIN_OPSET", "OPENVINO_NOTE", "OUTPUT", "PLACES", "POOLINGS",
           "PRECISIONS", "PRECISION_NOTES", "BudgetError", "ExportError", "FinalSplit", "TierSpec", "build_onnx",
           "card_id", "check_budget", "check_contract", "config_fingerprint", "corpus_frames", "final_split",
           "gemm_to_matmul", "golden_score", "heldout_errors", "jsonable", "loso_metrics", "loso_row", "metadata",
           "metadata_of", "model_card", "ort_predict", "ort_run", "ort_session", "places_mismatches",
           "precision_cost", "sha256_bytes", "to_fp16", "to_int8_dynamic", "torch_to_onnx", "versions"]  # fmt: skip
