"""The pretraining's cache key (vmafdistill.cachekey, rule `pretrain`'s `recipe` param).

Snakemake's between-workflow cache (`--cache`, SNAKEMAKE_OUTPUT_CACHE) keys a job on its script and
params; `recipe` adds every file the job can import or read, torch's and numpy's versions and the
pinned math paths. In a copy of the repository: a second workflow (fresh working directory, same
recipe) takes the pretrained state from the cache (the job does not run), and after a change to the
training code the next one misses and pretrains again.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from tiny import ROOT, fast_config, snakemake
from vmafdistill import cachekey, mathpaths

COPY = ("Snakefile", "config.yaml", "rules", "scripts", "schemas", "envs", "profiles", "report")
TARGET = "results/teachers/vmaf_v0.6.1/pretrain/nano/seed0.pt"
LOG = "logs/teachers/vmaf_v0.6.1/pretrain/nano/seed0.log"


def _ast_imports(scripts: Path, path: Path) -> set[str]:
    """The package modules a file imports anywhere, by the syntax tree (the reference for the
    library's regular expression)."""
    rel = path.relative_to(scripts).with_suffix("")
    package = rel.name == "__init__"
    here = list(rel.parent.parts if package else rel.parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            mod = ".".join(base + (node.module.split(".") if node.module else []))
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] == "vmafdistill"}


def _ast_closure(scripts: Path) -> set[Path]:
    seen, todo = set(), [scripts / "pretrain.py"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for mod in _ast_imports(scripts, path):
            parts = mod.split(".")
            for i in range(1, len(parts) + 1):
                base = scripts.joinpath(*parts[:i])
                todo += [p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()]
    return seen


def test_recipe_files_are_the_import_closure_of_the_pretraining():
    scripts = (ROOT / "scripts").resolve()
    files = set(cachekey.closure(scripts))
    assert files == _ast_closure(scripts)
    names = {p.relative_to(scripts / "vmafdistill").as_posix() for p in files
             if p.is_relative_to(scripts / "vmafdistill")}
    decide = {"train.py", "synth.py", "students.py", "archs.py", "adam.py", "teacher.py", "mathpaths.py",
              "exact/training.py", "exact/model.py", "libvmaf_model/model.py", "libvmaf_model/reader.py"}
    assert decide <= names, decide - names
    assert not {n for n in names if n.startswith(("gate/", "corpus/", "export/"))}, names  # unreachable from it
    data = {p.name for p in cachekey.recipe_files(scripts)} - {p.name for p in files}
    assert data == {p.name for p in (scripts / "vmafdistill/libvmaf_models").glob("*.json")}


def test_recipe_changes_with_what_decides_the_weights(tmp_path):
    scripts = tmp_path / "scripts"
    shutil.copytree(ROOT / "scripts", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    teacher = tmp_path / "model.json"
    teacher.write_bytes((scripts / "vmafdistill/libvmaf_models/vmaf_v0.6.1.json").read_bytes())
    env = tmp_path / "envs" / "training.yaml"
    env.parent.mkdir()
    env.write_bytes((ROOT / "envs" / "training.yaml").read_bytes())
    base = cachekey.recipe(scripts, (teacher, env))
    assert base == cachekey.recipe(scripts, (teacher, env))  # stable
    assert base["software"]["torch"] and base["software"]["numpy"]
    assert base["math_paths"] == (mathpaths.PINS if mathpaths.in_scope() else {})

    def changed(rel: str, old: str, new: str) -> bool:
        path = scripts / rel if not Path(rel).is_absolute() else Path(rel)
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1))
        try:
            return cachekey.recipe(scripts, (teacher, env))["code_sha256"] != base["code_sha256"]
        finally:
            path.write_text(text)

    assert changed("vmafdistill/train_base.py", '"margin": 10.0', '"margin": 9.0')
    assert changed("vmafdistill/synth.py", "0.06", "0.07")
    assert changed("vmafdistill/libvmaf_models/vmaf_v1.0.16_3d0h.json", "{", "{ ")
    assert changed(str(teacher), "{", "{ ")  # a user's teacher_model file
    assert changed(str(env), "torch==2.13.0", "torch==2.13.1")  # the rule's conda env
    assert changed("pretrain.py", "import io", "import io  # comment")
    assert not changed("vmafdistill/gate/run.py", "import", "import  ")  # not reachable from the job


def test_second_workflow_hits_the_cache_and_changed_code_misses(tiny_corpus, tmp_path):
    """Real snakemake runs (one nano pretraining of the tiny budgets each) in a copy of the repository."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in COPY:
        src = ROOT / name
        copy = shutil.copytree if src.is_dir() else shutil.copy2
        copy(src, repo / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if src.is_dir() else {}))
    corpus = tiny_corpus
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {"SNAKEMAKE_OUTPUT_CACHE": str(cache)}

    def run(name: str) -> tuple[Path, bool]:
        """(working directory, whether the pretraining job ran: its script writes the log; on a cache
        hit Snakemake only creates the empty log file and links the output from the cache)."""
        work = tmp_path / name
        work.mkdir()
        args = fast_config(work, corpus)
        proc = snakemake(work, TARGET, "--cores", "1", *args, "--cache", "pretrain", env=env, timeout=300,
                         snakefile=repo / "Snakefile")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert (work / TARGET).is_file()
        log = work / LOG
        ran = log.is_file() and log.stat().st_size > 0
        assert ran != ("from cache" in proc.stderr and "to cache" not in proc.stderr), proc.stderr[-2000:]
        return work, ran

    first, ran = run("first")
    assert ran, "the first workflow pretrains"
    if mathpaths.in_scope():  # the job inherited the Snakefile's pinned environment and says so
        assert "math paths pinned: MKL_CBWR=COMPATIBLE" in (first / LOG).read_text()
    assert len(list(cache.iterdir())) == 1
    second, ran = run("second")
    assert not ran, "same recipe in a fresh working directory: taken from the cache"
    assert (second / TARGET).read_bytes() == (first / TARGET).read_bytes()

    train = repo / "scripts/vmafdistill/train_base.py"
    train.write_text(train.read_text().replace('"margin": 10.0', '"margin": 9.0', 1))
    _, ran = run("third")
    assert ran, "changed training code: the cache must miss and the job pretrain again"
    assert len(list(cache.iterdir())) == 2


def test_cpu_flags_reads_the_first_cpu(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert mathpaths.cpu_flags(str(info)) == {"fpu", "sse2", "avx2", "fma"}
    assert mathpaths.cpu_flags(str(tmp_path / "missing")) == frozenset()
