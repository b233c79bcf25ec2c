"""`load(name, split, ...)`: one entry point for every data set (fgcore.data.registry)."""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import UnknownNameError
from .dataset import Dataset, check_split, split_seed, stratified_subset
from .lookup import get

IMAGE_FOLDER_PREFIX = "image_folder:"
# Arguments load() hands to a data set's loader when its signature takes them; the rest are options.
_COMMON = ("root", "download", "seed")


def _call(loader, dataset: str, split: str, common: dict[str, Any], options: dict[str, Any]) -> Dataset:
    """Call `loader` with the common arguments it takes and `options`, rejecting options it does not take
    with the list of those it does."""
    params = inspect.signature(loader).parameters
    fixed = {k: v for k, v in common.items() if k in params}
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        allowed = [p for p in params if p not in ("split", *_COMMON)]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise UnknownNameError(
                f"load({dataset!r}): unknown option(s) {', '.join(unknown)}; "
                f"valid options: {', '.join(allowed) if allowed else '(none)'}."
            )
    return loader(split=split, **fixed, **options)


def load(
    name: str,
    split: str,
    root=None,
    subset: int | None = None,
    seed: int = 0,
    download: bool = False,
    **options,
) -> Dataset:
    """Load one split ("train" or "test") of a data set.

    name: a registered data set (fgcore.data.DATASETS), ``image_folder:<path>``
        (``<path>/<split>/<class>/*.jpg|png``), or an import path "package.module:attribute" naming a
        DatasetInfo or a callable returning arrays (fgcore.data.external).
    root: a folder to look in first (real data); ignored by the synthetic data sets.
    subset: keep a stratified sample of this many examples, drawn with a seed derived from
        (seed, split) (see fgcore.data.dataset.stratified_subset); None keeps the whole split.
    seed: the generator seed of the synthetic data sets and the subset seed.
    download: allow torchvision to download the official archive (cifar10, cifar100, fashion_mnist)
        on a machine with internet.
    options: per data set; digits: test_fraction, split_seed; cifar10: source ("official" or
        "image_folder:<path>", default $FGCORE_CIFAR10); image_folder: mode, cache;
        gaussian_mixture / theory_clusters: the generator's parameters.
    """
    info = get(name)
    check_split(split)
    ds = _call(info.load, name, split, {"root": root, "download": download, "seed": seed}, options)
    if subset is None:
        return ds
    index = stratified_subset(ds.y, subset, split_seed(seed, split, "subset"))
    return ds.select(index, subset=int(subset), subset_seed=int(seed), n_full=len(ds))
