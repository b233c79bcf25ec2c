"""The SLURM executor: the runs of a plan as one submitit job array (one array task per run).

Every task calls fgcore.train.train(spec) on the node it lands on, writing into the shared cache;
the same code path runs through submitit's local executor (`--executor submitit-local`, used by the
tests) without a cluster. The cache root and the submitit job folder must be on a filesystem that
every node sees: they are checked before anything is submitted.

A task is a submitit Checkpointable: when SLURM preempts it or its time limit comes, submitit requeues
it (up to `max_requeues` times) and the trainer resumes from its last checkpoint in the cache.
Submitted jobs are recorded in $FGCORE_CACHE/sweeps/jobs/<key>.json, so the same command started
again (after Ctrl-C, --no-wait or a logout) follows the runs still queued or running instead of
submitting them twice, and submits only what is neither complete nor in flight.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping, TextIO

from .gpus import visible_gpus
from .local import fgcore_import_root
from .plan import Plan, PlannedRun
from .progress import Reporter, RunOutcome, SweepResult
from .worker import forwarded_environment, run_spec

# Job states in which a job may still produce its run (sacct's names; submitit passes them through).
ACTIVE_STATES = {"PENDING", "RUNNING", "REQUEUED", "CONFIGURING", "COMPLETING", "SUSPENDED", "RESIZING",
                 "REQUEUE_HOLD", "REQUEUE_FED", "SIGNALING", "STAGE_OUT"}
STARTED_STATES = {"RUNNING", "COMPLETING"}
# Filesystems that compute nodes typically share with the login node.
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "lustre", "gpfs", "beegfs", "cifs", "smb3", "smbfs", "ceph", "cephfs",
                       "fuse.sshfs", "glusterfs", "fuse.glusterfs", "wekafs", "panfs", "pvfs2", "orangefs",
                       "fuse.juicefs", "9p", "afs", "fuse.ceph"}
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs"}


def temp_roots() -> tuple[Path, ...]:
    roots = {Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")}
    for name in ("TMPDIR", "TMP", "TEMP"):
        value = os.environ.get(name)
        if value and Path(value).resolve() != Path("/"):
            roots.add(Path(value))
    return tuple(sorted(roots))


def _mount_of(path: Path) -> tuple[str, str] | None:
    """(mount point, filesystem type) holding `path`, from /proc/self/mounts (None if unknown)."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    best = None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1].replace("\\040", " ")
        if path == Path(mount) or Path(mount) in path.parents:
            if best is None or len(mount) > len(best[0]):
                best = (mount, parts[2])
    return best


def check_shared_dirs(dirs: Mapping[str, Path], *, create: tuple[str, ...] = (),
                      temp: tuple[Path, ...] | None = None) -> list[str]:
    """Check that each folder can serve every node of a cluster; raise ValueError listing what to do.

    dirs: what the folder is (said in the message) -> path. Names in `create` are made if missing.
    Errors: under /tmp, /var/tmp, /dev/shm or $TMPDIR (local to each node and cleaned up), on a
    memory filesystem, missing, not a folder, not writable. Returns warnings: folders on a
    filesystem that is not a known network filesystem (fine only if the cluster shares it).
    """
    temp = temp_roots() if temp is None else temp
    problems, warnings = [], []
    warned_mounts: set[str] = set()
    for label, path in dirs.items():
        resolved = Path(path).expanduser().resolve()
        hint = (f"put it on a filesystem every node mounts (your home or project/scratch space), e.g. "
                f"`mkdir -p /shared/$USER/fgcore-cache` and pass --cache /shared/$USER/fgcore-cache "
                f"(or export FGCORE_CACHE=...)")
        under = next((t for t in temp if resolved == t.resolve() or t.resolve() in resolved.parents), None)
        if under is not None:
            problems.append(f"{label} {resolved} is under {under}, which is local to each node (and cleaned "
                            f"up): the compute nodes would not see it; {hint}")
            continue
        if label in create:
            try:
                resolved.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                problems.append(f"{label} {resolved} cannot be created ({exc.strerror}); {hint}")
                continue
        if not resolved.exists():
            problems.append(f"{label} {resolved} does not exist; create it with `mkdir -p {resolved}` "
                            f"(it must be on a filesystem every node mounts)")
            continue
        if not resolved.is_dir():
            problems.append(f"{label} {resolved} is not a folder")
            continue
        try:
            with tempfile.NamedTemporaryFile(dir=resolved, prefix=".fgcore-write-test-"):
                pass
        except OSError as exc:
            problems.append(f"{label} {resolved} is not writable ({exc.strerror}); choose a folder you can "
                            f"write to")
            continue
        mount = _mount_of(resolved)
        if mount is not None and mount[1] in MEMORY_FILESYSTEMS:
            problems.append(f"{label} {resolved} is on {mount[1]} (memory of this node only, mounted at "
                            f"{mount[0]}); {hint}")
        elif mount is not None and mount[1] not in NETWORK_FILESYSTEMS and mount[0] not in warned_mounts:
            warned_mounts.add(mount[0])  # once per filesystem (the job folder usually lies in the cache)
            warnings.append(f"{label} {resolved} is on a {mount[1]} filesystem (mounted at {mount[0]}), not a "
                            f"known network filesystem: jobs fail if the compute nodes do not see it")
    if problems:
        raise ValueError("the slurm executor needs folders every node can read and write:\n  - "
                         + "\n  - ".join(problems))
    return warnings


