"""Escaping for ffmpeg filtergraphs (``-lavfi``): a leaf module (``ffmpeg`` builds passes with it,
``libvmaf_model`` the libvmaf ``model=`` option)."""

from __future__ import annotations

import re


def escape_filter_value(value: str) -> str:
    """Escape a string for use as a filter option value inside an ffmpeg filtergraph.

    Two levels (ffmpeg-filters(1), "Notes on filtergraph escaping"): the option value
    (backslash, quote, colon), then the filtergraph description (backslash, quote, brackets,
    comma, semicolon).
    """
    level1 = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", level1)


__all__ = ["escape_filter_value"]
