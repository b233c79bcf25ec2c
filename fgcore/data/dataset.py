"""The `Dataset` record (one split of one data set) and the stratified, seeded subset.

A Dataset always carries the *original* labels ``y`` (0..C-1); relabelings (coarse, fine, ...) are
applied later by ``fgcore.labels`` so a run keeps both.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

SPLITS = ("train", "test")


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not a valid split; use one of {', '.join(SPLITS)}.")
    return split


def split_seed(seed: int, split: str, purpose: str = "") -> np.random.SeedSequence:
    """A seed stream that depends on (seed, split, purpose) and nothing else.

    crc32 of the strings rather than ``hash()`` because Python salts string hashes per process.
    """
    return np.random.SeedSequence([int(seed), zlib.crc32(split.encode()), zlib.crc32(purpose.encode())])


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of one data set.

    x: uint8 (n, C, H, W) for images; float32 for vector data (digits (n, 1, 8, 8) in [0, 1],
       Gaussian mixtures (n, d)).
    y: int64 original labels 0..n_classes-1.
    class_names: one name per original class, in label order.
    source: where it came from, for people (a path, "sklearn", "synthetic", "CIFAR-10 (JPEG copy)").
    superclass: int64 natural superclass label per sample, or None where the data set has none.
    superclass_names: names of the natural superclasses (same order as their indices), or None.
    meta: anything else worth recording (generator parameters, the subset taken, ...). When
       ``superclass`` is set, ``meta["superclass_map"]`` holds original class -> superclass.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    name: str
    split: str
    source: str
    superclass: np.ndarray | None = None
    superclass_names: tuple[str, ...] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise types once, here
        x = np.asarray(self.x)
        y = np.asarray(self.y)
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional, got shape {y.shape}.")
        if x.shape[:1] != y.shape:
            raise ValueError(f"x has {x.shape[0] if x.ndim else 0} rows but y has {y.shape[0]} labels.")
        if y.size and not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must hold integer labels, got dtype {y.dtype}.")
        y = y.astype(np.int64, copy=False)
        names = tuple(str(n) for n in self.class_names)
        if y.size and (y.min() < 0 or y.max() >= len(names)):
            raise ValueError(
                f"y holds labels in [{y.min()}, {y.max()}] but there are {len(names)} class names; "
                "labels must lie in 0..len(class_names)-1."
            )
        set_(self, "x", x)
        set_(self, "y", y)
        set_(self, "class_names", names)
        set_(self, "meta", dict(self.meta))
        if self.superclass is None:
            if self.superclass_names is not None:
                raise ValueError("superclass_names was given without superclass labels.")
            return
        sup = np.asarray(self.superclass).astype(np.int64, copy=False)
        if sup.shape != y.shape:
            raise ValueError(f"superclass has shape {sup.shape}, expected one label per sample {y.shape}.")
        sup_names = tuple(str(n) for n in (self.superclass_names or ()))
        if not sup_names:
            raise ValueError("superclass labels need superclass_names.")
        mapping = self.meta.get("superclass_map")
        if mapping is None:
            raise ValueError('superclass labels need meta["superclass_map"] (original class -> superclass).')
        mapping = np.asarray(mapping, dtype=np.int64)
        if mapping.shape != (len(names),) or mapping.min() < 0 or mapping.max() >= len(sup_names):
            raise ValueError(
                f'meta["superclass_map"] must map each of the {len(names)} classes to 0..{len(sup_names) - 1}.'
            )
        if y.size and not np.array_equal(mapping[y], sup):
            raise ValueError('superclass labels disagree with meta["superclass_map"][y].')
        set_(self, "superclass", sup)
        set_(self, "superclass_names", sup_names)
        self.meta["superclass_map"] = mapping

    @property
    def n_classes(self) -> int:
        """Number of original classes (len(class_names)), whether or not all occur in this split."""
        return len(self.class_names)

    @property
    def superclass_map(self) -> np.ndarray | None:
        """int64 array: original class -> natural superclass index, or None."""
        return None if self.superclass is None else self.meta["superclass_map"]

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __repr__(self) -> str:
        sup = "" if self.superclass_names is None else f", {len(self.superclass_names)} superclasses"
        return (
            f"Dataset({self.name!r}, split={self.split!r}, n={len(self)}, x={self.x.dtype}{tuple(self.x.shape[1:])}, "
            f"{self.n_classes} classes{sup}, source={self.source!r})"
        )

    def select(self, indices: np.ndarray, **meta: Any) -> "Dataset":
        """The samples at `indices` (in that order) with the same metadata, plus `meta` entries."""
        idx = np.asarray(indices, dtype=np.int64)
        return replace(
            self,
            x=self.x[idx],
            y=self.y[idx],
            superclass=None if self.superclass is None else self.superclass[idx],
            meta={**self.meta, **meta},
        )


def stratified_subset(y: np.ndarray, size: int, seed: int | np.random.SeedSequence = 0) -> np.ndarray:
    """Sorted indices of a seeded, stratified sample of `size` examples.

    Each class present in `y` gets a share proportional to its frequency, rounded by the largest
    remainder, and at least one example (so no class vanishes from a small subset). Within a class
    the examples are drawn without replacement with ``np.random.default_rng(seed)``.
    """
    y = np.asarray(y)
    n = y.shape[0]
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
        raise ValueError(f"subset must be an integer number of examples, got {size!r}.")
    size = int(size)
    if size <= 0:
        raise ValueError(f"subset={size} would be an empty data set; pass a positive number of examples or None.")
    classes, counts = np.unique(y, return_counts=True)
    if size > n:
        raise ValueError(f"subset={size} is larger than the split ({n} examples); use at most {n}.")
    if size < len(classes):
        raise ValueError(
            f"subset={size} is smaller than the number of classes ({len(classes)}); a stratified "
            f"subset needs at least one example per class, so use subset >= {len(classes)}."
        )
    quota = counts * (size / n)
    alloc = np.maximum(np.floor(quota).astype(np.int64), 1)
    # Largest-remainder rounding, respecting 1 <= alloc <= count.
    while alloc.sum() < size:
        room = np.where(alloc < counts, quota - alloc, -np.inf)
        alloc[int(np.argmax(room))] += 1
    while alloc.sum() > size:
        excess = np.where(alloc > 1, alloc - quota, -np.inf)
        alloc[int(np.argmax(excess))] -= 1
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c, k in zip(classes, alloc)]
    return np.sort(np.concatenate(chosen))
