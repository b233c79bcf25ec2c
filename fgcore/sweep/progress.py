"""What a sweep tells the user while it runs (a line per run event, an overall bar) and its result."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .plan import Plan, PlannedRun

MAX_EXIT_CODE = 100  # exit codes above 125 mean "killed by a signal" to shells; stay well below


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def last_error_line(log: Path | None, limit: int = 1 << 16) -> str | None:
    """The last non-empty line of a log that is not a progress bar (usually the exception)."""
    if log is None or not log.is_file():
        return None
    with open(log, "rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - limit))
        tail = handle.read().decode(errors="replace")
    lines = [line.strip() for chunk in tail.splitlines() for line in chunk.split("\r") if line.strip()]
    lines = [line for line in lines if "%|" not in line]  # tqdm bars
    return lines[-1][:300] if lines else None


@dataclass
class RunOutcome:
    run: PlannedRun
    ok: bool
    seconds: float
    log: Path | None
    job_id: str | None = None
    error: str | None = None


@dataclass
class SweepResult:
    plan: Plan
    executor: str
    outcomes: list[RunOutcome] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    interrupted: bool = False
    waited: bool = True

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def succeeded(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def exit_code(self) -> int:
        """The number of failed runs, capped at MAX_EXIT_CODE (0: every run succeeded)."""
        return min(MAX_EXIT_CODE, len(self.failed))


class Reporter:
    """Prints `[i/n] started|finished|FAILED ...` lines and keeps a tqdm bar of finished runs."""

    def __init__(self, plan: Plan, total: int, *, out: TextIO | None = None, bar: bool | None = None):
        self.out = out or sys.stdout
        self.total = total
        self.index: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self.failed = 0
        self.bar = None
        if bar is not False and total:
            from tqdm.auto import tqdm

            # disable=None: no bar when stderr is not a terminal (a log file keeps only the lines)
            self.bar = tqdm(total=total, desc=f"sweep {plan.sweep_id}", unit="run", file=sys.stderr,
                            dynamic_ncols=True, disable=None if bar is None else False)

    def _number(self, run: PlannedRun) -> str:
        index = self.index.setdefault(run.key, len(self.index) + 1)
        width = len(str(self.total))
        return f"[{index:>{width}}/{self.total}]"

    def say(self, text: str) -> None:
        if self.bar is not None and not self.bar.disable:
            self.bar.write(text, file=self.out)
        else:
            print(text, file=self.out, flush=True)

    def started_run(self, run: PlannedRun, where: str, at: float | None = None) -> None:
        """at: when it started (epoch seconds, e.g. SLURM's start time), if not now."""
        self.started[run.key] = time.monotonic()
        when = time.strftime('%H:%M:%S', time.localtime(at)) if at is not None else time.strftime('%H:%M:%S')
        self.say(f"{self._number(run)} started   {run.describe()} {where} at {when}")

    def finished(self, outcome: RunOutcome) -> None:
        run = outcome.run
        if outcome.ok:
            self.say(f"{self._number(run)} finished  {run.describe()} in {duration(outcome.seconds)}")
        else:
            self.failed += 1
            self.say(f"{self._number(run)} FAILED    {run.describe()} after {duration(outcome.seconds)}"
                     f"{' (' + outcome.error + ')' if outcome.error else ''}; log: {outcome.log}")
            detail = last_error_line(outcome.log)
            if detail:
                self.say(f"           {detail}")
        if self.bar is not None:
            self.bar.update(1)
            if self.failed:
                self.bar.set_postfix(failed=self.failed)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def final_summary(result: SweepResult) -> str:
    plan = result.plan
    lines = []
    if result.interrupted:
        lines.append(f"sweep {plan.sweep_id} interrupted: {len(result.succeeded)} run(s) finished, "
                     f"{len(result.failed)} failed; start the same command again to finish the rest "
                     f"(complete runs are skipped, partial ones resume from their checkpoint)")
    elif not result.waited:
        lines.append(f"sweep {plan.sweep_id}: submitted {len(plan.todo)} run(s); not waiting. Start the same "
                     f"command again to see what is finished (it does not submit runs twice)")
    else:
        lines.append(f"sweep {plan.sweep_id}: {len(result.succeeded)} run(s) finished, {len(result.failed)} "
                     f"failed, {len(plan.complete)} already complete before the sweep")
    for outcome in result.failed:
        lines.append(f"  failed: {outcome.run.describe()}  log: {outcome.log}")
    lines.append(f"  logs: {plan.sweep_dir}")
    if result.failed:
        lines.append(f"exit code {result.exit_code} = number of failed runs; fix the cause and start the same "
                     f"command again (it only runs what is missing)")
    return "\n".join(lines)
