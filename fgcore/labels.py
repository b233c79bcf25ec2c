"""Relabelings of the original labels y in 0..C-1 (Sec. 3.2 of the paper, App. F).

- coarse(y, k) = y mod k (eq. 4): k superclasses of C/k classes each; class c is in superclass c mod k.
- random_coarse(y, k, seed): the class indices are shuffled by a seeded permutation, then taken
  mod k (App. F). The permutation depends on the seed only, so train and test agree.
- fine(y, C, seed) = y + C * beta, beta ~ Bernoulli(1/2) i.i.d. per sample (eq. 5): 2C fine labels;
  fine label f belongs to original class f mod C. The draws depend on (seed, split).
- superclasses(y, mapping): natural superclasses (CIFAR-100's 20, Fashion-MNIST's groups).
- random_groups(superclass_map, seed): groups of the same sizes as the natural superclasses, filled
  with classes by a seeded permutation (the control of Sec. 5: random vs natural superclasses).
- identity(y): the original labels.

`relabel` and `superclass_of` dispatch on a labeling string ("coarse:K", "random_coarse:K",
"fine", "natural", "random_natural", "identity") for the trainer. Every function returns a new int64 array.
"""

from __future__ import annotations

import zlib
from typing import Mapping

import numpy as np

LABELINGS = ("coarse:K", "random_coarse:K", "fine", "natural", "random_natural", "identity")


def _labels(y, n_classes: int | None = None, name: str = "y") -> np.ndarray:
    """y as a 1-D int64 array, checked to lie in 0..n_classes-1 (when n_classes is given)."""
    if n_classes is not None:
        _n_classes(n_classes, None)
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array of labels, got shape {arr.shape}.")
    if arr.size and (arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must hold integer labels, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} holds negative labels ({arr.min()}); labels must be 0..C-1.")
    if n_classes is not None and arr.size and arr.max() >= n_classes:
        raise ValueError(
            f"{name} holds label {arr.max()}, out of range for n_classes={n_classes} (labels must be 0..{n_classes - 1})."
        )
    return arr


def _n_classes(n_classes, y: np.ndarray | None) -> int:
    if n_classes is None:
        if y is None or not y.size:
            raise ValueError("n_classes is needed when y is empty (it cannot be inferred).")
        return int(y.max()) + 1
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}.")
    return int(n_classes)


def _check_k(k, n_classes: int) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer number of superclasses, got {k!r}.")
    if n_classes % k:
        divisors = [d for d in range(1, n_classes + 1) if n_classes % d == 0]
        raise ValueError(
            f"k={k} does not divide the number of classes C={n_classes}; eq. (4) needs equally many "
            f"classes per superclass, so use k in {divisors}."
        )
    return int(k)


def _seed_sequence(seed, *parts: str) -> np.random.SeedSequence:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    return np.random.SeedSequence([int(seed), *(zlib.crc32(p.encode()) for p in parts)])


def coarse(y, k: int, *, n_classes: int | None = None) -> np.ndarray:
    """y mod k (eq. 4). n_classes (default max(y) + 1) must be divisible by k."""
    y = _labels(y, n_classes)
    _check_k(k, _n_classes(n_classes, y))
    return y % k


def random_permutation(n_classes: int, seed: int) -> np.ndarray:
    """The seeded class permutation of random_coarse: class c is renamed perm[c]."""
    n_classes = _n_classes(n_classes, None)
    return np.random.default_rng(_seed_sequence(seed, "random_coarse")).permutation(n_classes).astype(np.int64)


def random_coarse(y, k: int, seed: int, *, n_classes: int | None = None) -> np.ndarray:
    """perm[y] mod k with a seeded permutation of the class indices (App. F).

    Each superclass holds C/k classes, as with coarse; which ones is random but fixed by `seed`."""
    y = _labels(y, n_classes)
    c = _n_classes(n_classes, y)
    _check_k(k, c)
    return random_permutation(c, seed)[y] % k


def fine(y, n_classes: int, seed: int, *, split: str | None = None) -> np.ndarray:
    """y + C * beta with beta ~ Bernoulli(1/2) independently per sample (eq. 5): 2C fine labels.

    The draws come from `seed` (and `split` when given, so train and test get independent draws).
    Fine label f belongs to original class f mod C (see fine_original_class)."""
    y = _labels(y, n_classes)
    c = _n_classes(n_classes, y)
    rng = np.random.default_rng(_seed_sequence(seed, "fine", *(() if split is None else (split,))))
    beta = rng.integers(0, 2, size=y.shape[0], dtype=np.int64)
    return y + c * beta


def fine_original_class(n_classes: int) -> np.ndarray:
    """int64 array of length 2C: fine label f -> its original class f mod C."""
    c = _n_classes(n_classes, None)
    return np.arange(2 * c, dtype=np.int64) % c


def superclasses(y, mapping) -> np.ndarray:
    """Map each original class to its superclass: mapping is an array (index = class) or a dict."""
    y = _labels(y)
    if isinstance(mapping, Mapping):
        if not mapping:
            raise ValueError("mapping is empty; give a superclass for every class in y.")
        size = max(int(c) for c in mapping) + 1
        table = np.full(size, -1, dtype=np.int64)
        for c, s in mapping.items():
            if not isinstance(c, (int, np.integer)) or c < 0 or not isinstance(s, (int, np.integer)) or s < 0:
                raise ValueError(f"mapping must map class indices to superclass indices (non-negative integers), got {c!r}: {s!r}.")
            table[int(c)] = s
    else:
        table = _labels(mapping, name="mapping")
    if y.size:
        if y.max() >= table.shape[0] or (table[y] < 0).any():
            missing = sorted({int(c) for c in np.unique(y) if c >= table.shape[0] or table[c] < 0})
            raise ValueError(f"mapping gives no superclass for class(es) {missing} that occur in y.")
    return table[y].astype(np.int64)


