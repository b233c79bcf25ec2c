"""small_cnn: a compact CNN for small grayscale images (sklearn digits 1x8x8, Fashion-MNIST 1x28x28).

Not from the paper (which uses ResNet-18 on CIFAR); it is the CPU stand-in for the fast and slow tiers.
Layout (choice made here): four 3x3 conv -> BatchNorm -> ReLU blocks with widths
(width/4, width/2, width, width), a 2x2 max-pool after the first and the second (pooling early halves
the training cost on 28x28 compared with pooling after the second and third), then global average
pooling. h (feature_dim = width, default 128) is the pooled output of the last block, so, as in
ResNet, the features are non-negative and spatially averaged.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import SpecError
from ._common import FeatureClassifier, image_shape


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SmallCNN(FeatureClassifier):
    def __init__(self, num_classes: int, in_channels: int, *, width: int = 128) -> None:
        super().__init__()
        quarter, half = max(width // 4, 1), max(width // 2, 1)
        self.body = nn.Sequential(
            conv_bn_relu(in_channels, quarter),
            nn.MaxPool2d(2),
            conv_bn_relu(quarter, half),
            nn.MaxPool2d(2),
            conv_bn_relu(half, width),
            conv_bn_relu(width, width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.feature_dim = width
        self.head = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def build(num_classes: int, in_shape: tuple[int, ...], *, width: int = 128) -> SmallCNN:
    channels, _, _ = image_shape("small_cnn", in_shape, min_size=4, example="(1, 8, 8) or (1, 28, 28)")
    if isinstance(width, bool) or not isinstance(width, int) or width < 4:
        raise SpecError(f"small_cnn: width (feature_dim) must be an int >= 4; got {width!r}.")
    return SmallCNN(num_classes, channels, width=width)
