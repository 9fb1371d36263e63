"""The workflow's features stage on a REAL single-node Slurm, through profiles/slurm.

A module fixture installs Slurm when it is missing (scripts/slurm_local.sh install: apt, as root; a
failure is a test failure, never a skip), installs the executor plugin into a temporary --target
directory (never into .venv or the repository), starts munged/slurmctld/slurmd in a temporary state
directory and ALWAYS stops them again by PID (finalizer), removing the /run/slurm/conf link.
SLURM_CONF and PYTHONPATH are only passed to the snakemake subprocess, never set in os.environ.

What is checked comes from Slurm itself: `squeue --states=all` (finished jobs stay visible for
MinJobAge=300 s) lists every submission of the run (job name = the plugin's run id) as COMPLETED
on the node, one per-job log per submission is kept (--slurm-keep-successful-logs), and the per-clip
extraction went as ceil(clips / group-components[extract]) group submissions.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from tiny import snakemake

ROOT = Path(__file__).resolve().parent.parent
SLURM_LOCAL = ROOT / "scripts" / "slurm_local.sh"
PROFILE = ROOT / "profiles" / "slurm"
RUN_CONF = Path("/run/slurm/conf/slurm.conf")
PLUGIN_MODULES = ("snakemake_executor_plugin_slurm", "snakemake_executor_plugin_slurm_jobstep")
N_RUN = 4  # clips measured on Slurm
PER_GROUP = 2  # clips per group submission in this test (the profile's own group is tested in test_dag)


def _sh(*args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _stop(state: Path) -> None:
    """Stop the daemons by PID (slurm_local.sh stop) and make sure the default-path link is gone."""
    proc = _sh("bash", str(SLURM_LOCAL), "stop", str(state), timeout=120)
    if RUN_CONF.is_symlink() and os.readlink(RUN_CONF) == str(state / "etc" / "slurm.conf"):
        RUN_CONF.unlink()
    assert proc.returncode == 0, f"slurm_local.sh stop failed:\n{proc.stderr}"
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request):
    """A running single-node Slurm; yields (env for the snakemake subprocess, state dir)."""
    if os.geteuid() != 0:
        pytest.fail("the Slurm test runs the daemons as root; run the suite as root (as CI does)")
    proc = _sh("bash", str(SLURM_LOCAL), "install", timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"installing Slurm failed (apt-get as root is required):\n{proc.stderr[-3000:]}")

    plugin = tmp_path_factory.mktemp("slurm_plugin")
    pip = [str(ROOT / ".venv" / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--no-deps",
           "--target", str(plugin), "-r", str(ROOT / "requirements-slurm.txt")]
    proc = _sh(*pip, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"installing the Slurm executor plugin failed:\n{proc.stderr[-3000:]}")

    # not under pytest's basetemp: munged wants o+x on every parent of its socket, pytest makes 0700 dirs
    state = Path(tempfile.mkdtemp(prefix="vmafdistill-slurm-"))
    request.addfinalizer(lambda: _stop(state))  # registered BEFORE start: a half-started cluster is stopped too
    # free ports rather than 6817/6818, so a cluster someone else runs on this host is not disturbed
    ports = dict(zip(("SLURM_CTLD_PORT", "SLURMD_PORT"), map(str, _free_ports(2))))
    proc = _sh("bash", str(SLURM_LOCAL), "start", str(state), timeout=180, env={**os.environ, **ports})
    if proc.returncode != 0:
        pytest.fail(f"starting Slurm failed:\n{proc.stderr[-3000:]}")
    conf = state / "etc" / "slurm.conf"
    assert f"export SLURM_CONF={conf}" in proc.stdout
    env = {"SLURM_CONF": str(conf), "PYTHONPATH": str(plugin)}
    yield env, state


@pytest.fixture(scope="module")
def slurm_run(cluster, tiny_corpus, tmp_path_factory):
    """`snakemake --profile profiles/slurm` on the tiny corpus: the ffmpeg check and N_RUN clips' libvmaf
    passes (as group submissions); returns (proc, workdir, env)."""
    env, _ = cluster
    corpus = tiny_corpus
    work = tmp_path_factory.mktemp("slurm_work")
    clips = sorted(p.stem for p in (corpus / "dis").iterdir())[:N_RUN]
    proc = snakemake(
        work,
        "--profile", str(PROFILE),
        "results/features/ffmpeg.json", *(f"results/features/clips/dis__{c}.json" for c in clips),
        "--config", f"data_root={corpus}",
        "--slurm-keep-successful-logs",
        # first status poll after 1 s instead of the profile's 20 (MinJobAge=300 >= 3 x 1 keeps
        # the plugin on squeue), then every 2 s (the default 10 s left the finished group waiting 30 s)
        "--slurm-init-seconds-before-status-checks", "1",
        "--seconds-between-status-checks", "2",
        # two group submissions of PER_GROUP clips (the profile's own 32 would make one)
        "--group-components", f"extract={PER_GROUP}",
        "--latency-wait", "5",
        env=env,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    return proc, work, env


def _squeue(env: dict) -> list[dict]:
    # job id | job name | state | nodes | CPUs | comment (the plugin's rule/group tag)
    fmt = "%i|%j|%T|%N|%C|%k"
    proc = _sh("squeue", "--states=all", "-h", "-o", fmt, env={**os.environ, **env}, timeout=30)
    assert proc.returncode == 0, proc.stderr
    keys = ("id", "name", "state", "node", "cpus", "comment")
    return [dict(zip(keys, line.split("|", 5))) for line in proc.stdout.splitlines() if line.strip()]


def test_jobs_ran_on_slurm(slurm_run):
    proc, work, env = slurm_run
    m = re.search(r"SLURM run ID: (\S+)", proc.stdout + proc.stderr)
    assert m, "the executor did not announce its run id: was the slurm executor used at all?"
    run_id = m.group(1)
    jobs = [j for j in _squeue(env) if j["name"] == run_id]
    assert jobs, f"squeue lists no job named {run_id}"
    assert all(j["state"] == "COMPLETED" for j in jobs), jobs
    assert all(j["node"] == "localhost" for j in jobs), jobs

    comments = [j["comment"] for j in jobs]
    assert comments.count("rule_ffmpeg_check") == 1, comments
    extract = [c for c in comments if c != "rule_ffmpeg_check"]
    # the per-clip libvmaf jobs went as group submissions of group-components[extract] clips each
    assert yaml.safe_load((PROFILE / "config.yaml").read_text())["group-components"]["extract"] > 1
    assert len(extract) == math.ceil(N_RUN / PER_GROUP) < N_RUN, comments
    assert all("extract" in c for c in extract), comments

    # a group job never asks for more CPUs than the node has (it would pend forever)
    assert all(int(j["cpus"]) <= os.cpu_count() for j in jobs), jobs

    # one kept per-job Slurm log for each submission, named by its Slurm job id
    logdir = work / ".snakemake" / "slurm_logs"
    logs = {p.stem: p for p in logdir.rglob("*.log")}
    assert {j["id"] for j in jobs} <= set(logs), (sorted(logs), jobs)
    group_logs = [p for p in logs.values() if p.relative_to(logdir).parts[0].startswith("group_extract")]
    assert len(group_logs) == len(extract), sorted(map(str, logs.values()))
    # ... and every clip's libvmaf job ran inside one of those group submissions
    text = "".join(p.read_text(errors="replace") for p in group_logs)
    ran = re.findall(r"^localrule extract_features:\n(?:[ \t].*\n)*?\s+wildcards: clip=(\S+)", text, re.M)
    clip_ids = {p.stem for p in (work / "results/features/clips").glob("*.json")}
    assert len(ran) == N_RUN and set(ran) == clip_ids, ran


def test_outputs(slurm_run):
    _, work, _ = slurm_run
    logs = sorted((work / "results/features/clips").glob("*.json"))
    assert len(logs) == N_RUN and all(json.loads(p.read_text())["frames"] for p in logs)
    assert len(list((work / "results/features/clips").glob("*.streams"))) == N_RUN
    assert json.loads((work / "results/features/ffmpeg.json").read_text())["teachers"]["vmaf_v0.6.1"]


def test_nothing_leaks(slurm_run):
    """The cluster settings stay in the snakemake subprocess; the plugin is not in .venv."""
    assert "SLURM_CONF" not in os.environ
    assert not any("slurm_plugin" in p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep))
    assert not any(Path(p, m).exists() for p in sys.path if p for m in PLUGIN_MODULES)
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in sys.argv[1:]))"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SLURM_CONF")}
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", probe, *PLUGIN_MODULES],
                          cwd="/", env=env, capture_output=True, text=True)
    assert proc.returncode == 0, "the Slurm executor plugin is importable from .venv: uninstall it there"
    assert shutil.which("sinfo")  # installed by the fixture
