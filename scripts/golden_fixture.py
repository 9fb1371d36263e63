"""Entry point: the golden fixture through this run's ffmpeg and the same libvmaf pass as the corpus."""

from vmafdistill.atomic import write_json
from vmafdistill.ffmpeg import FFmpegError
from vmafdistill.golden import measure_fixture
from vmafdistill.teacher import teacher_from_config
from vmafdistill.ui import JobLog, fail

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
try:
    record = measure_fixture(snakemake.params.ffmpeg, teacher_from_config(snakemake.params.teacher))
except FFmpegError as exc:
    fail(log, f"golden fixture: {exc}")
write_json(snakemake.output[0], record)
log.info(f"golden fixture ({record['teacher']}): {len(record['frame_vmaf'])} frames, libvmaf {record['libvmaf_version']} vmaf {record['vmaf']:.6f}")
log.close()
