"""Path safety and the data-root guard: every path the corpus names must stay inside data_root.

Every path is relative to data_root (or absolute and inside it); after resolving symlinks it must
still lie inside data_root. :func:`_rel_path` normalises a path as written and applies the
lexical checks (no ``..`` escape, an absolute path inside data_root as given or as resolved, a
leading :data:`PLACEHOLDER` standing for data_root); :class:`_Resolver` then checks it against
the filesystem with one ``lstat`` per file and one cached ``realpath`` per directory (symlinks
may not lead out of data_root, the target must be a regular file). :func:`_dataset_path` guards
the dataset file or manifest itself and :func:`_read_text` reads it (UTF-8, optional BOM). Only
ever reads under data_root.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from dataclasses import dataclass

from .records import CorpusError, _Entry, _loc

#: Stands for data_root at the start of a path in a Netflix dataset file.
PLACEHOLDER = "[path to dataset videos]"


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
