"""Entry point: write the demo corpus's dataset file (Netflix format)."""

from vmafdistill.atomic import write_text
from vmafdistill.ui import JobLog

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
write_text(snakemake.output[0], snakemake.params.text)
log.info(f"demo dataset file: {snakemake.output[0]}")
log.close()
