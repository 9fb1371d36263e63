"""Entry point: the golden fixture through this run's ffmpeg and the same libvmaf pass as the corpus."""

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from vmafdistill.atomic import write_json  # noqa: E402
from vmafdistill.ffmpeg import FFmpegError  # noqa: E402
from vmafdistill.golden import measure_fixture  # noqa: E402
from vmafdistill.teacher import teacher_from_config  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
try:
    record = measure_fixture(snakemake.params.ffmpeg, teacher_from_config(snakemake.params.teacher))
except FFmpegError as exc:
    fail(log, f"golden fixture: {exc}")
write_json(snakemake.output[0], record)
log.info(f"golden fixture ({record['teacher']}): {len(record['frame_vmaf'])} frames, libvmaf {record['libvmaf_version']} vmaf {record['vmaf']:.6f}")
log.close()
