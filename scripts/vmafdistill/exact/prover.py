"""The 2^24 proof of an exact student or its graph: ``prove_bound`` and ``check_bound`` (raising
``BoundError``) take an ``ExactStudent`` (its graph built by ``graph.model_proto``) or the .onnx bytes, and
prove the graph with ``vmafdistill.exactproof`` (interval arithmetic over the graph's constants alone)."""

from __future__ import annotations

from typing import Any

from ..exactproof import check_graph, prove_graph
from .graph import model_proto
from .model import ExactStudent


def prove_bound(obj: ExactStudent | bytes) -> dict[str, Any]:
    """``exactproof.prove_graph`` of the student's graph (or of the .onnx bytes): ``ok``, ``problems``,
    ``worst``, ``margin_bits``, ``layers``."""
    return prove_graph(model_proto(obj) if isinstance(obj, ExactStudent) else obj)


def check_bound(obj: ExactStudent | bytes) -> dict[str, Any]:
    """``prove_bound``, raising BoundError naming every problem when the proof fails."""
    return check_graph(model_proto(obj) if isinstance(obj, ExactStudent) else obj)


__all__ = ["check_bound", "prove_bound"]
