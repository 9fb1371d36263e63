"""Entry point: `snakemake --cores 1 healthcheck`, seconds and no corpus. ffmpeg has libvmaf, the golden
fixture reproduces through libvmaf and through the teacher, and every exported model in results/export/
loads in ORT and matches its card. Exits non-zero naming every failure."""

from rich.markup import escape

from vmafdistill import gate
from vmafdistill.teacher import teacher_from_config
from vmafdistill.ui import JobLog, fail

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
p = snakemake.params
checks = gate.health_checks(p.ffmpeg, p.origin, p.export_dir, p.golden, teacher_from_config(p.teacher))
log.console.print(gate.rich_table(checks, title="healthcheck"))
for c in checks:
    log.plain(escape(f"{c.status:13} {c.label}: {c.detail}"))
failed = gate.failures(checks)
if failed:
    for c in failed:
        log.error(escape(f"{c.label}: {c.detail}"))
    fail(log, escape(f"healthcheck FAILED: {', '.join(c.label for c in failed)}"))
log.info(f"healthcheck passed ({len(checks)} checks)")
log.close()
