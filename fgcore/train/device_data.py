"""Device-resident data: the whole split lives on the training device, batches are gathered by index.

Systems ideas from airbench (no DataLoader workers; the data set on the GPU; crop and flip done on the
device for a whole batch at once), training semantics of the paper: SGD over a fresh seeded
permutation every epoch, random crop with 4-pixel zero padding and horizontal flip for CIFAR.

Two things keep a run the same on every device:

- the random draws of an epoch (the permutation, every sample's crop offsets and flip) come from a
  CPU torch.Generator, in a fixed order (`draw_epoch`), and are uploaded once per epoch;
- a split is prepared once (`prepare_split`): scaled to [0, 1], normalised, zero-padded for the crop
  (padding before normalisation, so padded pixels are black as in torchvision's
  RandomCrop(32, padding=4)), in the run's dtype and memory layout. A training batch is then one
  gather; elementwise the values are those of cropping the raw image first and normalising after.

`crop_flip` (crop and flip the raw images of one batch, then normalise) is the per-batch way of the
first version of this module; it stays as the reference the tests compare with and as the
"baseline" of `make gpu-check` (`resident=False`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

PAD = 4  # pixels of zero padding of the random crop (the CIFAR standard)
# Rows prepared at a time: bounds the float copy made while a uint8 split is normalised on the device.
_PREPARE_CHUNK = 8192


@dataclass
class EpochDraws:
    """The random draws of one epoch: which samples, in which order, cropped and flipped how.

    order: (n,) permutation; dy, dx: (n,) crop offsets in [0, 2 * PAD]; flip: (n,) bool. dy, dx and
    flip are indexed by position in the epoch (the i-th sample drawn), None without augmentation.
    """

    order: torch.Tensor
    dy: torch.Tensor | None = None
    dx: torch.Tensor | None = None
    flip: torch.Tensor | None = None

    def to(self, device: torch.device) -> "EpochDraws":
        """The draws on `device`, uploaded in one copy."""
        if self.dy is None:
            return EpochDraws(self.order.to(device, non_blocking=True))
        packed = torch.stack([self.order, self.dy, self.dx, self.flip.long()])
        if device.type == "cuda":
            packed = packed.pin_memory()
        packed = packed.to(device, non_blocking=True)
        return EpochDraws(packed[0], packed[1], packed[2], packed[3].bool())

    def batches(self, batch_size: int) -> list[slice]:
        n = int(self.order.shape[0])
        return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def draw_epoch(generator: torch.Generator, n: int, batch_size: int, *, augment: bool) -> EpochDraws:
    """Draw one epoch on the CPU generator `generator`: a permutation of range(n), then, batch by
    batch, the crop offsets (rows, then columns) and the flips of that batch.

    The order of the draws is that of the first version of the trainer (which drew them per batch),
    so a seed gives the same stream as before and the same stream on every device.
    """
    if generator.device.type != "cpu":
        raise ValueError(f"draw_epoch needs a CPU generator (the same stream on every device); "
                         f"got one on {generator.device}")
    order = torch.randperm(n, generator=generator)
    if not augment:
        return EpochDraws(order)
    dy, dx, flip = [], [], []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        dy.append(torch.randint(0, 2 * PAD + 1, (b,), generator=generator))
        dx.append(torch.randint(0, 2 * PAD + 1, (b,), generator=generator))
        flip.append(torch.rand(b, generator=generator) < 0.5)
    return EpochDraws(order, torch.cat(dy), torch.cat(dx), torch.cat(flip))


def crop_indices(dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column indices (b, h), (b, w) into the padded images: crop at (dy, dx), columns
    reversed where flip."""
    rows = dy[:, None] + torch.arange(h, device=dy.device)[None, :]
    cols = dx[:, None] + torch.arange(w, device=dx.device)[None, :]
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    return rows, cols


@dataclass
class DeviceSplit:
    """One split on the device, prepared once (`prepare_split`).

    x is (n, C, H + 2p, W + 2p) normalised images, stored channels-last when `channels_last` (so a
    gathered batch is channels-last without a copy), or (n, d) vectors; p = PAD when the run crops,
    else 0. With resident=False x holds the raw inputs instead and every batch is cropped, scaled
    and normalised on its own (the per-batch baseline).
    """

    x: torch.Tensor
    y_train: torch.Tensor         # training labels (int64)
    y_original: torch.Tensor      # original labels (int64)
    pad: int
    channels_last: bool
    resident: bool = True
    mean: torch.Tensor | None = None  # only for resident=False: per-channel constants, (1, C, 1, 1)
    std: torch.Tensor | None = None
    dtype: torch.dtype = torch.float32

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def images(self) -> bool:
        return self.x.ndim == 4

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.ndim == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x.contiguous()

    def batch(self, index: torch.Tensor, draws: EpochDraws | None = None, position: slice | None = None) -> torch.Tensor:
        """Training inputs of the rows `index`, cropped and flipped by draws[position] when given."""
        if not self.resident:
            return self._raw_batch(index, draws, position)
        if draws is None or draws.dy is None:
            return self._layout(self._centre(self.x[index]))
        h, w = self._size()
        rows, cols = crop_indices(draws.dy[position], draws.dx[position], draws.flip[position], h, w)
        if self.channels_last:  # x is (n, C, H', W') with NHWC strides: gather in NHWC, one kernel
            nhwc = self.x.permute(0, 2, 3, 1)
            out = nhwc[index[:, None, None], rows[:, :, None], cols[:, None, :]]  # (b, h, w, C)
            return out.permute(0, 3, 1, 2)
        channels = torch.arange(self.x.shape[1], device=self.x.device)
        return self.x[index[:, None, None, None], channels[None, :, None, None],
                      rows[:, None, :, None], cols[:, None, None, :]]

    def inputs(self, rows: slice) -> torch.Tensor:
        """Unaugmented inputs of a range of rows (evaluation passes)."""
        if not self.resident:
            return self._raw_batch(rows, None, None)
        return self._layout(self._centre(self.x[rows]))

    def _size(self) -> tuple[int, int]:
        return self.x.shape[2] - 2 * self.pad, self.x.shape[3] - 2 * self.pad

    def _centre(self, x: torch.Tensor) -> torch.Tensor:
        if not self.pad:
            return x
        h, w = self._size()
        return x[:, :, self.pad:self.pad + h, self.pad:self.pad + w]

    def _raw_batch(self, index, draws: EpochDraws | None, position: slice | None) -> torch.Tensor:
        x = self.x[index]
        if draws is not None and draws.dy is not None:
            x = crop_flip(x, draws.dy[position], draws.dx[position], draws.flip[position])
        x = scale_raw(x)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        return self._layout(x.to(self.dtype))