# -- options ---------------------------------------------------------------------------------------
def parse_time(value: str | int) -> int:
    """SLURM time limit ("minutes", "HH:MM:SS", "D-HH", "D-HH:MM[:SS]", "MM:SS") -> whole minutes."""
    if isinstance(value, int):
        minutes = value
    else:
        text = str(value).strip()
        match = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text)
        if not match:
            raise ValueError(f"--time {value!r}: use a SLURM time such as 720 (minutes), 12:00:00 or 1-00:00:00")
        days, a, b, c = match.groups()
        if days is not None:  # D-HH[:MM[:SS]]
            minutes = int(days) * 1440 + int(a) * 60 + int(b or 0) + (int(c or 0) + 59) // 60
        elif c is not None:  # HH:MM:SS
            minutes = int(a) * 60 + int(b) + (int(c) + 59) // 60
        elif b is not None:  # MM:SS
            minutes = int(a) + (int(b) + 59) // 60
        else:
            minutes = int(a)
    if minutes < 1:
        raise ValueError(f"--time {value!r}: the time limit must be at least one minute")
    return minutes


def parse_sbatch(args: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Extra sbatch options ("--account=abc", "qos=high", "--exclusive") -> submitit's dict."""
    parsed: dict[str, Any] = {}
    for arg in args:
        body = arg[2:] if arg.startswith("--") else arg
        key, sep, value = body.partition("=")
        if not key or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key):
            raise ValueError(f"--sbatch {arg!r}: write sbatch options as --key=value (e.g. --account=myproj) "
                             f"or --flag")
        parsed[key.replace("-", "_")] = value if sep else True
    return parsed


