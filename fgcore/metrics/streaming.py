"""Streaming forms of the metrics: accumulators fed batch by batch, without storing features.

`ClassStatistics` gathers, in one pass, the per-class statistics (counts, means, covariance
traces, Sigma_W) behind NC1, NC2, D, NC3, CDNV, equinorm and equiangularity: the trainer feeds it
batches of features (torch tensors on the training device, possibly bf16, or numpy) and dense
labels 0..C-1 and gets `ClassStats` back; then the ``*_from_stats`` functions give the same numbers
as the array functions on the same data. `NCCAgreement` accumulates NC4, whose nearest-centre rule
needs the class means before the pass.

Precision: features are converted to float64 on their device. Late in training the within-class
spread is tiny next to the class means (that is what collapse means), so raw sums of h and h h'
would lose the spread to cancellation. Every class is therefore shifted by a reference point, the
mean of that class in the first batch that contains it, and only the shifted sums are accumulated:
sum (h - r_c), sum ||h - r_c||^2 and sum (h - r_c)(h - r_c)'. With r_c close to mu_c the final
correction (mu_c - r_c)(mu_c - r_c)' is small and nothing large is subtracted.
"""

from __future__ import annotations

from contextlib import nullcontext as _no_change
from typing import Any

import numpy as np
import torch

from ..machine import torch_threads
from . import _core, _family
from .validation import (
    INTEGER_TORCH_DTYPES,
    check_choice,
    check_features,
    to_float64_numpy,
    to_tensor,
)
from .stats import (
    ClassStats,
    class_distance_from_stats,
    class_statistics,
    nc1_from_stats,
    nc2_from_stats,
)

__all__ = [
    "ClassStatistics",
    "NCCAgreement",
    "ClassStats",
    "class_statistics",
    "nc1_from_stats",
    "nc2_from_stats",
    "class_distance_from_stats",
]


def dense_batch_labels(y_batch: Any, b: int, n_classes: int, device) -> torch.Tensor:
    """Validated labels 0..n_classes-1 of a batch of ``b`` rows, as a long tensor on ``device``."""
    try:
        y = to_tensor(y_batch)
    except (TypeError, ValueError):
        raise ValueError("y_batch must be a 1-D array of integer labels.") from None
    if y.dtype not in INTEGER_TORCH_DTYPES:
        raise ValueError(f"y_batch must hold integer labels 0..{n_classes - 1}; got "
                         f"dtype {y.dtype}.")
    if y.ndim != 1 or y.shape[0] != b:
        raise ValueError(
            f"y_batch must be 1-D with one label per row of H_batch ({b}); got shape "
            f"{tuple(y.shape)}."
        )
    y = y.to(device=device, dtype=torch.long)
    lo, hi = (int(v) for v in torch.aminmax(y))
    if lo < 0 or hi >= n_classes:
        raise ValueError(
            f"y_batch must be labels 0..{n_classes - 1} (dense codes; map label values "
            f"to codes first); got values from {lo} to {hi}."
        )
    return y


