"""NC1 and the mean squared distance ratio of every layer of a network (where collapse begins in depth).

Each layer's output, flattened to (batch, d), is streamed through class statistics by a forward hook
(an intermediate layer of a CNN has d in the tens of thousands: its features are never kept). Two
passes over the training split, float64:

1. per class of the training labels and of the original classes: counts, means and covariance traces
   (`fgcore.metrics.ClassStatistics`); the original classes give the class distance matrix D, hence the
   distance ratio of App. B (its pooled form, as `fgcore.metrics.msd_ratio`);
2. the within-class spread along the directions of the centred class means, the part of Sigma_W that
   NC1 = (1/C) Tr(Sigma_W Sigma_B^+) sees: NC1 as `fgcore.metrics.nc1` computes it (same span, same rank
   rule), without a d x d matrix.

Layers are module names (``model.named_modules()``); "auto" takes the model's top-level children, and
the children of those that are containers (nn.Sequential, nn.ModuleList), except the final linear layer
and layers without an effect of their own (dropout, identity, flatten).
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import metrics as fgmetrics
from ..errors import UnknownNameError
from ..metrics import _core
from .model import head_name

__all__ = ["LayerResult", "default_layers", "measure_layers"]

# Rows of a layer's output converted to float64 at once: bounds the copy for wide layers.
_CHUNK_BYTES = 1 << 25
_PASSIVE = (nn.Dropout, nn.Identity, nn.Flatten)


@dataclass(frozen=True)
class LayerResult:
    """One layer: its name, feature dimension, NC1 and distance ratio (None where undefined: `note`)."""

    layer: str
    dim: int
    nc1: float | None
    ratio: float | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "dim": self.dim, "nc1": self.nc1, "ratio": self.ratio, "note": self.note}


def default_layers(model: nn.Module) -> list[str]:
    """The layers "auto" measures (see the module docstring), in the order the model registers them."""
    head = head_name(model)
    names = []
    for name, child in model.named_children():
        parts = list(child.named_children()) if isinstance(child, (nn.Sequential, nn.ModuleList)) else []
        for sub, module in parts or [("", child)]:
            qualified = f"{name}.{sub}" if sub else name
            if qualified != head and not isinstance(module, _PASSIVE):
                names.append(qualified)
    return names


def check_layers(model: nn.Module, layers: list[str], source: str) -> list[str]:
    modules = dict(model.named_modules())
    for layer in layers:
        if layer not in modules or not layer:
            close = difflib.get_close_matches(layer, [m for m in modules if m], n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownNameError(f"model {source!r} has no layer {layer!r} for layers=.{hint} Layers are module "
                                   f"names (model.named_modules()), e.g. {', '.join(default_layers(model)[:5])}.")
    return list(dict.fromkeys(layers))


class _Layer:
    """The accumulators of one layer across the two passes."""

    def __init__(self, name: str, n_train: int, n_original: int | None, device):
        self.name, self.device = name, device
        self.dim = None
        self.calls = 0
        self.note = None
        self.train = fgmetrics.ClassStatistics(n_train, covariance=False, device=device)
        self.original = None if n_original is None else fgmetrics.ClassStatistics(n_original, covariance=False,
                                                                                   device=device)
        self.stats = None
        self.proj = None

    def add(self, output: Any, y_train: torch.Tensor, y_original: torch.Tensor, second: bool) -> None:
        self.calls += 1
        if self.note is not None:
            return
        if not isinstance(output, torch.Tensor) or output.ndim < 2:
            self.note = "its output is not a (batch, ...) tensor"
            return
        X = output.detach().flatten(1)
        self.dim = X.shape[1]
        step = max(1, _CHUNK_BYTES // (8 * self.dim))
        for a in range(0, X.shape[0], step):
            rows = slice(a, a + step)
            if second:
                self._project(X[rows], y_train[rows])
            else:
                self.train.update(X[rows], y_train[rows])
                if self.original is not None:
                    self.original.update(X[rows], y_original[rows])

    def start_second_pass(self) -> None:
        """Class means known: the directions of Sigma_B's range that NC1 inverts (as fgcore.metrics.nc1)."""
        self.stats = self.train.result()
        self.s, V = _core.mean_spectrum(self.stats.means, self.stats.counts, "global_mean")
        self.V = torch.as_tensor(V, dtype=torch.float64, device=self.device)
        self.means = torch.as_tensor(self.stats.means, dtype=torch.float64, device=self.device)
        self.proj = torch.zeros(self.stats.n_classes, V.shape[1], dtype=torch.float64, device=self.device)

    def _project(self, X: torch.Tensor, y: torch.Tensor) -> None:
        Z = (X.to(torch.float64) - self.means.index_select(0, y)) @ self.V
        # Per-class sums as a one-hot product: deterministic on CUDA, unlike index_add_'s atomics.
        onehot = torch.zeros(self.proj.shape[0], y.shape[0], dtype=torch.float64, device=self.device)
        onehot.scatter_(0, y[None, :], 1.0)
        self.proj.addmm_(onehot, Z.square_())

    def result(self, superclass_of: np.ndarray | None) -> LayerResult:
        if self.note is not None or self.stats is None:
            return LayerResult(self.name, self.dim or 0, None, None, self.note or "it did not run")
        stats = self.stats
        counts = stats.counts.astype(np.float64)
        within = (self.proj.cpu().numpy() / counts[:, None]).mean(axis=0)
        tol = _core.rank_tolerance(self.s, _core.feature_scale(stats.means, stats.traces), stats.input_eps,
                                   stats.n_classes, stats.dim, stats.n_samples)
        note = None
        try:
            nc1 = _core.nc1_from_parts(self.s, within, tol)[0]
        except ValueError as exc:
            nc1, note = None, str(exc)
        ratio = None
        if self.original is not None and superclass_of is not None:
            original = self.original.result()
            ratio = pooled_ratio(fgmetrics.class_distance_from_stats(original), original.counts, superclass_of)
        return LayerResult(self.name, stats.dim, None if nc1 is None else float(nc1), ratio, note)


