"""`snakemake <target> --dag | dot -Tsvg` and `snakemake --rulegraph | dot -Tsvg` give an SVG.

<target> is `gate` (or `loso` while the workflow has no gate target); --rulegraph is of the default target.

On a fresh working directory, with the built-in demo corpus (no data_root) and with a user corpus
(the tiny corpus). --dag/--rulegraph are dry: nothing may be built. Snakemake's stdout must be pure
DOT (the workflow prints nothing to stdout at parse time). Needs Graphviz's `dot` (Debian package
graphviz, installed by .ci/run): missing, the test FAILS, it does not skip.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tiny import build_tiny_corpus, snakemake


@pytest.fixture(scope="module")
def dot():
    exe = shutil.which("dot")
    if exe is None:
        pytest.fail("Graphviz `dot` is not installed: apt-get install -y graphviz (CI: .ci/run does it)")
    return exe


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """`gate` when the workflow has it as a target, else `loso`."""
    proc = snakemake(tmp_path_factory.mktemp("targets"), "--list-target-rules")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return "gate" if "gate" in proc.stdout.split() else "loso"


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus"))


@pytest.mark.parametrize("graph", ["dag", "rulegraph"])
@pytest.mark.parametrize("corpus", ["demo", "tiny"])
def test_graph_renders_to_svg(corpus, graph, dot, target, tiny_root, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    config = [] if corpus == "demo" else ["--config", f"data_root={tiny_root}"]
    args = [target, "--dag"] if graph == "dag" else ["--rulegraph"]  # rulegraph: the default target
    proc = snakemake(work, *args, *config, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.lstrip().startswith("digraph"), f"stdout is not pure DOT: {proc.stdout[:500]!r}"
    svg = subprocess.run([dot, "-Tsvg"], input=proc.stdout, capture_output=True, text=True, timeout=120)
    assert svg.returncode == 0, svg.stderr[-3000:]
    assert svg.stdout.startswith("<?xml") or "<svg" in svg.stdout, svg.stdout[:300]
    assert "<svg" in svg.stdout and "extract_features" in svg.stdout
    if graph == "dag":  # one extract_features node per clip: 12 in the tiny corpus
        assert f'label = "{target}"' in proc.stdout
        n = proc.stdout.count('label = "extract_features\\nclip: ')
        assert n == 12 if corpus == "tiny" else n >= 12, n
    # dry: nothing built or written besides snakemake's own bookkeeping
    assert sorted(p.name for p in work.iterdir()) in ([], [".snakemake"]), sorted(work.iterdir())
