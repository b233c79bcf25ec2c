"""The data a model is measured on: both splits of a data set fgcore knows, relabelled, prepared as the
trainer prepares its evaluation passes (scaled to [0, 1], normalised with the training split's
per-channel mean and std where the data set's "auto" says so, float32), so that a model fgcore trained
gives the features its own statistics were computed from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import data as fgdata
from .. import labels as fglabels
from ..errors import SpecError
from ..train.spec import NORMALIZATIONS

SPLITS = ("train", "test")


@dataclass(frozen=True)
class DataRequest:
    """What to load, with the data set's options resolved (the environment's choices filled in, e.g.
    cifar10's source), so that it can enter the feature cache's key before anything is loaded."""

    name: str
    labeling: str
    data_args: dict[str, Any]
    subset: int | None
    test_subset: int | None
    seed: int
    normalize: str

    @classmethod
    def make(cls, name: Any, labeling: Any, *, data_args: dict | None, subset: int | None,
             test_subset: int | None, seed: int, normalize: str) -> "DataRequest":
        info = fgdata.get(name)  # UnknownNameError listing the data sets fgcore knows
        if not isinstance(labeling, str):
            raise SpecError(f"labeling must be a name such as 'coarse:5' or 'identity'; got {labeling!r}.")
        fglabels.get_labeling(labeling)
        if normalize not in NORMALIZATIONS:
            raise SpecError(f"normalize={normalize!r} is not one of {', '.join(NORMALIZATIONS)}.")
        for what, value in (("subset", subset), ("test_subset", test_subset)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise SpecError(f"{what} must be None or a positive number of samples; got {value!r}.")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SpecError(f"seed must be a non-negative integer (the data set's seed); got {seed!r}.")
        return cls(name, labeling, info.options(dict(data_args or {})), subset, test_subset, seed, normalize)

    def key_parts(self) -> dict[str, Any]:
        return {"data": self.name, "data_args": self.data_args, "subset": self.subset,
                "test_subset": self.test_subset, "seed": self.seed, "labeling": self.labeling,
                "normalize": self.normalize}


@dataclass(frozen=True, eq=False)
class LoadedData:
    """Both splits with their training and original labels, and what the labeling says about them."""

    x: dict[str, np.ndarray]
    labels: dict[str, dict[str, np.ndarray]]     # split -> {"train", "original"}
    class_names: tuple[str, ...]
    superclass_of: np.ndarray | None
    n_train_classes: int
    original_class: np.ndarray | None            # training label -> original class, where defined
    source: str
    mean: np.ndarray | None                      # per-channel normalisation, or None
    std: np.ndarray | None

    @property
    def in_shape(self) -> tuple[int, ...]:
        return tuple(self.x["train"].shape[1:])


def load(request: DataRequest) -> LoadedData:
    """Load and relabel both splits of `request` (the trainer's rules: fgcore.train.loop)."""
    info = fgdata.get(request.name)
    loaded = {split: fgdata.load(request.name, split, subset=request.subset if split == "train"
                                 else request.test_subset, seed=request.seed, **request.data_args)
              for split in SPLITS}
    train = loaded["train"]
    n_classes = len(train.class_names)
    labels = {split: {"train": fglabels.relabel(request.labeling, ds.y, n_classes=n_classes, seed=request.seed,
                                                split=split, superclass=ds.superclass),
                      "original": ds.y}
              for split, ds in loaded.items()}
    shape = tuple(train.x.shape[1:])
    normalize = request.normalize
    if normalize == "auto":
        normalize = info.auto_normalization(shape)
    mean = std = None
    if normalize == "per_channel":
        if len(shape) != 3:
            raise SpecError(f"normalize='per_channel' needs image data (n, C, H, W); {request.name} gives "
                            f"samples of shape {shape}.")
        from ..train.device_data import channel_stats

        mean, std = channel_stats(train.x)
    return LoadedData(
        x={split: ds.x for split, ds in loaded.items()}, labels=labels, class_names=train.class_names,
        superclass_of=fglabels.superclass_of(request.labeling, n_classes=n_classes, seed=request.seed,
                                             superclass_map=train.superclass_map),
        n_train_classes=fglabels.n_training_labels(request.labeling, n_classes=n_classes,
                                                   superclass_map=train.superclass_map),
        original_class=fglabels.original_class(request.labeling, n_classes=n_classes),
        source=train.source, mean=mean, std=std)


def device_split(data: LoadedData, split: str, device):
    """One split on `device` as the trainer's evaluation passes read it (fgcore.train.device_data)."""
    from ..train.device_data import prepare_split

    return prepare_split(data.x[split], data.labels[split]["train"], data.labels[split]["original"],
                         device=device, mean=data.mean, std=data.std)
