"""Run: a read-only view of a complete cache entry (what claims and the report consume)."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import numpy as np

from .cache import CorruptEntryError, Entry, load_tensors
from .spec import RunSpec

LABEL_KINDS = ("train", "original")
SPLITS = ("train", "test")


class ClassesFromMeta:
    """The classes of a set of features, read from its `meta` dict: what fgcore.run_metrics asks of a Run
    and of a Measurement (fgcore.measure) besides features, labels and distance matrices."""

    meta: dict[str, Any]

    @property
    def superclass_of(self) -> np.ndarray | None:
        value = self.meta.get("superclass_of")
        return None if value is None else np.asarray(value, dtype=np.int64)

    @property
    def class_names(self) -> list[str]:
        return list(self.meta["class_names"])

    @property
    def n_classes(self) -> int:
        return len(self.meta["class_names"])

    @property
    def n_train_classes(self) -> int:
        return int(self.meta["n_train_classes"])


class Run(ClassesFromMeta):
    """A finished training run, loaded lazily from its cache entry.

    run.features(epoch, split)   (n, d) float32 last-layer features at a snapshot epoch ("last" = final)
    run.labels(split, kind)      kind "train" (the labels it was trained on) or "original"
    run.history                  list of per-epoch records (dicts), epoch 0 = untrained network
    run.snapshot_epochs          epochs with stored features
    run.distance_matrix(epoch, kind)  class distance matrix D (eq. 6) of that epoch's statistics pass
    run.superclass_of            original class -> training label (labelings that merge classes) or None
    run.untrained()              the same run seen as if it had ended at epoch 0 (UntrainedRun)
    """

    def __init__(self, entry: Entry):
        if not entry.is_complete():
            problems = "; ".join(entry.problems()) if entry.path.exists() else "it does not exist"
            raise CorruptEntryError(
                f"cache entry {entry.path} is not a complete run ({problems}); train it again "
                f"(`fgcore cache rm {entry.key}` removes a broken one)")
        self.entry = entry
        self.spec = RunSpec.from_dict(json.loads(entry.file("spec.json").read_text())["spec"])

    def __repr__(self) -> str:
        return f"Run({self.spec.short}, key={self.key[:12]})"

    @property
    def key(self) -> str:
        return self.entry.key

    @property
    def path(self):
        return self.entry.path

    @functools.cached_property
    def meta(self) -> dict[str, Any]:
        return json.loads(self.entry.file("meta.json").read_text())

    @functools.cached_property
    def history(self) -> list[dict[str, Any]]:
        lines = self.entry.file("history.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    @property
    def snapshot_epochs(self) -> tuple[int, ...]:
        return tuple(self.meta["snapshot_epochs"])

    @property
    def stats_epochs(self) -> tuple[int, ...]:
        return tuple(self.meta["stats_epochs"])

    def _epoch(self, epoch: int | str, available: tuple[int, ...], what: str) -> int:
        if epoch in ("last", -1):
            return available[-1]
        if epoch == "first":
            return available[0]
        if epoch not in available:
            raise ValueError(f"{what} exist only at epochs {list(available)}; got epoch={epoch!r}")
        return int(epoch)

    @functools.lru_cache(maxsize=4)
    def _snapshot(self, epoch: int) -> dict[str, np.ndarray]:
        return load_tensors(self.entry.read_verified(f"features/epoch_{epoch:04d}.safetensors"))

    def features(self, epoch: int | str = "last", split: str = "train") -> np.ndarray:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        epoch = self._epoch(epoch, self.snapshot_epochs, "features")
        return self._snapshot(epoch)[split]

    @functools.cached_property
    def _labels(self) -> dict[str, np.ndarray]:
        return load_tensors(self.entry.read_verified("labels.safetensors"))

    def labels(self, split: str = "train", kind: str = "train") -> np.ndarray:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if kind not in LABEL_KINDS:
            raise ValueError(f"kind must be one of {LABEL_KINDS}, got {kind!r}")
        return self._labels[f"{split}_{kind}"]

    @functools.lru_cache(maxsize=64)
    def stats(self, epoch: int | str) -> dict[str, np.ndarray]:
        """Arrays of an epoch's statistics pass: D_original, D_train (float64)."""
        epoch = self._epoch(epoch, self.stats_epochs, "statistics")
        return load_tensors(self.entry.read_verified(f"stats/epoch_{epoch:04d}.safetensors"))

    def distance_matrix(self, epoch: int | str = "last", kind: str = "original") -> np.ndarray:
        if kind not in LABEL_KINDS:
            raise ValueError(f"kind must be one of {LABEL_KINDS}, got {kind!r}")
        return self.stats(epoch)[f"D_{kind}"]

    def record(self, epoch: int | str = "last") -> dict[str, Any]:
        """The history record of one epoch."""
        epochs = tuple(r["epoch"] for r in self.history)
        epoch = self._epoch(epoch, epochs, "history records")
        return self.history[epochs.index(epoch)]

    def final_train_accuracy(self) -> float:
        """Training accuracy (eval mode, training labels) at the last epoch with statistics."""
        return float(self.record("last")["train_acc"])

    def untrained(self) -> "UntrainedRun":
        """This run as if it had ended before training: its untrained network (see UntrainedRun)."""
        return UntrainedRun(self)


class UntrainedRun(Run):
    """A Run seen as if it had ended at epoch 0: the untrained network it started from.

    Every epoch it offers is 0 ("last" and "first" too): features, distance matrices, statistics and
    history records are those of the run's epoch 0, so a measure reads the untrained network unchanged.
    A measure that needs a snapshot after training starts (an emergence epoch, a lead, a fall from
    epoch 0 to later) finds none; a ratio of the last value to the untrained one is 1 here. Its `key`
    differs from the run's (results kept per key in a process must not mix the two): it is a digest of
    what the untrained network gives (its epoch-0 features, labels and superclasses), so runs that start
    from the same network (the configurations of a grid at one seed) share their results; `entry` is the
    run's, and results stored there are keyed by the concrete epoch they read.
    """

    EPOCH = 0

    def __init__(self, run: Run):
        missing = [what for what, epochs in (("features", run.snapshot_epochs), ("statistics", run.stats_epochs))
                   if self.EPOCH not in epochs]
        if missing:
            raise ValueError(f"{run}: no {' and no '.join(missing)} stored at epoch 0, so its untrained network "
                             f"cannot be read; keep epoch 0 among its snapshot_epochs")
        self.__dict__.update(run.__dict__)   # the same entry, spec and what the run already loaded
        self.trained = run

    def __repr__(self) -> str:
        return f"UntrainedRun({self.spec.short}, key={self.trained.key[:12]})"

    @functools.cached_property
    def key(self) -> str:
        digest = hashlib.sha256()
        arrays = [self.features(self.EPOCH, split) for split in SPLITS]
        arrays += [self.labels(split, kind) for split in SPLITS for kind in LABEL_KINDS]
        if self.superclass_of is not None:
            arrays.append(self.superclass_of)
        for array in arrays:
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype}{array.shape}".encode() + array.tobytes())
        return f"epoch0-{digest.hexdigest()[:32]}"

    @property
    def snapshot_epochs(self) -> tuple[int, ...]:
        return (self.EPOCH,)

    @property
    def stats_epochs(self) -> tuple[int, ...]:
        return (self.EPOCH,)

    @property
    def history(self) -> list[dict[str, Any]]:
        return [r for r in self.trained.history if r["epoch"] == self.EPOCH]

    def untrained(self) -> "UntrainedRun":
        return self
