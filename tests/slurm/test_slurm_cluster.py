"""`fgcore sweep --executor slurm` end to end on a real single-node cluster (see conftest.py), with and
without accounting: submit, follow and complete; a second invocation submits nothing, also right after
a --no-wait one; a scancelled task is reported FAILED and only it is resubmitted; a task that reaches
its time limit is requeued and resumes from its checkpoint; sbatch rejections are usage errors that
name the option; the claims then read the cache the cluster filled (--fg-train never).

The experiments are tiny Gaussian-mixture runs written into a work folder outside /tmp (the sweep
rightly refuses a node-local cache). The runs that must last a while use a model that sleeps in each
training step, so their length in seconds is the same on a fast and on a busy machine. An `sbatch`
wrapper first on PATH records every call and then runs the real sbatch, so a test can count them.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[2]
# Resources that fit the test node (2 CPUs, no GPU); the defaults (1 GPU, 8 CPUs, 32G) do not.
SMALL = ("--gpus-per-task", "0", "--cpus-per-task", "1", "--mem", "500M", "--time", "10")
SWEEP_TIMEOUT = 300  # seconds; a sweep that has not ended by then is waiting for a task that is gone

SLOW_NET = '''\
"""A tiny MLP whose every training step sleeps: a run lasts a known wall time on any machine."""
import math
import time

from torch import nn


class SlowNet(nn.Module):
    def __init__(self, num_classes, in_features, width, step_seconds):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_features, width), nn.ReLU())
        self.head = nn.Linear(width, num_classes)
        self.step_seconds = step_seconds

    def features(self, x):
        if self.training:
            time.sleep(self.step_seconds)
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def build(num_classes, in_shape, width=16, step_seconds=0.5):
    return SlowNet(num_classes, math.prod(in_shape), width, step_seconds)
'''
# 10 Gaussian clusters in R^8, 20 samples each: one batch (one step) per epoch.
GMM = """\
dataset = "gaussian_mixture"
data_args = { dim = 8, n_per_class = 20, sigma2 = 4.0 }
labeling = "coarse:5"
batch_size = 200
lr = 0.05
stats_every = 0
"""
REQUEUE_EPOCHS = 200
EXPERIMENTS = {
    "slurm-a": f'tier = "fast"\ntags = ["slurmtest"]\n[spec]\n{GMM}model = "mlp"\nmodel_args = {{ width = 16, depth = 1 }}\n'
               f'epochs = 3\n',
    # 100 epochs: enough for a progress bar that redraws once per epoch to show in the log
    "slurm-b": f'tier = "fast"\ntags = ["slurmtest"]\n[spec]\n{GMM}model = "mlp"\nmodel_args = {{ width = 16, depth = 1 }}\n'
               f'epochs = 100\n',
    # about 40 s of training: long enough to be cancelled while it runs
    "slurm-long": f'tier = "fast"\n[spec]\n{GMM}model = "slow_net:build"\nmodel_args = {{ step_seconds = 0.5 }}\n'
                  f'epochs = 80\n',
    # about 105 s of training: longer than a 3-minute limit leaves before submitit's USR2, which is asked
    # for 90 s before the limit and which SLURM's 30-s timer may send up to 60 s earlier still, so the
    # first attempt is always signalled (at 150 epochs, ~78 s, the run once finished before its signal)
    "slurm-requeue": f'tier = "fast"\n[spec]\n{GMM}model = "slow_net:build"\nmodel_args = {{ step_seconds = 0.5 }}\n'
                     f'epochs = {REQUEUE_EPOCHS}\n',
}


@dataclass
class Work:
    """A work folder: fixtures, the cache (outside /tmp), an sbatch wrapper that records its calls."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, state: Path, name: str) -> "Work":
        root = state / "work" / re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
        shutil.rmtree(root, ignore_errors=True)
        (root / "fixtures").mkdir(parents=True)
        (root / "cache").mkdir()
        (root / "bin").mkdir()
        for experiment, text in EXPERIMENTS.items():
            (root / "fixtures" / f"{experiment}.toml").write_text(text)
        (root / "slow_net.py").write_text(SLOW_NET)
        real = shutil.which("sbatch") or "/usr/bin/sbatch"
        wrapper = root / "bin" / "sbatch"
        wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{root / "sbatch-calls"}"\nexec {real} "$@"\n')
        wrapper.chmod(0o755)
        env = {**os.environ, "FGCORE_FIXTURES": str(root / "fixtures"), "PATH": f"{root / 'bin'}:{os.environ['PATH']}",
               "PYTHONPATH": f"{root}:{os.environ.get('PYTHONPATH') or REPO}", "FGCORE_CHECKPOINT_SECONDS": "2", "FGCORE_CACHE": str(root / "cache")}
        env.pop("PYTEST_XDIST_WORKER", None)
        return cls(root=root, env=env)

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def sbatch_calls(self) -> list[str]:
        calls = self.root / "sbatch-calls"
        return calls.read_text().splitlines() if calls.exists() else []

    def command(self, *args: str, small: bool = True) -> list[str]:
        # SMALL first: an option given again in args (--time) wins
        return [sys.executable, "-m", "fgcore", "sweep", "--executor", "slurm", "--cache", str(self.cache), "--no-bar",
                *(SMALL if small else ()), *args]

    def sweep(self, *args: str, small: bool = True, timeout: float = SWEEP_TIMEOUT) -> subprocess.CompletedProcess:
        return finish(self.start(*args, small=small), timeout)

    def start(self, *args: str, small: bool = True) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args, small=small), env=self.env, cwd=self.root, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def key(self, experiment: str) -> str:
        from fgcore.experiments import load_experiment

        (spec,) = load_experiment(self.root / "fixtures" / f"{experiment}.toml").run_specs("paper")
        return spec.key

    def record(self, experiment: str) -> dict | None:
        """The job the sweep recorded for an experiment's run (None before it was submitted)."""
        path = self.cache / "sweeps" / "jobs" / f"{self.key(experiment)}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def log(self, experiment: str) -> Path:
        record = self.record(experiment)
        assert record is not None, f"{experiment} was never submitted"
        return Path(record["folder"]) / f"{record['job_id']}_0_log.out"

    def complete(self, experiment: str) -> bool:
        from fgcore.train import RunStore

        return RunStore(self.cache).entry(self.key(experiment)).is_complete()


