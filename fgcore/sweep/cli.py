"""`fgcore sweep`: the command line of fgcore.sweep (registered by fgcore.cli through register())."""

from __future__ import annotations

import argparse
import signal
import sys

from ..errors import UsageError
from ..vocabulary import TIERS

EPILOG = """\
examples:
  fgcore sweep --tier gpu --profile quick --dry-run      # what would run, what is cached
  fgcore sweep --tier gpu --profile quick                # every gpu experiment, all local GPUs
  fgcore sweep cifar10-resnet18-coarse cifar10-resnet18-original  # some experiments (fixtures/NAME.toml)
  fgcore sweep grid.toml --executor slurm --partition gpu --time 12:00:00 --cache /shared/fgcore-cache

Runs already complete in the cache are skipped; a sweep started again after an interruption
runs only what is missing. Exit code: the number of failed runs (at most 100), 0 when all
succeeded, 130 when interrupted; 2 with an `error:` line for a mistake in the command.
Sweep file (grid.toml) format: see README.md, "Running the full replication", or fgcore/sweep/plan.py.
"""


def register(subparsers) -> None:
    from . import EXECUTORS

    p = subparsers.add_parser(
        "sweep", help="train many runs: experiments, a sweep file or a tier, on local GPUs or SLURM",
        description="Expand experiments into runs, skip those complete in the cache, train the rest.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="*", metavar="EXPERIMENT|GRID.toml",
                   help="experiment names (fixtures/NAME.toml), fixture files, or sweep files")
    p.add_argument("--tier", action="append", default=[], choices=TIERS,
                   help="add every experiment of this tier (repeatable)")
    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="local: this machine, one worker per GPU (default); slurm: a submitit job array; "
                        "submitit-local: submitit's local executor (tests the slurm code path without SLURM)")
    p.add_argument("--profile", choices=("paper", "quick"), default=None,
                   help="profile of the experiments (default: the sweep file's, else $FGCORE_PROFILE, else "
                        "paper: what `pytest claims` reads by default)")
    p.add_argument("--seed", type=int, default=None, help="base seed, as pytest --fg-seed (default 0)")
    p.add_argument("--seeds", type=int, default=None,
                   help="this many base seeds: seed, seed+1, ... (as pytest --fg-seeds; default 1)")
    # SUPPRESS: without --cache here, the top-level `fgcore --cache DIR sweep ...` value stays
    p.add_argument("--cache", default=argparse.SUPPRESS, metavar="DIR",
                   help="cache root (default: $FGCORE_CACHE or ~/.cache/fgcore)")
    p.add_argument("--dry-run", action="store_true", help="print the plan (runs, cached or not) and stop")
    p.add_argument("--no-bar", action="store_true", help="no overall progress bar (the per-run lines stay)")

    local = p.add_argument_group("local executor")
    local.add_argument("--workers", type=int, default=None,
                       help="parallel runs (default: per visible GPU, as many as `make gpu-check` found fastest "
                            "on this GPU model, else 1; 1 without a GPU)")
    local.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                       help="auto (default): bf16 runs on the GPUs, float32 runs on the CPU (as a claims "
                            "session trains them), and an error rather than a bf16 run on the CPU; cpu: every "
                            "run on the CPU; cuda: every run on the GPUs")
    local.add_argument("--gpus", default=None, metavar="LIST",
                       help="GPU ids or UUIDs to use, e.g. 0,1,3, or none for the CPU "
                            "(default: $CUDA_VISIBLE_DEVICES, else every GPU)")

    slurm = p.add_argument_group("slurm executor (defaults: the sweep file's [slurm] table, then these)")
    slurm.add_argument("--partition", default=None, help="SLURM partition (default: the cluster's)")
    slurm.add_argument("--gpus-per-task", type=int, default=None, help="GPUs per run (default 1)")
    slurm.add_argument("--cpus-per-task", type=int, default=None, help="CPU cores per run (default 8)")
    slurm.add_argument("--time", default=None,
                       help="time limit per run, e.g. 12:00:00 or 1-00:00:00 (default 24:00:00); a run "
                            "that hits it is requeued and resumes from its checkpoint")
    slurm.add_argument("--mem", default=None, help="memory per run, e.g. 32G (default 32G)")
    slurm.add_argument("--array-parallelism", type=int, default=None,
                       help="at most this many array tasks at once (default 32)")
    slurm.add_argument("--sbatch", action="append", default=None, metavar="KEY=VALUE",
                       help="extra sbatch option, e.g. --sbatch account=myproj --sbatch qos=normal "
                            "(repeatable)")
    slurm.add_argument("--setup", action="append", default=None, metavar="COMMAND",
                       help="shell line run before each task, e.g. --setup 'module load cuda' (repeatable)")
    slurm.add_argument("--job-dir", default=None,
                       help="submitit job folder (default: CACHE/sweeps/<sweep id>/submitit)")
    slurm.add_argument("--max-requeues", type=int, default=None,
                       help="requeues after a time limit or preemption (default 3)")
    slurm.add_argument("--poll-interval", type=float, default=None, metavar="SECONDS",
                       help="seconds between two looks at the queue (squeue, sacct) while following (default 10)")
    slurm.add_argument("--no-wait", action="store_true",
                       help="submit and exit; the same command later reports and follows the jobs")
    p.set_defaults(func=_cmd_sweep)


