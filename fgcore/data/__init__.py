"""Data sets of the project, one split at a time, always with the original labels.

    load(name, split, root=None, subset=None, seed=0, download=False, **options) -> Dataset
    gaussian_mixture(split, ...), theory_clusters(split, ...)   (synthetic, App. B / Sec. 7)
    check() / prepare(name)                                     (availability, for the CLI)

Readers, one format per module: digits.py (sklearn), idx.py (Fashion-MNIST), cifar.py (official
python archives), image_folder.py (class-per-folder trees, decode cache), synthetic.py.
"""

from .availability import DataStatus, check, format_statuses, prepare
from .dataset import SPLITS, Dataset, stratified_subset
from .loaders import DATASETS, IMAGE_FOLDER_PREFIX, load
from .synthetic import gaussian_mixture, theory_clusters

__all__ = [
    "DATASETS",
    "IMAGE_FOLDER_PREFIX",
    "SPLITS",
    "DataStatus",
    "Dataset",
    "check",
    "format_statuses",
    "gaussian_mixture",
    "load",
    "prepare",
    "stratified_subset",
    "theory_clusters",
]
