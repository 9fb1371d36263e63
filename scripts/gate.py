"""Entry point: the gate. Runs every check, writes the reports (results/gate/ and a copy in logs/gate/,
which Snakemake keeps when the job fails), prints a summary table, and exits 1 naming every failed check."""

from pathlib import Path

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from rich.markup import escape  # noqa: E402

from vmafdistill import gate  # noqa: E402
from vmafdistill.atomic import write_json, write_text  # noqa: E402
from vmafdistill.export import TierSpec  # noqa: E402
from vmafdistill.teacher import teacher_from_config  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log.log)
tiers = {name: TierSpec.from_config(name, spec) for name, spec in snakemake.params.tiers.items()}
thresholds = gate.Thresholds.from_config(snakemake.params.thresholds)
inputs = gate.GateInputs(
    tiers=tiers,
    loso=dict(zip(tiers, map(Path, snakemake.input.loso))),  # expand() keeps the config's tier order
    models=dict(zip(tiers, map(Path, snakemake.input.onnx))),
    cards=dict(zip(tiers, map(Path, snakemake.input.cards))),
    frames=Path(snakemake.input.frames),
    teacher_check=Path(snakemake.input.teacher_check),
    golden_record=Path(snakemake.input.golden_record),
    golden_run=Path(snakemake.input.golden_run),
    self_pairs_in_metrics=bool(snakemake.params.self_pairs_in_metrics),
    teacher=teacher_from_config(snakemake.params.teacher),
)
checks, tables = gate.run_checks(inputs, thresholds)
report = gate.report(checks, thresholds, inputs, tables)
markdown = gate.report_markdown(report)
for target in (snakemake.log.report_json, snakemake.output.json):
    write_json(target, report)
for target in (snakemake.log.report_md, snakemake.output.md):
    write_text(target, markdown)
log.console.print(gate.rich_table(checks))
log.plain(escape(markdown))
failed, warned = gate.failures(checks), gate.warnings(checks)
for c in warned:  # repeated at the end, where they cannot be missed
    log.warning(escape(f"WARN {c.label}: {c.detail}"))
if failed:
    for c in failed:
        log.error(escape(f"{c.label}: {c.detail}"))
    names = ", ".join(c.label for c in failed)
    report_at = snakemake.log.report_md
    fail(log, escape(f"gate FAILED ({inputs.teacher.name}): {len(failed)} of {len(checks)} checks failed: {names}; report kept in {report_at}"))
warn_note = f" with {len(warned)} WARNING(S) above" if warned else ""
log.info(escape(f"gate PASSED ({inputs.teacher.name}){warn_note}: {len(checks)} checks; report in {snakemake.output.md}"))
log.close()
