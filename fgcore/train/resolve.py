"""resolve(spec): the RunSpec with every choice made, so that what a run computes is in its spec and key.

A RunSpec may leave choices open: "auto" augmentation and normalisation, and options the environment
fills in (a cifar10 run's source: the official archive or the class-per-folder copy FGCORE_CIFAR10
names) and the content of data a path names (data_digest: the key then holds the digest instead of
the path). Resolving writes the choices into the spec: its data set's descriptor (fgcore.data.DatasetInfo)
declares what "auto" means there, or, where it declares nothing (an image folder, a data set named by
import path), the shape of its samples decides (augmentation_for_shape, normalization_for_shape).
It also checks that the data set, labeling and loss are names fgcore knows. Experiments resolve their
specs when they are loaded, and train() resolves a spec it is given, so the cache key of a run is that
of its resolved spec. Resolving a resolved spec returns it unchanged.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from .. import data as fgdata
from .. import labels as fglabels
from .. import losses as fglosses
from .spec import RunSpec

__all__ = ["resolve", "is_resolved"]


@functools.lru_cache(maxsize=64)
def _sample_shape(dataset: str, data_args: str, seed: int) -> tuple[int, ...]:
    """The shape of one training sample (the split is loaded once per process for each spelling)."""
    return tuple(fgdata.load(dataset, "train", seed=seed, **json.loads(data_args)).x.shape[1:])


def resolve(spec: RunSpec, *, missing_data: str = "raise") -> RunSpec:
    """The spec with its data set's options filled in and "auto" augmentation / normalisation decided.

    missing_data: where "auto" depends on the samples' shape and the data is not there, "raise" the
    NotFoundError (train) or "keep" the choice open (loading an experiment: training will say what is
    missing, and a claim on it skips).
    """
    if not isinstance(spec, RunSpec):
        raise TypeError(f"resolve(spec): expected a RunSpec, got {type(spec).__name__}")
    info = fgdata.get(spec.dataset)
    fglabels.get_labeling(spec.labeling)
    fglosses.lookup(spec.loss)
    changes: dict[str, Any] = {}
    data_args = info.options(spec.data_args)
    if data_args != dict(spec.data_args):
        changes["data_args"] = data_args
    digest = _content(info, data_args, missing_data)
    if digest != spec.data_digest:
        changes["data_digest"] = digest
    augment, normalize = spec.augment, spec.normalize
    if "auto" in (augment, normalize):
        declared = (info.augment, info.normalize)
        shape = None
        if None in declared:
            try:
                shape = _sample_shape(spec.dataset, json.dumps(data_args, sort_keys=True), spec.seed)
            except FileNotFoundError:
                if missing_data != "keep":
                    raise
        if augment == "auto" and (info.augment is not None or shape is not None):
            changes["augment"] = info.auto_augmentation(shape)
        if normalize == "auto" and (info.normalize is not None or shape is not None):
            changes["normalize"] = info.auto_normalization(shape)
    return spec.replace(**changes) if changes else spec


def _content(info, data_args: dict[str, Any], missing_data: str) -> str | None:
    """The digest of the data where a path names it (DatasetInfo.content), else None; None too where
    the data is not there and missing_data="keep" (training will say what is missing)."""
    if info.content is None:
        return None
    try:
        return info.content(data_args)
    except (FileNotFoundError, ValueError, OSError):
        if missing_data != "keep":
            raise
        return None


def is_resolved(spec: RunSpec) -> bool:
    """True when resolve(spec) would return it unchanged."""
    return resolve(spec, missing_data="keep") == spec
