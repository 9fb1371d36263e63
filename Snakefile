# vmafdistill: distil libvmaf's SVM models (vmaf_v0.6.1 by default) into tiny exportable neural students.
#   snakemake --cores 8 gate        the whole pipeline on the demo corpus, ending in a verdict
#   snakemake --cores 8 features    the corpus and its libvmaf feature tables only
# See README.md.

import atexit
import gc
import os
import sys

from snakemake.utils import min_version

min_version("9.0")

# Large corpora: Snakemake keeps a few dozen long-lived objects per job, and Python's cyclic garbage
# collector rescans all of them again and again while the DAG grows, then once more at exit (about
# a third of a 10,000-clip dry run; none of them is garbage). Pause the collector while the Snakefile
# is parsed and the DAG is built; `onstart` (below) hides the built DAG from it and turns it back on
# for the run itself; at exit everything is frozen so the final collection has nothing to scan.
# (Under --no-hooks, as in the job processes Snakemake spawns, onstart does not run and the collector
# stays paused for that short-lived process.) `benchmarks/dryrun_scale.py` measures it.
gc.disable()
atexit.register(gc.freeze)

# one BLAS/OpenMP thread per job: Snakemake runs the jobs in parallel, and results stay deterministic
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# pinned code paths of the math libraries (MKL, oneDNN, ATen, numpy, OpenBLAS) for every job, which
# inherits this environment (Slurm jobs too): the same bytes on any x86-64 CPU with AVX2, whatever the
# environment says (see scripts/vmafdistill/mathpaths.py; each entry script pins again, first thing).
sys.path.insert(0, os.path.join(workflow.basedir, "scripts"))
from vmafdistill import mathpaths

mathpaths.pin(strict=False)  # this process loads numpy for the DAG, but trains nothing


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"  # checks the config (schema and across keys) once
include: "rules/demo.smk"
include: "rules/features.smk"
include: "rules/loso.smk"
include: "rules/export.smk"
include: "rules/gate.smk"


rule all:
    default_target: True
    input:
        rules.gate.output,


onstart:
    gc.freeze()
    gc.enable()
