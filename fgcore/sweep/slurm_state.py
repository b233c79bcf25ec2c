"""What SLURM says about a sweep's array tasks: squeue (queued and running, on every cluster) and sacct
(also ended tasks, only where accounting is enabled), merged into one state per task.

squeue is the authority for what is in the queue now. sacct adds how a task ended and when, but it
fails on a cluster without accounting ("Slurm accounting storage is disabled") and has no rows, or
only the array as a whole, in the first seconds after a submission. A task that squeue does not list
and sacct does not know has no state here (state None); the caller decides with its result file and
the time since it was submitted.
"""

from __future__ import annotations

import getpass
import re
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

# Where a task may still produce its run (squeue's and sacct's names).
ACTIVE_STATES = frozenset({"PENDING", "RUNNING", "REQUEUED", "CONFIGURING", "COMPLETING", "SUSPENDED", "RESIZING",
                           "REQUEUE_HOLD", "REQUEUE_FED", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD"})
STARTED_STATES = frozenset({"RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT"})
COMMAND_TIMEOUT = 60  # seconds; a controller that does not answer within this is treated as not answering

Runner = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class TaskState:
    """One array task as SLURM sees it. state None: neither squeue nor sacct knows it (now)."""

    state: str | None = None
    source: str | None = None      # "squeue" or "sacct"
    start: float | None = None     # when its current (or last) attempt started, epoch seconds
    end: float | None = None       # when it ended (sacct only)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def started(self) -> bool:
        return self.state in STARTED_STATES or (self.start is not None and self.state not in ("PENDING", None))


@dataclass
class Snapshot:
    """The states of some tasks at one moment, and why a source did not answer (None: it did)."""

    tasks: dict[str, TaskState] = field(default_factory=dict)
    squeue_error: str | None = None
    sacct_error: str | None = None

    def get(self, task_id: str) -> TaskState:
        return self.tasks.get(task_id, TaskState())

    @property
    def accounting(self) -> bool:
        return self.sacct_error is None


def _time(text: str) -> float | None:
    """A SLURM timestamp (local time, 2024-05-01T12:00:00) in epoch seconds; None for Unknown / N/A / None."""
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        return None


def task_ids(job_id: str) -> list[str]:
    """Array task ids in a squeue/sacct JobID: 12_3 -> [12_3]; 12_[0-2,5%4] -> [12_0, 12_1, 12_2, 12_5]; 12 -> [12]."""
    match = re.fullmatch(r"(\d+)_\[([\d,\-]+)(?:%\d+)?\]", job_id)
    if not match:
        return [job_id]
    main, ranges = match.groups()
    out = []
    for part in ranges.split(","):
        low, _, high = part.partition("-")
        out += [f"{main}_{i}" for i in range(int(low), int(high or low) + 1)]
    return out


def _first_error_line(result: subprocess.CompletedProcess) -> str:
    text = (result.stderr or result.stdout or "").strip()
    return text.splitlines()[-1] if text else f"exit code {result.returncode}"


def _run(runner: Runner, command: list[str]) -> subprocess.CompletedProcess | str:
    try:
        result = runner(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{command[0]}: {exc}"
    return result if result.returncode == 0 else f"{command[0]}: {_first_error_line(result)}"


def query(job_ids: Iterable[str], *, runner: Runner = subprocess.run) -> Snapshot:
    """The states of these array tasks (ids such as 12_3, or 12 for a single job): one squeue and one
    sacct call for all of them, whatever the number of tasks."""
    wanted = set(job_ids)
    snapshot = Snapshot()
    if not wanted:
        return snapshot
    arrays = sorted({j.split("_")[0] for j in wanted})
    # sacct first: squeue is fresher, so where both know a task squeue's word stands.
    sacct = _run(runner, ["sacct", "--noheader", "--parsable2", "--allocations", "--format=JobID,State,Start,End",
                          f"--jobs={','.join(arrays)}"])
    if isinstance(sacct, str):
        snapshot.sacct_error = sacct
    else:
        for line in sacct.stdout.splitlines():
            parts = line.split("|")
            if len(parts) < 4:
                continue
            state = parts[1].split()[0].upper() if parts[1].strip() else None  # "CANCELLED by 0" -> CANCELLED
            for task in task_ids(parts[0]):
                if task in wanted:
                    snapshot.tasks[task] = TaskState(state, "sacct", _time(parts[2]), _time(parts[3]))
    # Every queued task of this user, filtered here: `squeue --jobs` fails outright on one unknown id.
    squeue = _run(runner, ["squeue", "--noheader", "--array", f"--user={getpass.getuser()}", "--format=%i|%T|%S"])
    if isinstance(squeue, str):
        snapshot.squeue_error = squeue
    else:
        for line in squeue.stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) < 3:
                continue
            for task in task_ids(parts[0]):
                if task in wanted:
                    state = parts[1].upper()
                    start = _time(parts[2]) if state in STARTED_STATES else None
                    snapshot.tasks[task] = TaskState(state, "squeue", start)
    return snapshot
