"""Corpus ingestion: turn a user's corpus under ``data_root`` into a sorted list of :class:`Clip`.

Three layouts are accepted (see :func:`load_corpus` for how one is picked):

1. **Netflix dataset file** (``*.py``), the format of libvmaf's ``resource/dataset/`` files:
   module-level ``dataset_name``, ``yuv_fmt``, ``width``, ``height``, ``ref_videos`` and
   ``dis_videos``. The file is *never executed*: it is parsed with :mod:`ast` and only constants,
   lists, tuples, dicts, names assigned earlier in the file and ``+`` on strings are evaluated
   (see :func:`parse_dataset_text`). A leading ``[path to dataset videos]`` stands for data_root.
2. **CSV manifest** with the columns ``source, ref_path, dis_path, width, height, pix_fmt, fps``
   and optionally ``dmos`` (empty = unknown) and ``dis_width, dis_height`` (geometry of a raw
   distorted clip at another resolution). One row per distorted clip.
3. **Naming convention**: ``ref/<Source>_<fps>fps.yuv`` and ``dis/<Source>_<anything>.<ext>``;
   the geometry of raw files comes from ``load_corpus(width=..., height=..., pix_fmt=...)``.

Every path is relative to data_root (or absolute and inside it); after resolving symlinks it must
still lie inside data_root. Raw ``.yuv`` files are checked for a whole number of frames and raw
reference/distorted pairs for equal frame counts (an error, never a truncation). The package
only ever reads under data_root. :func:`load_dataset_text` takes a dataset file's text directly
(the workflow's generated demo corpus, whose files may not exist yet).

Cost: one ``lstat`` per file, one ``realpath`` per directory, no subprocess, each file read once;
about 1 s for 100,000 clips from a manifest or the naming convention. A dataset file is bounded
by CPython's own parser (``ast.parse`` alone takes ~2 s on a 100,000-entry file): prefer a
manifest for corpora that large.

Each clip gets a reproducible split bucket in [0, 1), :func:`split_bucket` of its distorted
path relative to data_root (salted with :data:`SPLIT_SALT`; defined in :mod:`.records`).

Modules, one job each (the layouts all produce the same ``_Entry`` records)::

    records       CorpusError, Clip, RefVideo, DisVideo, DatasetSpec, _Entry, split_bucket,
                  clip_id_for and the small value checks every module shares
    paths         path safety and the data-root guard (_Root, _rel_path, _Resolver, ...)
    geometry      raw-YUV pixel formats, frame_bytes and whole-frame counts
    evaluator     the ast-based evaluator of dataset files (never executed)
    dataset_file  layout 1: parse_dataset_text and its entries
    manifest      layout 2: the CSV manifest
    convention    layout 3: ref/ + dis/ file names
    build         entries -> checked clips sorted by clip_id
    load          load_corpus / load_dataset_text: pick a layout, build with the GC paused

Every name of the former single module ``corpus.py``, private helpers included, is re-exported
here, so ``vmafdistill.corpus.<name>`` keeps working.
"""

from __future__ import annotations

# The private names are re-exported on purpose (callers and tests of the single module used them).
from .build import _build  # noqa: F401
from .convention import _REF_NAME, _convention_entries, _listing  # noqa: F401
from .dataset_file import (  # noqa: F401
    _FPS_IN_NAME,
    _dataset_entries,
    _entry_key,
    _fps_from_name,
    _id_ok,
    _module_value,
    parse_dataset_text,
)
from .evaluator import (  # noqa: F401
    _EXPR_NAMES,
    _MAX_STRING,
    _STMT_NAMES,
    _Evaluator,
    _LList,
    _snippet,
)
from .geometry import _RAW_EXT, SUPPORTED_PIX_FMTS, _frames, _is_raw, frame_bytes  # noqa: F401
from .load import _check_fps, _load, _without_gc, load_corpus, load_dataset_text  # noqa: F401
from .manifest import (  # noqa: F401
    _MANIFEST,
    _MANIFEST_OPTIONAL,
    _MANIFEST_REQUIRED,
    _csv_float,
    _csv_int,
    _manifest_entries,
)
from .paths import (  # noqa: F401
    _NOT_NORMAL,
    PLACEHOLDER,
    _dataset_path,
    _open_root,
    _read_text,
    _rel_path,
    _Resolver,
    _Root,
)
from .records import (  # noqa: F401
    _UNSAFE,
    SPLIT_SALT,
    Clip,
    CorpusError,
    DatasetSpec,
    DisVideo,
    RefVideo,
    _Entry,
    _is_int,
    _is_number,
    _loc,
    _positive_int,
    _strip_ext,
    clip_id_for,
    split_bucket,
)

__all__ = [
    "CorpusError",
    "SPLIT_SALT",
    "PLACEHOLDER",
    "SUPPORTED_PIX_FMTS",
    "Clip",
    "RefVideo",
    "DisVideo",
    "DatasetSpec",
    "split_bucket",
    "clip_id_for",
    "frame_bytes",
    "parse_dataset_text",
    "load_corpus",
    "load_dataset_text",
]
