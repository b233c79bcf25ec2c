"""Train one run of a sweep: the body of a local worker process and of a SLURM array task.

`python -m fgcore.sweep.worker --cache ROOT --key KEY SPEC_JSON` (what the local executor starts,
with its output going to the run's log file); run_spec() is the same for submitit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any, Mapping

from ..machine import set_torch_threads

# Environment variables that say where a run's data lives, how often it checkpoints and how often it
# logs its progress; the controller passes its values so a job on another node agrees with it. (What
# the run is, FGCORE_CIFAR10's choice included, is in the resolved spec the job receives.)
FORWARDED_ENV = ("FGCORE_DATA", "FGCORE_CHECKPOINT_SECONDS", "FGCORE_LOG_PROGRESS_SECONDS")


def forwarded_environment() -> dict[str, str]:
    return {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}


def run_spec(spec_dict: Mapping[str, Any], cache: str, key: str, env: Mapping[str, str] | None = None,
             *, threads: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Train (or load) one RunSpec into `cache`; check it is the run the controller planned.

    threads: torch CPU threads (None: torch's default), for several CPU runs sharing one machine.
    Returns a small summary (key, seconds, final accuracies). Raises on any failure, so the caller
    (a worker process or a submitit task) reports it.
    """
    for name, value in (env or {}).items():
        os.environ[name] = value
    from ..train import RunSpec, train

    set_torch_threads(threads)

    spec = RunSpec.from_dict(spec_dict)
    if spec.key != key:
        raise RuntimeError(
            f"this process computes cache key {spec.key} for the run the sweep planned as {key}: the "
            f"training code version differs between the machine that planned the sweep and this one; use "
            f"the same fgcore checkout on both")
    print(f"fgcore sweep worker: {spec.short} [{key}] on {platform.node()}, pid {os.getpid()}, "
          f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}, "
          f"started {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
    print("spec: " + json.dumps(spec.to_dict(), sort_keys=True), flush=True)
    started = time.perf_counter()
    run = train(spec, cache=cache, progress=progress)
    last = run.record("last")
    seconds = time.perf_counter() - started
    summary = {"key": key, "seconds": seconds, "path": str(run.path),
               **{k: last.get(k) for k in ("epoch", "train_acc", "test_acc", "nc1")}}
    print(f"done in {seconds:.1f} s: " + json.dumps(summary, sort_keys=True), flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fgcore.sweep.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("spec", help="the RunSpec as JSON")
    args = parser.parse_args(argv)
    run_spec(json.loads(args.spec), args.cache, args.key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
