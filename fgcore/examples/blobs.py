"""A small outside data set: any callable (split, seed, **options) returning arrays.

Ten Gaussian blobs in `dim` dimensions; the blob centres depend on the seed only, so the train and
test splits share them.
"""

import numpy as np


def load(split: str, seed: int = 0, n_per_class: int = 100, dim: int = 16, spread: float = 3.0):
    centres = np.random.default_rng(seed).normal(0.0, spread, size=(10, dim))
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    y = np.repeat(np.arange(10), n_per_class)
    x = centres[y] + rng.normal(size=(len(y), dim))
    return x.astype(np.float32), y, [f"blob{c}" for c in range(10)]
