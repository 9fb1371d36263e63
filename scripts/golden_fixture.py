"""Entry point: the golden fixture through this run's ffmpeg and the same libvmaf pass as the corpus: every
teacher in one pass, recorded as the committed record is (one entry per teacher)."""

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from vmafdistill.atomic import write_json  # noqa: E402
from vmafdistill.ffmpeg import FFmpegError  # noqa: E402
from vmafdistill.golden import record_fixture  # noqa: E402
from vmafdistill.teacher import load_teacher  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
try:
    record = record_fixture(snakemake.params.ffmpeg, [load_teacher(*spec) for spec in snakemake.params.teachers])
except FFmpegError as exc:
    fail(log, f"golden fixture: {exc}")
write_json(snakemake.output[0], record)
for name, entry in record["teachers"].items():
    log.info(f"golden fixture ({name}): {len(entry['frame_vmaf'])} frames, libvmaf {record['libvmaf_version']} "
             f"vmaf {entry['vmaf']:.6f}")
log.close()
