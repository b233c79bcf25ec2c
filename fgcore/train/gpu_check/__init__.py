"""`make gpu-check`: is the GPU path right, and how fast is it? One command, one table.

    python -m fgcore.train.gpu_check              # on a GPU: about 2-3 minutes (CIFAR-10)
    python -m fgcore.train.gpu_check --dry-run    # anywhere: the same code on a tiny subset (~30 CPU-s)

On a GPU it trains ResNet-18 on coarse CIFAR-10 for a few epochs through the real trainer (the same
RunSpec fields as the gpu fixtures, bf16, CUDA-graph steps, a throw-away cache), then checks the
result (fgcore.train.gpu_check.checks: finite, streamed statistics equal to float64 ones, features
equal to a float64 CPU forward, an accuracy well above chance, a float32 step equal to the CPU's)
and measures (fgcore.train.gpu_check.speed): seconds per epoch of the run, eager steps against
CUDA-graph replays (is the loop launch-bound?), ResNet-18's per-batch baseline, DenseNet-121 and
VGG-19, GPU utilisation and peak memory, and the throughput of 1, 2 and 4 training processes on one
GPU; the best count is written to the cache, where `fgcore sweep` reads it. Exit code 1 when a check
fails or could not run; speed is reported, never judged.

The data: the official CIFAR-10 archive, or the class-per-folder copy named by
FGCORE_CIFAR10=image_folder:<path>. Without either the check refuses to run (exit 2) unless
--synthetic asks for synthetic uint8 images of the same shape (the checks and the speed hold on them,
the accuracy means nothing). Without a GPU (or with --dry-run) everything runs on a tiny synthetic
subset on the CPU, with the CUDA branch's code (bf16 autocast, channels-last, on-device crop and flip,
fused SGD, the static-buffer steps of the CUDA graph) and a small CNN in ResNet-18's place: the check
of the code paths that CI runs, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from . import checks, speed
from .data import CIFAR_BATCH, SYNTHETIC, CheckData, find_cifar10, synthetic_cifar10
from .table import Report

__all__ = ["main", "run_check", "synthetic_cifar10", "SYNTHETIC"]

WORKER_COUNTS = {"gpu": [1, 2, 4], "dry": [1, 2]}


def _environment(device, report: Report, data: CheckData) -> None:
    import torch

    report.add("setup", "torch", f"{torch.__version__} (Python {sys.version.split()[0]})")
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        report.add("setup", "device", f"{props.name}, {props.total_memory / 2 ** 30:.0f} GiB, "
                                      f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
        if not torch.cuda.is_bf16_supported():
            report.add("setup", "bf16", "not supported natively on this GPU: the gpu fixtures will be slow")
    else:
        report.add("setup", "device", f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads): dry run")
    report.add("setup", "data", data.what)
    if data.why_not_cifar:
        report.notes.append(f"data: {data.why_not_cifar}. The checks hold on synthetic images and the speed is "
                            f"that of CIFAR-10; the accuracy means nothing. Get CIFAR-10 with `fgcore data "
                            f"prepare cifar10` or FGCORE_CIFAR10=image_folder:<path>.")
    if data.problem:
        report.add("setup", "FGCORE_CIFAR10", "cannot be read (see below)", "readable", "FAIL")


def _specs(args, dry: bool, data: CheckData):
    """(the trained run's spec, the timing spec, its steps, rows of the float64 forward, its Execution)."""
    from .. import loop
    from ..resolve import resolve
    from ..spec import RunSpec

    precision = args.precision or "bf16"
    synthetic = {"n_train": 512, "n_test": 256} if dry else {}
    # The gpu fixtures' settings (fixtures/cifar10-resnet18-coarse.toml) with a short schedule.
    base = RunSpec(dataset=data.dataset, data_args=synthetic if data.synthetic else {}, labeling="coarse:5",
                   model="resnet18", lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=CIFAR_BATCH,
                   schedule="step", augment="crop_flip", precision=precision, seed=0)
    if dry:
        # the CUDA branch's code on the CPU: bf16 autocast, channels-last, on-device crop/flip, fused SGD,
        # the CUDA graph's static-buffer steps
        execution = loop.Execution(channels_last=True, fused_sgd=True, cuda_graph=True, compile=args.compile)
        main = base.replace(model=args.model or "small_cnn", model_args={} if args.model else {"width": 16},
                            subset=args.subset or 64, test_subset=32, batch_size=16,
                            epochs=args.epochs or 3, stats_every=1, snapshot_epochs=None)
        timing = base.replace(batch_size=2, precision="float32", test_subset=32)
        steps, rows = args.steps or 1, checks.FLOAT64_ROWS["dry"]
    else:
        execution = loop.Execution(compile=args.compile)
        main = base.replace(model=args.model or "resnet18", subset=args.subset, epochs=args.epochs or 4,
                            stats_every=1, snapshot_epochs=None)
        timing = base.replace(test_subset=1000)
        steps, rows = args.steps or 200, checks.FLOAT64_ROWS["gpu"]
    main = resolve(main.replace(snapshot_epochs=(0, main.epochs)))
    return main, timing, steps, rows, execution


def _train(main, device, execution, workdir: Path, report: Report):
    """Train the checked run into a throw-away cache; its speed row; the Run."""
    from .. import loop
    from ..cache import RunStore
    from ..run import Run

    entry = RunStore(workdir).entry(main.key)
    speed.memory_reset(device)
    with speed.UtilisationSampler(device) as sampler, entry.lock():
        if not entry.is_complete():
            loop.train_into(main, entry, device=device, progress=False, execution=execution)
    run = Run(entry)
    epochs = [r["train_seconds"] for r in run.history if r["epoch"] >= 2]
    per_epoch = statistics.median(epochs or [run.history[-1]["train_seconds"]])
    how = (f"median of epochs 2-{main.epochs}" if epochs else "epoch 1 (no warm-up excluded)") + \
          f", {run.meta['n_train']} images, " + ("CUDA graph" if run.meta["execution"]["cuda_graph"] else "eager")
    speed.speed_row(report, f"{main.model} train (the run above)", per_epoch, how, sampler.mean,
                    speed.peak_gib(device))
    evals = [r["eval_seconds"] for r in run.history if r["epoch"] >= 1 and "eval_seconds" in r]
    if evals:
        report.add("speed", f"{main.model} evaluation + statistics pass",
                   f"{statistics.median(evals):.2f} s/epoch (train and test splits, features streamed)")
    return run


def _check(run, main, device, rows: int, report: Report, dry: bool) -> None:
    for name, check in (("history and features finite", lambda: checks.check_finite(run, report)),
                        ("streamed statistics", lambda: checks.check_streamed_statistics(run, report)),
                        ("saved features vs float64", lambda: checks.check_against_float64(run, report, rows)),
                        ("training accuracy", lambda: checks.check_learned(run, report)),
                        ("float32 step vs the CPU", lambda: checks.check_float32_step(
                            main.replace(precision="float32"), device, report, dry=dry))):
        with report.guard("result", name):
            check()


def _measure_speed(args, main, timing, steps: int, device, report: Report, dry: bool) -> None:
    from .. import loop

    warm = not dry
    with report.guard("speed", "eager vs CUDA graph"):
        speed.launch_bound(timing, device, steps, report, warm_up=warm)
    with report.guard("speed", "resnet18 baseline"):
        baseline = loop.Execution(resident=False, cudnn_benchmark=False, fused_sgd=False, cuda_graph=False)
        speed.time_model(timing, device, steps, baseline, report, "resnet18 baseline (per-batch, unfused, eager)",
                         warm)
    if args.compile:
        with report.guard("speed", "torch.compile"):
            speed.time_model(timing, device, steps, loop.Execution(compile=args.compile), report,
                             "resnet18 + torch.compile", warm)
    for model in ("densenet121", "vgg19"):
        with report.guard("speed", model):
            speed.time_model(timing.replace(model=model), device, steps, loop.Execution(), report,
                             f"{model} (default: CUDA graph on a GPU)", warm)
    counts = WORKER_COUNTS["dry" if dry else "gpu"] if args.workers is None else args.workers
    if counts:
        with report.guard("speed", "processes per GPU"):
            measured = speed.workers_throughput(main if dry else timing, counts, steps if dry else 3 * steps, report)
            _recommend_workers(measured, device, report, dry)
    if not dry:
        resnet = report.numbers.get(f"speed: {main.model} train (the run above)", {}).get("seconds_per_epoch")
        if resnet is not None and main.model == "resnet18":
            goal = speed.GOAL_SECONDS_PER_EPOCH
            report.add("speed", f"goal: resnet18 <= {goal} s/epoch on one H200", "met" if resnet <= goal else "not met")


def _recommend_workers(measured: dict[int, float], device, report: Report, dry: bool) -> None:
    from ... import machine

    best = machine.best_workers(measured)
    if dry:
        report.add("speed", "runs per GPU for fgcore sweep", f"{best} (dry run: not recorded)")
        return
    import torch

    name = torch.cuda.get_device_name(device)
    entry = machine.save_workers_per_gpu(name, measured, source="make gpu-check: ResNet-18, batch 128, bf16")
    report.add("speed", "runs per GPU for fgcore sweep", f"{entry['workers']} on {name} (recorded for "
                                                        f"`fgcore sweep`; --workers overrides)")


def run_check(args: argparse.Namespace) -> Report:
    import torch

    started = time.perf_counter()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() and not args.dry_run else "cpu"))
    dry = args.dry_run or device.type != "cuda"
    report = Report()
    data = find_cifar10()
    _environment(device, report, data)
    main, timing, steps, rows, execution = _specs(args, dry, data)
    report.add("setup", "run", f"{main.model} {main.labeling}, {main.epochs} epochs, {main.precision}")
    report.add("setup", "execution", ", ".join(f"{k}={v}" for k, v in asdict(execution.resolve(device)).items()
                                               if v not in (None, False)) or "defaults")
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fgcore-gpu-check-"))
    try:
        run = None
        with report.guard("result", "the checked run trains"):
            run = _train(main, device, execution, workdir, report)
        if run is not None:
            _check(run, main, device, rows, report, dry)
        if not args.checks_only:
            _measure_speed(args, main, timing, steps, device, report, dry)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        report.add("setup", "wall time", f"{time.perf_counter() - started:.0f} s")
    return report


