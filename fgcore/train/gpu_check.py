"""`make gpu-check`: is the GPU path right, and how fast is it? One command, one table.

    python -m fgcore.train.gpu_check              # on a GPU: 1-2 minutes, estimated (CIFAR-10 or synthetic)
    python -m fgcore.train.gpu_check --dry-run    # anywhere: the same code on a tiny subset (~30 CPU-s)

On a GPU it trains ResNet-18 on coarse CIFAR-10 for a few epochs through the real trainer (the same
RunSpec fields as the gpu fixtures, bf16, a throw-away cache), then checks the result:

- every number of the history and every stored feature and distance matrix is finite;
- the statistics streamed during training (NC1, NC2, D on the training and the original labels)
  equal the float64 metrics (fgcore.metrics) computed again from the saved features;
- the saved features equal a float64 forward pass on the CPU of the final checkpoint (the GPU's
  layout, autocast and feature saving against the plainest possible computation).

and measures: seconds per epoch of ResNet-18 (median after a warm-up epoch), the same for
DenseNet-121 and VGG-19 over a few hundred steps, ResNet-18's per-batch baseline (the loop before
the data set was prepared once on the device: uint8 crop, scale and normalise per batch, no cuDNN
autotuning, unfused SGD) side by side with the fast path (and torch.compile with --compile), GPU
utilisation and peak memory. It exits 1 when a check fails; speed is reported, never judged.

The data: the official CIFAR-10 archive, or the class-per-folder copy named by
FGCORE_CIFAR10=image_folder:<path>, or, when neither is there, synthetic uint8 images of the same
shape (said so in the output: the checks hold on them, the speed is the same, the accuracy means
nothing). Without a GPU (or with --dry-run) everything runs on a tiny subset on the CPU, with the
CUDA branch's code (bf16 autocast, channels-last, on-device crop and flip, fused SGD) and a small CNN
in ResNet-18's place (bf16 convolutions on a CPU without bf16 units take minutes): the check of the
code paths that CI runs, not a measurement.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

CIFAR_TRAIN, CIFAR_BATCH = 50_000, 128
STEPS_PER_EPOCH = math.ceil(CIFAR_TRAIN / CIFAR_BATCH)  # 391: s/epoch = s/step x this
GOAL_SECONDS_PER_EPOCH = 1.0  # ResNet-18, CIFAR-10, batch 128 on one H200 (a goal, not a check)
# Streamed statistics against fgcore.metrics on the saved features: float64 on both sides, only the
# order of the sums differs (measured 1e-16 to 3e-16 in the dry run); 1e-6 leaves room for an
# ill-conditioned Sigma_B and another order of summation on the GPU.
STREAMED_RTOL = 1e-6
# Saved features against a float64 CPU forward of the checkpoint, relative Frobenius error. bf16
# keeps 8 significant bits (rounding 2^-9 = 0.2% per operation); measured in bf16 autocast on the
# CPU: ResNet-18 0.23% and the small CNN 0.25% (8 images, after 10 SGD steps), the small CNN of the
# dry run 0.33%. 3% is ten times that, while a layout, autocast or row-order bug gives O(1).
# float32: measured 2.4e-7 (ResNet-18) and 1.4e-7 (small CNN); 1e-4.
FEATURE_RTOL = {"bf16": 0.03, "float32": 1e-4}
FLOAT64_ROWS = {"gpu": 512, "dry": 32}  # test images of the float64 CPU forward


# -- synthetic stand-in for CIFAR-10 --------------------------------------------------------------
def synthetic_cifar10(split: str, seed: int = 0, n_train: int = CIFAR_TRAIN, n_test: int = 10_000):
    """uint8 (n, 3, 32, 32) images of 10 classes (a smooth colour pattern per class plus noise): the
    shape, type and size of CIFAR-10 where no copy of it is available. Learnable, not natural."""
    x, y = _synthetic(split, seed, n_train if split == "train" else n_test)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    return {"x": x, "y": y, "class_names": [f"synthetic-{c}" for c in names]}


@functools.lru_cache(maxsize=4)  # the check loads each split several times; 50,000 images take seconds
def _synthetic(split: str, seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    patterns = np.random.default_rng(7).normal(size=(10, 3, 4, 4))
    patterns = np.repeat(np.repeat(patterns, 8, axis=2), 8, axis=3)  # 4x4 blocks of 8x8 pixels
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    y = np.arange(n) % 10
    x = np.empty((n, 3, 32, 32), dtype=np.uint8)
    for start in range(0, n, 5000):
        stop = min(start + 5000, n)
        noise = rng.standard_normal(size=(stop - start, 3, 32, 32), dtype=np.float32)
        x[start:stop] = np.clip(128 + 40 * patterns[y[start:stop]] + 40 * noise, 0, 255).astype(np.uint8)
    return x, y


SYNTHETIC = "fgcore.train.gpu_check:synthetic_cifar10"


def find_cifar10() -> tuple[str, str, str | None, str | None]:
    """(dataset name for RunSpec, what it is, why not CIFAR-10, problem): CIFAR-10 when it loads, else
    the synthetic stand-in; problem is set when FGCORE_CIFAR10 names a copy that cannot be read."""
    from .. import data as fgdata
    from .. import settings

    try:
        test = fgdata.load("cifar10", "test")
    except (FileNotFoundError, ValueError, OSError) as exc:
        reason = " ".join(str(exc).split())
        problem = reason if settings.raw(settings.CIFAR10) else None
        return SYNTHETIC, "synthetic uint8 images", f"no CIFAR-10 found ({reason})", problem
    return "cifar10", f"CIFAR-10 ({test.source})", None, None


# -- GPU utilisation --------------------------------------------------------------------------------
class UtilisationSampler:
    """Samples the GPU's utilisation (percent of time a kernel ran) in a thread while in `with`.

    torch.cuda.utilization (needs the nvidia-ml-py package), else `nvidia-smi`; None when neither
    answers (then the table says n/a)."""

    def __init__(self, device, interval: float = 0.2):
        self.device, self.interval = device, interval
        self.samples: list[float] = []
        self.source: str | None = None
        self._stop = threading.Event()
        self._read = self._reader()

    def _reader(self) -> Callable[[], float] | None:
        import torch

        if self.device is None or self.device.type != "cuda":
            return None
        try:
            torch.cuda.utilization(self.device)
            self.source = "torch.cuda.utilization"
            return lambda: float(torch.cuda.utilization(self.device))
        except Exception:  # no pynvml / amdsmi: try the command line tool
            pass
        if shutil.which("nvidia-smi") is None:
            return None
        uuid = getattr(torch.cuda.get_device_properties(self.device), "uuid", None)
        target = f"GPU-{uuid}" if uuid is not None else str(self.device.index or 0)
        command = ["nvidia-smi", f"--id={target}", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]

        def read() -> float:
            return float(subprocess.run(command, capture_output=True, text=True, timeout=5, check=True).stdout.split()[0])

        try:
            read()
        except Exception:
            return None
        self.source = "nvidia-smi"
        return read

    def __enter__(self) -> "UtilisationSampler":
        if self._read is not None:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append(self._read())
            except Exception:
                return

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._read is not None:
            self._thread.join(timeout=10)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.samples) if self.samples else None


# -- the table --------------------------------------------------------------------------------------
@dataclass
class Row:
    section: str
    name: str
    value: str
    limit: str = ""
    status: str = "info"  # ok | FAIL | info


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # printed under the table

    def add(self, section: str, name: str, value: str, limit: str = "", status: str = "info") -> None:
        self.rows.append(Row(section, name, value, limit, status))

    def check(self, section: str, name: str, value: float, limit: float, *, fmt: str = ".2e") -> bool:
        """A correctness check: value <= limit (NaN fails)."""
        ok = bool(value <= limit)
        self.add(section, name, format(value, fmt), f"<= {limit:g}", "ok" if ok else "FAIL")
        self.numbers[f"{section}: {name}"] = value
        return ok

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.status == "FAIL"]

    def table(self) -> str:
        widths = [max(len(getattr(r, f)) for r in self.rows) for f in ("section", "name", "value", "limit")]
        widths = [max(w, len(h)) for w, h in zip(widths, ("section", "check / measurement", "value", "limit"))]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths + [6])).rstrip()
        out = [line(["section", "check / measurement", "value", "limit", "status"]),
               line(["-" * w for w in widths] + ["------"])]
        out += [line([r.section, r.name, r.value, r.limit, r.status]) for r in self.rows]
        return "\n".join(out + [f"* {note}" for note in self.notes])


# -- checks on a finished run -----------------------------------------------------------------------
def _relative(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def check_finite(run, report: Report) -> None:
    """Every number of the history, every feature snapshot and every distance matrix is finite."""
    bad = [f"epoch {r['epoch']} {k}" for r in run.history for k, v in r.items()
           if isinstance(v, (int, float)) and not math.isfinite(v)]
    report.add("result", "history values finite", "all" if not bad else f"{len(bad)} not: {', '.join(bad[:3])}",
               "all", "ok" if not bad else "FAIL")
    bad = [f"features {e} {s}" for e in run.snapshot_epochs for s in ("train", "test")
           if not np.isfinite(run.features(e, s)).all()]
    bad += [f"D {e} {k}" for e in run.stats_epochs for k in ("train", "original")
            if not np.isfinite(run.distance_matrix(e, k)).all()]
    report.add("result", "features and D finite", "all" if not bad else f"{len(bad)} not: {', '.join(bad[:3])}",
               "all", "ok" if not bad else "FAIL")


def check_streamed_statistics(run, report: Report) -> None:
    """NC1, NC2 and D streamed during training against fgcore.metrics on the saved features."""
    from .. import metrics

    y_train, y_original = run.labels("train", "train"), run.labels("train", "original")
    worst = {"NC1": 0.0, "NC2": 0.0, "D": 0.0}
    for epoch in run.snapshot_epochs:
        H = run.features(epoch, "train").astype(np.float64)
        record = run.record(epoch)
        worst["NC1"] = max(worst["NC1"], abs(record["nc1"] - metrics.nc1(H, y_train)) / max(abs(record["nc1"]), 1e-300))
        worst["NC2"] = max(worst["NC2"], abs(record["nc2"] - metrics.nc2(H, y_train)) / max(abs(record["nc2"]), 1e-300))
        worst["D"] = max(worst["D"],
                         _relative(run.distance_matrix(epoch, "train"), metrics.class_distance_matrix(H, y_train)),
                         _relative(run.distance_matrix(epoch, "original"), metrics.class_distance_matrix(H, y_original)))
    for name, value in worst.items():
        report.check("result", f"streamed {name} vs float64 on saved features (rel.)", value, STREAMED_RTOL)


def float64_features(run, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(saved test features of the last epoch, the same from a float64 CPU forward of the final
    checkpoint) for the first `rows` test images."""
    import torch

    from .. import data as fgdata
    from .. import losses as fglosses
    from .. import models as fgmodels
    from .device_data import channel_stats

    spec = run.spec
    train = fgdata.load(spec.dataset, "train", subset=spec.subset, seed=spec.seed, **spec.data_args)
    test = fgdata.load(spec.dataset, "test", subset=spec.test_subset, seed=spec.seed, **spec.data_args)
    mean, std = channel_stats(train.x)
    x = test.x[:rows].astype(np.float64) / (255.0 if test.x.dtype == np.uint8 else 1.0)
    x = (x - mean.astype(np.float64).reshape(1, -1, 1, 1)) / std.astype(np.float64).reshape(1, -1, 1, 1)
    state = torch.load(run.entry.file("checkpoint.pt"), map_location="cpu", weights_only=True)
    outputs = fglosses.num_outputs(spec.loss, run.n_train_classes)
    model = fgmodels.build(spec.model, outputs, tuple(train.x.shape[1:]), **spec.model_args)
    model.load_state_dict(state["model"])
    model = model.double().eval()
    with torch.no_grad():
        reference = model.features(torch.from_numpy(x)).numpy()
    return run.features("last", "test")[:rows], reference


