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

Modules, one job each (the layouts all produce the same ``_Entry`` records; the underscore names are
the package's own, shared between its modules and exported by none)::

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

The package exports its public names (``__all__``); its private helpers stay in their modules.
"""

from __future__ import annotations

from .dataset_file import parse_dataset_text
from .geometry import SUPPORTED_PIX_FMTS, frame_bytes
from .load import load_corpus, load_dataset_text
from .paths import PLACEHOLDER
from .records import (SPLIT_SALT, Clip, CorpusError, DatasetSpec, DisVideo, RefVideo, clip_id_for, split_bucket,
                      strip_ext)

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
    "strip_ext",
    "frame_bytes",
    "parse_dataset_text",
    "load_corpus",
    "load_dataset_text",
]
