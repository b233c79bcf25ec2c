"""Outside data sets named by import path, "package.module:attribute" (bring your own data).

The attribute is either a `DatasetInfo` (a complete descriptor: loader, defaults, availability) or a
loader callable, called as ``callable(split=split, seed=seed, **options)``, that returns a fgcore Dataset
or arrays: ``(x, y)``, ``(x, y, class_names)`` or a dict with keys x, y and optionally class_names,
superclass (natural superclass label per sample). x: uint8 images (n, C, H, W) or float vectors /
images; y: integer labels 0..C-1. A callable's "auto" augmentation and normalisation follow the shape
of what it returns.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import import_path
from ..errors import SpecError
from .dataset import Dataset
from .registry import DatasetInfo


def info_for_import_path(name: str) -> DatasetInfo:
    """The DatasetInfo an import path names (itself, or a loader callable wrapped in one)."""
    target = import_path.resolve(name, "data set")
    if isinstance(target, DatasetInfo):
        return target
    if not callable(target):
        raise SpecError(f"data set {name!r}: {name.partition(':')[2]!r} is not callable (expected a function "
                        "returning arrays, or a fgcore.data.DatasetInfo)")

    def load(split: str, seed: int = 0, **options: Any) -> Dataset:
        return load_external(name, target(split=split, seed=seed, **options), split)

    return DatasetInfo(name, load, f"import path {name}")


def load_external(name: str, result: Any, split: str) -> Dataset:
    """The Dataset of what the loader `name` returned for `split` (a Dataset, arrays or a dict)."""
    if isinstance(result, Dataset):
        return result
    if isinstance(result, Mapping):
        fields = dict(result)
    elif isinstance(result, (tuple, list)) and len(result) in (2, 3):
        fields = dict(zip(("x", "y", "class_names"), result))
    else:
        raise SpecError(f"data set {name!r} returned {type(result).__name__}; expected a Dataset, (x, y), "
                        f"(x, y, class_names) or a dict with keys x, y[, class_names, superclass]")
    missing = {"x", "y"} - set(fields)
    if missing:
        raise SpecError(f"data set {name!r} returned no {', '.join(sorted(missing))}")
    x, y = np.asarray(fields["x"]), np.asarray(fields["y"])
    if x.ndim not in (2, 4) or len(x) != len(y):
        raise SpecError(f"data set {name!r}: x must be (n, d) or (n, C, H, W) with one row per label; got "
                        f"x {x.shape}, y {y.shape}")
    if x.dtype != np.uint8:
        x = x.astype(np.float32)
    if not np.issubdtype(y.dtype, np.integer):
        raise SpecError(f"data set {name!r}: y must hold integer labels, got dtype {y.dtype}")
    n_classes = int(y.max()) + 1
    names = tuple(fields.get("class_names") or (f"class{c}" for c in range(n_classes)))
    superclass, superclass_names = fields.get("superclass"), None
    meta: dict[str, Any] = {}
    if superclass is not None:
        superclass = np.asarray(superclass, dtype=np.int64)
        table = np.zeros(len(names), dtype=np.int64)
        table[y] = superclass  # Dataset checks that every class lies in one superclass
        meta["superclass_map"] = table
        superclass_names = tuple(f"group{s}" for s in range(int(superclass.max()) + 1))
    return Dataset(x=x, y=y.astype(np.int64), class_names=names, name=name, split=split,
                   source=f"import path {name}", superclass=superclass, superclass_names=superclass_names,
                   meta=meta)
