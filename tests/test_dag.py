"""`snakemake <target> --dag | dot -Tsvg` and `snakemake --rulegraph | dot -Tsvg` give an SVG.

<target> is `gate` (or `loso` while the workflow has no gate target); --rulegraph is of the default target.

On a fresh working directory, with the built-in demo corpus (no data_root) and with a user corpus
(the tiny corpus). --dag/--rulegraph are dry: nothing may be built. Snakemake's stdout must be pure
DOT (the workflow prints nothing to stdout at parse time). Needs Graphviz's `dot` (Debian package
graphviz, installed by .ci/run): missing, the test FAILS, it does not skip.

Also the shape of the per-clip jobs in the DAG that keeps a large dry run fast.
"""

from __future__ import annotations

import math
import shutil
import subprocess

import pytest
import yaml

from tiny import ROOT, snakemake


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
def tiny_root(tiny_corpus):
    return tiny_corpus


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


def test_clip_jobs_stay_lean_and_group_only_on_slurm(target, tiny_root, tmp_path):
    """What keeps a 100,000-clip dry run fast (benchmarks/dryrun_scale.py): a clip job's inputs are its
    two videos only (the ffmpeg check feeds the tables, not every clip job) and it is no group job
    locally; the Slurm profile's `groups`/`group-components` bundle them there."""
    work = tmp_path / "work"
    proc = snakemake(work, "-n", target, "--config", f"data_root={tiny_root}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    blocks = [b for b in out.split("rule ")[1:] if b.startswith("extract_features:")]
    assert blocks and "Group job" not in out
    for block in blocks:
        inputs = next(line for line in block.splitlines() if line.strip().startswith("input:"))
        assert "ffmpeg.json" not in inputs and len(inputs.split(",")) == 2, inputs

    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    group, per_group = profile["groups"]["extract_features"], profile["group-components"]["extract"]
    proc = snakemake(work, "-n", target, "--config", f"data_root={tiny_root}",
                     "--groups", f"extract_features={group}", "--group-components", f"{group}={per_group}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    groups = (proc.stdout + proc.stderr).count(f"Group job {group}")
    assert groups == math.ceil(len(blocks) / per_group), groups
