"""The entry points: :func:`load_corpus` picks a layout under data_root, :func:`load_dataset_text`
takes a dataset file's text directly; both build the clips with the cyclic GC paused.
"""

from __future__ import annotations

import gc
import math
import os
from collections.abc import Callable
from typing import Any

from .build import _build
from .convention import _convention_entries
from .dataset_file import _dataset_entries
from .manifest import _MANIFEST, _MANIFEST_OPTIONAL, _MANIFEST_REQUIRED, _manifest_entries
from .paths import _dataset_path, _open_root, _read_text, _Root
from .records import Clip, CorpusError, _is_number


def _check_fps(default_fps: float) -> None:
    if not (_is_number(default_fps) and math.isfinite(default_fps) and default_fps > 0):
        raise CorpusError(f"default_fps must be a positive number, got {default_fps!r}")


def _without_gc(fn: Callable[..., list[Clip]], *args: Any) -> list[Clip]:
    """Run fn with the cyclic GC paused: ingestion makes ~10 small acyclic objects per clip,
    which the GC would only rescan over and over (about 2x slower on 100,000 clips)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return fn(*args)
    finally:
        if was_enabled:
            gc.enable()


def load_corpus(
    data_root: str | os.PathLike[str],
    dataset: str | os.PathLike[str] | None = None,
    *,
    default_fps: float = 25.0,
    check_files: bool = True,
    width: int | None = None,
    height: int | None = None,
    pix_fmt: str = "yuv420p",
) -> list[Clip]:
    """Read the corpus under data_root and return its clips sorted by clip_id.

    ``dataset`` (relative to data_root, or absolute inside it) picks a Netflix dataset file
    (``.py``) or a CSV manifest (``.csv``). Without it: the single top-level ``*.py`` file, else
    ``manifest.csv``, else the ``ref/`` + ``dis/`` naming convention (which needs ``width`` and
    ``height``, and ``pix_fmt`` for 10-bit; these three are ignored by the other layouts).
    ``default_fps`` applies to dataset-file references without ``_<N>fps`` in their name.
    ``check_files=False`` skips every filesystem check on the clips (existence, sizes, symlinks;
    ``n_frames`` is then None and paths are not resolved past data_root); the lexical checks on
    the written paths still apply. Raises :class:`CorpusError` for any problem.
    """
    return _without_gc(_load, data_root, dataset, default_fps, check_files, width, height, pix_fmt)


def load_dataset_text(
    text: str,
    filename: str,
    data_root: str | os.PathLike[str],
    *,
    default_fps: float = 25.0,
    check_files: bool = True,
) -> list[Clip]:
    """Clips of a Netflix dataset file given as text (e.g. one the workflow generates).

    ``filename`` names the file in messages. Same checks as :func:`load_corpus`; with
    ``check_files=False`` data_root need not exist yet (a corpus the workflow still has to build).
    """
    _check_fps(default_fps)
    given = os.fspath(data_root)
    if not given:
        raise CorpusError("data_root is not set: give the folder that holds the corpus")
    root = (
        _open_root(given)
        if check_files
        else _Root(given, os.path.abspath(given), os.path.realpath(given))
    )
    return _without_gc(
        lambda: _build(
            _dataset_entries(text, filename, root, default_fps), root, check_files, filename
        )
    )


def _load(
    data_root: str | os.PathLike[str],
    dataset: str | os.PathLike[str] | None,
    default_fps: float,
    check_files: bool,
    width: int | None,
    height: int | None,
    pix_fmt: str,
) -> list[Clip]:
    root = _open_root(data_root)
    _check_fps(default_fps)

    def from_dataset_file(path: str) -> list[Clip]:
        entries = _dataset_entries(_read_text(path, "dataset file"), path, root, default_fps)
        return _build(entries, root, check_files, path)

    if dataset is not None:
        path = _dataset_path(root, dataset)
        ext = os.path.splitext(path)[1].lower()
        if ext == ".py":
            return from_dataset_file(path)
        if ext == ".csv":
            return _build(_manifest_entries(path, root), root, check_files, path)
        raise CorpusError(
            f"dataset {os.fspath(dataset)!r}: expected a .py dataset file or a .csv manifest"
        )

    try:
        with os.scandir(root.abs) as it:
            py_files = sorted(
                de.name
                for de in it
                if de.name.endswith(".py") and not de.name.startswith(".") and de.is_file()
            )
    except OSError as e:
        raise CorpusError(f"data_root {root.given!r} cannot be listed: {e.strerror}") from None
    if len(py_files) == 1:
        return from_dataset_file(_dataset_path(root, py_files[0]))
    if os.path.isfile(os.path.join(root.abs, _MANIFEST)):
        manifest = _dataset_path(root, _MANIFEST)
        return _build(_manifest_entries(manifest, root), root, check_files, manifest)
    if os.path.isdir(os.path.join(root.abs, "ref")) and os.path.isdir(
        os.path.join(root.abs, "dis")
    ):
        return _build(
            _convention_entries(root, width, height, pix_fmt), root, check_files, root.given
        )
    several = (
        f" It holds several .py files ({', '.join(py_files)}): pass dataset= to pick one."
        if py_files
        else ""
    )
    raise CorpusError(
        f"data_root {root.given!r} holds no recognised corpus.{several} Accepted layouts: "
        "(1) exactly one Netflix-style dataset file <name>.py at its top level; "
        f"(2) a CSV manifest {_MANIFEST} with columns {', '.join(_MANIFEST_REQUIRED)}"
        f"[, {', '.join(_MANIFEST_OPTIONAL)}]; "
        "(3) folders ref/ (<Source>_<fps>fps.yuv) and dis/ (<Source>_<anything>.<ext>), "
        "with width/height given for the raw files."
    )
