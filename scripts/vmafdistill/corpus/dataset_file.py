"""Layout 1: a Netflix dataset file (``*.py``), the format of libvmaf's ``resource/dataset/``.

Module-level ``dataset_name``, ``yuv_fmt``, ``width``, ``height``, ``ref_videos`` and
``dis_videos``. The file is *never executed*: it is parsed with :mod:`ast` and evaluated by
:class:`~vmafdistill.corpus.evaluator._Evaluator` (see :func:`parse_dataset_text`). A leading
``[path to dataset videos]`` stands for data_root. A reference's fps comes from ``_<N>fps`` in
its name, else from ``default_fps``. :func:`_dataset_entries` turns the parsed file into the
``_Entry`` records every layout produces.
"""

from __future__ import annotations

import ast
import math
import os
import posixpath
import re
import warnings
from typing import Any

from .evaluator import _Evaluator
from .geometry import SUPPORTED_PIX_FMTS
from .paths import _rel_path, _Root
from .records import (
    CorpusError,
    DatasetSpec,
    DisVideo,
    RefVideo,
    _Entry,
    _is_int,
    _is_number,
    _positive_int,
)

_FPS_IN_NAME = re.compile(r"_(\d+(?:\.\d+)?)fps(?![A-Za-z0-9])", re.IGNORECASE)


def _fps_from_name(path: str) -> float | None:
    found = _FPS_IN_NAME.findall(posixpath.basename(path))
    if found:
        fps = float(found[-1])
        if fps > 0:
            return fps
    return None


def _module_value(ev: _Evaluator, name: str, kind: str, check: Any, required: bool = True) -> Any:
    if name not in ev.env:
        if required:
            raise CorpusError(f"{ev.filename}: required assignment {name!r} ({kind}) is missing")
        return None
    v = ev.env[name]
    if not check(v):
        raise CorpusError(f"{ev.filename}:{ev.lines[name]}: {name} must be {kind}, got {v!r}")
    return v


def _entry_key(d: dict, key: str, kind: str, check: Any, where: str, required: bool = True) -> Any:
    if key not in d:
        if required:
            raise CorpusError(f"{where}: missing key {key!r} ({kind})")
        return None
    v = d[key]
    if not check(v):
        raise CorpusError(f"{where}: {key!r} must be {kind}, got {v!r}")
    return v


def _id_ok(v: object) -> bool:
    return _is_int(v) or (type(v) is str and bool(v))


