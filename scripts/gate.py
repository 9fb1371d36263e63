"""Entry point: the gate over every teacher's tiers. Runs every check, writes the reports (results/gate/ and a
copy in logs/gate/, which Snakemake keeps when the job fails), prints a summary table, repeats every
warning at the end, and exits 1 naming every failed check (each names its teacher: vmaf_v0.6.1/nano)."""

from pathlib import Path

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

from rich.markup import escape  # noqa: E402

from vmafdistill import gate  # noqa: E402
from vmafdistill.atomic import write_json, write_text  # noqa: E402
from vmafdistill.export import TierSpec  # noqa: E402
from vmafdistill.teacher import load_teacher  # noqa: E402
from vmafdistill.ui import JobLog, fail  # noqa: E402

snakemake = globals()["snakemake"]
log = JobLog(snakemake.log.log)
p, i = snakemake.params, snakemake.input
tiers = {name: TierSpec.from_config(name, spec) for name, spec in p.tiers.items()}
thresholds = gate.Thresholds.from_config(p.thresholds)
per_teacher = []
for k, (_name, spec) in enumerate(p.teachers.items()):  # the rule's inputs: teacher-major, tiers in config order
    sl = slice(k * len(tiers), (k + 1) * len(tiers))
    per_teacher.append(gate.GateInputs(
        tiers=tiers, loso=dict(zip(tiers, map(Path, i.loso[sl]))), models=dict(zip(tiers, map(Path, i.onnx[sl]))),
        cards=dict(zip(tiers, map(Path, i.cards[sl]))), frames=Path(i.frames[k]),
        teacher_check=Path(i.teacher_check[k]),
        golden_record=Path(i.golden_record), golden_run=Path(i.golden_run),
        self_pairs_in_metrics=bool(p.self_pairs_in_metrics), teacher=load_teacher(*spec),
    ))
checks, tables = gate.run_teachers(per_teacher, thresholds)
report = gate.report(checks, thresholds, per_teacher, tables)
markdown = gate.report_markdown(report)
for target in (snakemake.log.report_json, snakemake.output.json):
    write_json(target, report)
for target in (snakemake.log.report_md, snakemake.output.md):
    write_text(target, markdown)
log.console.print(gate.rich_table(checks))
log.plain(escape(markdown))
names = ", ".join(p.teachers)
failed, warned = gate.failures(checks), gate.warnings(checks)
for c in warned:  # repeated at the end, where they cannot be missed
    log.warning(escape(f"WARN {c.label}: {c.detail}"))
if failed:
    for c in failed:
        log.error(escape(f"{c.label}: {c.detail}"))
    failed_names = ", ".join(c.label for c in failed)
    fail(log, escape(f"gate FAILED ({names}): {len(failed)} of {len(checks)} checks failed: {failed_names}; "
                     f"report kept in {snakemake.log.report_md}"))
warn_note = f" with {len(warned)} WARNING(S) above" if warned else ""
log.info(escape(f"gate PASSED ({names}){warn_note}: {len(checks)} checks; report in {snakemake.output.md}"))
log.close()
