"""`fgcore sweep`: train many runs at once, on this machine's GPUs or on a SLURM cluster.

    plan = plan_sweep(["cifar10-resnet18-coarse"], profile="quick")  # distinct RunSpecs; the cached ones marked
    result = run_local(plan)                       # or run_submitit(plan, SlurmOptions(...))
    result.exit_code                               # number of failed runs (<= 100)

or in one call: sweep(["cifar10-resnet18-coarse"], executor="local", profile="quick").
Submodules: plan (targets -> Plan), local (one process per run, pinned to a GPU), slurm (submitit job
arrays), worker (trains one run), cli. Which GPUs a process sees: fgcore.machine.
Importing this package is cheap (no torch).
"""

from __future__ import annotations

import os
import shlex
from typing import Any, Iterable, Sequence

from ..errors import UsageError

EXECUTORS = ("local", "slurm", "submitit-local")

_LAZY = {
    "Plan": "plan", "PlannedRun": "plan", "plan_sweep": "plan", "load_sweep_file": "plan",
    "run_local": "local", "run_submitit": "slurm", "SlurmOptions": "slurm", "check_shared_dirs": "slurm",
    "SweepResult": "progress", "RunOutcome": "progress",
}


def __getattr__(name: str) -> Any:  # PEP 562: the heavy parts (torch, submitit) load on first use
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sweep(targets: Sequence[str] = (), *, executor: str = "local", tiers: Sequence[str] = (),
          profile: str | None = None, seeds: Iterable[int] | None = None, cache: str | os.PathLike | None = None,
          workers: int | None = None, gpus: Sequence[str] | None = None, slurm=None, wait: bool = True,
          bar: bool | None = None, out=None, device: str = "auto"):
    """Plan and run a sweep; returns a SweepResult (its exit_code counts the failed runs)."""
    from .plan import plan_sweep

    if executor not in EXECUTORS:
        raise UsageError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    plan = plan_sweep(targets, tiers=tiers, profile=profile, seeds=seeds, cache=cache)
    if executor == "local":
        from .local import run_local

        return run_local(plan, workers=workers, gpus=gpus, bar=bar, out=out, device=device)
    from .slurm import SlurmOptions, run_submitit

    options = SlurmOptions().updated(plan.slurm_defaults, "sweep file [slurm]")
    if slurm is not None:
        options = options.updated(slurm, "slurm options") if isinstance(slurm, dict) else slurm
    return run_submitit(plan, options, cluster="slurm" if executor == "slurm" else "local", wait=wait,
                        bar=bar, out=out)


def sweep_command(experiments: str | Sequence[str], *, profile: str | None = None, seed: int = 0,
                  cache: str | os.PathLike | None = None, executor: str | None = None) -> str:
    """The `fgcore sweep ...` command line that produces the runs of these experiments.

    What `pytest --fg-train never` prints for a run missing from the cache: the same profile, seed and
    cache as the pytest session, so the command fills exactly the entries the claims read.
    """
    names = [experiments] if isinstance(experiments, str) else list(experiments)
    parts = ["fgcore", "sweep", *names]
    if executor and executor != "local":
        parts += ["--executor", executor]
    if profile:
        parts += ["--profile", profile]
    if seed:
        parts += ["--seed", str(seed)]
    if cache is not None:
        parts += ["--cache", str(cache)]
    return " ".join(shlex.quote(p) for p in parts)


__all__ = ["EXECUTORS", "sweep", "sweep_command", *_LAZY]
