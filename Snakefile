# vmafdistill: distil libvmaf's vmaf_v0.6.1 into tiny exportable neural students.
#   snakemake --cores 8 gate        the whole pipeline on the demo corpus, ending in a verdict
#   snakemake --cores 8 features    the corpus and its libvmaf feature tables only
# See README.md.

import os

from snakemake.utils import min_version, validate

min_version("9.0")

# one BLAS/OpenMP thread per job: Snakemake runs the jobs in parallel, and results stay deterministic
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"


validate(config, "schemas/config.schema.yaml")


include: "rules/demo.smk"
include: "rules/features.smk"
include: "rules/loso.smk"
include: "rules/export.smk"
include: "rules/gate.smk"


rule all:
    default_target: True
    input:
        rules.gate.output,
