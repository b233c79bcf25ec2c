"""The data of `make gpu-check`: CIFAR-10 where it is found, synthetic images of its shape when asked."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

CIFAR_TRAIN, CIFAR_BATCH = 50_000, 128
SYNTHETIC = "fgcore.train.gpu_check:synthetic_cifar10"


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


@dataclass(frozen=True)
class CheckData:
    """What the check trains on: a RunSpec dataset name, what it is, and why it is not CIFAR-10."""

    dataset: str
    what: str
    why_not_cifar: str | None = None     # set when synthetic
    problem: str | None = None           # FGCORE_CIFAR10 names a copy that cannot be read

    @property
    def synthetic(self) -> bool:
        return self.dataset == SYNTHETIC


def find_cifar10() -> CheckData:
    """CIFAR-10 when it loads, else the synthetic stand-in (with the reason)."""
    from ... import data as fgdata
    from ... import settings

    try:
        test = fgdata.load("cifar10", "test")
    except (FileNotFoundError, ValueError, OSError) as exc:
        reason = " ".join(str(exc).split())
        problem = reason if settings.raw(settings.CIFAR10) else None
        return CheckData(SYNTHETIC, "synthetic uint8 images", f"no CIFAR-10 found ({reason})", problem)
    return CheckData("cifar10", f"CIFAR-10 ({test.source})")
