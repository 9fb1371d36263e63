"""Layout 2: a CSV manifest (``manifest.csv`` by default), one row per distorted clip.

Columns ``source, ref_path, dis_path, width, height, pix_fmt, fps`` and optionally ``dmos``
(empty = unknown) and ``dis_width, dis_height`` (geometry of a raw distorted clip at another
resolution). A reference named by several rows must be declared the same way in each.
:func:`_manifest_entries` turns the rows into the ``_Entry`` records every layout produces.
"""

from __future__ import annotations

import csv
import io
import math

from .geometry import SUPPORTED_PIX_FMTS
from .paths import _read_text, _rel_path, _Root
from .records import CorpusError, _Entry

_MANIFEST = "manifest.csv"
_MANIFEST_REQUIRED = ("source", "ref_path", "dis_path", "width", "height", "pix_fmt", "fps")
_MANIFEST_OPTIONAL = ("dmos", "dis_width", "dis_height")


def _csv_int(text: str, col: str, where: str) -> int:
    try:
        v = int(text)  # int() ignores surrounding whitespace
    except ValueError:
        v = 0
    if v <= 0:
        raise CorpusError(f"{where}: column {col} must be a positive integer, got {text!r}")
    return v


def _csv_float(text: str, col: str, where: str, positive: bool) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or (positive and v <= 0):
        kind = "a positive number" if positive else "a finite number"
        raise CorpusError(f"{where}: column {col} must be {kind}, got {text!r}")
    return v


def _manifest_entries(path: str, root: _Root) -> list[_Entry]:
    text = _read_text(path, "manifest")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise CorpusError(
                f"{path}:1: empty manifest; expected a header row with "
                + ", ".join(_MANIFEST_REQUIRED)
            )
        cols = [c.strip() for c in header]
        missing = [c for c in _MANIFEST_REQUIRED if c not in cols]
        unknown = [c for c in cols if c not in _MANIFEST_REQUIRED + _MANIFEST_OPTIONAL]
        dupes = sorted({c for c in cols if cols.count(c) > 1})
        if missing or unknown or dupes:
            problems = []
            if missing:
                problems.append(f"missing column(s) {', '.join(missing)}")
            if unknown:
                problems.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
            if dupes:
                problems.append(f"repeated column(s) {', '.join(dupes)}")
            raise CorpusError(
                f"{path}:1: bad header: {'; '.join(problems)} (required: "
                f"{', '.join(_MANIFEST_REQUIRED)}; optional: {', '.join(_MANIFEST_OPTIONAL)})"
            )
        idx = {c: i for i, c in enumerate(cols)}
        i_src, i_ref, i_dis = idx["source"], idx["ref_path"], idx["dis_path"]
        i_w, i_h, i_pf, i_fps = idx["width"], idx["height"], idx["pix_fmt"], idx["fps"]
        i_dmos, i_dw, i_dh = idx.get("dmos"), idx.get("dis_width"), idx.get("dis_height")
        ncols = len(cols)
        rel_cache: dict[str, str] = {}
        refs_seen: dict[str, tuple[tuple, str]] = {}
        out: list[_Entry] = []
        line = reader.line_num
        for row in reader:
            where = f"{path}:{line + 1}"  # line where this row starts
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != ncols:
                raise CorpusError(f"{where}: row has {len(row)} fields, the header has {ncols}")

            source = row[i_src].strip()
            if not source:
                raise CorpusError(f"{where}: column source is empty")
            ref_written, dis_written = row[i_ref].strip(), row[i_dis].strip()
            ref_rel = rel_cache.get(ref_written)
            if ref_rel is None:
                ref_rel = rel_cache[ref_written] = _rel_path(ref_written, root, where, "ref_path")
            dis_rel = _rel_path(dis_written, root, where, "dis_path")
            w, h = _csv_int(row[i_w], "width", where), _csv_int(row[i_h], "height", where)
            pix_fmt = row[i_pf].strip()
            if pix_fmt not in SUPPORTED_PIX_FMTS:
                raise CorpusError(
                    f"{where}: unsupported pix_fmt {pix_fmt!r}; supported: "
                    + ", ".join(SUPPORTED_PIX_FMTS)
                )
            fps = _csv_float(row[i_fps], "fps", where, True)
            dmos = dw = dh = None
            if i_dmos is not None and row[i_dmos].strip():
                dmos = _csv_float(row[i_dmos], "dmos", where, False)
            if i_dw is not None and row[i_dw].strip():
                dw = _csv_int(row[i_dw], "dis_width", where)
            if i_dh is not None and row[i_dh].strip():
                dh = _csv_int(row[i_dh], "dis_height", where)
            if (dw is None) != (dh is None):
                raise CorpusError(f"{where}: give both dis_width and dis_height or neither")
            decl = (source, w, h, pix_fmt, fps)
            seen = refs_seen.get(ref_rel)
            if seen is None:
                refs_seen[ref_rel] = (decl, where)
            elif seen[0] != decl:
                raise CorpusError(
                    f"{where}: reference {ref_rel!r} is declared as (source, width, height, "
                    f"pix_fmt, fps) = {decl} but as {seen[0]} at {seen[1]}"
                )
            out.append(
                _Entry(
                    where,
                    source,
                    ref_rel,
                    dis_rel,
                    w,
                    h,
                    pix_fmt,
                    fps,
                    dmos,
                    dw,
                    dh,
                )
            )
    except csv.Error as e:
        raise CorpusError(f"{path}:{reader.line_num}: malformed CSV: {e}") from None
    return out