def finish(process: subprocess.Popen, timeout: float) -> subprocess.CompletedProcess:
    """Wait for a sweep; one that hangs is killed and fails the test with what it printed."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the sweep did not end within {timeout:.0f} s (it waits for a task that will never report)"
                    f"\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}", pytrace=False)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)


def cancel_everything() -> None:
    """Leave the cluster empty for the next test (the cluster is the tier's own)."""
    jobs = subprocess.run(["squeue", "--noheader", "--format=%A"], capture_output=True, text=True).stdout.split()
    if jobs:
        subprocess.run(["scancel", *sorted(set(jobs))], capture_output=True)
        wait_until(lambda: not subprocess.run(["squeue", "--noheader"], capture_output=True, text=True).stdout.strip(),
                   60, "the queue to empty after scancel")


def worker_starts(log: Path) -> list[datetime]:
    """When each attempt of a task started, from the worker's first line (fgcore.sweep.worker)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return [datetime.strptime(m, "%Y-%m-%d %H:%M:%S")
            for m in re.findall(r"fgcore sweep worker: .* started (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)]


@pytest.fixture
def work(cluster, request):
    work = Work.create(cluster.state, request.node.name)
    yield work
    cancel_everything()


@pytest.fixture(scope="module")
def completed(cluster):
    """The two tiny experiments swept to completion on this cluster variant (shared by two tests)."""
    work = Work.create(cluster.state, f"completed-{'acct' if cluster.accounting else 'noacct'}")
    started = time.monotonic()
    result = work.sweep("slurm-a", "slurm-b")
    seconds = time.monotonic() - started
    yield work, result, seconds
    cancel_everything()


# -- submit, follow, complete; nothing twice ---------------------------------------------------------
def test_sweep_submits_one_array_follows_it_to_the_end_and_a_second_invocation_submits_nothing(completed):
    work, result, seconds = completed
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"slurm: submitted job array \d+ \(2 tasks\)", result.stdout), result.stdout
    assert result.stdout.count(" finished  ") == 2 and "FAILED" not in result.stdout, result.stdout
    assert work.complete("slurm-a") and work.complete("slurm-b")
    assert len(work.sbatch_calls()) == 1
    print(f"first sweep: {seconds:.1f} s")

    again = work.sweep("slurm-a", "slurm-b")
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout + again.stderr
    assert len(work.sbatch_calls()) == 1  # nothing submitted


def test_started_lines_give_the_time_the_task_started(completed):
    """Each `started` line carries the task's start time, not the time a slow poll noticed it."""
    work, result, _ = completed
    for experiment in ("slurm-a", "slurm-b"):
        key = work.key(experiment)[:12]
        line = next((l for l in result.stdout.splitlines() if " started " in l and key in l), None)
        assert line is not None, result.stdout
        printed = datetime.strptime(re.search(r" at (\d\d:\d\d:\d\d)", line).group(1), "%H:%M:%S").time()
        (actual,) = worker_starts(work.log(experiment))
        gap = abs((datetime.combine(actual.date(), printed) - actual).total_seconds())
        # the worker prints its line after Python and fgcore have started (seconds on a busy node)
        assert gap <= 10, f"{experiment}: the sweep said it started at {printed}, the task started at {actual.time()}"


def test_a_batch_log_gets_progress_lines_not_a_redraw_per_epoch(completed):
    work, _, _ = completed
    text = work.log("slurm-b").read_text(errors="replace")
    progress = [s for s in re.split(r"[\r\n]", text) if s.strip().startswith("train ")]
    assert 1 <= len(progress) <= 5, f"{len(progress)} progress writes for 100 epochs:\n" + "\n".join(progress[:10])


def test_claims_read_the_cache_the_cluster_filled(completed, claim_probe):
    work, result, _ = completed
    assert result.returncode == 0
    (work.root / "test_claims.py").write_text(claim_probe("slurmtest"))
    claims = subprocess.run([sys.executable, "-m", "pytest", "test_claims.py", "-p", "no:cacheprovider", "-q",
                             "--rootdir", str(work.root), "--fg-train", "never", "--fg-cache", str(work.cache)],
                            cwd=work.root, env=work.env, capture_output=True, text=True, timeout=300)
    assert claims.returncode == 0 and "2 passed" in claims.stdout, claims.stdout[-3000:] + claims.stderr[-2000:]


def test_no_wait_then_an_immediate_second_invocation_follows_instead_of_submitting(work):
    first = work.sweep("slurm-a", "slurm-b", "--no-wait")
    assert first.returncode == 0 and "submitted job array" in first.stdout, first.stdout + first.stderr
    second = work.sweep("slurm-a", "slurm-b")  # at once: accounting (if any) has no rows for the array yet
    assert len(work.sbatch_calls()) == 1, f"submitted twice:\n{second.stdout}"
    assert "following 2 run(s) already queued or running" in second.stdout, second.stdout
    assert second.returncode == 0 and second.stdout.count(" finished  ") == 2, second.stdout + second.stderr


def test_runs_submitted_a_moment_ago_count_as_in_flight(work, monkeypatch):
    """What a second invocation checks first, here within a second of the submission: accounting (if
    any) has no rows for the array yet, squeue has."""
    from fgcore.sweep.plan import plan_sweep
    from fgcore.sweep.slurm import SlurmOptions, _jobs_in_flight, run_submitit

    for name in ("FGCORE_FIXTURES", "PATH", "PYTHONPATH"):
        monkeypatch.setenv(name, work.env[name])
    plan = plan_sweep(["slurm-a", "slurm-b"], cache=work.cache, profile="paper")
    options = SlurmOptions(gpus_per_task=0, cpus_per_task=1, mem="500M", time="10")
    run_submitit(plan, options, wait=False, out=io.StringIO())
    assert len(work.sbatch_calls()) == 1
    assert set(_jobs_in_flight(plan, plan.todo, "slurm")) == {run.key for run in plan.todo}


# -- a task killed from outside ---------------------------------------------------------------------
def test_a_scancelled_task_is_reported_failed_and_only_it_is_resubmitted(work, cluster):
    process = work.start("slurm-a", "slurm-long")
    job = wait_until(lambda: (work.record("slurm-long") or {}).get("job_id"), 60, "the sweep to submit")
    wait_until(lambda: cluster.squeue().get(job) == "RUNNING" and worker_starts(work.log("slurm-long")), 120,
               f"task {job} to run")
    subprocess.run(["scancel", job], check=True)
    result = finish(process, timeout=120)
    assert not work.complete("slurm-long"), "slurm-long finished before it was cancelled: make it longer"
    assert result.returncode == 1, result.stdout + result.stderr  # one failed run
    failed = [line for line in result.stdout.splitlines() if " FAILED " in line]
    assert len(failed) == 1 and work.key("slurm-long")[:12] in failed[0] and job in failed[0], result.stdout
    seconds = re.search(r"after (\d+):(\d\d):(\d\d)", failed[0])
    assert seconds and seconds.groups() != ("0", "00", "00"), failed[0]  # it ran for a while
    assert work.complete("slurm-a")

    calls = len(work.sbatch_calls())
    again = work.sweep("slurm-a", "slurm-long")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 already complete" in again.stdout and "1 to run" in again.stdout, again.stdout
    assert len(work.sbatch_calls()) == calls + 1 and work.complete("slurm-long")
    assert again.stdout.count(" finished  ") == 1


# -- a time limit -------------------------------------------------------------------------------------
def test_a_time_limited_task_is_requeued_and_resumes_from_its_checkpoint(work):
    # --time 3: submitit asks SLURM for USR2 90 s before the limit, which comes 30-90 s after the start
    # (with a 2-minute limit it came 10-30 s after each start: 6 requeues took a busy node to epoch 38
    # of 100); the task
    # checkpoints every 2 s (FGCORE_CHECKPOINT_SECONDS), is requeued and goes on from its checkpoint.
    result = work.sweep("slurm-requeue", "--time", "3", "--max-requeues", "10", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    log = work.log("slurm-requeue")
    text = log.read_text(errors="replace")
    starts = worker_starts(log)
    assert len(starts) >= 2, f"one attempt only; log:\n{text[-3000:]}"
    resumed = [int(e) for e in re.findall(r"resumed from its checkpoint at epoch (\d+)", text)]
    assert resumed and all(e > 0 for e in resumed), text[-3000:]
    assert work.complete("slurm-requeue")
    history = [json.loads(l) for l in (work.cache / "runs" / work.key("slurm-requeue") / "history.jsonl").read_text()
               .splitlines()]
    # every epoch once, none lost or repeated
    assert [r["epoch"] for r in history] == list(range(REQUEUE_EPOCHS + 1))
    print(f"requeue: {len(starts)} attempts, resumed at epoch(s) {resumed}")


# -- what the cluster cannot run -----------------------------------------------------------------------
@pytest.mark.parametrize("args, option", [
    ((), "--gpus-per-task"),                                               # defaults: 1 GPU on a node without
    (("--gpus-per-task", "0", "--cpus-per-task", "1"), "--mem"),          # 32G on a smaller node
    (("--gpus-per-task", "0", "--mem", "500M"), "--cpus-per-task"),       # 8 CPUs on a 2-CPU node (sbatch
    ((*SMALL, "--partition", "nosuch"), "--partition"),                   # accepts it; it would pend forever)
], ids=["gpus", "mem", "cpus", "partition"])
def test_a_request_the_cluster_cannot_run_is_a_usage_error_naming_the_option(work, cluster, args, option):
    result = work.sweep("slurm-a", *args, small=False, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "error:" in result.stderr, result.stderr
    assert f"change {option}" in result.stderr or f"{option} " in result.stderr.split("error:", 1)[1], result.stderr
    assert "nothing was submitted" in result.stderr.lower() and not cluster.squeue()