def check_against_float64(run, report: Report, rows: int) -> None:
    saved, reference = float64_features(run, rows)
    limit = FEATURE_RTOL[run.spec.precision]
    report.check("result", f"saved features vs float64 CPU forward ({len(saved)} test images, rel.)",
                 _relative(saved, reference), limit, fmt=".2e")


# -- speed ------------------------------------------------------------------------------------------
def _memory_reset(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gib(device) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None


def _speed_row(report: Report, name: str, seconds_per_epoch: float, how: str, util: float | None,
               peak: float | None) -> None:
    parts = [f"{seconds_per_epoch:.2f} s/epoch", how]
    parts.append("util n/a" if util is None else f"util {util:.0f}%")
    if peak is not None:
        parts.append(f"peak {peak:.1f} GiB")
    report.add("speed", name, ", ".join(parts))
    report.numbers[f"speed: {name}"] = {"seconds_per_epoch": seconds_per_epoch, "how": how,
                                        "utilisation": util, "peak_gib": peak}


def time_model(spec, device, steps: int, execution, report: Report, name: str, warm_up: bool = True) -> float:
    """s/epoch of `spec` at CIFAR-10's 391 steps per epoch, from `steps` steps after as many of warm-up."""
    from . import loop

    _memory_reset(device)
    with UtilisationSampler(device) as sampler:
        seconds = loop.time_epochs(spec, device=device, epochs=2 if warm_up else 1, steps=steps, execution=execution)
    per_epoch = seconds[-1] / steps * STEPS_PER_EPOCH
    _speed_row(report, name, per_epoch, f"{steps} steps", sampler.mean, _peak_gib(device))
    return per_epoch


# -- main -------------------------------------------------------------------------------------------
def _environment(device, report: Report, data: str) -> None:
    import torch

    report.add("setup", "torch", torch.__version__)
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        report.add("setup", "device", f"{props.name}, {props.total_memory / 2 ** 30:.0f} GiB, "
                                      f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
        if not torch.cuda.is_bf16_supported(including_emulation=False):
            report.add("setup", "bf16", "emulated on this GPU (no bf16 units): the gpu fixtures will be slow")
    else:
        report.add("setup", "device", f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads): dry run")
    report.add("setup", "data", data)


def run_check(args: argparse.Namespace) -> Report:
    import torch

    from . import loop
    from .cache import RunStore
    from .resolve import resolve
    from .run import Run
    from .spec import RunSpec

    started = time.perf_counter()
    if args.device:
        device = torch.device(args.device)
    else:
        device = torch.device("cuda" if torch.cuda.is_available() and not args.dry_run else "cpu")
    dry = args.dry_run or device.type != "cuda"
    report = Report()
    dataset, data, why_not, problem = find_cifar10()
    _environment(device, report, data)
    if why_not:
        report.notes.append(f"data: {why_not}. The checks hold on synthetic images and the speed is that of "
                            f"CIFAR-10; the accuracy means nothing. Get CIFAR-10 with `fgcore data prepare "
                            f"cifar10` or FGCORE_CIFAR10=image_folder:<path>.")
    if problem:
        report.add("setup", "FGCORE_CIFAR10", "cannot be read (see below)", "readable", "FAIL")
    precision = args.precision or "bf16"
    # The gpu fixtures' settings (fixtures/cifar10-resnet18-coarse.toml) with a short schedule.
    synthetic = {"n_train": 512, "n_test": 256} if dry else {}
    base = RunSpec(dataset=dataset, data_args=synthetic if dataset == SYNTHETIC else {}, labeling="coarse:5",
                   model="resnet18", lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=CIFAR_BATCH,
                   schedule="step", augment="crop_flip", precision=precision, seed=0)
    if dry:
        # the CUDA branch's code on the CPU: bf16 autocast, channels-last, on-device crop/flip, fused SGD
        execution = loop.Execution(channels_last=True, fused_sgd=True, compile=args.compile)
        main = base.replace(model=args.model or "small_cnn", model_args={} if args.model else {"width": 16},
                            subset=args.subset or 64, test_subset=32, batch_size=32,
                            epochs=args.epochs or 2, stats_every=1, snapshot_epochs=None)
        timing_steps, timing_batch, rows = args.steps or 1, 2, FLOAT64_ROWS["dry"]
        report.notes.append("dry run: the CUDA branch's code on the CPU (bf16 autocast, channels-last, crop and "
                            "flip by one gather, fused SGD) with a small CNN on a tiny subset; the speed rows run "
                            "each model for one step at batch 2 in float32, without warm-up: code paths, not "
                            "measurements.")
    else:
        execution = loop.Execution(compile=args.compile)
        main = base.replace(model=args.model or "resnet18", subset=args.subset, epochs=args.epochs or 4,
                            stats_every=1, snapshot_epochs=None)
        timing_steps, timing_batch, rows = args.steps or 200, CIFAR_BATCH, FLOAT64_ROWS["gpu"]
    main = resolve(main.replace(snapshot_epochs=(0, main.epochs)))
    report.add("setup", "run", f"{main.model} {main.labeling}, {main.epochs} epochs, {main.precision}")
    report.add("setup", "execution", ", ".join(f"{k}={v}" for k, v in asdict(execution.resolve(device)).items()
                                               if v not in (None, False)) or "defaults")

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fgcore-gpu-check-"))
    try:
        entry = RunStore(workdir).entry(main.key)
        _memory_reset(device)
        with UtilisationSampler(device) as sampler, entry.lock():
            if not entry.is_complete():
                loop.train_into(main, entry, device=device, progress=False, execution=execution)
        run = Run(entry)
        epochs = [r["train_seconds"] for r in run.history if r["epoch"] >= 2]
        per_epoch = statistics.median(epochs or [run.history[-1]["train_seconds"]])
        main_peak = _peak_gib(device)
        how = (f"median of epochs 2-{main.epochs}" if epochs else "epoch 1 (no warm-up excluded)") + \
              f", {run.meta['n_train']} images"
        _speed_row(report, f"{main.model} train (the run above)", per_epoch, how, sampler.mean, main_peak)
        evals = [r["eval_seconds"] for r in run.history if r["epoch"] >= 1 and "eval_seconds" in r]
        if evals:
            report.add("speed", f"{main.model} evaluation + statistics pass",
                       f"{statistics.median(evals):.2f} s/epoch (train and test splits, features streamed)")
        report.add("result", "final training accuracy (coarse labels)", f"{run.final_train_accuracy():.3f}",
                   "", "info")
        check_finite(run, report)
        check_streamed_statistics(run, report)
        check_against_float64(run, report, rows)

        if args.checks_only:
            return report
        timing = base.replace(batch_size=timing_batch, precision="float32" if dry else precision,
                              test_subset=32 if dry else 1000)
        fast = loop.Execution()
        baseline = loop.Execution(resident=False, cudnn_benchmark=False, fused_sgd=False)
        time_model(timing, device, timing_steps, baseline, report, "resnet18 baseline (per-batch, unfused)",
                   not dry)
        time_model(timing, device, timing_steps, fast, report, "resnet18 fast path (eager)", not dry)
        if args.compile:
            time_model(timing, device, timing_steps, loop.Execution(compile=args.compile), report,
                       "resnet18 fast path + torch.compile", not dry)
        for model in ("densenet121", "vgg19"):
            time_model(timing.replace(model=model), device, timing_steps, fast, report, f"{model} fast path", not dry)
        if not dry:
            resnet = report.numbers.get(f"speed: {main.model} train (the run above)", {}).get("seconds_per_epoch")
            if resnet is not None and main.model == "resnet18":
                met = "met" if resnet <= GOAL_SECONDS_PER_EPOCH else "not met"
                report.add("speed", "goal: resnet18 <= 1.0 s/epoch on one H200", met)
            util = report.numbers.get(f"speed: {main.model} train (the run above)", {}).get("utilisation")
            if util is not None and util < 80:
                total = torch.cuda.get_device_properties(device).total_memory / 2 ** 30
                report.notes.append(f"one run keeps the GPU {util:.0f}% busy (peak {main_peak:.1f} of {total:.0f} "
                                    f"GiB): `fgcore sweep --tier gpu --workers 2` trains two runs per GPU at once")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        report.add("setup", "wall time", f"{time.perf_counter() - started:.0f} s")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fgcore.train.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="run on the CPU on a tiny subset (the default when there is no GPU)")
    parser.add_argument("--device", default=None, help="cuda, cuda:1, cpu (default: cuda when available)")
    parser.add_argument("--precision", choices=("bf16", "float32"), default=None, help="default bf16 (the gpu fixtures)")
    parser.add_argument("--model", default=None, help="the trained model (default resnet18; small_cnn in a dry run)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the checked run (default 4; 2 in a dry run)")
    parser.add_argument("--subset", type=int, default=None, help="training images of the checked run (default all)")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed epoch (default 200; 2 in a dry run)")
    parser.add_argument("--compile", nargs="?", const="inductor", default=None, metavar="BACKEND",
                        help="also time (and train) with torch.compile (default backend inductor)")
    parser.add_argument("--checks-only", action="store_true", help="skip the speed rows (baseline, DenseNet, VGG)")
    parser.add_argument("--keep", default=None, metavar="DIR", help="keep the run's cache entry in DIR")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the table and numbers as JSON")
    args = parser.parse_args(argv)
    import torch

    if args.device and args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu-check: --device cuda, but torch.cuda.is_available() is False on this machine "
              "(drop --device for a dry run on the CPU)", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
