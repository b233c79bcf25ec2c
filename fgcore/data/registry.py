"""The data sets fgcore knows: one `DatasetInfo` per data set, registered by the module that reads it.

A data set is one descriptor: how to load a split, whether it is present here and how to get it, and
what a run on it does when its RunSpec says "auto" (augmentation, normalisation). Adding one is one
module that defines its loader and calls `register`:

    from fgcore.data import Dataset, DatasetInfo, register

    def load(split, seed=0, n=100):             # may also take root= and download=
        ...
        return Dataset(x=x, y=y, class_names=names, name="mydata", split=split, source="generated")

    register(DatasetInfo("mydata", load, "my data set", augment="none", normalize="none"))

A name of the form ``image_folder:<path>`` is a class-per-folder tree (fgcore.data.image_folder) and an
import path ``package.module:attribute`` names a DatasetInfo or a loader callable (fgcore.data.external):
neither needs a registration, so a sweep's worker processes find them too. fgcore.data.lookup.get finds
a data set by any of these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .. import registry
from .status import DataStatus

#: The choices a RunSpec's "auto" stands for, and the rule used where a data set declares none.
AUGMENTATIONS = ("none", "crop_flip")
NORMALIZATIONS = ("none", "per_channel")


def augmentation_for_shape(shape: tuple[int, ...]) -> str:
    """What "auto" augmentation means for samples of this shape: crop + flip for 3x32x32 images (CIFAR)."""
    return "crop_flip" if tuple(shape) == (3, 32, 32) else "none"


def normalization_for_shape(shape: tuple[int, ...]) -> str:
    """What "auto" normalisation means: per-channel standardisation for images (C, H, W), none for vectors."""
    return "per_channel" if len(shape) == 3 else "none"


@dataclass(frozen=True)
class DatasetInfo:
    """What fgcore knows about one data set.

    Parameters
    ----------
    name : str
        The name a RunSpec's ``dataset`` uses.
    load : callable
        ``load(split, **options) -> Dataset``. It is given ``root``, ``download`` and ``seed`` when its
        signature has them; every other option comes from the spec's ``data_args``.
    description : str
        One line for people (``fgcore data check``, error messages).
    augment, normalize : str or None
        What a spec's "auto" augmentation / normalisation means on this data set (one of
        AUGMENTATIONS / NORMALIZATIONS); None: decided from the shape of the loaded samples
        (augmentation_for_shape, normalization_for_shape).
    status : callable, optional
        ``status(root) -> DataStatus``: whether the data is here (looks only). None: always present.
    prepare : callable, optional
        ``prepare(root) -> DataStatus``: fetch the data where this machine allows it. None: nothing to do.
    resolve_options : callable, optional
        ``resolve_options(options) -> options``: the spec's data_args with the choices the environment
        makes filled in (cifar10: its source), so that they are part of the spec and its cache key.
    content : callable, optional
        ``content(options) -> str or None``: a digest of the data these (resolved) options name, where
        a path names it (an image folder; cifar10 from a class-per-folder copy). A run's cache key
        then holds the digest instead of the path, so the same data in another folder is the same run.
        None, or a None result: the name fixes the data (an official archive, generated data).
    """

    name: str
    load: Callable[..., Any]
    description: str = ""
    augment: str | None = None
    normalize: str | None = None
    status: Callable[[Any], DataStatus] | None = None
    prepare: Callable[[Any], DataStatus] | None = None
    resolve_options: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    content: Callable[[dict[str, Any]], str | None] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"DatasetInfo: name must be a non-empty string, got {self.name!r}")
        if not callable(self.load):
            raise ValueError(f"DatasetInfo {self.name!r}: load must be callable, got {self.load!r}")
        for field, value, valid in (("augment", self.augment, AUGMENTATIONS),
                                    ("normalize", self.normalize, NORMALIZATIONS)):
            if value is not None and value not in valid:
                raise ValueError(f"DatasetInfo {self.name!r}: {field}={value!r} is not one of {', '.join(valid)} "
                                 "(or None: decided from the data's shape)")

    def check(self, root=None) -> DataStatus:
        """Whether the data set is here (looks only)."""
        if self.status is None:
            return DataStatus(self.name, True, "generated on the fly, or loaded by its own code")
        return self.status(root)

    def auto_augmentation(self, shape: tuple[int, ...]) -> str:
        """What "auto" augmentation means here: the declared choice, else the rule for samples of `shape`."""
        return self.augment or augmentation_for_shape(shape)

    def auto_normalization(self, shape: tuple[int, ...]) -> str:
        """What "auto" normalisation means here: the declared choice, else the rule for samples of `shape`."""
        return self.normalize or normalization_for_shape(shape)

    def options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The spec's data_args with what the environment chooses filled in (resolve_options)."""
        options = dict(options)
        return self.resolve_options(options) if self.resolve_options is not None else options


DATASETS: dict[str, DatasetInfo] = {}
# Families of names with an argument after a prefix, e.g. image_folder:<path>: prefix -> (usage, factory).
FAMILIES: dict[str, tuple[str, Callable[[str, str], DatasetInfo]]] = {}


def register(info: DatasetInfo, *, replace: bool = False) -> DatasetInfo:
    """Add a data set to the registry (its name must be new unless `replace`); returns it."""
    if not isinstance(info, DatasetInfo):
        raise TypeError(f"register() takes a DatasetInfo, got {type(info).__name__}")
    return registry.add(DATASETS, info.name, info, what="data set", replace=replace)


def register_family(prefix: str, usage: str, factory: Callable[[str, str], DatasetInfo]) -> None:
    """Names ``<prefix>:<argument>`` map to ``factory(name, argument)``; `usage` shows the form in errors."""
    FAMILIES[prefix] = (usage, factory)
