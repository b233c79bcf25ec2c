"""How fast: seconds per epoch of each network, eager steps against CUDA-graph replays (is the loop
launch-bound?), and the throughput of 1, 2, 4 training processes sharing one GPU (how many runs a
sweep should put on it)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from .data import CIFAR_BATCH, CIFAR_TRAIN
from .table import Report

STEPS_PER_EPOCH = -(-CIFAR_TRAIN // CIFAR_BATCH)  # 391: s/epoch = s/step x this
# ResNet-18 on CIFAR-10 at batch 128 on one H200, training steps only: a goal, reported, not a check.
GOAL_SECONDS_PER_EPOCH = 0.8
# An eager step this many times slower than its graph replay spends its time launching kernels.
LAUNCH_BOUND_RATIO = 1.5


class UtilisationSampler:
    """Samples the GPU's utilisation (percent of time a kernel ran) in a thread while in `with`.

    torch.cuda.utilization (needs the nvidia-ml-py package), else `nvidia-smi`; None when neither
    answers (then the table says n/a)."""

    def __init__(self, device, interval: float = 0.2):
        self.device, self.interval = device, interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._read = self._reader()

    def _reader(self) -> Callable[[], float] | None:
        import torch

        if self.device is None or self.device.type != "cuda":
            return None
        try:
            torch.cuda.utilization(self.device)
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


def memory_reset(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None


def speed_row(report: Report, name: str, seconds_per_epoch: float, how: str, util: float | None,
              peak: float | None) -> None:
    parts = [f"{seconds_per_epoch:.2f} s/epoch", how, "util n/a" if util is None else f"util {util:.0f}%"]
    if peak is not None:
        parts.append(f"peak {peak:.1f} GiB")
    report.add("speed", name, ", ".join(parts))
    report.numbers[f"speed: {name}"] = {"seconds_per_epoch": seconds_per_epoch, "how": how,
                                        "utilisation": util, "peak_gib": peak}


def time_model(spec, device, steps: int, execution, report: Report, name: str, warm_up: bool = True) -> float:
    """s/epoch of `spec` at CIFAR-10's 391 steps per epoch, from `steps` steps after as many of warm-up."""
    from .. import loop

    memory_reset(device)
    with UtilisationSampler(device) as sampler:
        seconds = loop.time_epochs(spec, device=device, epochs=2 if warm_up else 1, steps=steps, execution=execution)
    per_epoch = seconds[-1] / steps * STEPS_PER_EPOCH
    speed_row(report, name, per_epoch, f"{steps} steps ({seconds[-1] / steps * 1e3:.2f} ms/step)",
              sampler.mean, peak_gib(device))
    return per_epoch


def launch_bound(spec, device, steps: int, report: Report, *, warm_up: bool) -> None:
    """The same steps eager and replayed from a CUDA graph: where the graph is much faster, the eager
    loop spent its time launching kernels, not computing."""
    from .. import loop

    eager = time_model(spec, device, steps, loop.Execution(cuda_graph=False), report,
                       f"{spec.model} eager steps", warm_up)
    graph = time_model(spec, device, steps, loop.Execution(), report,
                       f"{spec.model} CUDA-graph steps (the default)", warm_up)
    ratio = eager / graph
    if device.type != "cuda":
        verdict = f"{ratio:.2f}x (no graph on the CPU: the same steps from static buffers; not a measurement)"
    elif ratio >= LAUNCH_BOUND_RATIO:
        verdict = f"launch-bound: the graph is {ratio:.1f}x faster"
    else:
        verdict = f"not launch-bound ({ratio:.2f}x)"
    report.add("speed", f"{spec.model}: eager / graph", verdict)
    report.numbers["speed: eager / graph"] = ratio


# -- several processes on one GPU ------------------------------------------------------------------------
def workers_throughput(spec, counts: list[int], steps: int, report: Report) -> dict[int, float]:
    """Images per second of k training processes of `spec` sharing this GPU, for each k in `counts`
    (each process warms up, waits for the others, then times `steps` steps)."""
    from ...machine import child_environment, visible_gpus

    measured = {}
    for k in counts:
        with tempfile.TemporaryDirectory(prefix="fgcore-gpu-check-workers-") as folder:
            command = [sys.executable, "-m", "fgcore.train.gpu_check", "--time-worker",
                       json.dumps(spec.to_dict()), "--steps", str(steps), "--barrier", f"{folder}:{k}"]
            gpus = visible_gpus()
            env = child_environment(gpus[0] if gpus else None)   # this process's first GPU, or the CPU
            procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                     for _ in range(k)]
            outputs = [p.communicate(timeout=600) for p in procs]
        failed = [err.strip().splitlines()[-1:] for p, (_, err) in zip(procs, outputs) if p.returncode]
        if failed:
            raise RuntimeError(f"{len(failed)} of {k} timing process(es) failed: {failed[0]}")
        spans = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
        elapsed = max(s["end"] for s in spans) - min(s["start"] for s in spans)
        measured[k] = sum(s["images"] for s in spans) / elapsed
        per_run = statistics.median((s["end"] - s["start"]) / s["steps"] * STEPS_PER_EPOCH for s in spans)
        report.add("speed", f"{k} training process(es) at once on one {'GPU' if spans[0]['cuda'] else 'CPU'}",
                   f"{measured[k]:,.0f} images/s in all, {per_run:.2f} s/epoch each")
    report.numbers["speed: images per second by processes"] = measured
    return measured


def time_worker(spec_json: str, steps: int, barrier: str) -> dict[str, float]:
    """One timing process of workers_throughput: warm up (the graph's capture), say so in the barrier
    folder, wait for the others, then time `steps` training steps."""
    import torch

    from .. import loop
    from ..resolve import resolve
    from ..spec import RunSpec

    folder, count = barrier.rsplit(":", 1)
    spec = resolve(RunSpec.from_dict(json.loads(spec_json)))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    trainer = loop.timing_trainer(spec, device=device)
    trainer.train_steps(1, steps)                     # warm-up and capture
    Path(folder, f"ready-{os.getpid()}").touch()
    while len(list(Path(folder).glob("ready-*"))) < int(count):
        time.sleep(0.005)
    trainer.synchronize()
    start = time.time()
    trainer.train_steps(2, steps)
    end = time.time()
    return {"start": start, "end": end, "steps": steps, "images": steps * spec.batch_size,
            "cuda": device.type == "cuda"}
