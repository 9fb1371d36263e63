"""The gate: the workflow's verdict on the shipped tiers, as pure functions over its inputs.

``checks`` (each check), ``engine_checks`` (the shipped files on real engines), ``run`` (all checks
over one run's files), ``report`` (JSON, Markdown, rich), ``health`` (the corpus-free healthcheck).
"""

from .checks import Check, Thresholds, check_budget, check_card, check_golden, check_loso
from .engine_checks import check_engine_defaults, check_engines, check_golden_engines, default_warnings, gated_engines
from .health import health_checks
from .report import engine_markdown, report, report_markdown, rich_table
from .run import GateInputs, export_paths, failures, passed, run_checks, run_teachers, synthetic_rows, warnings

__all__ = ["Check", "GateInputs", "Thresholds", "check_budget", "check_card", "check_engine_defaults", "check_engines",
           "check_golden", "default_warnings", "run_teachers", "warnings",
           "check_golden_engines", "check_loso", "engine_markdown", "export_paths", "failures", "gated_engines",
           "health_checks", "passed", "report", "report_markdown", "rich_table", "run_checks", "synthetic_rows"]  # fmt: skip