def identity(y, *, n_classes: int | None = None) -> np.ndarray:
    """The original labels, validated, as a new int64 array."""
    return _labels(y, n_classes).copy()


def parse_labeling(labeling: str) -> tuple[str, int | None]:
    """("coarse", 5) from "coarse:5"; ("fine", None) from "fine"; ValueError listing valid forms."""
    valid = f"valid labelings: {', '.join(LABELINGS)} (K a positive integer dividing C)"
    if not isinstance(labeling, str):
        raise ValueError(f"labeling must be a string; {valid}; got {labeling!r}.")
    kind, sep, arg = labeling.partition(":")
    if kind in ("coarse", "random_coarse"):
        if not sep or not arg.strip().isdigit() or int(arg) < 1:
            raise ValueError(f"labeling={labeling!r} needs a number of superclasses, e.g. '{kind}:5'; {valid}.")
        return kind, int(arg)
    if kind in ("fine", "natural", "random_natural", "identity") and not sep:
        return kind, None
    raise ValueError(f"labeling={labeling!r} is not known; {valid}.")


def relabel(labeling: str, y, *, n_classes: int, seed: int, split: str, superclass=None) -> np.ndarray:
    """Training labels for the original labels `y` of one split.

    labeling: "coarse:K", "random_coarse:K", "fine", "natural" or "identity".
    seed: fixes random_coarse's permutation (same for every split) and, with `split`, fine's draws.
    superclass: for "natural", the per-sample natural superclass labels (Dataset.superclass).
    """
    kind, k = parse_labeling(labeling)
    y = _labels(y, _n_classes(n_classes, None))
    if not isinstance(split, str) or not split:
        raise ValueError(f"split must be a non-empty string such as 'train' or 'test', got {split!r}.")
    if kind == "coarse":
        return coarse(y, k, n_classes=n_classes)
    if kind == "random_coarse":
        return random_coarse(y, k, seed, n_classes=n_classes)
    if kind == "fine":
        return fine(y, n_classes, seed, split=split)
    if kind == "identity":
        return identity(y, n_classes=n_classes)
    if superclass is None:
        raise ValueError(
            f"labeling={labeling!r} needs superclass= (the per-sample natural superclass labels, "
            "Dataset.superclass); this data set may have no natural superclasses."
        )
    sup = _labels(superclass, name="superclass")
    if sup.shape != y.shape:
        raise ValueError(f"superclass has {sup.shape[0]} labels but y has {y.shape[0]}; give one per sample.")
    if kind == "random_natural":
        natural_map = np.full(n_classes, -1, dtype=np.int64)
        natural_map[y] = sup
        if np.any(natural_map < 0):
            raise ValueError("labeling='random_natural' needs every class present in the split to know the "
                             "natural group sizes; use superclass_of(..., superclass_map=) instead.")
        return random_groups(natural_map, seed)[y]
    return sup.copy()


def superclass_of(labeling: str, *, n_classes: int, seed: int, superclass_map=None) -> np.ndarray | None:
    """Original class -> training label, for labelings that merge classes; None for fine / identity.

    Consistent with relabel: relabel(labeling, y, ...) == superclass_of(labeling, ...)[y].
    superclass_map: for "natural", original class -> superclass (Dataset.superclass_map)."""
    kind, k = parse_labeling(labeling)
    classes = np.arange(_n_classes(n_classes, None), dtype=np.int64)
    if kind == "coarse":
        return coarse(classes, k, n_classes=n_classes)
    if kind == "random_coarse":
        return random_coarse(classes, k, seed, n_classes=n_classes)
    if kind in ("fine", "identity"):
        return None
    if superclass_map is None:
        raise ValueError(
            "labeling='natural' needs superclass_map= (original class -> superclass, Dataset.superclass_map)."
        )
    if isinstance(superclass_map, Mapping):
        table = superclasses(classes, superclass_map)
    else:
        table = _labels(superclass_map, name="superclass_map")
        if table.shape[0] != classes.shape[0]:
            raise ValueError(f"superclass_map has {table.shape[0]} entries; expected one per class ({n_classes}).")
    return random_groups(table, seed) if kind == "random_natural" else table.copy()


def random_groups(superclass_map, seed: int) -> np.ndarray:
    """Random groups of the same sizes as the natural ones: original class -> random group.

    Class perm[c] takes the natural group of class c, for a seeded permutation perm of the classes,
    so every group keeps its size (Fashion-MNIST: 5, 3, 1, 1) but its members are random (Sec. 5's
    "randomly merged" superclasses). The permutation depends on the seed only (same for every split).
    """
    table = _labels(superclass_map, name="superclass_map")
    perm = random_permutation(table.shape[0], seed)
    grouped = np.empty_like(table)
    grouped[perm] = table
    return grouped


def n_training_labels(labeling: str, *, n_classes: int, superclass_map=None) -> int:
    """How many labels the network is trained on (the size of its head)."""
    kind, k = parse_labeling(labeling)
    if kind in ("coarse", "random_coarse"):
        _check_k(k, _n_classes(n_classes, None))
        return int(k)
    if kind == "fine":
        return 2 * int(n_classes)
    if kind == "identity":
        return int(n_classes)
    return int(superclass_of(labeling, n_classes=n_classes, seed=0, superclass_map=superclass_map).max()) + 1
