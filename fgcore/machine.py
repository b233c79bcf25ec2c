"""The threads and GPUs of this process, in one place.

Two facts shape everything here. On a busy machine with few cores, idle BLAS / OpenMP threads that
spin while waiting make small matrix work 10-100x slower, so the many small products of the metrics,
t-SNE, k-means and the probes run on one thread, and parallel workers (pytest-xdist, sweep workers)
split the cores instead of each taking all of them. And CUDA reads CUDA_VISIBLE_DEVICES once, when the
driver initialises (torch.cuda.is_available() is enough), so GPUs are counted from the environment,
/proc/driver/nvidia/gpus or `nvidia-smi -L`, never through torch.cuda, and a process is pinned to its
GPU before anything asks torch about CUDA.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, MutableMapping

from . import settings


# -- threads -------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_threaded_blas() -> Any:
    """Context in which BLAS runs one thread (many small matrix products: thread start-up and, on a busy
    machine, oversubscription cost more than they save)."""
    return _controller().limit(limits=1, user_api="blas")


def limited_threads(limit: int) -> Any:
    """Context in which every thread pool (BLAS and OpenMP: k-means, scikit-learn's t-SNE) runs at most
    `limit` threads."""
    return _controller().limit(limits=max(1, int(limit)))


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Context in which torch's CPU operations run on `n` threads."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def share_cores(workers: int) -> Any | None:
    """For the rest of the process, take 1/workers of the cores (torch and every thread pool), so that
    `workers` processes on one machine do not oversubscribe it. Returns the thread-pool limit (keep a
    reference while it should hold), or None with one worker."""
    if workers <= 1:
        return None
    import torch

    threads = max(1, (os.cpu_count() or 1) // workers)
    torch.set_num_threads(threads)
    # BLAS too (scikit-learn's probes): two spinning BLAS threads per worker on 2 cores made one
    # logistic-regression probe take 74-99 s instead of 1.4 s.
    return _controller().limit(limits=threads)


def set_torch_threads(n: int | None) -> None:
    """torch's CPU threads for the rest of the process (None: leave torch's default)."""
    if n is not None:
        import torch

        torch.set_num_threads(max(1, int(n)))


# -- GPUs --------------------------------------------------------------------------------------------------
def _count_nvidia_gpus() -> int:
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        return sum(1 for _ in proc.iterdir())
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listing.splitlines() if line.startswith("GPU "))


def visible_gpus(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """The GPU ids (or UUIDs) this process may use, as CUDA_VISIBLE_DEVICES would spell them.

    CUDA_VISIBLE_DEVICES, when set, is the answer (CUDA ignores everything from the first invalid
    entry on, e.g. "-1" or "" hides every GPU); otherwise every NVIDIA GPU of the machine.
    """
    environ = os.environ if environ is None else environ
    value = environ.get("CUDA_VISIBLE_DEVICES")
    if value is not None:
        ids = []
        for item in value.split(","):
            item = item.strip()
            if not item or item.startswith("-"):
                break
            ids.append(item)
        return ids
    return [str(i) for i in range(_count_nvidia_gpus())]


def parse_gpu_list(value: str) -> list[str]:
    """`--gpus 0,1,3` (ids or UUIDs) or `--gpus none` (CPU only)."""
    if value.strip().lower() in ("none", "cpu", ""):
        return []
    ids = [v.strip() for v in value.split(",") if v.strip()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"--gpus {value!r}: a GPU is listed twice")
    return ids


def pin_to_gpu(gpu: str | None, environ: MutableMapping[str, str]) -> None:
    """Make a child process's environment see one GPU (or none, with gpu None)."""
    environ["CUDA_VISIBLE_DEVICES"] = "" if gpu is None else gpu


def fgcore_import_root() -> str:
    """The folder that holds the fgcore package this process runs (children must import the same)."""
    return str(Path(__file__).resolve().parents[1])


