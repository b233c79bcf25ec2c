"""Training with a cache: RunSpec -> resolve(spec) -> train(spec) -> Run (features per snapshot,
per-epoch history)."""

from .api import train
from .cache import CorruptEntryError, RunStore, cache_root
from .resolve import is_resolved, resolve
from .run import Run
from .spec import TRAINING_CODE_VERSION, RunSpec, default_snapshots

__all__ = ["RunSpec", "Run", "train", "resolve", "is_resolved", "RunStore", "CorruptEntryError", "cache_root",
           "default_device", "default_snapshots", "TRAINING_CODE_VERSION"]


def __getattr__(name: str):
    if name == "default_device":  # imports torch: only on demand
        from .loop import default_device

        return default_device
    raise AttributeError(f"module 'fgcore.train' has no attribute {name!r}")
