"""Entry point: per-clip libvmaf logs -> frames.parquet, clips.parquet, teacher check."""

from pathlib import Path

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from vmafdistill.atomic import write_json, write_parquet  # noqa: E402
from vmafdistill.features import FeatureTableError, build_tables  # noqa: E402
from vmafdistill.teacher import load_teacher  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
tolerance = float(snakemake.params.tolerance)
teacher = load_teacher(*snakemake.params.teacher)
try:
    tables = build_tables(
        snakemake.params.clips, Path(snakemake.input.logs[0]).parent, tolerance, bool(snakemake.params.check_fps),
        teacher=teacher,
    )
except FeatureTableError as exc:  # one problem a line, each an `error:` line naming its clip
    *problems, last = str(exc).splitlines()
    for line in problems:
        log.error(line)
    fail(log, last)
write_parquet(snakemake.output.frames, tables.frames)
write_parquet(snakemake.output.clips, tables.clips)
check = {
    "teacher": teacher.name,
    "features": list(teacher.features),
    "tolerance": tolerance,
    "max_abs_diff": tables.teacher_max_diff,
    "n_clips": tables.clips.height,
    "n_frames": tables.frames.height,
    "libvmaf_version": tables.libvmaf_version,
    "passed": not tables.teacher_failures,
    "failures": tables.teacher_failures,
}
write_json(snakemake.output.check, check)
c = tables.clips
log.info(
    f"features: {c.height} clips from {c['source'].n_unique()} sources, {tables.frames.height} frames; "
    f"libvmaf {tables.libvmaf_version}; teacher {teacher.name} from {c['vmaf'].min():.1f} to {c['vmaf'].max():.1f}"
)
if tables.teacher_failures:
    for line in tables.teacher_failures:
        log.error(line)
    log.error(f"teacher check FAILED: max per-frame difference {tables.teacher_max_diff:.2e} > {tolerance:g}")
else:
    log.info(f"teacher check ({teacher.name}) passed: max per-frame |libvmaf - SVM| = {tables.teacher_max_diff:.2e} "
             f"<= {tolerance:g}")
log.close()
