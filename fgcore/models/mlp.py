"""Fully connected network (App. B: the "2-layer MLP" on Gaussian mixtures; also used on digits).

The paper does not give the width or the activation; defaults here: 2 hidden layers of width 512,
ReLU, no batch norm. Any input is flattened, so it runs on vectors (64,) and images (1, 8, 8) alike.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import SpecError
from ._common import FeatureClassifier

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class MLP(FeatureClassifier):
    """``depth`` hidden layers Linear -> [BatchNorm1d] -> activation; h = output of the last one."""

    def __init__(
        self,
        num_classes: int,
        in_features: int,
        *,
        width: int = 512,
        depth: int = 2,
        batchnorm: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        previous = in_features
        for _ in range(depth):
            # The bias is redundant before batch norm (BN has its own shift).
            layers.append(nn.Linear(previous, width, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(ACTIVATIONS[activation]())
            previous = width
        self.body = nn.Sequential(*layers)
        self.feature_dim = width
        self.head = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def build(
    num_classes: int,
    in_shape: tuple[int, ...],
    *,
    width: int = 512,
    depth: int = 2,
    batchnorm: bool = False,
    activation: str = "relu",
) -> MLP:
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise SpecError(f"mlp: width must be a positive int (units per hidden layer); got {width!r}.")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise SpecError(f"mlp: depth must be an int >= 1 (number of hidden layers); got {depth!r}.")
    if activation not in ACTIVATIONS:
        raise SpecError(f"mlp: activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}.")
    return MLP(
        num_classes,
        math.prod(in_shape),
        width=width,
        depth=depth,
        batchnorm=bool(batchnorm),
        activation=activation,
    )