def parse_dataset_text(text: str, filename: str, data_root: str) -> DatasetSpec:
    """Parse a Netflix-style dataset file WITHOUT executing it.

    Only plain ``name = expr`` assignments (and docstrings) are accepted, where ``expr`` is built
    from constants (str/int/float/bool/None, signed numbers), lists, tuples, dicts, names assigned
    earlier in the file and ``+`` on strings. Anything else raises :class:`CorpusError` naming the
    file, the line and the construct. Paths are checked lexically against data_root (no ``..``
    escape, absolute paths inside data_root); nothing is read from the filesystem here.
    """
    try:
        with warnings.catch_warnings():  # e.g. "invalid escape sequence": not ours to print
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=filename, mode="exec")
    except SyntaxError as e:
        raise CorpusError(f"{filename}:{e.lineno or '?'}: syntax error: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise CorpusError(f"{filename}: cannot be parsed: {e}") from None
    ev = _Evaluator(filename)
    try:
        ev.run(tree)
    except RecursionError:
        raise CorpusError(f"{filename}: nesting too deep to be a dataset file") from None

    root = _Root(os.fspath(data_root), os.path.abspath(data_root), os.path.realpath(data_root))
    dataset_name = _module_value(ev, "dataset_name", "a string", lambda v: type(v) is str, False)
    if dataset_name is None:
        dataset_name = posixpath.splitext(posixpath.basename(filename.replace(os.sep, "/")))[0]
    yuv_fmt = _module_value(ev, "yuv_fmt", "a string", lambda v: type(v) is str)
    if yuv_fmt not in SUPPORTED_PIX_FMTS:
        raise CorpusError(
            f"{filename}:{ev.lines['yuv_fmt']}: unsupported pix_fmt (yuv_fmt) {yuv_fmt!r}; "
            f"supported: {', '.join(SUPPORTED_PIX_FMTS)}"
        )
    width = _module_value(ev, "width", "a positive integer", _positive_int)
    height = _module_value(ev, "height", "a positive integer", _positive_int)
    is_list = lambda v: isinstance(v, (list, tuple))  # noqa: E731
    ref_list = _module_value(ev, "ref_videos", "a list of dicts", is_list)
    dis_list = _module_value(ev, "dis_videos", "a list of dicts", is_list)

    def entry_line(listname: str, lst: Any, i: int) -> int:
        linenos = getattr(lst, "linenos", None)  # None for a tuple: use the assignment's line
        return linenos[i] if linenos is not None else ev.lines[listname]

    refs: list[RefVideo] = []
    by_cid: dict[int | str, RefVideo] = {}
    names: dict[str, RefVideo] = {}
    for i, d in enumerate(ref_list):
        line = entry_line("ref_videos", ref_list, i)
        where = f"{filename}:{line}: ref_videos[{i}]"
        if not isinstance(d, dict):
            raise CorpusError(f"{where}: entry must be a dict, got {d!r}")
        cid = _entry_key(d, "content_id", "an integer or string", _id_ok, where)
        name = _entry_key(
            d,
            "content_name",
            "a non-empty string",
            lambda v: type(v) is str and bool(v.strip()),
            where,
        )
        path = _entry_key(d, "path", "a string", lambda v: type(v) is str, where)
        rel = _rel_path(path, root, where, "path")
        for key, value, seen in (("content_id", cid, by_cid), ("content_name", name, names)):
            if value in seen:
                raise CorpusError(
                    f"{where}: {key} {value!r} already used by the ref_videos entry at line "
                    f"{seen[value].line}"
                )
        ref = RefVideo(cid, name, os.path.join(root.abs, rel), rel, line)
        by_cid[cid] = names[name] = ref
        refs.append(ref)

    dis: list[DisVideo] = []
    dmos_ok = lambda v: v is None or (_is_number(v) and math.isfinite(v))  # noqa: E731
    for i, d in enumerate(dis_list):
        line = entry_line("dis_videos", dis_list, i)
        where = f"{filename}:{line}: dis_videos[{i}]"
        if not isinstance(d, dict):
            raise CorpusError(f"{where}: entry must be a dict, got {d!r}")
        asset_id = _entry_key(d, "asset_id", "an integer or string", _id_ok, where)
        where = f"{where} (asset_id {asset_id!r})"
        cid = _entry_key(d, "content_id", "an integer or string", _id_ok, where)
        if cid not in by_cid:
            raise CorpusError(f"{where}: content_id {cid!r} matches no ref_videos entry")
        dmos = _entry_key(d, "dmos", "a finite number or None", dmos_ok, where, required=False)
        path = _entry_key(d, "path", "a string", lambda v: type(v) is str, where)
        rel = _rel_path(path, root, where, "path")
        w = _entry_key(d, "width", "a positive integer", _positive_int, where, required=False)
        h = _entry_key(d, "height", "a positive integer", _positive_int, where, required=False)
        if (w is None) != (h is None):
            raise CorpusError(f"{where}: give both 'width' and 'height' or neither")
        dis.append(
            DisVideo(
                asset_id,
                cid,
                None if dmos is None else float(dmos),
                os.path.join(root.abs, rel),
                rel,
                w,
                h,
                line,
            )
        )
    return DatasetSpec(filename, dataset_name, yuv_fmt, width, height, tuple(refs), tuple(dis))


def _dataset_entries(text: str, path: str, root: _Root, default_fps: float) -> list[_Entry]:
    spec = parse_dataset_text(text, path, root.given)
    refs = {r.content_id: r for r in spec.ref_videos}
    fps_of = {r.content_id: _fps_from_name(r.rel) or default_fps for r in spec.ref_videos}
    return [
        _Entry(
            f"{path}:{d.line}",
            refs[d.content_id].content_name,
            refs[d.content_id].rel,
            d.rel,
            spec.width,
            spec.height,
            spec.yuv_fmt,
            fps_of[d.content_id],
            d.dmos,
            d.width,
            d.height,
        )
        for d in spec.dis_videos
    ]
