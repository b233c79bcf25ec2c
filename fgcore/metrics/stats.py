"""Per-class statistics (counts, means, covariance traces, Sigma_W) and the metrics computed from them.

``ClassStats`` is what NC1, NC2 and the class distance matrix D need, and nothing more: the array
functions (`class_statistics`, exact two-pass) and the streaming accumulator
(`fgcore.metrics.streaming.ClassStatistics`, one pass) both produce it, and `nc1_from_stats`,
`nc2_from_stats`, `class_distance_from_stats` turn it into numbers with the same formulas as `nc1`,
`nc2` and `class_distance_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from . import _core, _family
from .validation import (
    Features,
    Labels,
    check_center,
    check_choice,
    check_ddof,
    check_features,
    check_weights,
    to_float64_numpy,
    check_labels,
    require_classes,
    require_samples,
)


@dataclass(frozen=True, eq=False)
class ClassStats:
    """Per-class statistics of features H (n, d) under labels with C classes (all float64 numpy),
    as `class_statistics` and `ClassStatistics.result` return them.

    Attributes
    ----------
    classes : numpy.ndarray of shape (C,)
        The label values, in the order of the rows below.
    counts : numpy.ndarray of shape (C,)
        Samples per class.
    means : numpy.ndarray of shape (C, d)
        Class means mu_c.
    traces : numpy.ndarray of shape (C,)
        tr(S_c), S_c the biased (1/n_c) covariance of class c.
    sigma_w : numpy.ndarray of shape (d, d) or None
        Sigma_W of eq. (1) (mean over classes of S_c), or None when not gathered.
    global_mean : numpy.ndarray of shape (d,)
        mu_G, the mean over all samples.
    input_eps : float
        Machine epsilon of the precision the features arrived in (float32: 1.19e-7; bf16:
        7.8e-3); sets the rounding tolerances (NC1's rank cutoff).
    """

    classes: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    traces: np.ndarray
    sigma_w: np.ndarray | None
    global_mean: np.ndarray
    input_eps: float

    @property
    def n_classes(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.counts.sum())

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])


def class_statistics(H: Any, y: Any) -> ClassStats:
    """Exact (two-pass) per-class counts, means and covariance traces of ``H`` under labels ``y``.

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features (numpy, lists, or a torch tensor on any device); float64 arithmetic.
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values; the classes are the sorted unique values.

    Returns
    -------
    ClassStats
        With ``sigma_w = None``: it is d x d, and `nc1` works in the span of the class means
        instead. Use these statistics for every ``*_from_stats`` function but `nc1_from_stats`,
        which needs `ClassStatistics` with ``covariance=True``.

    Raises
    ------
    ValueError
        On malformed ``H`` or ``y`` (see `nc1`).

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import class_statistics
    >>> stats = class_statistics(np.array([[0., 0.], [2., 0.], [5., 5.]]), [3, 3, 8])
    >>> stats.classes, stats.counts, stats.traces
    (array([3, 8]), array([2, 1]), array([1., 0.]))
    >>> stats.means
    array([[1., 0.],
           [5., 5.]])
    """
    feats = check_features(H, "H")
    labels = check_labels(y, feats, "y", "H")
    return stats_from_labels(feats, labels)


def stats_from_labels(feats: Features, labels: Labels) -> ClassStats:
    """`class_statistics` on validated input."""
    p = _core.passes(feats.data, labels)
    means = p.means()
    sq, _ = p.centred(means)
    return ClassStats(
        classes=labels.classes, counts=labels.counts, means=means, traces=sq / labels.counts,
        sigma_w=None, global_mean=_core.global_mean(means, labels.counts), input_eps=feats.eps,
    )


def nc1_from_stats(stats: ClassStats, *, center: str = "global_mean") -> float:
    """NC1 (eq. 1-2) from class statistics; the same definition, options and rank rule as `nc1`.

    Parameters
    ----------
    stats : ClassStats
        Statistics with ``sigma_w`` (from ``ClassStatistics(..., covariance=True)``), every class
        with at least two samples.
    center : {"global_mean", "class_means"}, default="global_mean"
        As in `nc1`.

    Returns
    -------
    float
        NC1 >= 0.

    Raises
    ------
    ValueError
        If ``stats`` has no ``sigma_w``, fewer than two classes, a class with one sample, or
        coinciding class means.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import ClassStatistics, nc1, nc1_from_stats
    >>> y = np.array([0, 0, 1, 1, 2, 2])
    >>> H = np.array([[0., 0.], [0., 2.], [4., 0.], [4., 2.], [0., 8.], [0., 10.]])
    >>> stats = ClassStatistics(3).update(H[:4], y[:4]).update(H[4:], y[4:]).result()
    >>> round(nc1_from_stats(stats), 12), round(nc1(H, y), 12)
    (0.03125, 0.03125)
    """
    check_center(center)
    if stats.sigma_w is None:
        raise ValueError(
            "stats has no sigma_w; gather it with ClassStatistics(..., covariance=True) to compute "
            "NC1 from statistics (or call nc1(H, y) on the features)."
        )
    require_classes(stats.classes, "stats", 2)
    require_samples(stats.counts, stats.classes, 2, "a within-class covariance needs two samples",
                    "stats")
    s, V = _core.mean_spectrum(stats.means, stats.counts, center)
    within = np.einsum("dk,de,ek->k", V, stats.sigma_w, V)
    tol = _core.rank_tolerance(s, _core.feature_scale(stats.means, stats.traces), stats.input_eps,
                               stats.n_classes, stats.dim, stats.n_samples)
    return _core.nc1_from_parts(s, within, tol)[0]


def nc2_from_stats(stats: ClassStats, *, center: str = "class_means") -> float:
    """NC2 (eq. 3) from the class means and counts; the same definition and options as `nc2`.

    Parameters
    ----------
    stats : ClassStats
        From `class_statistics` or `ClassStatistics.result`.
    center : {"class_means", "global_mean"}, default="class_means"
        As in `nc2`.

    Returns
    -------
    float
        NC2 in [0, 2].

    Raises
    ------
    ValueError
        On fewer than two classes or coinciding class means.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import class_statistics, nc2_from_stats
    >>> y = np.array([0, 0, 0, 1, 2])
    >>> round(nc2_from_stats(class_statistics(np.eye(3)[y], y)), 12)
    0.0
    """
    check_center(center)
    require_classes(stats.classes, "stats", 2)
    return _core.nc2_from_means(stats.means, stats.counts, center)


def class_distance_from_stats(stats: ClassStats) -> np.ndarray:
    """The class distance matrix D (eq. 6) from the class means and covariance traces.

    Parameters
    ----------
    stats : ClassStats
        From `class_statistics` or `ClassStatistics.result`.

    Returns
    -------
    D : numpy.ndarray of shape (n_classes, n_classes)
        float64, in the order of ``stats.classes``; as `class_distance_matrix`.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import class_distance_from_stats, class_statistics
    >>> stats = class_statistics(np.array([[0., 0.], [2., 0.], [0., 3.]]), [5, 5, 9])
    >>> class_distance_from_stats(stats)
    array([[ 2., 11.],
           [11.,  0.]])
    """
    return _core.distance_from_parts(stats.means, stats.traces)


def nc3_from_stats(stats: ClassStats, W: Any, *, center: str = "class_means",
                   squared: bool = False) -> float:
    """NC3 (self-duality) from the class means and counts; the same definition and options as
    `nc3`.

    Parameters
    ----------
    stats : ClassStats
        From `class_statistics` or `ClassStatistics.result`.
    W : array-like or torch.Tensor of shape (n_classes, n_features)
        The classifier's weight, one row per class in the order of ``stats.classes`` (labels
        0..C-1 for `ClassStatistics`).
    center : {"class_means", "global_mean"}, default="class_means"
        As in `nc3`.
    squared : bool, default=False
        As in `nc3`.

    Returns
    -------
    float
        NC3 in [0, 2] (in [0, 4] when ``squared``).

    Raises
    ------
    ValueError
        On a malformed ``W`` (one row per class, ``stats.dim`` columns), fewer than two classes,
        coinciding class means or a zero ``W``.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import class_statistics, nc3_from_stats
    >>> y = np.array([0, 0, 1, 2])
    >>> stats = class_statistics(np.eye(3)[y], y)
    >>> round(nc3_from_stats(stats, W=np.eye(3) - 1 / 3), 12)    # the centred means themselves
    0.0
    """
    check_center(center)
    require_classes(stats.classes, "stats", 2)
    w = check_weights(W, stats.dim)
    if w.shape[0] != stats.n_classes:
        raise ValueError(
            f"W has {w.shape[0]} rows but stats has {stats.n_classes} classes; NC3 needs one row "
            "per class, in the order of stats.classes."
        )
    return _family.nc3(to_float64_numpy(w.data), stats.means, stats.counts, center, bool(squared))


def cdnv_from_stats(stats: ClassStats, *, ddof: int = 0) -> float:
    """CDNV (Galanti et al. 2022) from the class means, traces and counts; the same definition
    and options as `cdnv`.

    Parameters
    ----------
    stats : ClassStats
        From `class_statistics` or `ClassStatistics.result`.
    ddof : {0, 1}, default=0
        As in `cdnv`.

    Returns
    -------
    float
        CDNV >= 0.

    Raises
    ------
    ValueError
        On fewer than two classes, a class with one sample and ``ddof=1``, or two coinciding class
        means.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import cdnv_from_stats, class_statistics
    >>> H = np.array([[0., 1.], [0., -1.], [4., 1.], [4., -1.]])
    >>> cdnv_from_stats(class_statistics(H, [0, 0, 1, 1]))
    0.0625
    """
    ddof = check_ddof(ddof)
    require_classes(stats.classes, "stats", 2)
    if ddof:
        require_samples(stats.counts, stats.classes, 2,
                        "an unbiased (ddof=1) variance needs two samples", "stats")
    return _family.cdnv(stats.means, stats.traces, stats.counts, ddof, stats.input_eps,
                        stats.n_samples, stats.classes)


def equinorm_from_stats(stats: ClassStats, *, center: str = "class_means", ddof: int = 0) -> float:
    """Equinorm (Papyan et al. 2020) from the class means and counts; the same definition and
    options as `equinorm`.

    Parameters
    ----------
    stats : ClassStats
        From `class_statistics` or `ClassStatistics.result`.
    center : {"class_means", "global_mean"}, default="class_means"
        As in `equinorm`.
    ddof : {0, 1}, default=0
        As in `equinorm`.

    Returns
    -------
    float
        The coefficient of variation of the centred class-mean norms, >= 0.

    Raises
    ------
    ValueError
        On fewer than two classes (or ``ddof`` >= C) or class means that all coincide.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import class_statistics, equinorm_from_stats
    >>> H = np.array([[2., 0.], [0., 1.], [0., -3.]])
    >>> round(equinorm_from_stats(class_statistics(H, [0, 1, 2])), 4)
    0.2047
    """
    check_center(center)
    ddof = check_ddof(ddof)
    require_classes(stats.classes, "stats", 2)
    return _family.equinorm(stats.means, stats.counts, center, ddof, stats.input_eps,
                            stats.n_samples, stats.classes)


def equiangularity_from_stats(stats: ClassStats, *, center: str = "class_means",
                              reference: str = "etf") -> float:
    """Equiangularity (Papyan et al. 2020) from the class means and counts; the same definition
    and options as `equiangularity`.

    Parameters
    ----------
    stats : ClassStats
        From `class_statistics` or `ClassStatistics.result`.
    center : {"class_means", "global_mean"}, default="class_means"
        As in `equiangularity`.
    reference : {"etf", "mean"}, default="etf"
        As in `equiangularity`.

    Returns
    -------
    float
        >= 0; 0 for a simplex ETF.

    Raises
    ------
    ValueError
        On fewer than two classes or a class mean that coincides with the centre.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import class_statistics, equiangularity_from_stats
    >>> square = np.array([[1., 0.], [0., 1.], [-1., 0.], [0., -1.]])
    >>> round(equiangularity_from_stats(class_statistics(square, [0, 1, 2, 3])), 4)
    0.4444
    """
    check_center(center)
    check_choice(reference, "reference", _family.REFERENCES)
    require_classes(stats.classes, "stats", 2)
    return _family.equiangularity(stats.means, stats.counts, center, reference, stats.input_eps,
                                  stats.n_samples, stats.classes)