def scale_raw(raw: torch.Tensor) -> torch.Tensor:
    """float32 copy of raw inputs in [0, 1] units (uint8 divided by 255)."""
    x = raw.float()
    return x.div_(255.0) if raw.dtype == torch.uint8 else x


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of (n, C, H, W) data in [0, 1] units (float64, then float32)."""
    scale_ = 255.0 if x.dtype == np.uint8 else 1.0
    n, c = x.shape[:2]
    # Chunked sums keep memory flat for 50,000 x 3 x 32 x 32 uint8 inputs.
    total = np.zeros(c)
    total_sq = np.zeros(c)
    count = 0
    for start in range(0, n, 4096):
        block = x[start:start + 4096].astype(np.float64) / scale_
        total += block.sum(axis=(0, 2, 3))
        total_sq += (block ** 2).sum(axis=(0, 2, 3))
        count += block.shape[0] * block.shape[2] * block.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 1e-12))
    return mean.astype(np.float32), std.astype(np.float32)


def prepare_split(x: np.ndarray, y_train: np.ndarray, y_original: np.ndarray, *, device: torch.device,
                  mean: np.ndarray | None, std: np.ndarray | None, pad: int = 0,
                  dtype: torch.dtype = torch.float32, channels_last: bool = False,
                  resident: bool = True) -> DeviceSplit:
    """Put one split on `device`, prepared for training (see the module docstring).

    x: (n, C, H, W) uint8 or float images, or (n, d) vectors; mean/std: per-channel constants in
    [0, 1] units (None: no normalisation); pad: zero padding for the random crop (0: no crop);
    dtype: the stored dtype (bfloat16 for bf16 runs); resident=False keeps the raw inputs.
    """
    labels = dict(y_train=torch.as_tensor(y_train, dtype=torch.int64, device=device),
                  y_original=torch.as_tensor(y_original, dtype=torch.int64, device=device))
    raw = torch.as_tensor(np.ascontiguousarray(x))
    if raw.dtype not in (torch.uint8, torch.float32):
        raw = raw.float()
    as_channel = lambda a: None if a is None else torch.as_tensor(a, device=device).reshape(1, -1, 1, 1)
    images = raw.ndim == 4
    if not resident:
        return DeviceSplit(x=raw.to(device), pad=pad, channels_last=channels_last and images, resident=False,
                           mean=as_channel(mean), std=as_channel(std), dtype=dtype, **labels)
    if not images:
        if mean is not None:
            raise ValueError("prepare_split: per-channel normalisation needs (n, C, H, W) images")
        return DeviceSplit(x=raw.to(device=device, dtype=dtype), pad=0, channels_last=False, **labels)
    n, c, h, w = raw.shape
    layout = torch.channels_last if channels_last else torch.contiguous_format
    out = torch.empty((n, c, h + 2 * pad, w + 2 * pad), dtype=dtype, device=device, memory_format=layout)
    mean_t, std_t = as_channel(mean), as_channel(std)
    for start in range(0, n, _PREPARE_CHUNK):
        block = raw[start:start + _PREPARE_CHUNK].to(device)
        # The same elementwise steps, in the same order, as the per-batch path: pad the raw pixels
        # with zeros, scale, normalise (so a CPU run is bit-identical to one that crops per batch).
        block = scale_raw(torch.nn.functional.pad(block, (pad, pad, pad, pad)) if pad else block)
        if mean_t is not None:
            block = (block - mean_t) / std_t
        out[start:start + block.shape[0]] = block.to(dtype)
    return DeviceSplit(x=out, pad=pad, channels_last=channels_last, **labels)


def crop_flip(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor, *, pad: int = PAD) -> torch.Tensor:
    """Random crop with `pad` pixels of zero padding at offsets (dy, dx), then a horizontal flip
    where `flip`, per sample, of a batch of (b, C, H, W) raw inputs on any device (one gather).

    Zero padding happens before normalisation, i.e. the padded pixels are black, as in torchvision's
    RandomCrop(32, padding=4) on PIL images.
    """
    b, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    rows, cols = crop_indices(dy, dx, flip, h, w)
    batch = torch.arange(b, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (b, h, w, C)
    return out.permute(0, 3, 1, 2).contiguous()
