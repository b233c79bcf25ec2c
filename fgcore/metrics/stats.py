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
    """Per-class statistics of features H (n, d) under labels with C classes (all float64 numpy).

    classes:     (C,) the label values, in the order of the rows below.
    counts:      (C,) samples per class.
    means:       (C, d) class means mu_c.
    traces:      (C,) tr(S_c), S_c the biased (1/n_c) covariance of class c.
    sigma_w:     (d, d) Sigma_W of eq. (1) (mean over classes of S_c), or None when not gathered.
    global_mean: (d,) mu_G, the mean over all samples.
    input_eps:   machine epsilon of the precision the features arrived in (float32: 1.19e-7;
                 bf16: 7.8e-3); sets NC1's rank cutoff.
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

    Classes are the sorted unique values of ``y``. ``sigma_w`` is not formed (it is d x d; `nc1`
    works in the span of the class means instead), so use this for `nc2_from_stats` and
    `class_distance_from_stats`, or the accumulator with ``covariance=True`` for `nc1_from_stats`."""
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
    """NC1 (eq. 1-2) from statistics that include ``sigma_w``; same rank rule as `nc1`."""
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
    """NC2 (eq. 3) from the class means and counts; same conventions as `nc2`."""
    check_center(center)
    require_classes(stats.classes, "stats", 2)
    return _core.nc2_from_means(stats.means, stats.counts, center)


def class_distance_from_stats(stats: ClassStats) -> np.ndarray:
    """D (eq. 6) from the class means and covariance traces, (C, C) float64."""
    return _core.distance_from_parts(stats.means, stats.traces)


def nc3_from_stats(stats: ClassStats, W: Any, *, center: str = "class_means",
                   squared: bool = False) -> float:
    """NC3 (self-duality) from the class means and counts, W's rows in the order of
    ``stats.classes``; same definition and conventions as `fgcore.metrics.nc3`."""
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
    """CDNV (Galanti et al. 2022) from the class means, traces and counts; same definition and
    conventions as `fgcore.metrics.cdnv`."""
    ddof = check_ddof(ddof)
    require_classes(stats.classes, "stats", 2)
    if ddof:
        require_samples(stats.counts, stats.classes, 2,
                        "an unbiased (ddof=1) variance needs two samples", "stats")
    return _family.cdnv(stats.means, stats.traces, stats.counts, ddof, stats.input_eps,
                        stats.n_samples, stats.classes)


def equinorm_from_stats(stats: ClassStats, *, center: str = "class_means", ddof: int = 0) -> float:
    """Equinorm (Papyan et al. 2020) from the class means and counts; same definition and
    conventions as `fgcore.metrics.equinorm`."""
    check_center(center)
    ddof = check_ddof(ddof)
    require_classes(stats.classes, "stats", 2)
    return _family.equinorm(stats.means, stats.counts, center, ddof, stats.input_eps,
                            stats.n_samples, stats.classes)


def equiangularity_from_stats(stats: ClassStats, *, center: str = "class_means",
                              reference: str = "etf") -> float:
    """Equiangularity (Papyan et al. 2020) from the class means and counts; same definition and
    conventions as `fgcore.metrics.equiangularity`."""
    check_center(center)
    check_choice(reference, "reference", _family.REFERENCES)
    require_classes(stats.classes, "stats", 2)
    return _family.equiangularity(stats.means, stats.counts, center, reference, stats.input_eps,
                                  stats.n_samples, stats.classes)
