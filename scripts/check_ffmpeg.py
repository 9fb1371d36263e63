"""Entry point: check once that the resolved ffmpeg has the libvmaf filter and computes every feature of
the configured teacher; record what was found."""

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from vmafdistill.atomic import write_json  # noqa: E402
from vmafdistill.ffmpeg import FFmpegError, check_libvmaf, check_teacher_features  # noqa: E402
from vmafdistill.teacher import teacher_from_config  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
teacher = teacher_from_config(snakemake.params.teacher)
try:
    info = check_libvmaf(snakemake.params.ffmpeg, snakemake.params.origin)
    info["teacher"] = teacher.name
    info["teacher_log_keys"] = check_teacher_features(snakemake.params.ffmpeg, teacher, snakemake.params.origin)
except FFmpegError as exc:
    fail(log, str(exc))
log.info(f"ffmpeg with libvmaf: {info['ffmpeg']} ({info['origin']}); {info['ffmpeg_version']}; teacher {teacher.name}: "
         f"{', '.join(info['teacher_log_keys'])}")
write_json(snakemake.output[0], info)
log.close()
