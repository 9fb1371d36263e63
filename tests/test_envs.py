"""The per-rule conda envs (envs/*.yaml): well-formed, pinned, and complete for what their rules run.

Completeness is read from the code, never by building an env: for each rule in the Snakefile and
rules/*.smk, its `script:` is parsed with ast, together with the parts of the vmafdistill library it
reaches. Reachability is followed per top-level function/class: importing a library module brings
in its module-level imports; a function's own (lazy) imports count only when that function is
referenced from code that is itself reached (the script, a reached function, a module's top level).
A class counts as a whole. So e.g. `vmafdistill.ffmpeg.resolve_ffmpeg`'s lazy `import imageio_ffmpeg`
is demanded only from the envs of scripts that reach resolve_ffmpeg. Every third-party import name
must be known to IMPORT_TO_DIST (a new one fails here until it is mapped) and its distribution
must be in the rule's env.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "scripts" / "vmafdistill"
RULE_FILES = [ROOT / "Snakefile", *sorted((ROOT / "rules").glob("*.smk"))]
ENV_FILES = sorted((ROOT / "envs").glob("*.yaml"))

IMPORT_TO_DIST = {
    "torch": "torch",
    "polars": "polars",
    "numpy": "numpy",
    "scipy": "scipy",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "onnxconverter_common": "onnxconverter-common",
    "rich": "rich",
    "matplotlib": "matplotlib",
    "imageio_ffmpeg": "imageio-ffmpeg",
    "vmaf_torch": "vmaf-torch",
    "yaml": "pyyaml",
    "jsonschema": "jsonschema",
}
# Not imports, but needed: the snakemake `script:` preamble runs in the env's python.
ALWAYS = {"python"}
ACTIONS = ("script", "shell", "run", "wrapper", "notebook", "cwl", "template_engine")


def _norm(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


# ------------------------------------------------------------------------------------------ rules


@dataclass
class Rule:
    name: str
    file: Path
    directives: dict[str, str]  # directive -> its (first) value text


def _rules() -> list[Rule]:
    rules = []
    for path in RULE_FILES:
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            m = re.match(r"^( *)(?:rule|checkpoint)\s+(\w+)\s*:\s*$", lines[i])  # also inside if/else
            i += 1
            if not m:
                continue
            indent = len(m.group(1))
            body = []
            while i < len(lines) and (not lines[i].strip() or lines[i][: indent + 1].strip() in ("", "#")):
                body.append(lines[i])
                i += 1
            directives: dict[str, str] = {}
            key = None
            for line in body:
                d = re.match(rf"^ {{{indent + 4}}}(\w+)\s*:\s*(.*)$", line)
                if d:
                    key = d.group(1)
                    directives[key] = d.group(2).strip()
                elif key and not directives[key] and line.strip() and not line.strip().startswith("#"):
                    directives[key] = line.strip()  # the value on the line below the directive
            rules.append(Rule(m.group(2), path, directives))
    return rules


RULES = _rules()


def _literal(text: str) -> str:
    m = re.match(r"""^[rf]?(["'])(.*?)\1,?$""", text)
    assert m, f"expected a plain string literal, got {text!r}"
    return m.group(2)


def _rule_path(rule: Rule, directive: str) -> Path:
    return (rule.file.parent / _literal(rule.directives[directive])).resolve()


def _is_target_rule(rule: Rule) -> bool:
    """A pure target rule: no output and nothing to run (all, features, loso, export)."""
    return "output" not in rule.directives and not any(a in rule.directives for a in ACTIONS)


def test_rules_were_found():
    names = {r.name for r in RULES}
    assert {"extract_features", "features_table", "train_fold", "train_student", "loso_summary", "features",
            "final_tiers", "loso_tier", "golden_fixture", "gate"} <= names


@pytest.mark.parametrize("rule", [r for r in RULES if not _is_target_rule(r)], ids=lambda r: r.name)
def test_rule_has_conda_and_log(rule):
    assert "conda" in rule.directives, f"rule {rule.name} ({rule.file.name}) has no conda: env"
    assert "log" in rule.directives, f"rule {rule.name} ({rule.file.name}) has no log:"
    env = _rule_path(rule, "conda")
    assert env.parent == ROOT / "envs" and env.is_file(), f"rule {rule.name}: conda env {env} is not in envs/"


# ------------------------------------------------------------------------------------------- envs


@cache
def _env(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _env_dists(path: Path) -> set[str]:
    env = _env(path)
    out = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            out |= {_norm(re.split(r"[\[=<>!~ ]", p, maxsplit=1)[0]) for p in dep.get("pip", [])
                    if not p.startswith("-")}
        else:
            out.add(_norm(re.split(r"[=<>!~ ]", dep, maxsplit=1)[0]))
    return out


def test_envs_exist():
    assert ENV_FILES, "no envs/*.yaml"


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_env_is_pinned_and_conda_forge_only(path):
    env = _env(path)
    assert isinstance(env, dict) and isinstance(env.get("dependencies"), list), f"{path.name}: no dependencies list"
    assert env.get("channels") == ["conda-forge", "nodefaults"], f"{path.name}: channels {env.get('channels')}"
    unpinned = []
    pip_lists = [d for d in env["dependencies"] if isinstance(d, dict)]
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, f"{path.name}: unexpected mapping {dep}"
            for p in dep["pip"]:
                if p.startswith("-"):  # an option line (--extra-index-url=...), not a requirement
                    assert p.startswith(("--extra-index-url", "--index-url")), f"{path.name}: pip option {p}"
                elif not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!_-]+", p):
                    unpinned.append(f"pip: {p}")
        elif not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*=[0-9][A-Za-z0-9.+!_]*(=[A-Za-z0-9._]+)?", str(dep)):
            unpinned.append(f"conda: {dep}")
    assert not unpinned, f"{path.name}: not pinned exactly (pip: name==version, conda: name=version): {unpinned}"
    if pip_lists:
        assert "pip" in _env_dists(path), f"{path.name}: has a pip: section but no pinned pip"
    assert "python" in _env_dists(path), f"{path.name}: python is not pinned"


# ---------------------------------------------------------------------------- import reachability


@dataclass
class Unit:
    imports: dict[str, int] = field(default_factory=dict)  # third-party top-level name -> line
    refs: set[tuple[str, str]] = field(default_factory=set)  # (library module, name) it uses


def _lib_module(name: str) -> Path | None:
    """Path of a library module ('vmafdistill', 'vmafdistill.export'), None if not one."""
    parts = name.split(".")
    if parts[0] != "vmafdistill":
        return None
    base = LIB.joinpath(*parts[1:])
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def _abs_from(module: str, node: ast.ImportFrom, in_package: bool) -> str:
    if not node.level:
        return node.module or ""
    pkg = module.split(".") if in_package else module.split(".")[:-1]
    pkg = pkg[: len(pkg) - node.level + 1]
    return ".".join(pkg + ([node.module] if node.module else []))


class _Collector(ast.NodeVisitor):
    """Imports and references of one unit (a top-level def/class, or a module's other statements)."""

    def __init__(self, module: str, in_package: bool, defs: set[str], aliases: dict[str, tuple[str, str]]):
        self.module, self.in_package, self.defs = module, in_package, defs
        self.aliases = dict(aliases)  # local name -> (library module, object name or "")
        self.unit = Unit()

    def _import(self, top: str, line: int) -> None:
        if top not in sys.stdlib_module_names and top != "__future__":
            self.unit.imports.setdefault(top, line)

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if _lib_module(a.name):
                self.unit.refs.add((a.name, ""))
                self.aliases[a.asname or a.name.split(".")[0]] = (a.name if a.asname else "vmafdistill", "")
            else:
                self._import(a.name.split(".")[0], node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = _abs_from(self.module, node, self.in_package)
        if not _lib_module(mod):
            self._import(mod.split(".")[0], node.lineno)
            return
        self.unit.refs.add((mod, ""))
        for a in node.names:
            sub = f"{mod}.{a.name}"
            target = (sub, "") if _lib_module(sub) else (mod, a.name)
            self.unit.refs.add(target)
            self.aliases[a.asname or a.name] = target

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.defs:
            self.unit.refs.add((self.module, node.id))
        elif node.id in self.aliases:
            self.unit.refs.add(self.aliases[node.id])

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id in self.aliases:
            mod, obj = self.aliases[node.value.id]
            if not obj:  # attribute of a library module: that module's function/class/submodule
                sub = f"{mod}.{node.attr}"
                self.unit.refs.add((sub, "") if _lib_module(sub) else (mod, node.attr))
        self.generic_visit(node)


def _module_aliases(module: str, in_package: bool, tree: ast.Module) -> dict[str, tuple[str, str]]:
    c = _Collector(module, in_package, set(), {})
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            c.visit(stmt)
    return c.aliases


@cache
def _units(module: str, path: Path, whole: bool = False) -> tuple[dict[str, Unit], dict[str, tuple[str, str]]]:
    """Units of a module: '' = its top-level statements, plus one per top-level def/class.
    whole=True (an entry-point script): the whole file is one unit, all of it runs."""
    tree = ast.parse(path.read_text(), filename=str(path))
    in_package = path.name == "__init__.py"
    aliases = _module_aliases(module, in_package, tree)
    defs = set() if whole else {
        s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    units: dict[str, Unit] = {}
    top = _Collector(module, in_package, defs, {})
    for stmt in tree.body:
        name = getattr(stmt, "name", None)
        if name in defs:
            c = _Collector(module, in_package, defs, aliases)
            c.visit(stmt)
            units[name] = c.unit
        else:
            top.visit(stmt)
    units[""] = top.unit
    return units, aliases


def required_imports(script: Path) -> dict[str, str]:
    """Third-party import name -> where it was found ('file:line'), for all code the script reaches."""
    found: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    todo: list[tuple[str, str]] = [("__script__", "")]
    while todo:
        mod, name = todo.pop()
        if (mod, name) in seen:
            continue
        seen.add((mod, name))
        if mod == "__script__":
            path, (units, aliases) = script, _units("__script__", script, whole=True)
        else:
            path = _lib_module(mod)
            assert path is not None, f"{script.name}: reaches unknown library module {mod}"
            units, aliases = _units(mod, path)
            todo.append((mod, ""))  # using anything of a module runs its top level
            if mod != "vmafdistill":
                todo.append(("vmafdistill", ""))  # ... and its package's __init__
        unit = units.get(name)
        if unit is None:  # a constant, or a name the module re-exports from another module
            if name in aliases:
                todo.append(aliases[name])
            continue
        for top, line in unit.imports.items():
            found.setdefault(top, f"{path.relative_to(ROOT)}:{line}")
        todo.extend(unit.refs)
    return found


SCRIPT_RULES = [r for r in RULES if "script" in r.directives and "conda" in r.directives]


def test_there_are_script_rules():
    assert len(SCRIPT_RULES) >= 8


@pytest.mark.parametrize("rule", SCRIPT_RULES, ids=lambda r: r.name)
def test_env_has_what_the_script_imports(rule):
    script, env = _rule_path(rule, "script"), _rule_path(rule, "conda")
    assert script.is_file(), f"rule {rule.name}: script {script} does not exist"
    have = _env_dists(env)
    imports = required_imports(script)
    unknown = {n: w for n, w in imports.items() if n not in IMPORT_TO_DIST}
    assert not unknown, f"rule {rule.name}: unmapped third-party imports {unknown}: add them to IMPORT_TO_DIST"
    missing = {
        IMPORT_TO_DIST[n]: w for n, w in sorted(imports.items()) if _norm(IMPORT_TO_DIST[n]) not in have
    } | {d: "(runtime)" for d in ALWAYS if d not in have}
    assert not missing, (
        f"envs/{env.name} (rule {rule.name}, script {script.name}) lacks {sorted(missing)}; "
        f"imported at: {missing}"
    )


def test_demo_source_env_has_the_demo_content_packages():
    """demo_source reads files out of installed distributions (no import): they must be in its env."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    packages = {_norm(s["package"]) for s in config["demo"]["sources"]}
    (rule,) = [r for r in RULES if r.name == "demo_source"]
    have = _env_dists(_rule_path(rule, "conda"))
    assert packages <= have, f"{_literal(rule.directives['conda'])} lacks {sorted(packages - have)}"


def test_reachability_follows_lazy_imports_only_when_used(tmp_path):
    """Self-check of the analysis on the real library: a lazy import counts only when reached."""
    lazy = tmp_path / "lazy.py"
    lazy.write_text("from vmafdistill.ffmpeg import parse_libvmaf_log\n")
    assert "imageio_ffmpeg" not in required_imports(lazy) and "numpy" in required_imports(lazy)
    used = tmp_path / "used.py"
    used.write_text("from vmafdistill import ffmpeg as f\nf.resolve_ffmpeg()\n")
    assert "imageio_ffmpeg" in required_imports(used)
    stored = tmp_path / "stored.py"
    stored.write_text("from vmafdistill.teacher import load_teacher\nload_teacher()\n")  # numpy only
    assert "numpy" in required_imports(stored) and "vmaf_torch" not in required_imports(stored)
    check = tmp_path / "check.py"
    check.write_text("from vmafdistill.export.card import versions\nversions()\n")
    assert {"torch", "onnxruntime"} <= set(required_imports(check))
