"""sklearn's bundled handwritten digits (1,797 8x8 images, 10 classes) with a fixed split.

load_digits has no official train/test split. We fix one: stratified by class, 25% test
(1,347 train / 450 test), drawn with ``split_seed=0``. The split does not depend on the run's seed,
so every run of the project sees the same test set; both values are options for who needs another.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from .dataset import Dataset, check_split
from .registry import DatasetInfo, register
from .status import DataStatus

DIGITS_TEST_FRACTION = 0.25
DIGITS_SPLIT_SEED = 0


def load_digits(split: str, *, test_fraction: float = DIGITS_TEST_FRACTION, split_seed: int = DIGITS_SPLIT_SEED) -> Dataset:
    """Digits as float32 (n, 1, 8, 8) in [0, 1] (pixel value / 16), labels 0..9."""
    check_split(split)
    if not 0.0 < float(test_fraction) < 1.0:
        raise SpecError(f"test_fraction={test_fraction!r} must lie strictly between 0 and 1.")
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    y = bunch.target.astype(np.int64)
    index = np.arange(y.shape[0])
    train_idx, test_idx = train_test_split(
        index, test_size=float(test_fraction), stratify=y, random_state=int(split_seed)
    )
    idx = np.sort(train_idx if split == "train" else test_idx)
    x = (bunch.images[idx] / 16.0).astype(np.float32)[:, None, :, :]
    return Dataset(
        x=x,
        y=y[idx],
        class_names=tuple(str(c) for c in range(10)),
        name="digits",
        split=split,
        source="sklearn",
        meta={"test_fraction": float(test_fraction), "split_seed": int(split_seed)},
    )


def digits_status(root=None) -> DataStatus:
    """Present when scikit-learn ships its digits file (it always does)."""
    try:
        from importlib.resources import files

        present = files("sklearn.datasets").joinpath("data", "digits.csv.gz").is_file()
    except (ImportError, ModuleNotFoundError):
        present = False
    return DataStatus("digits", present, "sklearn (bundled with scikit-learn)" if present else None,
                      how_to_get="pip install scikit-learn (the digits ship with it).")


register(DatasetInfo(
    "digits", load_digits, "sklearn's 8x8 handwritten digits (bundled), fixed stratified 75/25 split",
    augment="none", normalize="per_channel", status=digits_status))