def pooled_ratio(D: np.ndarray, counts: np.ndarray, superclass_of: np.ndarray) -> float | None:
    """The pooled mean squared distance ratio of App. B (`fgcore.metrics.msd_ratio`'s ``overall``) from
    the original classes' distance matrix: mean D over sample pairs of one superclass and different
    classes, over the mean over pairs of one class. None when no superclass holds two classes."""
    n = counts.astype(np.float64)
    totals = np.zeros(4)
    for s in np.unique(superclass_of):
        members = np.flatnonzero(superclass_of == s)
        if members.size < 2:
            continue
        w = np.outer(n[members], n[members])
        Ds = D[np.ix_(members, members)]
        same, same_w = np.trace(w * Ds), np.trace(w)
        totals += (np.sum(w * Ds) - same, np.sum(w) - same_w, same, same_w)
    if not totals[1] or not totals[2]:
        return None
    return float((totals[0] / totals[1]) / (totals[2] / totals[3]))


@torch.no_grad()
def measure_layers(model: nn.Module, layers: list[str], split, *, n_train: int, n_original: int,
                   superclass_of: np.ndarray | None, batch_size: int, progress: bool) -> list[LayerResult]:
    """NC1 and the distance ratio of each named layer on a prepared training split (two passes)."""
    from tqdm.auto import tqdm

    device = split.x.device
    merged = superclass_of is not None
    state = {name: _Layer(name, n_train, n_original if merged else None, device) for name in layers}
    current: dict[str, Any] = {}
    modules = dict(model.named_modules())
    hooks = [modules[name].register_forward_hook(
        lambda module, inputs, output, name=name: state[name].add(output, current["y_train"],
                                                                  current["y_original"], current["second"]))
        for name in layers]
    model.eval()
    try:
        for second in (False, True):
            if second:
                for layer in state.values():
                    if layer.note is None and layer.calls:
                        layer.start_second_pass()
            current["second"] = second
            with tqdm(total=split.n, desc=f"layers, pass {int(second) + 1} of 2", unit="sample",
                      disable=not progress, file=sys.stderr, leave=False) as bar:
                for start in range(0, split.n, batch_size):
                    rows = slice(start, min(start + batch_size, split.n))
                    current.update(y_train=split.y_train[rows], y_original=split.y_original[rows])
                    before = {name: layer.calls for name, layer in state.items()}
                    model(split.inputs(rows))
                    for name, layer in state.items():
                        if layer.calls - before[name] > 1 and layer.note is None:
                            layer.note = "it runs more than once per forward pass (a shared module)"
                    bar.update(rows.stop - rows.start)
    finally:
        for hook in hooks:
            hook.remove()
    return [state[name].result(superclass_of) for name in layers]
