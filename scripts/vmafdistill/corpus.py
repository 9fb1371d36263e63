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
reference/distorted pairs for equal frame counts (an error, never a truncation). The module
only ever reads under data_root. :func:`load_dataset_text` takes a dataset file's text directly
(the workflow's generated demo corpus, whose files may not exist yet).

Cost: one ``lstat`` per file, one ``realpath`` per directory, no subprocess, each file read once;
about 1 s for 100,000 clips from a manifest or the naming convention. A dataset file is bounded
by CPython's own parser (``ast.parse`` alone takes ~2 s on a 100,000-entry file): prefer a
manifest for corpora that large.

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

import ast
import csv
import gc
import hashlib
import io
import math
import os
import posixpath
import re
import stat
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable

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


class CorpusError(Exception):
    """A corpus cannot be used; the message names the offending input and what is wrong."""


SPLIT_SALT = "vmafdistill-split-v1"

#: Stands for data_root at the start of a path in a Netflix dataset file.
PLACEHOLDER = "[path to dataset videos]"

#: Raw pixel formats and their bytes per sample.
SUPPORTED_PIX_FMTS: dict[str, int] = {"yuv420p": 1, "yuv420p10le": 2}

_RAW_EXT = ".yuv"
_MANIFEST = "manifest.csv"
_MANIFEST_REQUIRED = ("source", "ref_path", "dis_path", "width", "height", "pix_fmt", "fps")
_MANIFEST_OPTIONAL = ("dmos", "dis_width", "dis_height")
_MAX_STRING = 1 << 20  # longest string a dataset file may build with `+`


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


# --------------------------------------------------------------------------------------------
# small pure helpers


def split_bucket(rel_path: str, salt: str = SPLIT_SALT) -> float:
    """Deterministic split bucket in [0, 1) of a path relative to data_root (see module doc)."""
    digest = hashlib.sha256((salt + "\0" + rel_path).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _strip_ext(path: str) -> str:
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
    stem = _strip_ext(rel_path).replace("/", "__")
    if not stem.isascii():
        stem = "".join(
            c for c in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(c)
        )
    return _UNSAFE.sub("_", stem)


def frame_bytes(width: int, height: int, pix_fmt: str) -> int:
    """Bytes of one raw frame: yuv420p w*h*3/2, yuv420p10le w*h*3 (chroma rounded up if odd)."""
    try:
        bps = SUPPORTED_PIX_FMTS[pix_fmt]
    except (KeyError, TypeError):
        raise CorpusError(
            f"unsupported pix_fmt {pix_fmt!r}; supported: {', '.join(SUPPORTED_PIX_FMTS)}"
        ) from None
    if not _is_int(width) or not _is_int(height) or width <= 0 or height <= 0:
        raise CorpusError(f"invalid frame geometry {width!r}x{height!r}: need positive integers")
    return (width * height + 2 * ((width + 1) // 2) * ((height + 1) // 2)) * bps


def _is_int(v: object) -> bool:
    return type(v) is int  # bool excluded on purpose


def _is_number(v: object) -> bool:
    return type(v) in (int, float)


_FPS_IN_NAME = re.compile(r"_(\d+(?:\.\d+)?)fps(?![A-Za-z0-9])", re.IGNORECASE)


def _fps_from_name(path: str) -> float | None:
    found = _FPS_IN_NAME.findall(posixpath.basename(path))
    if found:
        fps = float(found[-1])
        if fps > 0:
            return fps
    return None


def _is_raw(rel: str) -> bool:
    return rel[-4:].lower() == _RAW_EXT


# --------------------------------------------------------------------------------------------
# paths


@dataclass(frozen=True, slots=True)
class _Root:
    given: str  # as the user wrote it (for messages)
    abs: str  # os.path.abspath
    real: str  # os.path.realpath

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(p if p.endswith(os.sep) else p + os.sep for p in (self.abs, self.real))


def _open_root(data_root: str | os.PathLike[str] | None) -> _Root:
    if data_root is None or (isinstance(data_root, str) and not data_root):
        raise CorpusError("data_root is not set: give the folder that holds the corpus")
    given = os.fspath(data_root)
    if not os.path.exists(given):
        raise CorpusError(f"data_root {given!r} does not exist")
    if not os.path.isdir(given):
        raise CorpusError(f"data_root {given!r} is not a directory")
    return _Root(given, os.path.abspath(given), os.path.realpath(given))


_NOT_NORMAL = re.compile(r"(?:^|/)\.{1,2}(?:/|$)|//|/$|\x00")


def _rel_path(written: object, root: _Root, where: str, what: str) -> str:
    """Normalised posix path relative to data_root of a path as written; lexical checks only.

    ``..`` may not climb out of data_root and an absolute path must lie inside data_root (as
    given or as resolved); symlinks are checked later, against the filesystem.
    """
    if type(written) is not str or not written:
        raise CorpusError(f"{where}: {what} must be a non-empty string, got {written!r}")
    p = written
    if p[0] != "/" and p[0] != "[" and not _NOT_NORMAL.search(p):
        return p  # fast path: already a normalised relative path
    if p.startswith(PLACEHOLDER):
        p = p[len(PLACEHOLDER) :].lstrip("/")
        if not p:
            raise CorpusError(f"{where}: {what} {written!r} names data_root itself, not a file")
    if "\0" in p:
        raise CorpusError(f"{where}: {what} {written!r} contains a NUL character")
    if os.path.isabs(p):
        p = os.path.normpath(p)
        for prefix in root.prefixes:
            if p.startswith(prefix):
                rel = p[len(prefix) :].replace(os.sep, "/")
                break
        else:
            raise CorpusError(
                f"{where}: {what} {written!r} is an absolute path outside data_root {root.abs}"
            )
    else:
        rel = posixpath.normpath(p)
    if rel == ".." or rel.startswith("../"):
        raise CorpusError(f"{where}: {what} {written!r} escapes data_root {root.abs} (via '..')")
    if rel in (".", ""):
        raise CorpusError(f"{where}: {what} {written!r} names data_root itself, not a file")
    return rel


class _Resolver:
    """Resolves relative paths to real files: one lstat per file, directory realpaths cached."""

    def __init__(self, root: _Root, check_files: bool) -> None:
        self.root = root
        self.check = check_files
        self.prefix = root.real if root.real.endswith(os.sep) else root.real + os.sep
        self.dirs: dict[str, str] = {}
        self.files: dict[str, tuple[str, int]] = {}  # rel -> (real path, size; -1 unchecked)

    def _inside(self, path: str) -> bool:
        return path == self.root.real or path.startswith(self.prefix)

    def resolve(self, rel: str, e: _Entry, role: str) -> tuple[str, int]:
        """(absolute real path, size in bytes or -1 when not checked) of a normalised rel."""
        hit = self.files.get(rel)
        if hit is not None:
            return hit
        if not self.check:
            out = (self.prefix + rel, -1)  # rel is normalised: no '.', '..' or '//' parts
            self.files[rel] = out
            return out
        d, _, base = rel.rpartition("/")
        rdir = self.dirs.get(d)
        if rdir is None:
            rdir = os.path.realpath(self.prefix + d) if d else self.root.real
            self.dirs[d] = rdir
        if not self._inside(rdir):
            raise CorpusError(
                f"{_loc(e)}: {role} {rel!r} escapes data_root {self.root.real} through a symlink "
                f"(its folder resolves to {rdir})"
            )
        cand = rdir + "/" + base if rdir != "/" else "/" + base
        try:
            st = os.lstat(cand)
        except (FileNotFoundError, NotADirectoryError):
            raise CorpusError(f"{_loc(e)}: {role} {rel!r} does not exist ({cand})") from None
        except OSError as exc:
            raise CorpusError(f"{_loc(e)}: {role} {rel!r} cannot be read: {exc.strerror}") from None
        real = cand
        if stat.S_ISLNK(st.st_mode):
            real = os.path.realpath(cand)
            if not self._inside(real):
                raise CorpusError(
                    f"{_loc(e)}: {role} {rel!r} escapes data_root {self.root.real} through a "
                    f"symlink (resolves to {real})"
                )
            try:
                st = os.stat(real)
            except OSError:
                raise CorpusError(
                    f"{_loc(e)}: {role} {rel!r} is a dangling symlink (to {real})"
                ) from None
        if not stat.S_ISREG(st.st_mode):
            raise CorpusError(f"{_loc(e)}: {role} {rel!r} is not a regular file ({real})")
        out = (real, st.st_size)
        self.files[rel] = out
        return out


# --------------------------------------------------------------------------------------------
# common clip builder


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


def _frames(
    size: int, fb: int, w: int, h: int, pix_fmt: str, where: str, role: str, rel: str
) -> int:
    if size == 0:
        raise CorpusError(
            f"{where}: {role} {rel!r} is empty (0 bytes); expected a multiple of the "
            f"frame size {fb} bytes ({w}x{h} {pix_fmt})"
        )
    n, rest = divmod(size, fb)
    if rest:
        raise CorpusError(
            f"{where}: {role} {rel!r} has size {size} bytes, not a multiple of the frame size "
            f"{fb} bytes ({w}x{h} {pix_fmt}); {n} whole frames and {rest} bytes left over"
        )
    return n


def _build(entries: Iterable[_Entry], root: _Root, check_files: bool, origin: str) -> list[Clip]:
    """Check the entries against the filesystem and turn them into clips sorted by clip_id."""
    res = _Resolver(root, check_files)
    files = res.files
    frame_sizes: dict[tuple[int, int, str], int] = {}
    refs: dict[tuple[str, int, int, str], tuple[str, bool, int | None]] = {}
    by_id: dict[str, str] = {}
    clips: list[Clip] = []

    def fsize(w: int, h: int, pix_fmt: str, e: _Entry) -> int:
        key = (w, h, pix_fmt)
        fb = frame_sizes.get(key)
        if fb is None:
            try:
                fb = frame_bytes(w, h, pix_fmt)
            except CorpusError as exc:
                raise CorpusError(f"{_loc(e)}: {exc}") from None
            frame_sizes[key] = fb
        return fb

    for e in entries:
        ref_rel, dis_rel = e.ref_rel, e.dis_rel
        w, h, pix_fmt = e.width, e.height, e.pix_fmt
        ref = refs.get((ref_rel, w, h, pix_fmt))
        if ref is None:  # first clip of this reference: validate geometry, stat, count frames
            fb = fsize(w, h, pix_fmt, e)
            ref_path, ref_size = res.resolve(ref_rel, e, "reference")
            ref_raw = _is_raw(ref_rel)
            n = None
            if check_files and ref_raw:
                n = _frames(ref_size, fb, w, h, pix_fmt, _loc(e), "reference", ref_rel)
            ref = refs[(ref_rel, w, h, pix_fmt)] = (ref_path, ref_raw, n)
        ref_path, ref_raw, n_frames = ref
        hit = files.get(dis_rel)
        dis_path, dis_size = hit if hit is not None else res.resolve(dis_rel, e, "distorted clip")
        dw, dh = w, h
        dis_raw = dis_rel[-4:].lower() == _RAW_EXT
        if dis_raw:
            if e.dis_width is not None:
                dw, dh = e.dis_width, e.dis_height  # type: ignore[assignment]
            fb = fsize(dw, dh, pix_fmt, e)
            if check_files and not (dis_rel == ref_rel and dw == w and dh == h):
                nd = _frames(dis_size, fb, dw, dh, pix_fmt, _loc(e), "distorted clip", dis_rel)
                if ref_raw and nd != n_frames:
                    raise CorpusError(
                        f"{_loc(e)}: reference {ref_path} has {n_frames} frames ({w}x{h} "
                        f"{pix_fmt}) but distorted clip {dis_path} has {nd} frames ({dw}x{dh} "
                        f"{pix_fmt}); raw pairs must have the same number of frames"
                    )
        clip_id = clip_id_for(dis_rel)
        prev = by_id.get(clip_id)
        if prev is not None:
            raise CorpusError(
                f"{e.where}: duplicate clip id {clip_id!r}: distorted clips {prev!r} and "
                f"{dis_rel!r} map to the same id"
                + (" (the same clip is listed twice)" if prev == dis_rel else "")
            )
        by_id[clip_id] = dis_rel
        clips.append(
            Clip(
                clip_id,
                e.source,
                ref_path,
                dis_path,
                ref_rel,
                dis_rel,
                w,
                h,
                pix_fmt,
                e.fps,
                e.dmos,
                dis_path == ref_path,
                split_bucket(dis_rel),
                ref_raw,
                dis_raw,
                dw,
                dh,
                n_frames,
            )
        )
    if not clips:
        raise CorpusError(f"{origin}: the corpus has no clips")
    sources = sorted({c.source for c in clips})
    if len(sources) < 2:
        raise CorpusError(
            f"{origin}: leave-one-source-out needs at least 2 sources; found only "
            f"{sources[0]!r} ({len(clips)} clips)"
        )
    clips.sort(key=lambda c: c.clip_id)
    return clips


# --------------------------------------------------------------------------------------------
# format 1: Netflix dataset file, evaluated with ast (never executed)


class _LList(list):  # a list literal that remembers the line of each element
    __slots__ = ("linenos",)


_EXPR_NAMES: dict[type, str] = {
    ast.Call: "a function call",
    ast.Attribute: "an attribute access",
    ast.Lambda: "a lambda",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Subscript: "a subscript",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension (generator expression)",
    ast.Set: "a set",
    ast.Starred: "starred unpacking",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.IfExp: "a conditional expression",
    ast.BoolOp: "a boolean operator",
    ast.Compare: "a comparison",
    ast.Await: "an await",
    ast.Yield: "a yield",
    ast.YieldFrom: "a yield",
    ast.Slice: "a slice",
}

_STMT_NAMES: dict[type, str] = {
    ast.Import: "an import",
    ast.ImportFrom: "an import",
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
    ast.AugAssign: "an augmented assignment",
    ast.AnnAssign: "an annotated assignment",
    ast.Delete: "a del statement",
    ast.Global: "a global statement",
    ast.Nonlocal: "a nonlocal statement",
    ast.Assert: "an assert statement",
    ast.Raise: "a raise statement",
    ast.Return: "a return statement",
    ast.If: "an if statement",
    ast.For: "a for loop",
    ast.AsyncFor: "a for loop",
    ast.While: "a while loop",
    ast.With: "a with statement",
    ast.AsyncWith: "a with statement",
    ast.Try: "a try statement",
    ast.Match: "a match statement",
    ast.Pass: "a pass statement",
}


def _snippet(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of a parsed tree should not fail
        return ""
    text = " ".join(text.split())
    return f" `{text[:60]}{'...' if len(text) > 60 else ''}`"


class _Evaluator:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.env: dict[str, Any] = {}
        self.lines: dict[str, int] = {}

    def refuse(self, node: ast.AST, what: str) -> CorpusError:
        line = getattr(node, "lineno", "?")
        return CorpusError(
            f"{self.filename}:{line}: {what}{_snippet(node)} is not allowed in a dataset file "
            "(it is parsed, not executed: only constants, lists, tuples, dicts, names assigned "
            "earlier and '+' on strings)"
        )

    def run(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            t = type(stmt)
            if t is ast.Assign:
                if len(stmt.targets) != 1:
                    raise self.refuse(stmt, "a chained assignment")
                target = stmt.targets[0]
                if type(target) is not ast.Name:
                    raise self.refuse(
                        stmt,
                        "assignment to "
                        + _EXPR_NAMES.get(type(target), "a " + type(target).__name__),
                    )
                self.env[target.id] = self.eval(stmt.value)
                self.lines[target.id] = stmt.lineno
            elif (
                t is ast.Expr and type(stmt.value) is ast.Constant and type(stmt.value.value) is str
            ):
                continue  # a docstring or bare string
            elif t is ast.Expr:
                what = _EXPR_NAMES.get(type(stmt.value), "an expression")
                raise self.refuse(stmt, f"{what} (as a statement)")
            else:
                raise self.refuse(stmt, _STMT_NAMES.get(t, f"a {t.__name__} statement"))

    def eval(self, node: ast.AST) -> Any:
        t = type(node)
        if t is ast.Constant:
            v = node.value
            if v is None or type(v) in (str, int, float, bool):
                return v
            raise self.refuse(node, f"a constant of type {type(v).__name__}")
        if t is ast.List:
            lst = _LList(self.eval(e) for e in node.elts)
            lst.linenos = [e.lineno for e in node.elts]
            return lst
        if t is ast.Tuple:
            return tuple(self.eval(e) for e in node.elts)
        if t is ast.Dict:
            d = {}
            for k, v in zip(node.keys, node.values):
                if k is None:
                    raise self.refuse(v, "dict unpacking (**)")
                key = self.eval(k)
                try:
                    d[key] = self.eval(v)
                except TypeError:
                    raise self.refuse(k, "an unhashable dict key") from None
            return d
        if t is ast.Name:
            try:
                return self.env[node.id]
            except KeyError:
                raise CorpusError(
                    f"{self.filename}:{node.lineno}: name {node.id!r} is not assigned earlier "
                    "in the file (a dataset file may only refer to its own earlier assignments)"
                ) from None
        if t is ast.UnaryOp and type(node.op) in (ast.USub, ast.UAdd):
            operand = node.operand
            if type(operand) is ast.Constant and type(operand.value) in (int, float):
                return -operand.value if type(node.op) is ast.USub else operand.value
            raise self.refuse(node, "a sign on something other than a number")
        if t is ast.BinOp:
            if type(node.op) is not ast.Add:
                raise self.refuse(node, f"the operator {type(node.op).__name__}")
            left, right = self.eval(node.left), self.eval(node.right)
            if type(left) is not str or type(right) is not str:
                raise self.refuse(node, "'+' on something other than two strings")
            if len(left) + len(right) > _MAX_STRING:
                raise self.refuse(node, f"a string longer than {_MAX_STRING} characters")
            return left + right
        raise self.refuse(node, _EXPR_NAMES.get(t, f"a {t.__name__} expression"))


def _module_value(ev: _Evaluator, name: str, kind: str, check: Any, required: bool = True) -> Any:
    if name not in ev.env:
        if required:
            raise CorpusError(f"{ev.filename}: required assignment {name!r} ({kind}) is missing")
        return None
    v = ev.env[name]
    if not check(v):
        raise CorpusError(f"{ev.filename}:{ev.lines[name]}: {name} must be {kind}, got {v!r}")
    return v


def _positive_int(v: object) -> bool:
    return _is_int(v) and v > 0  # type: ignore[operator]


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


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CorpusError(f"{what} {path}: cannot be read: {e.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: not valid UTF-8 ({e.reason})") from None


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


# --------------------------------------------------------------------------------------------
# format 2: CSV manifest


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


# --------------------------------------------------------------------------------------------
# format 3: naming convention ref/<Source>_<fps>fps.yuv + dis/<Source>_<anything>.<ext>

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
        stem = _strip_ext(name)
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


# --------------------------------------------------------------------------------------------
# entry point


def _dataset_path(root: _Root, dataset: str | os.PathLike[str]) -> str:
    given = os.fspath(dataset)
    path = given if os.path.isabs(given) else os.path.join(root.abs, given)
    real = os.path.realpath(path)
    if not (real == root.real or real.startswith(root.real.rstrip(os.sep) + os.sep)):
        raise CorpusError(f"dataset {given!r} is not inside data_root {root.abs} (it is {real})")
    if not os.path.isfile(real):
        raise CorpusError(
            f"dataset {given!r} does not exist (looked for {path}; a relative dataset path is "
            "relative to data_root)"
        )
    return path


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
