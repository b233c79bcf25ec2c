"""Device-resident data: the whole split lives on the training device, batches are index slices.

Systems ideas from airbench (no DataLoader workers; uint8 images on the GPU; crop and flip done on
the device for a whole batch at once), training semantics of the paper: SGD over a fresh seeded
permutation every epoch, random crop with 4-pixel zero padding and horizontal flip for CIFAR.
On the CPU the same code runs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class DeviceSplit:
    """One split on the device: raw inputs (uint8 or float32), labels, normalisation constants."""

    x: torch.Tensor               # (n, C, H, W) uint8/float32, or (n, d) float32
    y_train: torch.Tensor         # training labels (int64)
    y_original: torch.Tensor      # original labels (int64)
    mean: torch.Tensor | None     # per-channel mean/std in [0, 1] units (None: no normalisation)
    std: torch.Tensor | None

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def inputs(self, index: torch.Tensor | slice, *, augment: bool = False,
               generator: torch.Generator | None = None, channels_last: bool = False) -> torch.Tensor:
        """Float inputs of the given rows: augmented (optional), scaled, normalised."""
        x = self.x[index]
        if augment:
            x = crop_flip(x, generator=generator)
        x = x.float()
        if self.x.dtype == torch.uint8:
            x = x.div_(255.0)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        if channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of (n, C, H, W) data in [0, 1] units (float64, then float32)."""
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    n, c = x.shape[:2]
    # Chunked sums keep memory flat for 50,000 x 3 x 32 x 32 uint8 inputs.
    total = np.zeros(c)
    total_sq = np.zeros(c)
    count = 0
    for start in range(0, n, 4096):
        block = x[start:start + 4096].astype(np.float64) / scale
        total += block.sum(axis=(0, 2, 3))
        total_sq += (block ** 2).sum(axis=(0, 2, 3))
        count += block.shape[0] * block.shape[2] * block.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 1e-12))
    return mean.astype(np.float32), std.astype(np.float32)


def to_device_split(x: np.ndarray, y_train: np.ndarray, y_original: np.ndarray, *, device: torch.device,
                    mean: np.ndarray | None, std: np.ndarray | None) -> DeviceSplit:
    as_t = lambda a: None if a is None else torch.as_tensor(a, device=device).reshape(1, -1, 1, 1)
    x_t = torch.as_tensor(np.ascontiguousarray(x), device=device)
    if x_t.dtype not in (torch.uint8, torch.float32):
        x_t = x_t.float()
    return DeviceSplit(
        x=x_t,
        y_train=torch.as_tensor(y_train, dtype=torch.int64, device=device),
        y_original=torch.as_tensor(y_original, dtype=torch.int64, device=device),
        mean=as_t(mean), std=as_t(std))


def crop_flip(x: torch.Tensor, *, pad: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random crop with `pad` pixels of zero padding, then a random horizontal flip, per sample.

    Works on a batch of (b, C, H, W) raw inputs on any device in one gather (no Python loop).
    Zero padding happens before normalisation, i.e. the padded pixels are black, as in torchvision's
    RandomCrop(32, padding=4) on PIL images.
    """
    b, c, h, w = x.shape
    device = x.device
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), device=device, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), device=device, generator=generator)
    rows = (dy[:, None] + torch.arange(h, device=device)[None, :])            # (b, h)
    cols = (dx[:, None] + torch.arange(w, device=device)[None, :])            # (b, w)
    flip = torch.rand(b, device=device, generator=generator) < 0.5
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    batch = torch.arange(b, device=device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (b, h, w, C)
    return out.permute(0, 3, 1, 2).contiguous()


def epoch_batches(n: int, batch_size: int, *, generator: torch.Generator, device: torch.device):
    """A fresh seeded permutation of range(n), cut into batches (the last one may be smaller)."""
    order = torch.randperm(n, generator=generator, device=generator.device).to(device)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]