@dataclass(frozen=True)
class SlurmOptions:
    """Resources of each array task. Defaults fit one ResNet-18 CIFAR run of the paper's schedule."""

    partition: str | None = None
    gpus_per_task: int = 1
    cpus_per_task: int = 8
    time: str = "24:00:00"
    mem: str | None = "32G"
    array_parallelism: int = 32
    sbatch: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    job_dir: str | None = None
    max_requeues: int = 3

    def __post_init__(self) -> None:
        parse_time(self.time)
        parse_sbatch(self.sbatch)
        for name in ("gpus_per_task", "cpus_per_task", "array_parallelism", "max_requeues"):
            value = getattr(self, name)
            low = 0 if name in ("gpus_per_task", "max_requeues") else 1
            if not isinstance(value, int) or value < low:
                raise ValueError(f"slurm option {name}: expected an integer >= {low}, got {value!r}")
        if self.mem is not None and not re.fullmatch(r"\d+(\.\d+)?[KMGT]?B?", str(self.mem), re.IGNORECASE):
            raise ValueError(f"slurm option mem: {self.mem!r} is not a SLURM memory size such as 32G or 64000M")

    def updated(self, values: Mapping[str, Any], where: str) -> "SlurmOptions":
        """A copy with `values` (from a sweep file's [slurm] table or the command line) applied."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{where}: unknown slurm option(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        values = {k: (tuple(v) if k in ("sbatch", "setup") else v) for k, v in values.items() if v is not None}
        return replace(self, **values)


class TrainTask:
    """One array task: train one run into the cache (requeued with the same arguments on timeout)."""

    def __call__(self, spec_dict: dict[str, Any], cache: str, key: str, env: dict[str, str],
                 threads: int | None = None) -> dict[str, Any]:
        return run_spec(spec_dict, cache, key, env, threads=threads)

    def checkpoint(self, *args: Any, **kwargs: Any):
        # Nothing to save here: the trainer checkpoints into the cache and resumes from it.
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(self, *args, **kwargs)


# -- submission and following ----------------------------------------------------------------------
def _registry_file(plan: Plan, key: str) -> Path:
    return plan.cache / "sweeps" / "jobs" / f"{key}.json"


def _state(job) -> str:
    try:
        return str(job.state).split()[0].upper()
    except Exception:  # sacct unreachable for a moment: not a reason to stop following the job
        return "UNKNOWN"


def _jobs_in_flight(plan: Plan, runs: list[PlannedRun], cluster: str) -> dict[str, Any]:
    """run key -> its recorded SLURM job, for the runs whose job is still queued or running."""
    if cluster != "slurm":
        return {}  # a local job cannot outlive the process that started it
    recorded = {}
    for run in runs:
        try:
            record = json.loads(_registry_file(plan, run.key).read_text())
        except (OSError, ValueError):
            continue
        if record.get("cluster") == "slurm":
            recorded[run.key] = record
    if not recorded:
        return {}
    import submitit

    jobs = {key: submitit.SlurmJob(folder=r["folder"], job_id=r["job_id"]) for key, r in recorded.items()}
    submitit.SlurmJob.watcher.update()  # one sacct call for all of them
    states = {key: str(submitit.SlurmJob.watcher.get_state(job.job_id, mode="cache")).split()[0].upper()
              for key, job in jobs.items()}
    return {key: job for key, job in jobs.items() if states[key] in ACTIVE_STATES}


def _executor(plan: Plan, options: SlurmOptions, cluster: str, folder: Path):
    import submitit

    executor = submitit.AutoExecutor(folder=folder, cluster=cluster, slurm_max_num_timeout=options.max_requeues,
                                     local_max_num_timeout=options.max_requeues)
    root = fgcore_import_root()
    # The task must import the same fgcore as this process, also when it is not pip-installed.
    pythonpath = f'export PYTHONPATH="{root}${{PYTHONPATH:+:$PYTHONPATH}}"'
    gpus = options.gpus_per_task if cluster == "slurm" else min(options.gpus_per_task, len(visible_gpus()))
    # gpus 0 -> no --gpus-per-node line at all, for clusters that take GPUs through --sbatch gres=gpu:N
    executor.update_parameters(
        name=f"fgcore-{plan.sweep_id}"[:64], timeout_min=parse_time(options.time), gpus_per_node=gpus or None,
        cpus_per_task=options.cpus_per_task, stderr_to_stdout=True,
        slurm_partition=options.partition, slurm_mem=options.mem,
        slurm_array_parallelism=options.array_parallelism,
        slurm_additional_parameters=parse_sbatch(options.sbatch) or None,
        slurm_setup=[*options.setup, pythonpath], local_setup=[*options.setup, pythonpath])
    return executor


def run_submitit(plan: Plan, options: SlurmOptions | None = None, *, cluster: str = "slurm", wait: bool = True,
                 out: TextIO | None = None, bar: bool | None = None, poll: float | None = None) -> SweepResult:
    """Submit plan.todo as a job array (cluster "slurm") or as local submitit jobs ("local"), then follow
    them until they end (wait=False: submit and return). Never raises for a failed run."""
    if cluster not in ("slurm", "local"):
        raise ValueError(f"cluster must be 'slurm' or 'local', got {cluster!r}")
    options = options or SlurmOptions()
    out = out or sys.stdout
    name = "slurm" if cluster == "slurm" else "submitit-local"
    result = SweepResult(plan=plan, executor=name)
    folder = Path(options.job_dir).expanduser() if options.job_dir else plan.sweep_dir / "submitit"
    if cluster == "slurm":
        if shutil.which("sbatch") is None:
            raise ValueError("sbatch is not on PATH: run `fgcore sweep --executor slurm` on a login node of the "
                             "SLURM cluster (or use --executor local on a machine with GPUs)")
        for warning in check_shared_dirs({"the cache root (--cache / FGCORE_CACHE)": plan.cache,
                                          "the submitit job folder (--job-dir)": folder},
                                         create=("the submitit job folder (--job-dir)",)):
            print(f"warning: {warning}", file=sys.stderr)
    if not plan.todo:
        return result
    folder.mkdir(parents=True, exist_ok=True)
    plan.sweep_dir.mkdir(parents=True, exist_ok=True)
    plan.write()

    in_flight = _jobs_in_flight(plan, plan.todo, cluster)
    following: dict[str, tuple[PlannedRun, Any, float]] = {
        run.key: (run, in_flight[run.key], time.monotonic()) for run in plan.todo if run.key in in_flight}
    to_submit = [run for run in plan.todo if run.key not in in_flight]
    if following:
        print(f"following {len(following)} run(s) already queued or running: jobs "
              f"{', '.join(sorted(j.job_id for _, j, _ in following.values()))}", file=out, flush=True)
    if to_submit:
        executor = _executor(plan, options, cluster, folder)
        env = {**forwarded_environment(), "TQDM_MININTERVAL": os.environ.get("TQDM_MININTERVAL", "30")}
        # Local CPU jobs all start at once: share the cores instead of oversubscribing them. On a
        # cluster the allocation (cpus_per_task) bounds torch already.
        threads = None
        if cluster == "local" and not visible_gpus():
            threads = max(1, (os.cpu_count() or 1) // len(to_submit))
        task = TrainTask()
        jobs = []
        with executor.batch():
            for run in to_submit:
                jobs.append(executor.submit(task, run.spec.to_dict(), str(plan.cache), run.key, env, threads))
        now = time.monotonic()
        registry = plan.cache / "sweeps" / "jobs"
        registry.mkdir(parents=True, exist_ok=True)
        from ..train.cache import atomic_write_json

        for run, job in zip(to_submit, jobs):
            following[run.key] = (run, job, now)
            atomic_write_json(_registry_file(plan, run.key), {
                "cluster": cluster, "job_id": job.job_id, "folder": str(folder), "sweep": plan.sweep_id,
                "submitted": time.time(), "short": run.spec.short})
        ids = [job.job_id for job in jobs]
        arrays = sorted({i.split("_")[0] for i in ids if "_" in i})
        what = f"job array {', '.join(arrays)} ({len(ids)} tasks)" if arrays else f"job(s) {', '.join(ids)}"
        print(f"{name}: submitted {what}; submitit logs in {folder}", file=out, flush=True)
    result.job_ids = sorted(j.job_id for _, j, _ in following.values())
    if not wait:
        result.waited = False
        return result
    _follow(plan, following, result, cluster, out=out, bar=bar,
            poll=poll if poll is not None else (30.0 if cluster == "slurm" else 0.5))
    return result


def _outcome(plan: Plan, run: PlannedRun, job, started: float) -> RunOutcome:
    from ..train.cache import RunStore

    log = Path(job.paths.stdout)
    seconds = time.monotonic() - started
    try:
        summary = job.result()
    except Exception as exc:  # FailedJobError (the task raised) or UncompletedJobError (killed, cancelled)
        from submitit.core.utils import FailedJobError

        if isinstance(exc, FailedJobError):
            error = f"job {job.job_id} raised an exception"  # the reporter prints its last line from the log
        else:
            error = f"job {job.job_id} ended without a result (state {_state(job)})"
        return RunOutcome(run, ok=False, seconds=seconds, log=log, job_id=job.job_id, error=error)
    if isinstance(summary, dict) and "seconds" in summary:
        seconds = float(summary["seconds"])
    if not RunStore(plan.cache).entry(run.key).is_complete():
        return RunOutcome(run, ok=False, seconds=seconds, log=log, job_id=job.job_id,
                          error=f"job {job.job_id} ended but the cache entry is not complete")
    return RunOutcome(run, ok=True, seconds=seconds, log=log, job_id=job.job_id)


def _follow(plan: Plan, following: dict, result: SweepResult, cluster: str, *, out: TextIO,
            bar: bool | None, poll: float) -> None:
    reporter = Reporter(plan, len(following), out=out, bar=bar)
    seen_running: set[str] = set()
    pending = dict(following)
    try:
        while pending:
            for key, (run, job, submitted) in list(pending.items()):
                done = job.done()
                if key not in seen_running and (done or _state(job) in STARTED_STATES):
                    seen_running.add(key)
                    reporter.started_run(run, f"as job {job.job_id}")
                    pending[key] = (run, job, time.monotonic())
                if done:
                    outcome = _outcome(plan, run, job, pending[key][2])
                    result.outcomes.append(outcome)
                    reporter.finished(outcome)
                    del pending[key]
            if pending:
                time.sleep(poll)
    except KeyboardInterrupt:
        result.interrupted = True
        ids = sorted(job.job_id for _, job, _ in pending.values())
        if cluster == "slurm":
            reporter.say(f"stopped following; the {len(ids)} unfinished job(s) keep running on the cluster "
                         f"({', '.join(ids)}). Start the same command again to follow them, or cancel them "
                         f"with: scancel {' '.join(sorted({i.split('_')[0] for i in ids}))}")
        else:
            for _, job, _ in pending.values():
                job.cancel(check=False)
    finally:
        reporter.close()
