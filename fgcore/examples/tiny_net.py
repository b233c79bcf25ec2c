"""A small outside model: any callable build(num_classes, in_shape, **kwargs) -> nn.Module with
`.features(x)` (the last-layer representation) and `.head` (the final linear layer)."""

import math

from torch import nn


class TinyNet(nn.Module):
    def __init__(self, num_classes: int, in_features: int, width: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features, width), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(),
        )
        self.head = nn.Linear(width, num_classes)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def build(num_classes: int, in_shape: tuple[int, ...], width: int = 128) -> nn.Module:
    return TinyNet(num_classes, math.prod(in_shape), width)
