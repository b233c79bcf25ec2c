"""The one-hidden-layer network of Sec. 7 (Theorem 7.1).

    f(x, W) = 1^T h(x, W) = sum_r sigma(w_r^T x),    h(x, W) = (sigma(w_r^T x))_{r=1..m} in R^m

with no biases, first-layer weights W = (w_1..w_m) in R^{d x m} drawn i.i.d. N(0, omega^2) and trained,
the second layer fixed to all ones (the ETF predicted by neural collapse for one output) and never
trained, and the activation

    sigma(z) = z^3 / 3      if |z| <= 1
               z - 2/3      if z >= 1
               z + 2/3      if z <= -1,

a smoothed symmetric ReLU (continuous with derivative z^2 inside, 1 outside: C^1 at +-1).
It is trained with the unhinged loss (fgcore.losses) and full-batch gradient descent.

Defaults where the paper is silent: m = 100 hidden units; omega = d^-0.53 (the paper's example
parameter set after Theorem 7.1, with d = prod(in_shape)).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import SpecError
from ._common import FeatureClassifier


def smoothed_symmetric_relu(z: torch.Tensor) -> torch.Tensor:
    """sigma(z) of Sec. 7, written as clamp(z)^3/3 + (z - clamp(z)) with clamp to [-1, 1].

    This equals the piecewise definition (z >= 1: 1/3 + z - 1 = z - 2/3) and, unlike torch.where on
    both branches, never evaluates z^3 for large |z|, so no inf * 0 = NaN appears in the gradient.
    """
    inner = z.clamp(-1.0, 1.0)
    return inner.pow(3) / 3.0 + (z - inner)


class SmoothedSymmetricReLU(nn.Module):
    """Module wrapper of :func:`smoothed_symmetric_relu`."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return smoothed_symmetric_relu(z)


class TheoryNet(FeatureClassifier):
    """Sec. 7 network. ``first`` holds W (as an nn.Linear of weight shape (m, d)); ``head`` is the
    fixed all-ones second layer (one output, no bias, ``requires_grad=False``)."""

    def __init__(self, in_features: int, *, m: int, omega: float) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.first = nn.Linear(in_features, m, bias=False)
        nn.init.normal_(self.first.weight, mean=0.0, std=omega)
        self.activation = SmoothedSymmetricReLU()
        self.head = nn.Linear(m, 1, bias=False)
        nn.init.ones_(self.head.weight)
        self.head.weight.requires_grad_(False)
        self.feature_dim = m
        self.omega = omega

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.first(self.flatten(x)))


def build(
    num_classes: int,
    in_shape: tuple[int, ...],
    *,
    m: int = 100,
    omega: float | None = None,
) -> TheoryNet:
    """num_classes must be 2 (or 1): the net has the single output f of a binary task with labels
    y in {+1, -1}; it is meant for the unhinged loss."""
    if num_classes not in (1, 2):
        raise SpecError(
            "theory_net has a single output f(x) = 1^T h(x) for a binary task (labels +1/-1, unhinged "
            f"loss); num_classes must be 2 (or 1); got {num_classes}."
        )
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise SpecError(f"theory_net: m (number of hidden units) must be a positive int; got {m!r}.")
    d = math.prod(in_shape)
    if omega is None:
        omega = d ** -0.53
    if isinstance(omega, bool) or not isinstance(omega, (int, float)) or not math.isfinite(omega) or omega <= 0:
        raise SpecError(
            f"theory_net: omega (std of the N(0, omega^2) initialisation of W) must be a positive "
            f"finite number; got {omega!r}."
        )
    return TheoryNet(d, m=m, omega=float(omega))
