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

The trainer names a labeling by a string: a registered name, with ":K" where it takes a number
("coarse:5", "fine", "natural", ...), or an import path "package.module:NAME" (":K" after it, where it
takes one) naming a `Labeling`. Each labeling is one `Labeling` descriptor in LABELINGS; `relabel`,
`superclass_of`, `n_training_labels` and `original_class` answer for any of them. A new one is one
module that defines its functions and calls `register(Labeling(...))`. Every function returns a new
int64 array.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from . import import_path, registry
from .errors import UnknownNameError


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


@dataclass(frozen=True)
class Labeling:
    """How a network's training labels come from the original classes 0..C-1.

    Parameters
    ----------
    name : str
        What a RunSpec's `labeling` says ("coarse" in "coarse:5").
    description : str
        One line for people.
    class_map : callable, optional
        ``class_map(n_classes, *, k, seed, superclass_map) -> (C,) int64 array``: original class ->
        training label, for labelings that give every sample of a class the same label (they merge
        classes: coarse, natural, ...). The trainer records it as the run's superclass_of.
    sample_labels : callable, optional
        ``sample_labels(y, *, n_classes, k, seed, split, superclass) -> int64 labels`` for each sample:
        labelings drawn per sample (fine), and class-map labelings that need the natural superclasses
        (given per sample as `superclass`; it must equal class_map(...)[y]). Without it, relabel
        computes class_map(...)[y].
    n_labels : callable, optional
        ``n_labels(n_classes, k) -> int``: how many training labels (the head's width); default: the
        class map's largest label + 1.
    original_class : callable, optional
        ``original_class(n_classes, k) -> int64 array``: training label -> original class, for
        labelings whose head also predicts the original class (identity, fine).
    takes_k : bool
        The labeling is written "name:K" with a positive integer K (e.g. the number of superclasses).
    """

    name: str
    description: str = ""
    class_map: Callable[..., np.ndarray] | None = None
    sample_labels: Callable[..., np.ndarray] | None = None
    n_labels: Callable[[int, int | None], int] | None = None
    original_class: Callable[[int, int | None], np.ndarray] | None = None
    takes_k: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not re.fullmatch(r"[A-Za-z_][\w.]*", self.name):
            raise ValueError(f"Labeling: name must be an identifier (it is written name or name:K), got {self.name!r}")
        if self.class_map is None and self.sample_labels is None:
            raise ValueError(f"Labeling {self.name!r}: give class_map, sample_labels or both")
        if self.class_map is None and self.n_labels is None:
            raise ValueError(f"Labeling {self.name!r}: a labeling without class_map needs n_labels")

    @property
    def form(self) -> str:
        return f"{self.name}:K" if self.takes_k else self.name


LABELINGS: dict[str, Labeling] = {}


def register(labeling: Labeling, *, replace: bool = False) -> Labeling:
    """Add a labeling to the registry (its name must be new unless `replace`); returns it."""
    if not isinstance(labeling, Labeling):
        raise TypeError(f"register() takes a Labeling, got {type(labeling).__name__}")
    return registry.add(LABELINGS, labeling.name, labeling, what="labeling", replace=replace)


def _valid() -> str:
    forms = ", ".join(lab.form for lab in LABELINGS.values())
    return (f"valid labelings: {forms} (K a positive integer dividing C), or an import path "
            "'package.module:NAME' (':K' after it where it takes K) naming a fgcore.labels.Labeling")


def _lookup(labeling: str) -> tuple[Labeling, int | None]:
    """The Labeling a labeling string names, and its K (None where it takes none)."""
    if not isinstance(labeling, str):
        raise UnknownNameError(f"labeling must be a string; {_valid()}; got {labeling!r}.")
    name, k_text = labeling, None
    match = re.fullmatch(r"(.+?):(\d+)", labeling)
    if match and (match.group(1) in LABELINGS or import_path.is_import_path(match.group(1))):
        name, k_text = match.groups()
    registered_prefix = name.partition(":")[0] if ":" in name else None
    if registered_prefix in LABELINGS:  # "coarse:x": a registered labeling with a bad number, not a module
        name, found = registered_prefix, LABELINGS[registered_prefix]
        raise UnknownNameError(f"labeling={labeling!r}: " + (f"needs a positive integer, e.g. '{name}:5'" if found.takes_k
                               else f"{name!r} takes no number") + f"; {_valid()}.")
    found = registry.named(LABELINGS, name, what="labeling", kind=Labeling)
    if found is None:
        raise UnknownNameError(f"labeling={labeling!r} is not known; {_valid()}.")
    if found.takes_k and (k_text is None or int(k_text) < 1):
        raise UnknownNameError(f"labeling={labeling!r} needs a number, e.g. '{name}:5'; {_valid()}.")
    if not found.takes_k and k_text is not None:
        raise UnknownNameError(f"labeling={labeling!r}: {name!r} takes no number; {_valid()}.")
    return found, None if k_text is None else int(k_text)


def get_labeling(labeling: str) -> Labeling:
    """The Labeling descriptor a labeling string names (checks its form)."""
    return _lookup(labeling)[0]


