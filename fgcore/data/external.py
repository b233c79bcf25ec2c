"""Outside data sets named by import path: "package.module:callable" (issue 7: bring your own data).

The callable is called as ``callable(split=split, seed=seed, **options)`` and returns either a
fgcore Dataset or arrays: ``(x, y)``, ``(x, y, class_names)`` or a dict with keys x, y and optionally
class_names, superclass (natural superclass label per sample). x: uint8 images (n, C, H, W) or float
vectors / images; y: integer labels 0..C-1.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Mapping

import numpy as np

from .dataset import Dataset

IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
FORM = "'package.module:callable'"


def is_import_path(name: str) -> bool:
    return bool(IMPORT_PATH.match(name))


def _resolve(name: str):
    module_name, _, attribute = name.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"data set {name!r}: cannot import module {module_name!r} ({exc}); install the package "
                         f"or put its folder on PYTHONPATH") from exc
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"data set {name!r}: module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"data set {name!r}: {attribute!r} is not callable (expected a function returning arrays)")
    return target


def load_external(name: str, split: str, seed: int, options: Mapping[str, Any]) -> Dataset:
    result = _resolve(name)(split=split, seed=seed, **options)
    if isinstance(result, Dataset):
        return result
    if isinstance(result, Mapping):
        fields = dict(result)
    elif isinstance(result, (tuple, list)) and len(result) in (2, 3):
        fields = dict(zip(("x", "y", "class_names"), result))
    else:
        raise ValueError(f"data set {name!r} returned {type(result).__name__}; expected a Dataset, (x, y), "
                         f"(x, y, class_names) or a dict with keys x, y[, class_names, superclass]")
    missing = {"x", "y"} - set(fields)
    if missing:
        raise ValueError(f"data set {name!r} returned no {', '.join(sorted(missing))}")
    x, y = np.asarray(fields["x"]), np.asarray(fields["y"])
    if x.ndim not in (2, 4) or len(x) != len(y):
        raise ValueError(f"data set {name!r}: x must be (n, d) or (n, C, H, W) with one row per label; got "
                         f"x {x.shape}, y {y.shape}")
    if x.dtype != np.uint8:
        x = x.astype(np.float32)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"data set {name!r}: y must hold integer labels, got dtype {y.dtype}")
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
