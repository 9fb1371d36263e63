"""Entry point: corpus-free pretraining of one arch on teacher-labelled synthetic vectors.

It looks at no corpus, so one state per arch (and seed) is shared by every LOSO fold and pooling.
"""

import io

from vmafdistill.mathpaths import describe, pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

import torch  # noqa: E402

from vmafdistill.atomic import write_bytes  # noqa: E402
from vmafdistill.train import pretrain  # noqa: E402
from vmafdistill.train_base import saved_history  # noqa: E402
from vmafdistill.ui import JobLog, job_cpu_line  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log[0])
log.info(f"{describe()}; recipe {snakemake.params.recipe['code_sha256'][:16]} {snakemake.params.recipe['software']}")
arch, seed = snakemake.wildcards.arch, int(snakemake.wildcards.seed)
with log.progress(f"pretrain {arch}", total=None) as bar:
    state = pretrain(arch, dict(snakemake.params.hparams), seed, progress=lambda s, loss, val: bar.advance(
        f"step {s} loss {loss:.4g} val {val:.4g}" if val == val else "", steps=0))
buf = io.BytesIO()
torch.save({**state, "history": saved_history(state["history"])}, buf)
write_bytes(snakemake.output[0], buf.getvalue())
h = state.get("history", {})
log.info(f"pretrain {arch} seed {seed}: best synthetic val {h.get('best_val', float('nan')):.4g}, "
         f"{h.get('cpu_s', 0):.1f} CPU s")
log.info(job_cpu_line(float(h.get("cpu_s", 0.0))))
log.close()
