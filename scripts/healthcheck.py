"""Entry point: `snakemake --cores 1 healthcheck`, seconds and no corpus. ffmpeg has libvmaf, the golden
fixture reproduces through libvmaf and through each teacher, and every exported model of each teacher
(results/teachers/<teacher>/export/) loads in ORT and matches its card. Exits non-zero naming every failure."""

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from rich.markup import escape  # noqa: E402

from vmafdistill import gate  # noqa: E402
from vmafdistill.teacher import load_teacher  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
p = snakemake.params
teachers = {name: load_teacher(*spec) for name, spec in p.teachers.items()}
checks = gate.health_checks(p.ffmpeg, p.origin, p.export_dirs, p.golden, teachers)
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
