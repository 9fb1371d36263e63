"""The gate: the workflow's verdict on the shipped tiers, as pure functions over its inputs.

``checks`` (each check), ``engine_checks`` (the shipped files on real engines, on the tables of
``vmafdistill.engine_summary``), ``run`` (all checks over one run's files), ``report`` (JSON, Markdown,
rich), ``health`` (the corpus-free healthcheck). The package exports the names its users call.
"""

from .checks import Check, Thresholds, check_budget
from .engine_checks import check_engine_defaults
from .health import health_checks
from .report import report, report_markdown, rich_table
from .run import GateInputs, export_paths, failures, passed, run_checks, run_teachers, warnings

__all__ = ["Check", "GateInputs", "Thresholds", "check_budget", "check_engine_defaults", "export_paths", "failures",
           "health_checks", "passed", "report", "report_markdown", "rich_table", "run_checks", "run_teachers",
           "warnings"]
