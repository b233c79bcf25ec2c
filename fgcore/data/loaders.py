"""`load(name, split, ...)`: one entry point for every data set of the project."""

from __future__ import annotations

import inspect

from .cifar import load_cifar10, load_cifar100
from .dataset import Dataset, check_split, split_seed, stratified_subset
from .digits import load_digits
from .external import FORM, is_import_path, load_external
from .idx import load_fashion_mnist
from .image_folder import load_image_folder
from .synthetic import gaussian_mixture, theory_clusters

IMAGE_FOLDER_PREFIX = "image_folder:"

#: name -> one line about it. ``image_folder:<path>`` is accepted besides these names.
DATASETS: dict[str, str] = {
    "digits": "sklearn's 8x8 handwritten digits (bundled), fixed stratified 75/25 split",
    "fashion_mnist": "Fashion-MNIST idx files (Debian package dataset-fashion-mnist or $FGCORE_DATA)",
    "cifar10": "CIFAR-10 official python archive, or the folder named by FGCORE_CIFAR10=image_folder:<path>",
    "cifar100": "CIFAR-100 official python archive, with the 20 official superclasses",
    "gaussian_mixture": "synthetic Gaussian mixture of App. B / B.1",
    "theory_clusters": "synthetic 4-cluster data of Sec. 7",
}


def _valid_names() -> str:
    return ", ".join([*DATASETS, IMAGE_FOLDER_PREFIX + "<path>", f"an import path {FORM}"])


def _call(loader, dataset: str, split: str, fixed: dict, options: dict) -> Dataset:
    """Call `loader` with `options`, rejecting any it does not take with the list of those it does."""
    params = inspect.signature(loader).parameters
    allowed = [p for p in params if p not in ("split", *fixed)]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
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

    name: one of DATASETS, ``image_folder:<path>`` (``<path>/<split>/<class>/*.jpg|png``), or an import
        path "package.module:callable" returning arrays (fgcore.data.external).
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
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, one of: {_valid_names()}; got {name!r}.")
    check_split(split)
    if name.startswith(IMAGE_FOLDER_PREFIX):
        path = name[len(IMAGE_FOLDER_PREFIX) :]
        if not path:
            raise ValueError("name='image_folder:' needs a path: image_folder:<path>.")
        ds = _call(load_image_folder, name, split, {"path": path, "name": name}, options)
    elif name == "digits":
        ds = _call(load_digits, name, split, {}, options)
    elif name == "fashion_mnist":
        ds = _call(load_fashion_mnist, name, split, {"root": root, "download": download}, options)
    elif name == "cifar10":
        ds = _call(load_cifar10, name, split, {"root": root, "download": download}, options)
    elif name == "cifar100":
        ds = _call(load_cifar100, name, split, {"root": root, "download": download}, options)
    elif name == "gaussian_mixture":
        ds = _call(gaussian_mixture, name, split, {"seed": seed}, options)
    elif name == "theory_clusters":
        ds = _call(theory_clusters, name, split, {"seed": seed}, options)
    elif is_import_path(name):
        ds = load_external(name, split, seed, options)
    else:
        raise ValueError(f"name={name!r} is not a known data set; valid names: {_valid_names()}.")
    if subset is None:
        return ds
    index = stratified_subset(ds.y, subset, split_seed(seed, split, "subset"))
    return ds.select(index, subset=int(subset), subset_seed=int(seed), n_full=len(ds))
