"""DenseNet-121, CIFAR variant (App. G).

The kuangliu/pytorch-cifar layout: growth rate k = 32, a 3x3 stride-1 stem conv with 2k = 64
channels (no max-pool), dense blocks [6, 12, 24, 16] of bottleneck layers
(BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3 conv to k, concatenated in front of the input), transitions
BN-ReLU-1x1 conv (compression 0.5)-2x2 average pool, then BN-ReLU and global average pooling.
h is the 1024-d pooled vector. PyTorch default initialisation. 6,956,298 parameters for 10 classes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._common import FeatureClassifier, image_shape


class Bottleneck(nn.Module):
    def __init__(self, in_planes: int, growth_rate: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, 4 * growth_rate, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth_rate)
        self.conv2 = nn.Conv2d(4 * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([out, x], 1)


class Transition(nn.Module):
    def __init__(self, in_planes: int, out_planes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(in_planes)
        self.conv = nn.Conv2d(in_planes, out_planes, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNet(FeatureClassifier):
    def __init__(
        self,
        num_blocks: list[int],
        num_classes: int,
        in_channels: int = 3,
        *,
        growth_rate: int = 32,
        reduction: float = 0.5,
    ) -> None:
        super().__init__()
        planes = 2 * growth_rate
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=3, padding=1, bias=False)
        stages: list[nn.Module] = []
        for index, blocks in enumerate(num_blocks):
            layers = []
            for _ in range(blocks):
                layers.append(Bottleneck(planes, growth_rate))
                planes += growth_rate
            stages.append(nn.Sequential(*layers))
            if index < len(num_blocks) - 1:
                out_planes = int(math.floor(planes * reduction))
                stages.append(Transition(planes, out_planes))
                planes = out_planes
        self.dense = nn.Sequential(*stages)
        self.bn = nn.BatchNorm2d(planes)
        self.feature_dim = planes
        self.head = nn.Linear(planes, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn(self.dense(self.conv1(x))))
        return torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)


def build_densenet121(num_classes: int, in_shape: tuple[int, ...]) -> DenseNet:
    channels, _, _ = image_shape("densenet121", in_shape, min_size=8, example="(3, 32, 32)")
    return DenseNet([6, 12, 24, 16], num_classes, in_channels=channels, growth_rate=32, reduction=0.5)
