"""Layout 3: the naming convention ``ref/<Source>_<fps>fps.yuv`` + ``dis/<Source>_<anything>``.

The geometry of the raw files comes from ``load_corpus(width=..., height=..., pix_fmt=...)``.
Every reference is also listed as its own self-pair; a distorted clip belongs to the longest
reference source its name starts with (followed by ``_``). Sub-folders and hidden files are not
part of the convention. :func:`_convention_entries` produces the ``_Entry`` records every layout
produces.
"""

from __future__ import annotations

import os
import re

from .geometry import SUPPORTED_PIX_FMTS
from .paths import _Root
from .records import CorpusError, _Entry, _positive_int, strip_ext

_REF_NAME = re.compile(r"^(?P<source>.+)_(?P<fps>\d+(?:\.\d+)?)fps\.yuv$", re.IGNORECASE)


def _listing(root: _Root, sub: str) -> list[str]:
    """Sorted visible entries of data_root/sub; sub-folders are refused."""
    folder = os.path.join(root.abs, sub)
    names: list[str] = []
    try:
        with os.scandir(folder) as it:
            for de in it:
                if de.name.startswith("."):
                    continue
                if de.is_dir():
                    raise CorpusError(
                        f"{sub}/{de.name}: sub-folders are not part of the naming convention "
                        f"(expected files {sub}/<Source>_...)"
                    )
                names.append(de.name)
    except OSError as e:
        raise CorpusError(f"{folder}: cannot be listed: {e.strerror}") from None
    names.sort()
    return names


def _convention_entries(
    root: _Root, width: int | None, height: int | None, pix_fmt: str
) -> list[_Entry]:
    if width is None or height is None:
        raise CorpusError(
            f"{root.given}: the ref/ + dis/ naming convention carries no frame size: pass the "
            "raw geometry, e.g. --config width=1920 height=1080 (and pix_fmt=yuv420p10le for "
            "10-bit)"
        )
    if not _positive_int(width) or not _positive_int(height):
        raise CorpusError(
            f"{root.given}: width and height must be positive integers, got {width!r}x{height!r}"
        )
    if pix_fmt not in SUPPORTED_PIX_FMTS:
        raise CorpusError(
            f"unsupported pix_fmt {pix_fmt!r}; supported: {', '.join(SUPPORTED_PIX_FMTS)}"
        )
    refs: dict[str, tuple[str, float]] = {}  # source -> (ref_rel, fps)
    for name in _listing(root, "ref"):
        m = _REF_NAME.match(name)
        if not m:
            raise CorpusError(
                f"ref/{name}: a reference must be a raw file named <Source>_<fps>fps.yuv "
                "(e.g. ref/BigBuckBunny_25fps.yuv)"
            )
        fps = float(m["fps"])
        if fps <= 0:
            raise CorpusError(f"ref/{name}: fps must be positive")
        source = m["source"]
        if source in refs:
            raise CorpusError(
                f"ref/{name}: source {source!r} already has reference {refs[source][0]}"
            )
        refs[source] = (f"ref/{name}", fps)
    out: list[_Entry] = []
    for source, (ref_rel, fps) in sorted(refs.items()):
        out.append(_Entry(root.given, source, ref_rel, ref_rel, width, height, pix_fmt, fps, None))
    for name in _listing(root, "dis"):
        stem = strip_ext(name)
        source = None
        cut = stem.rfind("_")
        while cut > 0:  # longest reference source followed by "_"
            if stem[:cut] in refs:
                source = stem[:cut]
                break
            cut = stem.rfind("_", 0, cut)
        if source is None:
            raise CorpusError(
                f"dis/{name}: no reference matches its source: expected dis/<Source>_<anything> "
                f"with <Source> one of {', '.join(sorted(refs)) or '(no references in ref/)'}"
            )
        ref_rel, fps = refs[source]
        dis_rel = f"dis/{name}"
        out.append(_Entry(root.given, source, ref_rel, dis_rel, width, height, pix_fmt, fps, None))
    return out
