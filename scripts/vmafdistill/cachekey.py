"""The pretraining's cache key: everything that decides a pretrained state besides the rule's params.

Rule ``pretrain`` is marked for Snakemake's between-workflow output cache, which keys a job on its
script's text, its params and its input files, not on the library the script imports. ``recipe()``
is a params entry that covers the rest, computed at DAG time (standard library only: no numpy or
torch import, no output; ~10 ms):

* ``code_sha256``: sha256 over the bytes of every file the job can run or read, by rule: the entry
  script (``scripts/pretrain.py``); every module of the ``vmafdistill`` package it can import, the
  static closure of its ``import`` statements at any depth (module level and inside functions), with
  each package's ``__init__.py``; the vendored
  libvmaf models (``libvmaf_models/*.json``: the teacher that labels the synthetic vectors); and the
  caller's extra files: the teacher's model file (a user's ``teacher_model``: the params hold only
  its path) and the rule's conda env file (with ``--use-conda`` it pins torch and numpy);
* ``software``: the versions of the libraries that compute the weights (torch, numpy) installed
  where Snakemake runs, read from their package metadata;
* ``math_paths``: the pinned code paths (``mathpaths.PINS``), or {} on a machine out of their scope.

A change in any of these is another key (a cache miss, and Snakemake's params trigger reruns the
job in an existing working directory); a module the entry script cannot reach (the gate, the corpus
readers) is not part of it.
"""

from __future__ import annotations

import hashlib
import re
from importlib import metadata
from pathlib import Path

from . import mathpaths

PACKAGE = "vmafdistill"
#: the pretraining job's entry script, relative to the scripts folder
ENTRY = "pretrain.py"
#: data files the package reads, relative to the package folder
DATA = ("libvmaf_models/*.json",)
#: distributions whose versions decide the weights
SOFTWARE = ("torch", "numpy")


def _module_file(scripts: Path, dotted: str) -> Path | None:
    """The file of module ``dotted`` under ``scripts`` (a module, or a package's __init__.py)."""
    base = scripts.joinpath(*dotted.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _dotted(scripts: Path, path: Path) -> tuple[str, bool]:
    """(module name, is a package) of a file under ``scripts``."""
    rel = path.relative_to(scripts).with_suffix("")
    package = rel.name == "__init__"
    return ".".join(rel.parent.parts if package else rel.parts), package


#: an import statement at any depth: ``from M import N, ...`` (parenthesised names may span lines) or
#: ``import M, ...``; a regular expression, not ``ast`` (parsing the package costs ~30x more at every
#: Snakefile parse). A line in a docstring that reads like an import can only add files (safe side).
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)|import[ \t]+([^\n]*))", re.M)


def _names(text: str) -> list[str]:
    """``a as b, c.d`` (comments and parentheses allowed) -> ``[a, c.d]``."""
    text = re.sub(r"#[^\n]*", "", text).strip("() \t\n\\")
    return [part.split()[0] for part in text.replace("\\\n", " ").split(",") if part.split()]


def _imported(scripts: Path, path: Path) -> set[str]:
    """Names of the package's modules that ``path`` imports anywhere (a ``from M import N`` also
    names ``M.N``, which is kept when it is a module)."""
    name, package = _dotted(scripts, path) if path.is_relative_to(scripts / PACKAGE) else ("", False)
    here = name.split(".") if package else name.split(".")[:-1]
    found: set[str] = set()
    for m in _IMPORT.finditer(path.read_text(encoding="utf-8")):
        source, names, plain = m.groups()
        if plain is not None:
            found.update(_names(plain))
            continue
        level = len(source) - len(source.lstrip("."))
        base = here[: len(here) - level + 1] if level else []
        mod = ".".join(base + [p for p in source.lstrip(".").split(".") if p])
        found.add(mod)
        found.update(f"{mod}.{n}" for n in _names(names))
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def closure(scripts: str | Path, entry: str = ENTRY) -> list[Path]:
    """The entry script and every package module it can import (transitively, with the __init__.py
    of each package on the way), sorted."""
    scripts = Path(scripts).resolve()
    files: dict[str, Path | None] = {}  # module name -> its file (None: not a module, e.g. a class)
    seen: set[Path] = set()
    todo = [scripts / entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for mod in _imported(scripts, path):
            parts = mod.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py
                name = ".".join(parts[:i])
                if name not in files:
                    files[name] = _module_file(scripts, name)
                if files[name] is not None and files[name] not in seen:
                    todo.append(files[name])
    return sorted(seen)


def recipe_files(scripts: str | Path, extra: tuple[str | Path, ...] = ()) -> list[Path]:
    """Every file that decides a pretrained state (see the module's docstring), sorted."""
    scripts = Path(scripts).resolve()
    data = [p for pattern in DATA for p in (scripts / PACKAGE).glob(pattern)]
    return sorted(set(closure(scripts) + data + [Path(f).resolve() for f in extra if f]))


def recipe(scripts: str | Path, extra: tuple[str | Path, ...] = ()) -> dict:
    """The pretraining's cache-key params entry: ``code_sha256`` (over the package files and the
    ``extra`` files: the teacher's model file, the rule's conda env file), ``software``, ``math_paths``."""
    scripts = Path(scripts).resolve()
    h = hashlib.sha256()
    for path in recipe_files(scripts, extra):
        label = path.relative_to(scripts.parent).as_posix() if path.is_relative_to(scripts.parent) else path.name
        h.update(label.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    software = {}
    for name in SOFTWARE:
        try:
            software[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # Snakemake without it (--use-conda): the env file pins it
            software[name] = None
    return {"code_sha256": h.hexdigest(), "software": software,
            "math_paths": dict(mathpaths.PINS) if mathpaths.in_scope() else {}}


__all__ = ["DATA", "ENTRY", "PACKAGE", "SOFTWARE", "closure", "recipe", "recipe_files"]
