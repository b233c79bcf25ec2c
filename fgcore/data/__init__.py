"""Data sets of the project, one split at a time, always with the original labels.

    load(name, split, root=None, subset=None, seed=0, download=False, **options) -> Dataset
    gaussian_mixture(split, ...), theory_clusters(split, ...)   (synthetic, App. B / Sec. 7)
    check() / prepare(name)                                     (availability, for the CLI)
    register(DatasetInfo(name, load, ...))                      (a new data set; see fgcore.data.registry)

Each data set is one module that reads it and registers its descriptor: digits.py (sklearn), idx.py
(Fashion-MNIST), cifar.py (official python archives), synthetic.py; image_folder.py reads any
class-per-folder tree (``image_folder:<path>``, decode cache) and external.py any import path.
"""

# Each module registers its data sets when imported; this order is that of `fgcore data check`.
from . import digits, idx, cifar, synthetic, image_folder  # noqa: F401,I001
from .availability import check, prepare
from .dataset import SPLITS, Dataset, stratified_subset
from .loaders import IMAGE_FOLDER_PREFIX, load
from .lookup import get
from .registry import (DATASETS, DatasetInfo, augmentation_for_shape, normalization_for_shape, register,
                       register_family)
from .status import DataStatus, format_statuses
from .synthetic import gaussian_mixture, theory_clusters

__all__ = [
    "DATASETS",
    "IMAGE_FOLDER_PREFIX",
    "SPLITS",
    "DataStatus",
    "Dataset",
    "DatasetInfo",
    "augmentation_for_shape",
    "check",
    "format_statuses",
    "gaussian_mixture",
    "get",
    "load",
    "normalization_for_shape",
    "prepare",
    "register",
    "register_family",
    "stratified_subset",
    "theory_clusters",
]
