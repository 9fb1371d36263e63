"""Export of the final students per tier: ``tiers`` (spec, split, budget, errors), ``onnx_graph``
(torch -> ONNX, metadata, the contract), ``precision`` (fp16, dynamic int8, their cost), ``card`` (the
model card). ORT sessions come from ``vmafdistill.onnxrun`` (import it directly); the graph's IO names
from ``vmafdistill.contract``. The package exports the names its users call."""

from .card import (config_fingerprint, card_id, heldout_errors, jsonable, loso_metrics, loso_row, model_card,
                   sha256_bytes)
from .onnx_graph import METADATA_KEYS, build_onnx, check_contract, metadata, metadata_of, torch_to_onnx
from .precision import PRECISION_NOTES, places_mismatches, precision_cost
from .tiers import BudgetError, ExportError, TierSpec, check_budget, corpus_frames, final_split

__all__ = ["METADATA_KEYS", "PRECISION_NOTES", "BudgetError", "ExportError", "TierSpec", "build_onnx", "card_id",
           "check_budget", "check_contract", "config_fingerprint", "corpus_frames", "final_split", "heldout_errors",
           "jsonable", "loso_metrics", "loso_row", "metadata", "metadata_of", "model_card", "places_mismatches",
           "precision_cost", "sha256_bytes", "torch_to_onnx"]
