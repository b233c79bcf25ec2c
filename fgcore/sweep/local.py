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

from ..errors import UsageError
from ..machine import child_environment, gpu_names, visible_gpus, workers_per_gpu
from .plan import Plan, PlannedRun
from .progress import Reporter, RunOutcome, SweepResult

TERMINATE_GRACE_SECONDS = 10.0


@dataclass
class _Running:
    run: PlannedRun
    process: subprocess.Popen
    log: IO[bytes]
    log_path: Path
    started: float


DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Slots:
    """Where the runs of a local sweep go: one entry per worker slot (a GPU id, or None for the CPU),
    and why that many (what `make gpu-check` measured, or the command line)."""

    gpus: list[str | None]
    why: str

    def describe(self) -> str:
        where = ", ".join(f"GPU {g}" if g is not None else "CPU" for g in self.gpus)
        return f"{len(self.gpus)} worker(s) ({where}; {self.why})"


def plan_slots(workers: int | None, gpus: Sequence[str] | None, *, device: str = "auto",
               cache=None) -> Slots:
    """The worker slots: `workers` if given; else, per visible GPU, the number of processes `make
    gpu-check` found fastest on this GPU model (machine.workers_per_gpu), 1 where it has not run;
    one CPU slot without a GPU or with device="cpu"."""
    if device not in DEVICES:
        raise UsageError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    gpus = [] if device == "cpu" else list(visible_gpus() if gpus is None else gpus)
    if device == "cuda" and not gpus:
        raise UsageError("--device cuda, but no GPU is visible (CUDA_VISIBLE_DEVICES, nvidia-smi); drop "
                         "--device cuda, or fix the GPU setup")
    if workers is not None:
        count, why = workers, "--workers"
    elif not gpus:
        count, why = 1, "no GPU" if device != "cpu" else "--device cpu"
    else:
        per_gpu, why = 1, "one per GPU: `make gpu-check` has not measured more on this GPU model"
        names = set(gpu_names())
        measured = [workers_per_gpu(name, cache) for name in names]
        if names and all(measured):
            per_gpu = min(m["workers"] for m in measured)
            speeds = "; ".join(f"{name}: " + ", ".join(f"{k} at once {v:,.0f} img/s"
                                                       for k, v in m["images_per_second"].items())
                               for name, m in zip(names, measured))
            why = (f"{per_gpu} per GPU, as `make gpu-check` measured ({speeds}, {measured[0]['measured']}); "
                   f"--workers overrides")
        count = per_gpu * len(gpus)
    return Slots([gpus[i % len(gpus)] if gpus else None for i in range(count)], why)


def check_devices(plan: Plan, slots: Slots, device: str) -> None:
    """Refuse to train a bf16 run on the CPU unless asked (--device cpu): it would take days where a GPU
    takes hours, and a GPU that is not seen is more often a setup mistake than a wish."""
    if device == "cpu" or any(g is not None for g in slots.gpus):
        return
    bf16 = [run for run in plan.todo if run.spec.precision != "float32"]
    if bf16:
        sources = sorted({source for run in bf16 for source in run.sources})
        names = ", ".join(sources[:4]) + (f" and {len(sources) - 4} more" if len(sources) > 4 else "")
        raise UsageError(f"{len(bf16)} run(s) train in bf16 for a GPU ({names}) but no GPU is visible "
                         f"(CUDA_VISIBLE_DEVICES, nvidia-smi); check `nvidia-smi` and CUDA_VISIBLE_DEVICES, or "
                         f"pass --device cpu to train them on the CPU anyway (slowly)")


def run_device(run: PlannedRun, gpu: str | None, device: str) -> str | None:
    """The GPU a run trains on in its slot, or None for the CPU: with device="auto", float32 runs (the
    fast and slow tiers, whose thresholds were measured on CPUs) stay on the CPU as they would in a
    claims session (fgcore.train.loop.default_device)."""
    if gpu is None or device == "cpu":
        return None
    if device == "auto" and run.spec.precision == "float32":
        return None
    return gpu


def run_local(plan: Plan, *, workers: int | None = None, gpus: Sequence[str] | None = None,
              out: TextIO | None = None, bar: bool | None = None, poll: float = 0.2,
              device: str = "auto") -> SweepResult:
    """Run plan.todo on this machine; return the outcome of every run (never raises for a failed run,
    but raises UsageError before starting where a bf16 run would go to the CPU unasked)."""
    planned = plan_slots(workers, gpus, device=device, cache=plan.cache)
    check_devices(plan, planned, device)
    slots = planned.gpus
    cpu_threads = max(1, (os.cpu_count() or 1) // len(slots))
    result = SweepResult(plan=plan, executor="local")
    if not plan.todo:
        return result
    plan.sweep_dir.mkdir(parents=True, exist_ok=True)
    plan.write()
    reporter = Reporter(plan, len(plan.todo), out=out, bar=bar)
    reporter.say(f"local executor: {planned.describe()}; logs in {plan.sweep_dir}")
    queue = deque(plan.todo)
    running: dict[int, _Running] = {}
    try:
        while queue or running:
            for slot, gpu in enumerate(slots):
                if slot in running or not queue:
                    continue
                run = queue.popleft()
                target = run_device(run, gpu, device)
                running[slot] = _start(plan, run, target, cpu_threads)
                reporter.started_run(run, "on " + (f"GPU {target}" if target is not None else "the CPU"))
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
