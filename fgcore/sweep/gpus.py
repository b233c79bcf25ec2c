"""Which GPUs a process may use, found without initialising CUDA (so it can still be restricted).

CUDA reads CUDA_VISIBLE_DEVICES once, when the driver initialises (torch.cuda.is_available() is
enough to do that); after that, changing the variable has no effect. So the GPUs are counted here
from the environment, /proc/driver/nvidia/gpus or `nvidia-smi -L`, never through torch.cuda.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import MutableMapping


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

    Call it before anything initialises CUDA (the plugin does, at the start of its
    pytest_collection_modifyitems in each worker, before it asks torch whether CUDA is there, and only
    in sessions that run claims). With more workers than GPUs, workers
    share GPUs round-robin. Returns the GPU id chosen, or None (not an xdist worker, no GPU, or CUDA
    already initialised, which is warned about since the setting would not take effect).
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
