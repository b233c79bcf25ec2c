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

What is in flight, and when a task has ended, is read from squeue (every cluster) and sacct (where
accounting answers), never from accounting alone (fgcore.sweep.slurm_state): a task squeue lists is in
flight; one submitted less than SUBMIT_GRACE_SECONDS ago that neither knows is too; a task that leaves
the queue without a result has ended (scancel, out of memory, a node failure), with or without sacct
to say how. An sbatch rejection is a usage error that names the option to change
(fgcore.sweep.sbatch_errors).
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

from .. import settings
from . import slurm_state
from ..errors import UsageError
from ..machine import fgcore_import_root, visible_gpus
from .plan import Plan, PlannedRun
from .progress import Reporter, RunOutcome, SweepResult
from .worker import forwarded_environment, run_spec

STARTED_STATES = slurm_state.STARTED_STATES
# Right after sbatch, sacct may have no row for the array (5-10 s on a small cluster, longer on a busy
# one): a recorded job this young counts as in flight unless SLURM says it has ended.
SUBMIT_GRACE_SECONDS = 60.0
# A task squeue no longer lists has ended once that was seen on this many polls in a row (a result
# file written just before may take a moment to show on a network filesystem) ...
GONE_POLLS = 2
# ... or, where sacct still calls it active (its records lag the controller), after this long.
ACCOUNTING_LAG_SECONDS = 120.0
DEFAULT_POLL_SECONDS = 10.0
# Filesystems that compute nodes typically share with the login node.
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "lustre", "gpfs", "beegfs", "cifs", "smb3", "smbfs", "ceph", "cephfs",
                       "fuse.sshfs", "glusterfs", "fuse.glusterfs", "wekafs", "panfs", "pvfs2", "orangefs",
                       "fuse.juicefs", "9p", "afs", "fuse.ceph"}
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs"}