def _slurm_options(args: argparse.Namespace, plan):
    from .slurm import SlurmOptions

    options = SlurmOptions().updated(plan.slurm_defaults, "sweep file [slurm] table")
    given = {"partition": args.partition, "gpus_per_task": args.gpus_per_task, "cpus_per_task": args.cpus_per_task,
             "time": args.time, "mem": args.mem, "array_parallelism": args.array_parallelism,
             "sbatch": args.sbatch, "setup": args.setup, "job_dir": args.job_dir,
             "max_requeues": args.max_requeues, "poll_interval": args.poll_interval}
    return options.updated(given, "command line")


def _cmd_sweep(args: argparse.Namespace) -> int:
    from ..machine import parse_gpu_list, visible_gpus
    from .plan import plan_sweep
    from .progress import final_summary

    if args.seeds is not None and args.seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {args.seeds}")
    seeds = None
    if args.seed is not None or args.seeds is not None:
        base = args.seed or 0
        seeds = range(base, base + (args.seeds or 1))
    cache = getattr(args, "cache", None)
    plan = plan_sweep(args.targets, tiers=args.tier, profile=args.profile, seeds=seeds, cache=cache)
    print(f"sweep {plan.sweep_id}: {plan.summary()}", flush=True)
    gpus = parse_gpu_list(args.gpus) if args.gpus is not None else None
    options = _slurm_options(args, plan) if args.executor != "local" else None
    if args.dry_run:
        print(plan.describe())
        if args.executor == "local":
            from .local import check_devices, plan_slots

            slots = plan_slots(args.workers, gpus, device=args.device, cache=plan.cache)
            print(f"would run {len(plan.todo)} run(s) on {slots.describe()}; logs in {plan.sweep_dir}")
            try:
                check_devices(plan, slots, args.device)
            except UsageError as refusal:   # a plan seen from a login node: said, not an error
                print(f"note: here the sweep would stop: {refusal}")
        else:
            _dry_run_slurm(plan, options, args.executor)
        return 0
    if not plan.todo:
        print("nothing to do: every run is complete in the cache")
        return 0
    bar = False if args.no_bar else None
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if args.executor == "local":
            from .local import run_local

            result = run_local(plan, workers=args.workers, gpus=gpus if gpus is not None else visible_gpus(),
                               bar=bar, device=args.device)
        else:
            from .slurm import run_submitit

            result = run_submitit(plan, options, cluster="slurm" if args.executor == "slurm" else "local",
                                  wait=not args.no_wait, bar=bar)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(final_summary(result), flush=True)
    return 130 if result.interrupted else result.exit_code


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _dry_run_slurm(plan, options, executor: str) -> None:
    import shutil

    from .slurm import check_shared_dirs, parse_time

    folder = options.job_dir or str(plan.sweep_dir / "submitit")
    print(f"would submit {len(plan.todo)} run(s) as {'a SLURM job array' if executor == 'slurm' else 'local submitit jobs'}: "
          f"partition {options.partition or '(cluster default)'}, {options.gpus_per_task} GPU(s), "
          f"{options.cpus_per_task} CPU(s), mem {options.mem or '(cluster default)'}, time {options.time} "
          f"({parse_time(options.time)} min), at most {options.array_parallelism} at once"
          + (f", sbatch {' '.join(options.sbatch)}" if options.sbatch else "")
          + (f", setup {'; '.join(options.setup)}" if options.setup else "") + f"; job folder {folder}")
    if executor == "slurm":
        if shutil.which("sbatch") is None:
            print("note: sbatch is not on PATH here; submit from a login node of the cluster")
        # checked, not created: a dry run leaves no folder behind
        for warning in check_shared_dirs({"the cache root (--cache / FGCORE_CACHE)": plan.cache}):
            print(f"warning: {warning}")


if __name__ == "__main__":  # pragma: no cover
    from ..cli import main

    sys.exit(main(["sweep", *sys.argv[1:]]))
