"""Shared pieces of the model zoo: the base class that fixes the interface, and input-shape checks.

Every model is ``forward(x) = head(features(x))`` where ``features`` returns the last-layer
representation h of the paper (the input of the final linear layer) as a (batch, feature_dim) tensor.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch
from torch import nn

from ..errors import SpecError


class FeatureClassifier(nn.Module):
    """Base class: subclasses set ``self.head`` (an ``nn.Linear``) and ``self.feature_dim`` and
    implement ``features``. ``forward`` is fixed so that it always equals ``head(features(x))``."""

    head: nn.Linear
    feature_dim: int

    def features(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def as_shape(in_shape: object, *, argument: str = "in_shape") -> tuple[int, ...]:
    """Return ``in_shape`` as a tuple of positive ints, or raise ValueError saying what is wrong."""
    if isinstance(in_shape, int) and not isinstance(in_shape, bool):
        in_shape = (in_shape,)
    if isinstance(in_shape, (str, bytes)) or not isinstance(in_shape, Sequence):
        raise SpecError(
            f"{argument} must be the per-sample input shape as a tuple of positive ints, "
            f"e.g. (3, 32, 32) or (64,); got {in_shape!r}."
        )
    try:
        # operator.index accepts ints and numpy integers, rejects floats and strings.
        dims = tuple(operator.index(d) for d in in_shape if not isinstance(d, bool))
    except TypeError:
        dims = ()
    if not dims or len(dims) != len(in_shape) or any(d < 1 for d in dims):
        raise SpecError(
            f"{argument} must be a non-empty tuple of positive ints (without the batch dimension), "
            f"e.g. (3, 32, 32) or (64,); got {in_shape!r}."
        )
    return dims


def image_shape(model: str, in_shape: tuple[int, ...], *, min_size: int, example: str) -> tuple[int, int, int]:
    """Check that ``in_shape`` is (channels, height, width) with both sides >= ``min_size``."""
    if len(in_shape) != 3:
        raise SpecError(
            f"{model} is a convolutional network and expects in_shape = (channels, height, width), "
            f"e.g. {example}; got {in_shape!r}. Use 'mlp' for vector data."
        )
    channels, height, width = in_shape
    if height < min_size or width < min_size:
        raise SpecError(
            f"{model} needs images of at least {min_size}x{min_size} pixels (in_shape = (channels, "
            f"height, width), e.g. {example}); got {height}x{width}."
        )
    return channels, height, width


def check_num_classes(num_classes: object) -> int:
    """Return ``num_classes`` as an int >= 1 (the width of the head), or raise ValueError."""
    try:
        value = None if isinstance(num_classes, bool) else operator.index(num_classes)
    except TypeError:
        value = None
    if value is None or value < 1:
        raise SpecError(f"num_classes must be a positive int (the number of outputs); got {num_classes!r}.")
    return value