def temp_roots() -> tuple[Path, ...]:
    roots = {Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")}
    roots.update(path for path in settings.temp_dirs() if path.resolve() != Path("/"))
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
        hint = ("put it on a filesystem every node mounts (your home or project/scratch space), e.g. "
                "`mkdir -p /shared/$USER/fgcore-cache` and pass --cache /shared/$USER/fgcore-cache "
                "(or export FGCORE_CACHE=...)")
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
        raise UsageError("the slurm executor needs folders every node can read and write:\n  - "
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
            raise UsageError(f"--time {value!r}: use a SLURM time such as 720 (minutes), 12:00:00 or 1-00:00:00")
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
        raise UsageError(f"--time {value!r}: the time limit must be at least one minute")
    return minutes


def parse_sbatch(args: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Extra sbatch options ("--account=abc", "qos=high", "--exclusive") -> submitit's dict."""
    parsed: dict[str, Any] = {}
    for arg in args:
        body = arg[2:] if arg.startswith("--") else arg
        key, sep, value = body.partition("=")
        if not key or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key):
            raise UsageError(f"--sbatch {arg!r}: write sbatch options as --key=value (e.g. --account=myproj) "
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
    poll_interval: float = DEFAULT_POLL_SECONDS  # seconds between two looks at the queue while following

    @property
    def requests_gpus(self) -> bool:
        """Whether each task is given GPUs: --gpus-per-task, or a gres / gpus option through --sbatch."""
        return self.gpus_per_task > 0 or any(
            re.search(r"(^|-)(gres=\S*gpu|gpus(-per-[a-z]+)?=)", option) for option in self.sbatch)

    def __post_init__(self) -> None:
        parse_time(self.time)
        parse_sbatch(self.sbatch)
        for name in ("gpus_per_task", "cpus_per_task", "array_parallelism", "max_requeues"):
            value = getattr(self, name)
            low = 0 if name in ("gpus_per_task", "max_requeues") else 1
            if not isinstance(value, int) or value < low:
                raise UsageError(f"slurm option {name}: expected an integer >= {low}, got {value!r}")
        if not isinstance(self.poll_interval, (int, float)) or not 0 < self.poll_interval <= 3600:
            raise UsageError(f"slurm option poll_interval: expected seconds between 0 and 3600 (e.g. 10), got "
                             f"{self.poll_interval!r}")
        if self.mem is not None and not re.fullmatch(r"\d+(\.\d+)?[KMGT]?B?", str(self.mem), re.IGNORECASE):
            raise UsageError(f"slurm option mem: {self.mem!r} is not a SLURM memory size such as 32G or 64000M")

    def updated(self, values: Mapping[str, Any], where: str) -> "SlurmOptions":
        """A copy with `values` (from a sweep file's [slurm] table or the command line) applied."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UsageError(f"{where}: unknown slurm option(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
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
    """A local submitit job's state (the slurm path reads squeue and sacct itself: slurm_state)."""
    try:
        return str(job.state).split()[0].upper()
    except Exception:
        return "UNKNOWN"


@dataclass
class _Followed:
    """A task being followed: its run and job, and what this process has seen of it."""

    run: PlannedRun
    job: Any
    submitted: float                 # epoch seconds (the registry's time for a job submitted earlier)
    started: float | None = None     # when it started, as SLURM (or its log) says; None: not yet seen
    seen_in_queue: bool = False
    absent_polls: int = 0
    absent_since: float | None = None


def _recorded_jobs(plan: Plan, runs: list[PlannedRun]) -> dict[str, dict[str, Any]]:
    recorded = {}
    for run in runs:
        try:
            record = json.loads(_registry_file(plan, run.key).read_text())
        except (OSError, ValueError):
            continue
        if record.get("cluster") == "slurm" and record.get("job_id"):
            recorded[run.key] = record
    return recorded


def _jobs_in_flight(plan: Plan, runs: list[PlannedRun], cluster: str) -> dict[str, _Followed]:
    """run key -> its recorded SLURM task, for the runs whose task may still produce them.

    In flight: squeue lists the task (queued, running, requeued), or sacct calls it active, or it was
    submitted less than SUBMIT_GRACE_SECONDS ago and neither squeue nor sacct knows that it ended.
    Works without accounting. When squeue does not answer, nothing can be decided: ValueError (and
    nothing is submitted, so nothing is submitted twice).
    """
    if cluster != "slurm":
        return {}  # a local job cannot outlive the process that started it
    recorded = _recorded_jobs(plan, runs)
    if not recorded:
        return {}
    snapshot = slurm_state.query(r["job_id"] for r in recorded.values())
    if snapshot.squeue_error is not None:
        raise UsageError(f"cannot tell which runs of this sweep are still queued or running ({snapshot.squeue_error}); "
                         f"nothing was submitted, so no run is submitted twice. Start the same command again "
                         f"when squeue answers")
    submitit = _submitit()

    now = time.time()
    by_key = {run.key: run for run in runs}
    in_flight = {}
    for key, record in recorded.items():
        task = snapshot.get(record["job_id"])
        submitted = float(record.get("submitted") or 0.0)
        # A sweep that saw the task end wrote so ("ended"): then no grace, whatever its age.
        young = now - submitted < SUBMIT_GRACE_SECONDS and task.state is None and not record.get("ended")
        if task.active or young:
            job = submitit.SlurmJob(folder=record["folder"], job_id=record["job_id"])
            in_flight[key] = _Followed(by_key[key], job, submitted, started=task.start if task.started else None,
                                       seen_in_queue=task.source == "squeue")
    return in_flight


def _submitit():
    """The submitit module, or a usage error that says how to get it (a node without an index may lack
    it; the local executor does without)."""
    try:
        import submitit
    except ImportError:
        raise UsageError("missing submitit: pip install submitit (the slurm and submitit-local executors use it; "
                         "`--executor local` works without it)") from None
    return submitit


def _executor(plan: Plan, options: SlurmOptions, cluster: str, folder: Path):
    submitit = _submitit()

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


def _submit(executor, task: "TrainTask", runs: list[PlannedRun], plan: Plan, env: dict[str, str],
            threads: int | None, options: SlurmOptions, cluster: str) -> list[Any]:
    """One sbatch call for all runs (a job array); sbatch's refusal becomes a usage error (ValueError)."""
    from submitit.core.utils import FailedJobError

    jobs = []
    try:
        with executor.batch():
            for run in runs:
                jobs.append(executor.submit(task, run.spec.to_dict(), str(plan.cache), run.key, env, threads))
    except FailedJobError as exc:
        if cluster != "slurm":
            raise
        from .sbatch_errors import explain_rejection

        raise UsageError(explain_rejection(str(exc), options)) from None
    return jobs


def run_submitit(plan: Plan, options: SlurmOptions | None = None, *, cluster: str = "slurm", wait: bool = True,
                 out: TextIO | None = None, bar: bool | None = None, poll: float | None = None) -> SweepResult:
    """Submit plan.todo as a job array (cluster "slurm") or as local submitit jobs ("local"), then follow
    them until they end (wait=False: submit and return). Never raises for a failed run; raises
    ValueError for what the user must change (folders, an sbatch rejection, a cluster that does not
    answer). poll: seconds between two looks at the queue (default options.poll_interval; 0.5 locally)."""
    if cluster not in ("slurm", "local"):
        raise UsageError(f"cluster must be 'slurm' or 'local', got {cluster!r}")
    options = options or SlurmOptions()
    out = out or sys.stdout
    name = "slurm" if cluster == "slurm" else "submitit-local"
    result = SweepResult(plan=plan, executor=name)
    folder = Path(options.job_dir).expanduser() if options.job_dir else plan.sweep_dir / "submitit"
    if cluster == "slurm":
        if shutil.which("sbatch") is None:
            raise UsageError("sbatch is not on PATH: run `fgcore sweep --executor slurm` on a login node of the "
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

    following = _jobs_in_flight(plan, plan.todo, cluster)
    to_submit = [run for run in plan.todo if run.key not in following]
    if following:
        print(f"following {len(following)} run(s) already queued or running: jobs "
              f"{', '.join(sorted(f.job.job_id for f in following.values()))}", file=out, flush=True)
    if to_submit:
        if cluster == "slurm":
            from .sbatch_errors import check_fits

            check_fits(options)  # what sbatch would accept but no node could ever run
        executor = _executor(plan, options, cluster, folder)
        env = forwarded_environment()
        if cluster == "slurm":
            given_gpus = options.requests_gpus
        else:
            given_gpus = min(options.gpus_per_task, len(visible_gpus())) > 0
        if given_gpus and "FGCORE_DEVICE" not in env:
            # Tasks that were given GPUs train on them, float32 runs included (whose default is the CPU).
            env["FGCORE_DEVICE"] = "cuda"
        # Local CPU jobs all start at once: share the cores instead of oversubscribing them. On a
        # cluster the allocation (cpus_per_task) bounds torch already.
        threads = None
        if cluster == "local" and not visible_gpus():
            threads = max(1, (os.cpu_count() or 1) // len(to_submit))
        jobs = _submit(executor, TrainTask(), to_submit, plan, env, threads, options, cluster)
        now = time.time()
        registry = plan.cache / "sweeps" / "jobs"
        registry.mkdir(parents=True, exist_ok=True)
        from ..fileio import atomic_write_json

        for run, job in zip(to_submit, jobs):
            following[run.key] = _Followed(run, job, now)
            atomic_write_json(_registry_file(plan, run.key), {
                "cluster": cluster, "job_id": job.job_id, "folder": str(folder), "sweep": plan.sweep_id,
                "submitted": now, "short": run.spec.short})
        ids = [job.job_id for job in jobs]
        arrays = sorted({i.split("_")[0] for i in ids if "_" in i})
        what = f"job array {', '.join(arrays)} ({len(ids)} tasks)" if arrays else f"job(s) {', '.join(ids)}"
        print(f"{name}: submitted {what}; submitit logs in {folder}", file=out, flush=True)
    result.job_ids = sorted(f.job.job_id for f in following.values())
    if not wait:
        result.waited = False
        return result
    _follow(plan, following, result, cluster, out=out, bar=bar,
            poll=poll if poll is not None else (options.poll_interval if cluster == "slurm" else 0.5))
    return result


def _log_start(log: Path) -> float | None:
    """When the task's first attempt began, from the worker's first line (fgcore.sweep.worker)."""
    try:
        with open(log, errors="replace") as handle:
            for line in handle:
                match = re.search(r"fgcore sweep worker: .* started (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", line)
                if match:
                    return time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S"))
    except OSError:
        pass
    return None


def _outcome(plan: Plan, followed: _Followed, reason: str | None, ended: float) -> RunOutcome:
    from ..train.cache import RunStore

    job = followed.job
    log = Path(job.paths.stdout)
    started = followed.started or _log_start(log)
    seconds = ended - started if started else 0.0
    if not job.paths.result_pickle.exists():  # killed, cancelled, out of memory, node failure
        return RunOutcome(followed.run, ok=False, seconds=seconds, log=log, job_id=job.job_id,
                          error=f"job {job.job_id} ended without a result ({reason or 'no result file'})")
    try:
        job.result()  # the result file exists: no waiting
    except Exception as exc:
        from submitit.core.utils import FailedJobError

        error = (f"job {job.job_id} raised an exception" if isinstance(exc, FailedJobError)  # its log says which
                 else f"job {job.job_id} ended without a result ({exc})")
        return RunOutcome(followed.run, ok=False, seconds=seconds, log=log, job_id=job.job_id, error=error)
    if not RunStore(plan.cache).entry(followed.run.key).is_complete():
        return RunOutcome(followed.run, ok=False, seconds=seconds, log=log, job_id=job.job_id,
                          error=f"job {job.job_id} ended but the cache entry is not complete")
    return RunOutcome(followed.run, ok=True, seconds=seconds, log=log, job_id=job.job_id)


def _look_slurm(followed: _Followed, task: slurm_state.TaskState, squeue_answered: bool,
                now: float) -> tuple[bool, str | None]:
    """(ended, why) for a SLURM task from one look at the queue; updates what `followed` has seen."""
    if task.started and followed.started is None:
        followed.started = task.start or now
    if task.source == "squeue":
        followed.seen_in_queue, followed.absent_polls, followed.absent_since = True, 0, None
        return False, None
    if not squeue_answered:
        return False, None  # cannot tell this time
    followed.absent_polls += 1
    followed.absent_since = followed.absent_since or now
    if followed.job.paths.result_pickle.exists():
        return True, None
    if task.active:  # sacct still calls it active after squeue let it go: its records lag
        if now - followed.absent_since < ACCOUNTING_LAG_SECONDS:
            return False, None
        return True, f"no longer in the queue; accounting still says {task.state}"
    if followed.absent_polls < GONE_POLLS:
        return False, None
    if task.state is None and not followed.seen_in_queue and now - followed.submitted < SUBMIT_GRACE_SECONDS:
        return False, None  # submitted a moment ago and not listed yet
    if task.state is not None:
        return True, f"state {task.state}"
    return True, ("no longer in the queue: cancelled, killed or its node failed; this cluster keeps no "
                  "accounting (sacct) to say which")


def _record_end(plan: Plan, followed: _Followed, outcome: RunOutcome, now: float) -> None:
    """Note in the registry that this task ended, so a later sweep never waits for it again."""
    path = _registry_file(plan, followed.run.key)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if record.get("job_id") != followed.job.job_id:
        return  # the run was submitted again meanwhile (another sweep): its record is not ours to touch
    from ..fileio import atomic_write_json

    atomic_write_json(path, {**record, "ended": now, "ok": outcome.ok, "error": outcome.error})


def _look_local(followed: _Followed, now: float) -> tuple[bool, str | None]:
    job = followed.job
    done = job.done()
    if followed.started is None and (done or _state(job) in STARTED_STATES):
        followed.started = now
    return done, None if not done else f"state {_state(job)}"


def _follow(plan: Plan, following: dict[str, _Followed], result: SweepResult, cluster: str, *, out: TextIO,
            bar: bool | None, poll: float) -> None:
    reporter = Reporter(plan, len(following), out=out, bar=bar)
    announced: set[str] = set()
    pending = dict(following)
    try:
        while pending:
            snapshot = slurm_state.query(f.job.job_id for f in pending.values()) if cluster == "slurm" else None
            now = time.time()
            for key, followed in list(pending.items()):
                if snapshot is not None:
                    ended, why = _look_slurm(followed, snapshot.get(followed.job.job_id),
                                             snapshot.squeue_error is None, now)
                else:
                    ended, why = _look_local(followed, now)
                if ended and followed.started is None:
                    followed.started = _log_start(Path(followed.job.paths.stdout))
                if key not in announced and followed.started is not None:
                    announced.add(key)
                    reporter.started_run(followed.run, f"as job {followed.job.job_id}", at=followed.started)
                if ended:
                    outcome = _outcome(plan, followed, why, now)
                    result.outcomes.append(outcome)
                    reporter.finished(outcome)
                    _record_end(plan, followed, outcome, now)
                    del pending[key]
            if pending:
                time.sleep(poll)
    except KeyboardInterrupt:
        result.interrupted = True
        ids = sorted(f.job.job_id for f in pending.values())
        if cluster == "slurm":
            reporter.say(f"stopped following; the {len(ids)} unfinished job(s) keep running on the cluster "
                         f"({', '.join(ids)}). Start the same command again to follow them, or cancel them "
                         f"with: scancel {' '.join(sorted({i.split('_')[0] for i in ids}))}")
        else:
            for followed in pending.values():
                followed.job.cancel(check=False)
    finally:
        reporter.close()
