"""Entry point: build one demo source (raw reference + its codec ladder) with a progress bar."""

import subprocess
from pathlib import Path

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from vmafdistill import demo  # noqa: E402
from vmafdistill.atomic import atomic_path  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
cfg = snakemake.params.demo
exe = snakemake.params.ffmpeg
name = snakemake.wildcards.source
src = next(s for s in cfg["sources"] if s["name"] == name)
settings = demo.settings(cfg)


def run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        fail(log, f"demo source {name}: building {what} failed: {proc.stderr.strip()[-500:]}")


ref_out = Path(snakemake.output.ref)
rungs = cfg["ladder"]
with log.progress(f"demo {name}", total=1 + len(rungs)) as bar:
    try:
        with atomic_path(ref_out) as tmp:
            run(demo.reference_argv(exe, src, settings, str(tmp)), ref_out.name)
    except demo.DemoError as exc:
        fail(log, str(exc))
    bar.advance(f"{ref_out.name}: {ref_out.stat().st_size} bytes")
    for rung, out in zip(rungs, snakemake.output.dis):
        with atomic_path(out) as tmp:
            run(demo.encode_argv(exe, str(ref_out), settings, rung, str(tmp) + ".mp4"), Path(out).name)
            Path(str(tmp) + ".mp4").replace(tmp)
        bar.advance(f"{Path(out).name}: {Path(out).stat().st_size} bytes")
log.close()
