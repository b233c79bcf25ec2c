"""`get(name)`: the DatasetInfo of any data set name: a registered one (fgcore.data.registry), a member
of a family such as ``image_folder:<path>``, or an import path ``package.module:attribute``
(fgcore.data.external)."""

from __future__ import annotations

import difflib

from ..errors import UnknownNameError
from ..import_path import FORM, is_import_path
from .external import info_for_import_path
from .registry import DATASETS, FAMILIES, DatasetInfo


def valid_names() -> str:
    """Every accepted form of a data set name, for error messages."""
    return ", ".join([*DATASETS, *(usage for usage, _ in FAMILIES.values()), f"an import path {FORM}"])


def get(name: str) -> DatasetInfo:
    """The DatasetInfo of a registered name, an ``image_folder:<path>`` or an import path."""
    if not isinstance(name, str):
        raise UnknownNameError(f"a data set name must be a string, one of: {valid_names()}; got {name!r}.")
    if name in DATASETS:
        return DATASETS[name]
    prefix, sep, argument = name.partition(":")
    if sep and prefix in FAMILIES:
        usage, factory = FAMILIES[prefix]
        if not argument:
            raise UnknownNameError(f"data set {name!r} needs a {usage.partition(':')[2].strip('<>')}: {usage}.")
        return factory(name, argument)
    if is_import_path(name):
        return info_for_import_path(name)
    close = difflib.get_close_matches(name, DATASETS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownNameError(f"name={name!r} is not a known data set; valid names: {valid_names()}.{hint}")