def child_environment(gpu: str | None, *, cpu_threads: int | None = None) -> dict[str, str]:
    """The environment of a worker process: this one's, with fgcore importable, pinned to `gpu` (None:
    the CPU, with `cpu_threads` OpenMP threads unless OMP_NUM_THREADS is set)."""
    env = settings.child_environment()
    root = fgcore_import_root()
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    pin_to_gpu(gpu, env)
    if gpu is None:
        env["FGCORE_DEVICE"] = "cpu"
        if cpu_threads is not None:
            env.setdefault("OMP_NUM_THREADS", str(cpu_threads))
    else:
        env["FGCORE_DEVICE"] = "cuda"  # the one GPU this process sees
    return env


def _cuda_already_initialised() -> bool:
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    try:
        return bool(torch.cuda.is_initialized())
    except Exception:  # a torch without CUDA support
        return False


def pin_xdist_worker_to_gpu(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Under pytest-xdist, make worker gwN see one GPU: the (N mod #GPUs)-th visible one.

    Call it before anything initialises CUDA (the claims plugin does, in each worker, before it asks
    torch whether CUDA is there). With more workers than GPUs, workers share GPUs round-robin. Returns
    the GPU id chosen, or None (not an xdist worker, no GPU, or CUDA already initialised, which is
    warned about since the setting would not take effect).
    """
    environ = os.environ if environ is None else environ
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return None
    gpus = visible_gpus(environ)
    if not gpus:
        return None
    if environ is os.environ and _cuda_already_initialised():
        warnings.warn(f"xdist worker {worker}: CUDA was initialised before fgcore could pin this worker to "
                      f"one GPU, so it sees all of {', '.join(gpus)}", RuntimeWarning, stacklevel=2)
        return None
    chosen = gpus[int(worker[2:]) % len(gpus)]
    environ["CUDA_VISIBLE_DEVICES"] = chosen
    return chosen


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def xdist_workers() -> int:
    """How many pytest-xdist workers share this machine (1 outside xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


# -- how many runs share one GPU ---------------------------------------------------------------------------
# `make gpu-check` measures the throughput of 1, 2 and 4 training processes on one GPU and writes the best
# count here, per GPU model; `fgcore sweep` reads it when --workers is not given. More processes pay only
# when one run leaves the GPU idle between its kernels; a gain under this fraction is noise and memory.
WORKERS_GAIN = 0.10


def gpu_names() -> list[str]:
    """The model name of every NVIDIA GPU of the machine ("NVIDIA H200"), without initialising CUDA."""
    proc = Path("/proc/driver/nvidia/gpus")
    names = []
    if proc.is_dir():
        for gpu in sorted(proc.iterdir()):
            try:
                text = (gpu / "information").read_text()
            except OSError:
                continue
            names += [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Model:")]
        if names:
            return names
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                                 text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listing.splitlines() if line.strip()]


def _workers_file(cache: str | os.PathLike | None = None) -> Path:
    return settings.cache_root(cache) / "gpu-check" / "workers-per-gpu.json"


def best_workers(images_per_second: dict[int, float], gain: float = WORKERS_GAIN) -> int:
    """The fewest processes per GPU within `gain` of the best measured throughput.

    >>> best_workers({1: 100.0, 2: 190.0, 4: 200.0})
    2
    >>> best_workers({1: 100.0, 2: 105.0})
    1
    """
    if not images_per_second:
        raise ValueError("best_workers: no throughput measured")
    top = max(images_per_second.values())
    return min(k for k, v in images_per_second.items() if v >= (1 - gain) * top)


def save_workers_per_gpu(gpu: str, images_per_second: dict[int, float], *, source: str,
                         cache: str | os.PathLike | None = None) -> dict[str, Any]:
    """Record the measured throughput of k processes on one `gpu` (a model name) and the best k."""
    import json
    import time

    from .fileio import atomic_write_json

    path = _workers_file(cache)
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    entry = {"workers": best_workers(images_per_second), "source": source, "measured": time.strftime("%Y-%m-%d"),
             "images_per_second": {str(k): round(v, 1) for k, v in sorted(images_per_second.items())}}
    known[gpu] = entry
    atomic_write_json(path, known)
    return entry


def workers_per_gpu(gpu: str, cache: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """What `make gpu-check` measured for this GPU model (see save_workers_per_gpu), or None."""
    import json

    try:
        entry = json.loads(_workers_file(cache).read_text()).get(gpu)
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("workers"), int) or entry["workers"] < 1:
        return None
    return entry
