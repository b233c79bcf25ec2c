"""The local executor: the runs of a plan on this machine, at most one at a time per worker slot.

Each slot is pinned to one GPU (CUDA_VISIBLE_DEVICES), as many slots as GPUs by default, one on a
CPU-only machine, or `workers` slots (GPUs shared round-robin when there are more slots than GPUs).
Every run is its own process (`python -m fgcore.sweep.worker`): its output goes to the run's log
file, a crash or an out-of-memory error ends that run only, and the GPU memory is returned when it
ends. A run that fails is reported with its log and the others go on.

Interrupting (Ctrl-C, SIGTERM) stops the running processes (result.interrupted is set); the cache keeps
their last checkpoint, so the same command started again skips the complete runs and resumes the
partial ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Sequence, TextIO

from .. import settings
from ..errors import UsageError
from ..machine import pin_to_gpu, visible_gpus
from .plan import Plan, PlannedRun
from .progress import Reporter, RunOutcome, SweepResult

TERMINATE_GRACE_SECONDS = 10.0


def fgcore_import_root() -> str:
    """The folder that holds the fgcore package this process runs (children must import the same)."""
    return str(Path(__file__).resolve().parents[2])


def child_environment(gpu: str | None, *, cpu_threads: int | None = None) -> dict[str, str]:
    """The environment of a worker process: this one's, with fgcore importable, pinned to `gpu` (None:
    the CPU, with `cpu_threads` OpenMP threads unless OMP_NUM_THREADS is set)."""
    env = settings.child_environment()
    root = fgcore_import_root()
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    pin_to_gpu(gpu, env)
    if gpu is None:
        env["FGCORE_DEVICE"] = "cpu"
        if cpu_threads is not None:
            env.setdefault("OMP_NUM_THREADS", str(cpu_threads))
    else:
        env["FGCORE_DEVICE"] = "cuda"  # the one GPU this process sees
    return env


@dataclass
class _Running:
    run: PlannedRun
    process: subprocess.Popen
    log: IO[bytes]
    log_path: Path
    started: float


def _slots(workers: int | None, gpus: Sequence[str] | None) -> list[str | None]:
    gpus = list(visible_gpus() if gpus is None else gpus)
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    count = workers or max(1, len(gpus))
    return [gpus[i % len(gpus)] if gpus else None for i in range(count)]


def run_local(plan: Plan, *, workers: int | None = None, gpus: Sequence[str] | None = None,
              out: TextIO | None = None, bar: bool | None = None, poll: float = 0.2) -> SweepResult:
    """Run plan.todo on this machine; return the outcome of every run (never raises for a failed run)."""
    slots = _slots(workers, gpus)
    cpu_threads = max(1, (os.cpu_count() or 1) // len(slots))
    result = SweepResult(plan=plan, executor="local")
    if not plan.todo:
        return result
    plan.sweep_dir.mkdir(parents=True, exist_ok=True)
    plan.write()
    reporter = Reporter(plan, len(plan.todo), out=out, bar=bar)
    where = ", ".join(f"GPU {g}" if g is not None else "CPU" for g in slots)
    reporter.say(f"local executor: {len(slots)} worker(s) ({where}); logs in {plan.sweep_dir}")
    queue = deque(plan.todo)
    running: dict[int, _Running] = {}
    try:
        while queue or running:
            for slot, gpu in enumerate(slots):
                if slot in running or not queue:
                    continue
                run = queue.popleft()
                running[slot] = _start(plan, run, gpu, cpu_threads)
                reporter.started_run(run, "on " + (f"GPU {gpu}" if gpu is not None else "the CPU"))
            time.sleep(poll)
            for slot, job in list(running.items()):
                code = job.process.poll()
                if code is None:
                    continue
                job.log.close()
                del running[slot]
                outcome = RunOutcome(run=job.run, ok=code == 0, seconds=time.monotonic() - job.started,
                                     log=job.log_path, job_id=str(job.process.pid),
                                     error=None if code == 0 else _exit_reason(code))
                result.outcomes.append(outcome)
                reporter.finished(outcome)
    except KeyboardInterrupt:  # Ctrl-C (the CLI turns SIGTERM into it too): stop the workers, report
        result.interrupted = True
        _stop(list(running.values()))
    except BaseException:  # a bug here must not leave orphan workers behind
        _stop(list(running.values()))
        raise
    finally:
        reporter.close()
    return result


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _start(plan: Plan, run: PlannedRun, gpu: str | None, cpu_threads: int) -> _Running:
    log_path = plan.log_path(run)
    log = open(log_path, "ab")
    log.write(f"\n===== fgcore sweep {plan.sweep_id}: {run.spec.short} [{run.key}] "
              f"{time.strftime('%Y-%m-%d %H:%M:%S')} =====\n".encode())
    log.flush()
    command = [sys.executable, "-m", "fgcore.sweep.worker", "--cache", str(plan.cache), "--key", run.key,
               json.dumps(run.spec.to_dict(), sort_keys=True)]
    # Own session: a Ctrl-C reaches the controller only, which then stops the workers in order.
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=child_environment(gpu, cpu_threads=cpu_threads), start_new_session=True)
    return _Running(run=run, process=process, log=log, log_path=log_path, started=time.monotonic())


def _stop(jobs: list[_Running]) -> None:
    for job in jobs:
        if job.process.poll() is None:
            job.process.terminate()
    deadline = time.monotonic() + TERMINATE_GRACE_SECONDS
    for job in jobs:
        try:
            job.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            job.process.kill()
            job.process.wait()
        job.log.close()