class ClassStatistics:
    """Accumulate per-class counts, means, covariance traces and Sigma_W over batches, in one pass.

    Parameters
    ----------
    n_classes : int
        C; labels passed to `update` must be integers in 0..C-1.
    dim : int, default=None
        Feature dimension d (taken from the first batch when None).
    covariance : bool, default=True
        Also gather Sigma_W (needed by NC1 only; the other measures need means and traces).
    class_counts : array-like of shape (n_classes,), default=None
        Expected samples per class over the whole pass. When given, Sigma_W is accumulated in one
        d x d matrix (each row weighted by 1/n_c) and `result` checks that exactly these counts
        arrived (catches a dropped last batch). Without it Sigma_W needs one d x d matrix per
        class (C * d * d * 8 bytes: 10 MB for C = 5, d = 512; 210 MB for C = 100), since the
        1/n_c weights are known only at the end.
    device : str or torch.device, default=None
        Where the sums live (defaults to the device of the first batch).

    Raises
    ------
    ValueError
        On a bad ``n_classes``, ``dim`` or ``class_counts``; `update` and `result` validate their
        own input.

    See Also
    --------
    class_statistics : the same statistics, two-pass, from arrays.
    NCCAgreement : NC4 over batches.

    Notes
    -----
    Memory is O(C d) (+ the Sigma_W matrices), whatever the number of samples. Precision: see
    the module's docstring (every class is shifted by a reference point before it is summed, so
    collapsed features keep their within-class spread).

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import ClassStatistics, class_distance_from_stats, nc2_from_stats
    >>> H = np.array([[0., 0.], [5., 5.], [2., 0.], [5., 7.]])
    >>> y = np.array([0, 1, 0, 1])
    >>> acc = ClassStatistics(n_classes=2, covariance=False)
    >>> for a in (0, 2):                           # two batches of two
    ...     _ = acc.update(H[a:a + 2], y[a:a + 2])
    >>> stats = acc.result()
    >>> stats.counts, stats.means
    (array([2, 2]), array([[1., 0.],
           [5., 6.]]))
    >>> class_distance_from_stats(stats)
    array([[ 2., 54.],
           [54.,  2.]])
    """

    def __init__(self, n_classes: int, dim: int | None = None, covariance: bool = True,
                 class_counts: Any = None, device: Any = None):
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) \
                or n_classes < 1:
            raise ValueError(f"n_classes must be a positive integer; got {n_classes!r}.")
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer))
                                or dim < 1):
            raise ValueError(f"dim must be a positive integer or None; got {dim!r}.")
        self.n_classes = int(n_classes)
        self.covariance = bool(covariance)
        self._expected = None
        if class_counts is not None:
            cc = to_tensor(class_counts).cpu().numpy()
            if cc.shape != (self.n_classes,) or cc.dtype.kind not in "iu" or np.any(cc < 1):
                raise ValueError(
                    f"class_counts must be {self.n_classes} positive integers (samples per class "
                    f"over the whole pass); got {class_counts!r}."
                )
            self._expected = cc.astype(np.int64)
        self.device = None if device is None else torch.device(device)
        self.dim = None
        self._counts = np.zeros(self.n_classes, dtype=np.int64)
        self._has_ref = np.zeros(self.n_classes, dtype=bool)
        self._eps = 0.0
        if dim is not None and self.device is not None:
            self._allocate(int(dim))
        elif dim is not None:
            self.dim = int(dim)

    # -- state -----------------------------------------------------------------------------------

    def _allocate(self, d: int) -> None:
        C, dev = self.n_classes, self.device
        self.dim = d
        self._ref = torch.zeros(C, d, dtype=_core.F64, device=dev)
        self._s1 = torch.zeros(C, d, dtype=_core.F64, device=dev)
        self._s2 = torch.zeros(C, dtype=_core.F64, device=dev)
        self._scatter = None
        if self.covariance:
            shape = (d, d) if self._expected is not None else (C, d, d)
            self._scatter = torch.zeros(shape, dtype=_core.F64, device=dev)
            if self._expected is not None:
                self._row_weight = torch.as_tensor(1.0 / np.sqrt(self._expected),
                                                   dtype=_core.F64, device=dev)

    # -- accumulation ----------------------------------------------------------------------------

    def update(self, H_batch: Any, y_batch: Any) -> "ClassStatistics":
        """Add a batch.

        Parameters
        ----------
        H_batch : array-like or torch.Tensor of shape (b, n_features)
            Features, numpy or torch, any float dtype, any device.
        y_batch : array-like or torch.Tensor of shape (b,)
            Integer labels 0..n_classes-1.

        Returns
        -------
        ClassStatistics
            self.
        """
        on_cpu = (not isinstance(H_batch, torch.Tensor) or H_batch.device.type == "cpu") and (
            self.device is None or self.device.type == "cpu")
        if on_cpu:
            # CPU updates on one torch thread. Measured on a busy 2-core machine, 50k x 512 in
            # batches of 4096: 0.6 s (1.3 s with Sigma_W) on one thread, 3.0 s (3.6 s) on two, and
            # ~100x slower on two for small batches (idle threads spin between the dozen small
            # operations of an update).
            with torch_threads(1):
                return self._update(H_batch, y_batch)
        return self._update(H_batch, y_batch)

    def _update(self, H_batch: Any, y_batch: Any) -> "ClassStatistics":
        feats = check_features(H_batch, "H_batch", keep_tensor=True)
        F = feats.data
        b, d = F.shape
        if self.device is None:
            self.device = F.device
        if not hasattr(self, "_s1"):
            if self.dim is not None and self.dim != d:
                raise ValueError(f"H_batch has {d} features but dim={self.dim} was given.")
            self._allocate(d)
        elif d != self.dim:
            raise ValueError(
                f"H_batch has {d} features but earlier batches had {self.dim}; every batch must "
                "have the same feature dimension."
            )
        y = dense_batch_labels(y_batch, b, self.n_classes, self.device)
        self._add(F, y, d)
        self._eps = max(self._eps, feats.eps)
        return self

    def _add(self, F: torch.Tensor, y: torch.Tensor, d: int) -> None:
        X = F.to(device=self.device, dtype=_core.F64, copy=True)  # X is shifted in place below
        batch_counts_t = torch.bincount(y, minlength=self.n_classes)
        batch_counts = batch_counts_t.cpu().numpy().astype(np.int64)
        total = self._counts + batch_counts
        if self._expected is not None and np.any(total > self._expected):
            c = int(np.flatnonzero(total > self._expected)[0])
            raise ValueError(
                f"class {c} has now {total[c]} samples but class_counts says {self._expected[c]}; "
                "fix class_counts or do not feed a sample twice."
            )
        # Per-class sums as one-hot products: deterministic on CUDA, unlike atomic index_add_.
        onehot = torch.zeros(self.n_classes, y.shape[0], dtype=_core.F64, device=self.device)
        onehot.scatter_(0, y[None, :], 1.0)
        new = (batch_counts > 0) & ~self._has_ref
        if new.any():
            idx = torch.as_tensor(np.flatnonzero(new), device=self.device)
            sums = onehot.index_select(0, idx) @ X
            self._ref[idx] = sums / batch_counts_t[idx, None].to(_core.F64)
            self._has_ref |= new
        X.sub_(self._ref.index_select(0, y))
        self._s1.addmm_(onehot, X)
        self._s2.addmv_(onehot, torch.einsum("ij,ij->i", X, X))
        if self._scatter is not None:
            self._add_scatter(X, y, batch_counts)
        self._counts = total

    def _add_scatter(self, X: torch.Tensor, y: torch.Tensor, batch_counts: np.ndarray) -> None:
        if self._expected is not None:
            Xw = X * self._row_weight.index_select(0, y)[:, None]
            self._scatter.addmm_(Xw.T, Xw)
            return
        # One d x d scatter per class: sort the batch by label, one matrix product per class.
        Xs = X.index_select(0, torch.argsort(y, stable=True))
        start = 0
        for c in np.flatnonzero(batch_counts):
            block = Xs[start:start + batch_counts[c]]
            self._scatter[c].addmm_(block.T, block)
            start += batch_counts[c]

    # -- result ----------------------------------------------------------------------------------

    def result(self) -> ClassStats:
        """The statistics of everything accumulated so far (every class needs a sample).

        Returns
        -------
        ClassStats
            Classes 0..C-1, float64 numpy arrays; ``sigma_w`` when ``covariance=True``.
        """
        if not hasattr(self, "_s1"):
            raise ValueError("no batch was added; call update(H_batch, y_batch) first.")
        empty = np.flatnonzero(self._counts == 0)
        if empty.size:
            raise ValueError(
                f"classes {empty[:10].tolist()} received no samples; every one of the "
                f"{self.n_classes} classes needs at least one."
            )
        if self._expected is not None and np.any(self._counts != self._expected):
            c = int(np.flatnonzero(self._counts != self._expected)[0])
            raise ValueError(
                f"class {c} received {self._counts[c]} samples but class_counts says "
                f"{self._expected[c]} (was a batch dropped?)."
            )
        n = torch.as_tensor(self._counts, dtype=_core.F64, device=self.device)
        delta = self._s1 / n[:, None]
        means = self._ref + delta
        traces = (self._s2 / n - torch.einsum("cd,cd->c", delta, delta)).clamp_(min=0.0)
        sigma_w = None
        if self._scatter is not None:
            if self._expected is None:
                within = torch.einsum("cde,c->de", self._scatter, 1.0 / n)
            else:
                within = self._scatter.clone()
            within -= delta.T @ delta
            within /= self.n_classes
            sigma_w = (0.5 * (within + within.T)).cpu().numpy()
        means_np = means.cpu().numpy()
        return ClassStats(
            classes=np.arange(self.n_classes), counts=self._counts.copy(), means=means_np,
            traces=traces.cpu().numpy(), sigma_w=sigma_w,
            global_mean=_core.global_mean(means_np, self._counts), input_eps=self._eps,
        )


