"""Training with a cache: RunSpec -> train(spec) -> Run (features per snapshot, per-epoch history)."""

from .cache import CorruptEntryError, RunStore, cache_root
from .loop import default_device, train
from .run import Run
from .spec import TRAINING_CODE_VERSION, RunSpec, default_snapshots

__all__ = ["RunSpec", "Run", "train", "RunStore", "CorruptEntryError", "cache_root", "default_device",
           "default_snapshots", "TRAINING_CODE_VERSION"]
