"""ResNet-18, CIFAR variant (the paper's main network, Sec. 3-6).

As in the widely used kuangliu/pytorch-cifar layout: a 3x3 stride-1 stem conv with 64 channels, no
max-pool, BasicBlocks [2, 2, 2, 2] with widths 64/128/256/512 and strides 1/2/2/2, 1x1 conv + BN
shortcuts where the shape changes, global average pooling. h is the 512-d pooled vector (after the
last ReLU). PyTorch default initialisation. 11,173,962 parameters for 10 classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._common import FeatureClassifier, image_shape


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(FeatureClassifier):
    def __init__(self, num_blocks: list[int], num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        in_planes = 64
        stages = []
        for planes, blocks, stride in zip((64, 128, 256, 512), num_blocks, (1, 2, 2, 2)):
            layers = []
            for block_stride in [stride] + [1] * (blocks - 1):
                layers.append(BasicBlock(in_planes, planes, block_stride))
                in_planes = planes
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.feature_dim = 512
        self.head = nn.Linear(512, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        # Global average pooling + flatten (not view): safe on channels_last tensors.
        return torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)


def build_resnet18(num_classes: int, in_shape: tuple[int, ...]) -> ResNet:
    channels, _, _ = image_shape("resnet18", in_shape, min_size=8, example="(3, 32, 32)")
    return ResNet([2, 2, 2, 2], num_classes, in_channels=channels)
