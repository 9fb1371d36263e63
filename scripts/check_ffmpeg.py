"""Entry point: check once that the resolved ffmpeg has the libvmaf filter; record what was found."""

from vmafdistill.atomic import write_json
from vmafdistill.ffmpeg import FFmpegError, check_libvmaf
from vmafdistill.ui import JobLog, fail

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
try:
    info = check_libvmaf(snakemake.params.ffmpeg, snakemake.params.origin)
except FFmpegError as exc:
    fail(log, str(exc))
log.info(f"ffmpeg with libvmaf: {info['ffmpeg']} ({info['origin']}); {info['ffmpeg_version']}")
write_json(snakemake.output[0], info)
log.close()