def _counts(text: str) -> list[int]:
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        counts = sorted({int(v) for v in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected counts such as 1,2,4 (or none), got {text!r}") from None
    if counts[0] < 1:
        raise argparse.ArgumentTypeError(f"process counts must be at least 1, got {text!r}")
    return counts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fgcore.train.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="run on the CPU on a tiny subset (the default when there is no GPU)")
    parser.add_argument("--device", default=None, help="cuda, cuda:1, cpu (default: cuda when available)")
    parser.add_argument("--precision", choices=("bf16", "float32"), default=None, help="default bf16 (the gpu fixtures)")
    parser.add_argument("--model", default=None, help="the trained model (default resnet18; small_cnn in a dry run)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the checked run (default 4; 3 in a dry run)")
    parser.add_argument("--subset", type=int, default=None, help="training images of the checked run (default all)")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed epoch (default 200; 1 in a dry run)")
    parser.add_argument("--compile", nargs="?", const="inductor", default=None, metavar="BACKEND",
                        help="also time (and train) with torch.compile (default backend inductor)")
    parser.add_argument("--synthetic", action="store_true",
                        help="where no CIFAR-10 is found, check on synthetic images of its shape (speed and checks "
                             "hold, accuracy means nothing); without it the check refuses to run")
    parser.add_argument("--workers", type=_counts, default=None, metavar="COUNTS",
                        help="training processes at once on one GPU to time, e.g. 1,2,4 (the default; 1,2 in a dry "
                             "run), or none")
    parser.add_argument("--checks-only", action="store_true", help="skip the speed rows")
    parser.add_argument("--keep", default=None, metavar="DIR", help="keep the run's cache entry in DIR")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the table and numbers as JSON")
    parser.add_argument("--time-worker", default=None, help=argparse.SUPPRESS)   # a process of --workers
    parser.add_argument("--barrier", default=None, help=argparse.SUPPRESS)
    return parser


def _refusal(args) -> str | None:
    """Why the check must not run as asked (exit 2), or None."""
    import torch

    from ... import machine

    if args.device and args.device.startswith("cuda") and not torch.cuda.is_available():
        return ("--device cuda, but torch.cuda.is_available() is False on this machine (drop --device for a "
                "dry run on the CPU)")
    if args.dry_run or args.device == "cpu":
        return None
    gpus = machine.visible_gpus()
    if gpus and not torch.cuda.is_available():
        return (f"this machine shows {len(gpus)} NVIDIA GPU(s) but torch {torch.__version__} cannot use them "
                f"(torch.version.cuda = {torch.version.cuda}: a CPU-only build, or a driver older than its CUDA); "
                f"install a CUDA build of torch, or run `--dry-run` to check the code paths on the CPU")
    if torch.cuda.is_available() and not args.synthetic:
        data = find_cifar10()
        if data.synthetic:
            return (f"{data.why_not_cifar}. Speed and accuracy on synthetic images say nothing about CIFAR-10: "
                    f"set FGCORE_CIFAR10=image_folder:<path> (e.g. the JPEG copy) or run `fgcore data prepare "
                    f"cifar10`, or pass --synthetic to check the GPU path on synthetic images anyway")
    return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.time_worker:
        print(json.dumps(speed.time_worker(args.time_worker, args.steps or 100, args.barrier)))
        return 0
    import torch

    refusal = _refusal(args)
    if refusal:
        print(f"gpu-check: {refusal}", file=sys.stderr)
        return 2
    if not args.dry_run and not torch.cuda.is_available() and not args.device:
        print("gpu-check: no CUDA device (torch.cuda.is_available() is False): dry run on the CPU", file=sys.stderr)
    report = run_check(args)
    print(report.table())
    failed = report.failed
    print("\ngpu-check: " + ("all checks hold" if not failed else
                             f"{len(failed)} check(s) FAILED: " + "; ".join(f"{r.name} = {r.value}" for r in failed)))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": [asdict(r) for r in report.rows], "numbers": report.numbers},
                                              indent=1, default=str) + "\n")
    return 1 if failed else 0
