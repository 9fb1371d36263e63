"""The corpus's records and the small pure helpers every layout shares.

:class:`Clip` is what ingestion returns; :class:`RefVideo`, :class:`DisVideo` and
:class:`DatasetSpec` are the parsed content of a Netflix dataset file; ``_Entry`` is the one
record every layout (dataset file, manifest, naming convention) produces for each distorted clip,
which :func:`~vmafdistill.corpus.build._build` then checks and turns into a :class:`Clip`.
:class:`CorpusError` is the one exception of the package. This module imports nothing else of it.

Split bucket
------------
Each clip gets ``bucket = split_bucket(dis_rel)``, a number in [0, 1) computed as the first
8 bytes (big-endian) of ``sha256((SPLIT_SALT + "\\0" + dis_rel).encode("utf-8"))`` divided by
2**64, with ``SPLIT_SALT = "vmafdistill-split-v1"`` and ``dis_rel`` the distorted clip's
normalised posix path relative to data_root. It depends only on that path (not on listing
order, file contents or the machine), so splits are reproducible. Changing the salt reshuffles
every split: bump its version suffix only deliberately.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass


class CorpusError(Exception):
    """A corpus cannot be used; the message names the offending input and what is wrong."""


SPLIT_SALT = "vmafdistill-split-v1"


@dataclass(frozen=True, slots=True)
class Clip:
    """One (reference, distorted) pair of the corpus."""

    clip_id: str  # stable, filename-safe id from dis_rel (see clip_id_for)
    source: str  # source/content name, e.g. "BigBuckBunny"
    ref_path: str  # absolute, symlinks resolved (lexical when check_files=False)
    dis_path: str  # absolute, symlinks resolved (lexical when check_files=False)
    ref_rel: str  # reference path relative to data_root (posix, normalised, not resolved)
    dis_rel: str  # distorted path relative to data_root (posix, normalised, not resolved)
    width: int  # reference width
    height: int  # reference height
    pix_fmt: str  # raw pixel format of the reference and of a raw distorted clip
    fps: float
    dmos: float | None
    self_pair: bool  # the distorted clip is the reference itself
    bucket: float  # split bucket in [0, 1)
    ref_is_raw: bool
    dis_is_raw: bool
    dis_width: int  # raw dis geometry (defaults to the reference's); ref geometry for containers
    dis_height: int
    n_frames: int | None  # frames of a raw reference; None for a container or check_files=False


@dataclass(frozen=True, slots=True)
class RefVideo:
    """A ``ref_videos`` entry of a Netflix dataset file."""

    content_id: int | str
    content_name: str
    path: str  # absolute (data_root joined with rel), not resolved
    rel: str  # posix path relative to data_root, normalised
    line: int


@dataclass(frozen=True, slots=True)
class DisVideo:
    """A ``dis_videos`` entry of a Netflix dataset file."""

    asset_id: int | str
    content_id: int | str
    dmos: float | None
    path: str  # absolute (data_root joined with rel), not resolved
    rel: str  # posix path relative to data_root, normalised
    width: int | None  # per-entry geometry of a distorted clip at another resolution
    height: int | None
    line: int


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """The parsed content of a Netflix-style dataset file."""

    filename: str
    dataset_name: str
    yuv_fmt: str
    width: int
    height: int
    ref_videos: tuple[RefVideo, ...]
    dis_videos: tuple[DisVideo, ...]


def split_bucket(rel_path: str, salt: str = SPLIT_SALT) -> float:
    """Deterministic split bucket in [0, 1) of a path relative to data_root (see module doc)."""
    digest = hashlib.sha256((salt + "\0" + rel_path).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def strip_ext(path: str) -> str:
    """posixpath.splitext(path)[0], without its overhead (leading dots are not an extension)."""
    dot = path.rfind(".")
    slash = path.rfind("/")
    if dot <= slash + 1 or not path[slash + 1 : dot].strip("."):
        return path
    return path[:dot]


def clip_id_for(rel_path: str) -> str:
    """Filename-safe id of a clip from its distorted path relative to data_root.

    Drop the extension, ``/`` -> ``__``, transliterate non-ASCII letters (NFKD, combining marks
    dropped) and replace every remaining character outside ``[A-Za-z0-9._-]`` with ``_``.
    """
    stem = strip_ext(rel_path).replace("/", "__")
    if not stem.isascii():
        stem = "".join(
            c for c in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(c)
        )
    return _UNSAFE.sub("_", stem)


def _is_int(v: object) -> bool:
    return type(v) is int  # bool excluded on purpose


def _is_number(v: object) -> bool:
    return type(v) in (int, float)


def _positive_int(v: object) -> bool:
    return _is_int(v) and v > 0  # type: ignore[operator]


@dataclass(slots=True)
class _Entry:
    where: str  # "file:line" (or data_root): where the clip is declared, for messages
    source: str
    ref_rel: str
    dis_rel: str
    width: int
    height: int
    pix_fmt: str
    fps: float
    dmos: float | None
    dis_width: int | None = None
    dis_height: int | None = None


def _loc(e: _Entry) -> str:
    """Where a clip is declared, naming it (built only when needed: it is a message)."""
    return f"{e.where}: clip {e.dis_rel!r}"
