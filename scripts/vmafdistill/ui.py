"""Terminal output for the entry scripts: rich on stderr, plain lines in the job's log file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class JobLog:
    """Writes each message to the job's log file and to the terminal (stderr, via rich)."""

    def __init__(self, log_path: str | Path | None) -> None:
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.path = Path(log_path) if log_path else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "w", encoding="utf-8")  # closed in close()
        else:
            self._fh = None

    def info(self, message: str) -> None:
        self.console.print(message)
        self.plain(message)

    def plain(self, message: str) -> None:
        """Only into the log file."""
        if self._fh:
            self._fh.write(Console(file=None, no_color=True).render_str(message).plain + "\n")
            self._fh.flush()

    def warning(self, message: str) -> None:
        self.console.print(f"[bold yellow]warning:[/] {message}")
        self.plain(f"warning: {message}")

    def error(self, message: str) -> None:
        self.console.print(f"[bold red]error:[/] {message}")
        self.plain(f"error: {message}")

    def close(self) -> None:
        if self._fh:
            self._fh.close()
            self._fh = None

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[ProgressHandle]:
        bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            disable=not self.console.is_terminal,
        )
        with bar:
            task = bar.add_task(description, total=total, status="")
            yield ProgressHandle(bar, task, self)


class ProgressHandle:
    def __init__(self, bar: Progress, task: int, log: JobLog) -> None:
        self.bar, self.task, self.log = bar, task, log

    def advance(self, status: str = "", steps: int = 1) -> None:
        self.bar.update(self.task, advance=steps, status=status)
        if status:
            self.log.plain(status)


def job_cpu_line(work_cpu_s: float, what: str = "training") -> str:
    """The line a training job ends its log with: the process's CPU time, the CPU of its `what`, and
    the rest (interpreter and import start-up, reading tables, writing outputs) with its share.
    benchmarks/whole_run.py reads it."""
    import time

    total = time.process_time()
    share = 1.0 - work_cpu_s / total if total > 0 else 0.0
    return (f"job CPU {total:.2f} s, {what} {work_cpu_s:.2f} s, start-up and I/O {total - work_cpu_s:.2f} s "
            f"({share:.0%})")


def fail(log: JobLog, message: str, code: int = 1) -> None:
    """Report a clear error naming the input, then exit non-zero."""
    log.error(message)
    log.close()
    sys.exit(code)