class NCCAgreement:
    """Accumulate NC4 over batches: how often the classifier's decision is the nearest class
    centre's (Papyan et al. 2020), with the class centres known before the pass.

    The nearest-centre rule needs the final class means, which a single pass over the data only
    knows at its end: take them from a finished pass (`ClassStatistics.result`, or
    `class_statistics` on the training set, as Papyan et al. measure NC4 with the training
    means), then feed the batches here. On the same data and means this gives the same number as
    `fgcore.metrics.nc4`.

    Parameters
    ----------
    means : ClassStats or array-like of shape (n_classes, n_features)
        The class centres; row c is class c (labels 0..C-1, as `ClassStatistics` numbers them).

    Attributes
    ----------
    n_classes : int
        C, the number of centres.

    See Also
    --------
    nc4 : the same measure on arrays, with the class means of those arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import NCCAgreement
    >>> acc = NCCAgreement(np.array([[0., 0.], [4., 0.]]))
    >>> H = np.array([[1., 0.], [3., 0.], [1.5, 0.], [5., 0.]])
    >>> logits = np.array([[2., 0.], [0., 2.], [0., 1.], [0., 3.]])   # the third sample disagrees
    >>> acc.update(H[:2], logits[:2], [0, 1]).update(H[2:], logits[2:], [0, 1]).result()
    0.75
    """

    def __init__(self, means: Any):
        if isinstance(means, ClassStats):
            centres = means.means
        else:
            centres = to_float64_numpy(check_features(means, "means").data)
        self.n_classes, self.dim = centres.shape
        self._rule = _family.NearestCentre(centres)
        self._agree = np.zeros(self.n_classes, dtype=np.int64)
        self._counts = np.zeros(self.n_classes, dtype=np.int64)

    def update(self, H_batch: Any, logits_batch: Any, y_batch: Any) -> "NCCAgreement":
        """Add a batch.

        Parameters
        ----------
        H_batch : array-like or torch.Tensor of shape (b, n_features)
            Features, any float dtype, any device.
        logits_batch : array-like or torch.Tensor of shape (b, n_outputs)
            The classifier's outputs for those features; column k scores class k (columns from
            n_classes on, if any, name no centre and never agree).
        y_batch : array-like or torch.Tensor of shape (b,)
            Labels 0..n_classes-1 (for the per-class counts of ``average="classes"``).

        Returns
        -------
        NCCAgreement
            self.
        """
        feats = check_features(H_batch, "H_batch", keep_tensor=True)
        b, d = feats.shape
        if d != self.dim:
            raise ValueError(f"H_batch has {d} features but the centres have {self.dim}.")
        z = check_features(logits_batch, "logits_batch", keep_tensor=True)
        if z.shape[0] != b or z.shape[1] < self.n_classes:
            raise ValueError(
                f"logits_batch must have one row per row of H_batch ({b}) and a column for each "
                f"of the {self.n_classes} classes; got shape {z.shape}."
            )
        X = feats.data
        y = dense_batch_labels(y_batch, b, self.n_classes, X.device)
        with torch_threads(1) if X.device.type == "cpu" else _no_change():
            choice = torch.argmax(z.data.to(X.device), dim=1)
            same = choice == self._rule(X)
            self._agree += torch.bincount(y[same], minlength=self.n_classes).cpu().numpy()
            self._counts += torch.bincount(y, minlength=self.n_classes).cpu().numpy()
        return self

    def result(self, average: str = "samples") -> float:
        """NC4 of everything fed so far.

        Parameters
        ----------
        average : {"samples", "classes"}, default="samples"
            The share of all samples (Papyan et al.), or the mean of the per-class shares over
            the classes that received samples.

        Returns
        -------
        float
            NC4 in [0, 1].
        """
        check_choice(average, "average", _family.AVERAGES)
        if not self._counts.any():
            raise ValueError("no batch was added; call update(H_batch, logits_batch, y_batch) "
                             "first.")
        if average == "samples":
            return float(self._agree.sum() / self._counts.sum())
        seen = self._counts > 0
        return float(np.mean(self._agree[seen] / self._counts[seen]))
