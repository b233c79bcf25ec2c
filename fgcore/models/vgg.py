"""VGG with batch norm, CIFAR variant (App. H).

The paper's App. H says "VGG-18", which is not a standard configuration (VGG has 11, 13, 16 or 19
weight layers). The fixtures should use ``vgg19`` (the nearest and the deepest; 16 conv + 1 linear
layers here, since the CIFAR variant has a single classifier layer); vgg11/13/16 are provided for
comparison.

Layout as in kuangliu/pytorch-cifar: the torchvision configurations of 3x3 convs (with bias) ->
BatchNorm -> ReLU and 2x2 max-pools, five pools taking 32x32 to 1x1x512, then one linear layer.
h is the 512-d vector after the last pool (global average pooling makes it work on inputs larger than
32x32 too; on 32x32 it is the identity). PyTorch default initialisation.
Parameters for 10 classes: vgg11 9,231,114; vgg13 9,416,010; vgg16 14,728,266; vgg19 20,040,522.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from ._common import FeatureClassifier, image_shape

CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(FeatureClassifier):
    def __init__(self, config: list[int | str], num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(channels, int(item), kernel_size=3, padding=1),
                           nn.BatchNorm2d(int(item)), nn.ReLU(inplace=True)]
                channels = int(item)
        self.body = nn.Sequential(*layers)
        self.feature_dim = channels
        self.head = nn.Linear(channels, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(F.adaptive_avg_pool2d(self.body(x), 1), 1)


def build_vgg(name: str, num_classes: int, in_shape: tuple[int, ...]) -> VGG:
    # Five 2x2 max-pools: anything below 32x32 shrinks to zero pixels.
    channels, _, _ = image_shape(name, in_shape, min_size=32, example="(3, 32, 32)")
    return VGG(CONFIGS[name], num_classes, in_channels=channels)


BUILDERS = {name: partial(build_vgg, name) for name in CONFIGS}
