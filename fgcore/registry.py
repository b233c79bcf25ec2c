"""What the registries of fgcore share (data sets, models, labelings, losses): adding an entry by name,
and finding one by name or by import path.

Each registry is a plain dict, name -> entry, kept by the module that owns the kind of entry
(fgcore.data.DATASETS, fgcore.models.MODELS, fgcore.labels.LABELINGS, fgcore.losses.LOSSES).
"""

from __future__ import annotations

from typing import Any, MutableMapping, TypeVar

from . import import_path
from .errors import SpecError

T = TypeVar("T")


def add(registry: MutableMapping[str, Any], name: str, entry: T, *, what: str, replace: bool = False) -> T:
    """Put `entry` under `name`; the name must be new (unless `replace`, or it is the same entry) and
    hold no ':' (import paths and families such as image_folder:<path> use it). Returns the entry."""
    if not isinstance(name, str) or not name or ":" in name:
        raise ValueError(f"a {what} name must be a non-empty string without ':', got {name!r}")
    if name in registry and not replace and registry[name] is not entry:
        raise ValueError(f"a {what} named {name!r} is already registered; pass replace=True to replace it")
    registry[name] = entry
    return entry


def named(registry: MutableMapping[str, Any], name: str, *, what: str, kind: type) -> Any | None:
    """The entry registered as `name`, or the `kind` instance its import path names; None when `name`
    is neither a registered name nor an import path (the caller says which names are valid)."""
    if name in registry:
        return registry[name]
    if not import_path.is_import_path(name):
        return None
    found = import_path.resolve(name, what)
    if not isinstance(found, kind):
        raise SpecError(f"{what} {name!r} is a {type(found).__name__}; an import path must name a "
                        f"{kind.__module__}.{kind.__name__}.")
    return found
