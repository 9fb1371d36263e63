"""Entry point: write the demo corpus's dataset file (Netflix format)."""

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from vmafdistill.atomic import write_text  # noqa: E402
from vmafdistill.ui import JobLog  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
write_text(snakemake.output[0], snakemake.params.text)
log.info(f"demo dataset file: {snakemake.output[0]}")
log.close()