def relabel(labeling: str, y, *, n_classes: int, seed: int, split: str, superclass=None) -> np.ndarray:
    """Training labels for the original labels `y` of one split.

    labeling: "coarse:K", "random_coarse:K", "fine", "natural", "random_natural", "identity", another
        registered labeling or an import path.
    seed: fixes random_coarse's permutation (same for every split) and, with `split`, fine's draws.
    superclass: for "natural" and "random_natural", the per-sample natural superclass labels
        (Dataset.superclass).
    """
    found, k = _lookup(labeling)
    y = _labels(y, _n_classes(n_classes, None))
    if not isinstance(split, str) or not split:
        raise ValueError(f"split must be a non-empty string such as 'train' or 'test', got {split!r}.")
    if found.sample_labels is not None:
        return np.asarray(found.sample_labels(y, n_classes=int(n_classes), k=k, seed=seed, split=split,
                                              superclass=superclass), dtype=np.int64)
    return found.class_map(int(n_classes), k=k, seed=seed, superclass_map=None)[y]


def superclass_of(labeling: str, *, n_classes: int, seed: int, superclass_map=None) -> np.ndarray | None:
    """Original class -> training label, for labelings that merge classes; None for fine / identity.

    Consistent with relabel: relabel(labeling, y, ...) == superclass_of(labeling, ...)[y].
    superclass_map: for "natural", original class -> superclass (Dataset.superclass_map)."""
    found, k = _lookup(labeling)
    n_classes = _n_classes(n_classes, None)
    if found.class_map is None:
        return None
    return np.asarray(found.class_map(n_classes, k=k, seed=seed, superclass_map=superclass_map), dtype=np.int64)


def n_training_labels(labeling: str, *, n_classes: int, superclass_map=None) -> int:
    """How many labels the network is trained on (the size of its head)."""
    found, k = _lookup(labeling)
    n_classes = _n_classes(n_classes, None)
    if found.n_labels is not None:
        return int(found.n_labels(n_classes, k))
    return int(superclass_of(labeling, n_classes=n_classes, seed=0, superclass_map=superclass_map).max()) + 1


def original_class(labeling: str, *, n_classes: int) -> np.ndarray | None:
    """Training label -> original class where the head also predicts the original class, else None."""
    found, k = _lookup(labeling)
    n_classes = _n_classes(n_classes, None)
    return None if found.original_class is None else np.asarray(found.original_class(n_classes, k), dtype=np.int64)


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


def _natural_table(n_classes: int, superclass_map, name: str) -> np.ndarray:
    if superclass_map is None:
        raise ValueError(f"labeling={name!r} needs superclass_map= (original class -> superclass, "
                         "Dataset.superclass_map).")
    classes = np.arange(n_classes, dtype=np.int64)
    if isinstance(superclass_map, Mapping):
        return superclasses(classes, superclass_map)
    table = _labels(superclass_map, name="superclass_map")
    if table.shape[0] != n_classes:
        raise ValueError(f"superclass_map has {table.shape[0]} entries; expected one per class ({n_classes}).")
    return table.copy()


def _per_sample_superclass(y: np.ndarray, superclass, name: str) -> np.ndarray:
    if superclass is None:
        raise ValueError(
            f"labeling={name!r} needs superclass= (the per-sample natural superclass labels, "
            "Dataset.superclass); this data set may have no natural superclasses."
        )
    sup = _labels(superclass, name="superclass")
    if sup.shape != y.shape:
        raise ValueError(f"superclass has {sup.shape[0]} labels but y has {y.shape[0]}; give one per sample.")
    return sup


def _random_natural_samples(y, *, n_classes, k, seed, split, superclass) -> np.ndarray:
    sup = _per_sample_superclass(y, superclass, "random_natural")
    natural_map = np.full(n_classes, -1, dtype=np.int64)
    natural_map[y] = sup
    if np.any(natural_map < 0):
        raise ValueError("labeling='random_natural' needs every class present in the split to know the "
                         "natural group sizes; use superclass_of(..., superclass_map=) instead.")
    return random_groups(natural_map, seed)[y]


register(Labeling(
    "coarse", "y mod K: K superclasses of C/K classes each (eq. 4)", takes_k=True,
    class_map=lambda n_classes, *, k, seed, superclass_map: coarse(np.arange(n_classes), k, n_classes=n_classes)))
register(Labeling(
    "random_coarse", "a seeded permutation of the classes, then mod K (App. F)", takes_k=True,
    class_map=lambda n_classes, *, k, seed, superclass_map: random_coarse(np.arange(n_classes), k, seed,
                                                                           n_classes=n_classes)))
register(Labeling(
    "fine", "y + C * Bernoulli(1/2) per sample: 2C fine labels (eq. 5)",
    sample_labels=lambda y, *, n_classes, k, seed, split, superclass: fine(y, n_classes, seed, split=split),
    n_labels=lambda n_classes, k: 2 * n_classes,
    original_class=lambda n_classes, k: fine_original_class(n_classes)))
register(Labeling(
    "natural", "the data set's natural superclasses (CIFAR-100's 20, Fashion-MNIST's groups)",
    class_map=lambda n_classes, *, k, seed, superclass_map: _natural_table(n_classes, superclass_map, "natural"),
    sample_labels=lambda y, *, n_classes, k, seed, split, superclass: _per_sample_superclass(
        y, superclass, "natural").copy()))
register(Labeling(
    "random_natural", "random groups of the natural groups' sizes (Sec. 5's control)",
    class_map=lambda n_classes, *, k, seed, superclass_map: random_groups(
        _natural_table(n_classes, superclass_map, "random_natural"), seed),
    sample_labels=_random_natural_samples))
register(Labeling(
    "identity", "the original labels",
    sample_labels=lambda y, *, n_classes, k, seed, split, superclass: identity(y, n_classes=n_classes),
    n_labels=lambda n_classes, k: n_classes,
    original_class=lambda n_classes, k: np.arange(n_classes, dtype=np.int64)))
