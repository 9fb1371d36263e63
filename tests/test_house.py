"""The library's house rules, read from its source with ast (nothing is imported): no import cycle between
its modules, no import of a project module inside a function, no private name re-exported by a package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent / "scripts" / "vmafdistill"


def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module under scripts/vmafdistill (a package by its __init__.py)."""
    out = {}
    for p in sorted(LIB.rglob("*.py")):
        parts = p.relative_to(LIB.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


MODULES = _modules()
PACKAGES = {m for m, p in MODULES.items() if p.name == "__init__.py"}
TREES = {name: ast.parse(p.read_text(encoding="utf-8"), str(p)) for name, p in MODULES.items()}


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The project modules an import statement of ``module`` loads (``from pkg import sub`` loads ``pkg.sub``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = node.module or ""
    if node.level:
        here = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        here = here[: len(here) - (node.level - 1)]
        base = ".".join(here + ([node.module] if node.module else []))
    names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    return [n for n in names if n in MODULES]


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def _graph() -> dict[str, set[str]]:
    return {m: {t for n in _imports(tree) for t in _targets(m, n) if t != m} for m, tree in TREES.items()}


def _cycles(graph: dict[str, set[str]], packages: set[str]) -> list[list[str]]:
    """One cycle (a closed path of modules) per strongly connected component of more than one module, but
    for one of the ``packages`` with its own submodules when none of them imports the package back."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    comps: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm (the graph is small: recursion is fine)
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for comp in comps:
        pkgs = [m for m in comp if m in packages]
        if len(pkgs) == 1 and all(m.startswith(pkgs[0] + ".") and pkgs[0] not in graph[m] for m in comp - {pkgs[0]}):
            continue
        start = min(comp)
        path, seen = [start], {start}
        while True:  # walk inside the component until a module repeats: that closed walk is a cycle
            nxt = min(w for w in graph[path[-1]] if w in comp)
            if nxt in seen:
                cycles.append(path[path.index(nxt) :] + [nxt])
                break
            path.append(nxt)
            seen.add(nxt)
    return cycles


def test_the_library_is_found():
    assert {"vmafdistill", "vmafdistill.teacher", "vmafdistill.exact", "vmafdistill.exact.model"} <= set(MODULES)


def test_no_import_cycle():
    cycles = _cycles(_graph(), PACKAGES)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_cycle_detection_names_the_cycle():
    """Self-check on made-up graphs: a -> b -> c -> a is reported as that path; a package importing its own
    submodules is not a cycle unless one of them imports the package back."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}, set()) == [["a", "b", "c", "a"]]
    assert _cycles({"p": {"p.x", "p.y"}, "p.x": {"p.y"}, "p.y": set()}, {"p"}) == []
    assert _cycles({"p": {"p.x"}, "p.x": {"p"}}, {"p"}) == [["p", "p.x", "p"]]


def test_no_function_level_import_of_a_project_module():
    """Third-party libraries may be imported inside functions (to keep start-up cheap); project modules may
    not (the module's dependencies must be visible at its top, where a cycle shows)."""
    found = []
    for m, tree in TREES.items():
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += [f"{MODULES[m].relative_to(LIB.parent)}:{n.lineno} ({m} imports {', '.join(_targets(m, n))})"
                          for n in _imports(fn) if _targets(m, n)]
    assert not found, "project modules imported inside functions: " + "; ".join(sorted(set(found)))


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_private_name_reexported_by_a_package(package):
    tree = TREES[package]
    private = [f"{a.name} (line {n.lineno})" for n in tree.body if isinstance(n, ast.ImportFrom)
               for a in n.names if a.name.startswith("_")]
    assert not private, f"{package} re-exports private names: {', '.join(private)}"


def test_no_module_over_450_lines():
    """A module does one job: none of the library's is over 450 lines (the house aims under ~400)."""
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert not long, f"modules over 450 lines: {long}"


def test_entry_points_tests_and_benchmarks_import_the_library_at_their_top():
    """The scripts, tests and benchmarks import vmafdistill at module level, never inside a function."""
    root = LIB.parent.parent
    found = []
    for p in sorted(f for folder in ("scripts", "tests", "benchmarks") for f in (root / folder).glob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"), str(p))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += [f"{p.relative_to(root)}:{n.lineno}" for n in _imports(fn)
                          if any(name.split(".")[0] == "vmafdistill" for name in _imported_names(n))]
    assert not found, "vmafdistill imported inside functions: " + ", ".join(sorted(set(found)))


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return [node.module or ""] if node.level == 0 else []
