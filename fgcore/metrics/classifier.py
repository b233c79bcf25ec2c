"""The two Neural-Collapse measures that involve the last-layer classifier (Papyan et al. 2020):
NC3, self-duality of the classifier and the class means, and NC4, agreement of the classifier's
decisions with the nearest class centre."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..machine import single_threaded_blas
from . import _core, _family
from .validation import (
    Features,
    Labels,
    as_numpy,
    check_center,
    check_choice,
    check_features,
    check_labels,
    check_weights,
    output_codes,
    require_classes,
    to_float64_numpy,
)

def nc3(W: Any, H: Any, y: Any, *, center: str = "class_means", classes: Any = None,
        squared: bool = False) -> float:
    """Convergence of the classifier to the class means, self-duality (NC3 of Papyan et al. 2020).

        NC3 = || W / ||W||_F - M / ||M||_F ||_F,

    W the (C, d) classifier (row c scores class c), M the (C, d) class means minus their centre,
    both scaled to unit Frobenius norm. 0 when the classifier rows equal the centred class means
    up to one common positive scale.

    Parameters
    ----------
    W : array-like or torch.Tensor of shape (n_classes, n_features)
        The last linear layer's weight (``model.head.weight``: one row per class, numpy or torch
        on any device; gradients are ignored).
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        The features that layer reads (numpy, lists, or a torch tensor on any device).
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values; every class needs a sample.
    center : {"class_means", "global_mean"}, default="class_means"
        The centre subtracted from the class means: their own mean (the centre of a simplex ETF)
        or the mean of all samples (Papyan et al.'s mu_G on balanced data, where they coincide).
    classes : array-like of shape (n_classes,), default=None
        The label value each row of ``W`` scores. None: the rows are the sorted unique values of
        ``y``, in order (labels 0..C-1 with row c for class c, as a network's head has them).
        Must name exactly the classes of ``y``, in any order.
    squared : bool, default=False
        Return the squared distance, the quantity Papyan et al. plot in their Fig. 5.

    Returns
    -------
    float
        NC3 in [0, 2] (in [0, 4] when ``squared``).

    Raises
    ------
    ValueError
        On malformed ``H``, ``y`` or ``W`` (not finite, wrong shape: ``W`` must have one row per
        class and as many columns as ``H``), rows of ``W`` that do not match the classes of
        ``y``, fewer than two classes, coinciding class means, or a zero ``W``.

    See Also
    --------
    nc2 : the class means alone against a simplex ETF.
    nc4 : agreement of the classifier's decisions with the nearest class centre.
    nc3_from_stats : the same number from streamed class statistics.

    Notes
    -----
    The bias of the layer plays no part (Papyan et al.'s definition has none). The measure is
    invariant to scaling ``W`` or ``H``, to translating ``H``, and to rotating ``H`` when ``W`` is
    rotated with it (``H Q`` and ``W Q``). Some toolkits normalise each row separately instead of
    the whole matrices; that discards the relative row lengths and is a different measure.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import nc3
    >>> y = np.array([0, 0, 1, 1, 2])
    >>> H = np.array([[1., 1.], [3., 1.], [0., 5.], [0., 7.], [-4., -2.]])
    >>> means = np.array([[2., 1.], [0., 6.], [-4., -2.]])
    >>> W = 10 * (means - means.mean(axis=0))        # the centred means, rescaled
    >>> round(nc3(W, H, y), 12)
    0.0
    >>> round(nc3(np.eye(3, 2), H, y), 4)            # a classifier unrelated to the means
    0.7863
    """
    check_center(center)
    feats = check_features(H, "H")
    labels = check_labels(y, feats, "y", "H")
    require_classes(labels.classes, "y", 2)
    w = check_weights(W, feats.shape[1])
    codes = output_codes(classes, w.shape[0], labels, "W's rows")
    unused = np.flatnonzero(codes < 0)
    if unused.size:
        raise ValueError(
            f"W has rows for classes {as_numpy(classes)[unused][:10].tolist()} that y does not "
            "contain; NC3 compares each row with its class mean, so pass the rows of the classes "
            "in y only."
        )
    W64 = np.empty((labels.n_classes, feats.shape[1]))
    W64[codes] = to_float64_numpy(w.data)  # rows in the order of the sorted classes
    means = _core.passes(feats.data, labels).means()
    return _family.nc3(W64, means, labels.counts, center, bool(squared))


def nc4(H: Any, y: Any, logits: Any = None, W: Any = None, b: Any = None, *,
        classes: Any = None, average: str = "samples") -> float:
    """Agreement of the classifier with the nearest-class-centre rule (NC4 of Papyan et al. 2020).

        NC4 = (1/n) sum_i [ argmax_k z_ik == argmin_c ||h_i - mu_c|| ],

    z_i the classifier's outputs for sample i (its logits, or W h_i + b) and mu_c the class means
    of ``H``. Neural Collapse drives it to 1: the network decides by the nearest class centre.
    (Papyan et al. plot the mismatch, 1 - NC4, in their Fig. 7.)

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features (numpy, lists, or a torch tensor on any device); the class means and the
        nearest-centre decisions are computed from them in float64.
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values (at least two classes); they define the class means.
    logits : array-like or torch.Tensor of shape (n_samples, n_outputs), default=None
        The classifier's outputs for ``H``. Give either ``logits`` or ``W``.
    W : array-like or torch.Tensor of shape (n_outputs, n_features), default=None
        The last linear layer's weight; the outputs are then ``H @ W.T + b`` in float64.
    b : array-like or torch.Tensor of shape (n_outputs,), default=None
        That layer's bias (None: no bias). Only with ``W``.
    classes : array-like of shape (n_outputs,), default=None
        The label value each output scores. None: the outputs are the sorted unique values of
        ``y``, in order. May name classes absent from ``y`` (a choice of those never agrees);
        must name every class of ``y``.
    average : {"samples", "classes"}, default="samples"
        "samples": the share of all samples (Papyan et al.); "classes": the mean over classes of
        each class's share, so that small classes weigh as much as large ones.

    Returns
    -------
    float
        NC4 in [0, 1]; 1 when the classifier is the nearest-class-centre rule on ``H``.

    Raises
    ------
    ValueError
        On malformed ``H``, ``y``, ``logits``, ``W`` or ``b`` (not finite, wrong shapes), both or
        neither of ``logits`` and ``W``, ``b`` without ``W``, outputs that do not cover the
        classes of ``y``, or an unknown ``average``.

    See Also
    --------
    nc3 : the classifier's weights against the centred class means.
    NCCAgreement : the same over batches, with class means known in advance.

    Notes
    -----
    Ties go to the first output (as ``argmax``). The nearest-centre rule is evaluated as
    argmax_c (h - r).(mu_c - r) - ||mu_c - r||^2 / 2, r the mean of the class means: the same
    decisions as the distances themselves, with products at the scale of the spread of the
    means, so features far from the origin keep their precision. Measured on the training set
    with its own class means, as Papyan et al. do; for held-out features with the training
    means, use `NCCAgreement`.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import nc4
    >>> y = np.array([0, 0, 1, 1])
    >>> H = np.array([[0., 0.], [2., 0.], [6., 0.], [8., 0.]])   # class means (1, 0) and (7, 0)
    >>> nc4(H, y, logits=[[1., 0.], [1., 0.], [0., 1.], [0., 1.]])
    1.0
    >>> nc4(H, y, W=[[-1., 0.], [0., 0.]], b=[1., 0.])    # threshold at x = 1, not 4: one miss
    0.75
    """
    check_choice(average, "average", _family.AVERAGES)
    feats = check_features(H, "H")
    labels = check_labels(y, feats, "y", "H")
    require_classes(labels.classes, "y", 2)
    decide = _classifier(feats, logits, W, b)
    codes = output_codes(classes, decide.n_outputs, labels, decide.outputs)
    means = _core.passes(feats.data, labels).means()
    agree = _agreement_per_class(feats.data, labels, decide, codes, _family.NearestCentre(means))
    return _average(agree, labels.counts, average)


class _Decisions:
    """The classifier's choice (an output index) for rows a:b of the features."""

    def __init__(self, logits: Features | None, W: np.ndarray | None, b: np.ndarray | None):
        self.logits, self.W, self.b = logits, W, b
        self.n_outputs = (logits.shape[1] if logits is not None else W.shape[0])
        self.outputs = "logits' columns" if logits is not None else "W's rows"
        self._device_wb = {}

    def __call__(self, X64, a: int, b: int):
        """Output chosen for rows a:b; X64 holds those rows in float64 (numpy or torch)."""
        if self.logits is not None:
            Z = self.logits.data[a:b]
            if isinstance(X64, torch.Tensor):
                Z = torch.as_tensor(Z, device=X64.device) if not isinstance(Z, torch.Tensor) \
                    else Z.to(X64.device)
                return torch.argmax(Z, dim=1)
            return np.argmax(as_numpy(Z), axis=1)
        if isinstance(X64, torch.Tensor):
            W, bias = self._on(X64.device)
            return torch.argmax(torch.addmm(bias, X64, W.T), dim=1)
        with single_threaded_blas():
            scores = X64 @ self.W.T
        scores += self.b
        return np.argmax(scores, axis=1)

    def _on(self, device):
        if device not in self._device_wb:
            self._device_wb[device] = (torch.as_tensor(self.W, device=device),
                                       torch.as_tensor(self.b, device=device))
        return self._device_wb[device]


def _classifier(feats: Features, logits: Any, W: Any, b: Any) -> _Decisions:
    n, d = feats.shape
    if (logits is None) == (W is None):
        raise ValueError(
            "give either logits (the classifier's outputs for H) or W (and b, the last linear "
            "layer's weight and bias), not "
            + ("both." if logits is not None else "neither.")
        )
    if logits is not None:
        if b is not None:
            raise ValueError("b is the bias that goes with W; with logits, leave it out.")
        z = check_features(logits, "logits")
        if z.shape[0] != n:
            raise ValueError(
                f"logits has {z.shape[0]} rows but H has {n}; they must describe the same "
                "samples in the same order."
            )
        return _Decisions(z, None, None)
    w = to_float64_numpy(check_weights(W, d).data)
    if b is None:
        bias = np.zeros(w.shape[0])
    else:
        bf = check_features(_as_row(b), "b")
        bias = to_float64_numpy(bf.data).reshape(-1)
        if bf.shape != (1, w.shape[0]):
            raise ValueError(
                f"b must be a vector of {w.shape[0]} biases (one per row of W); got shape "
                f"{tuple(np.shape(as_numpy(b)))}."
            )
    return _Decisions(None, w, bias)


def _as_row(b: Any):
    if isinstance(b, torch.Tensor):
        return b.detach().reshape(1, -1) if b.ndim <= 1 else b.detach()
    arr = np.asarray(b)
    return arr.reshape(1, -1) if arr.ndim <= 1 else arr


def _agreement_per_class(X, labels: Labels, decide, codes: np.ndarray,
                         ncc: _family.NearestCentre) -> np.ndarray:
    """Per class, the number of samples on which the classifier's class equals the nearest
    centre's; in row chunks of the features, on their device."""
    n, d = X.shape
    C = labels.n_classes
    step = max(1, (1 << 20) // max(d, C))  # 8 MB of float64 per chunk
    agree = np.zeros(C, dtype=np.int64)
    on_torch = isinstance(X, torch.Tensor)
    code_map = torch.as_tensor(codes, device=X.device) if on_torch else codes
    for a in range(0, n, step):
        b = min(a + step, n)
        # One float64 copy of the chunk: the classifier reads it, then the rule shifts it in place.
        X64 = X[a:b].to(torch.float64, copy=True) if on_torch else np.array(X[a:b], np.float64)
        choice = code_map[decide(X64, a, b)]
        same = choice == ncc(X64, overwrite=True)
        y = labels.codes[a:b]
        if on_torch:
            agree += torch.bincount(y[same], minlength=C).cpu().numpy()
        else:
            agree += np.bincount(y[same], minlength=C)
    return agree


def _average(agree: np.ndarray, counts: np.ndarray, average: str) -> float:
    if average == "samples":
        return float(agree.sum() / counts.sum())
    return float(np.mean(agree / counts))
