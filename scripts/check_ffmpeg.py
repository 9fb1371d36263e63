"""Entry point: check once that the resolved ffmpeg has the libvmaf filter and computes every feature of
every configured teacher; record what was found."""

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from vmafdistill.atomic import write_json  # noqa: E402
from vmafdistill.ffmpeg import FFmpegError, check_libvmaf, check_teacher_features  # noqa: E402
from vmafdistill.teacher import load_teacher  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
teachers = [load_teacher(*spec) for spec in snakemake.params.teachers]
try:
    info = check_libvmaf(snakemake.params.ffmpeg, snakemake.params.origin)
    info["teachers"] = {t.name: check_teacher_features(snakemake.params.ffmpeg, t, snakemake.params.origin)
                        for t in teachers}
except FFmpegError as exc:
    fail(log, str(exc))
log.info(f"ffmpeg with libvmaf: {info['ffmpeg']} ({info['origin']}); {info['ffmpeg_version']}")
for name, keys in info["teachers"].items():
    log.info(f"teacher {name}: {', '.join(keys)}")
write_json(snakemake.output[0], info)
log.close()
