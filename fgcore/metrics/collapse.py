"""Neural-collapse metrics NC1 and NC2 (Sec. 3.1, eq. 1-3 of the paper)."""

from __future__ import annotations

from typing import Any

import numpy as np
from . import _core
from .validation import (
    check_center,
    check_features,
    check_labels,
    require_classes,
    require_samples,
)


def nc1(H: Any, y: Any, *, center: str = "global_mean") -> float:
    """Within-class variability collapse, NC1 = (1/C) Tr(Sigma_W Sigma_B^+) (eq. 1-2).

    Sigma_W is the mean over classes of the biased (1/n_c) class covariances (eq. 1);
    Sigma_B = (1/C) sum_c (mu_c - mu_G)(mu_c - mu_G)' the covariance of the class means around
    mu_G (eq. 2). NC1 goes to 0 as the features of each class collapse to their class mean.

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features: a numpy array (any real dtype), nested lists, or a torch tensor on any device;
        the passes over ``H`` run on its device, in float64.
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values; the classes are the sorted unique values, each needs at
        least two samples.
    center : {"global_mean", "class_means"}, default="global_mean"
        The point mu_G that Sigma_B is centred at. "global_mean": the mean of all samples, as
        eq. (2) of the paper and Papyan et al. (2020) define it (their mu_G = Ave_{i,c} h_{i,c}).
        "class_means": the unweighted mean of the class means. The two agree for equal class
        sizes; with unequal sizes they weight the between-class directions differently (the range
        of Sigma_B, so the directions NC1 sees, is the same).

    Returns
    -------
    float
        NC1 >= 0; 0 when every sample equals its class mean.

    Raises
    ------
    ValueError
        If ``H`` is not a finite 2-D real array, ``y`` not integer labels for its rows, there are
        fewer than two classes, a class has fewer than two samples, or the class means coincide
        (Sigma_B is zero within rounding).

    See Also
    --------
    nc2 : convergence of the class means to a simplex ETF.
    cdnv : a within-class variability measure that needs no pseudo-inverse.
    nc1_from_stats : the same number from streamed class statistics.

    Notes
    -----
    Computation (O(n d C), no d x d matrix): with M = U S V' the SVD of the centred class means
    (C x d, float64), Sigma_B^+ = C V S^-2 V' on the range of Sigma_B, hence
    NC1 = sum_k v_k' Sigma_W v_k / s_k^2, and v_k' Sigma_W v_k comes from a second pass that
    projects the centred features on the kept v_k. Every term is a ratio of non-negative numbers,
    so NC1 >= 0 by construction.

    Rank cutoff: at most min(C - 1, d) directions are kept (a weighted sum of the centred means is
    zero, so a C-th direction is rounding noise by construction), and of those only the ones with

        s_k > max( sqrt(C) * f * (eps_in + sqrt(n) * eps64),  max(C, d) * eps64 * s_1 ),

    where f = max_c sqrt(||mu_c||^2 + tr S_c) is the largest per-class root-mean-square feature
    norm and eps_in the machine epsilon of H's dtype (float32: 1.19e-7, bf16: 7.8e-3, float64:
    2.2e-16). Why: rounding H to its dtype moves each class mean by at most eps_in * f, so the
    mean matrix moves by at most sqrt(C) * eps_in * f in spectral norm, and by Weyl's inequality
    a direction in which the true class means have no spread shows a singular value no larger
    than that. Float32 features whose class means are truly rank-deficient therefore do not get a
    rounding-noise direction inverted (the source of the well-known huge NC1 values); the second
    term is numpy's default rule for the float64 SVD itself. If you converted low-precision
    features to float64 before calling, the cutoff falls back to float64 precision; pass them in
    their stored dtype.

    NC1 sees only the variability inside the span of the class means (the range of Sigma_B):
    spread orthogonal to every between-class direction does not count.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import nc1
    >>> y = np.array([0, 0, 1, 1, 2, 2])
    >>> H = np.array([[0., 0.], [0., 2.], [4., 0.], [4., 2.], [0., 8.], [0., 10.]])
    >>> round(nc1(H, y), 6)
    0.03125
    >>> nc1(np.eye(3)[y], y)          # every sample at its class mean: collapsed
    0.0
    """
    return _nc1_details(H, y, center)[0]


def _nc1_details(H: Any, y: Any, center: str = "global_mean"):
    """(NC1, number of kept directions of Sigma_B); see `nc1`."""
    check_center(center)
    feats = check_features(H, "H")
    n, d = feats.shape
    labels = check_labels(y, feats, "y", "H")
    require_classes(labels.classes, "y", 2)
    require_samples(labels.counts, labels.classes, 2, "a within-class covariance needs two samples")
    p = _core.passes(feats.data, labels)
    means = p.means()
    s, V = _core.mean_spectrum(means, labels.counts, center)
    sq, proj = p.centred(means, V)
    counts = labels.counts.astype(np.float64)
    traces = sq / counts
    within = (proj / counts[:, None]).mean(axis=0)  # v_k' Sigma_W v_k, eq. (1)
    tol = _core.rank_tolerance(s, _core.feature_scale(means, traces), feats.eps,
                               labels.n_classes, d, n)
    return _core.nc1_from_parts(s, within, tol)


def nc2(H: Any, y: Any, *, center: str = "class_means") -> float:
    """Distance of the class means from a simplex equiangular tight frame (NC2, eq. 3).

        NC2 = || M M' / ||M M'||_F - (I - 11'/C) / sqrt(C - 1) ||_F,

    M the (C, d) matrix of the class means minus their centre.

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features (numpy, lists, or a torch tensor on any device); computed in float64.
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values; one sample per class is enough.
    center : {"class_means", "global_mean"}, default="class_means"
        The centre subtracted from the class means. "class_means": their unweighted mean, the
        centre of a simplex ETF (its vertices sum to zero), so class means that form an exact
        simplex ETF give NC2 = 0 whatever the class sizes. "global_mean": the mean of all
        samples, mu_G of eq. (2) (the paper's and Papyan et al.'s convention, stated for balanced
        classes, where the two coincide); with unequal class sizes mu_G moves toward the large
        classes and an exact ETF no longer scores 0 (0.66 for sizes 4, 1, 1 below).

    Returns
    -------
    float
        NC2 in [0, 2]; 0 for class means forming an exact simplex ETF.

    Raises
    ------
    ValueError
        If ``H`` or ``y`` is malformed (see `nc1`), there are fewer than two classes, or the class
        means coincide.

    See Also
    --------
    equinorm, equiangularity : Papyan et al.'s two halves of the same statement.
    nc2_from_stats : the same number from streamed class statistics.

    Notes
    -----
    Both terms have unit Frobenius norm, so NC2 <= 2. The class means come from a float64 pass
    over ``H``; M M' is a C x C Gram matrix of the centred means, so no d x d matrix is formed.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import nc2
    >>> etf = np.eye(3) - 1 / 3                 # the 3 vertices of a simplex ETF
    >>> y = np.array([0, 0, 0, 0, 1, 2])        # unequal class sizes
    >>> round(nc2(etf[y], y), 12)
    0.0
    >>> round(nc2(etf[y], y, center="global_mean"), 4)
    0.6566
    """
    check_center(center)
    feats = check_features(H, "H")
    labels = check_labels(y, feats, "y", "H")
    require_classes(labels.classes, "y", 2)
    means = _core.passes(feats.data, labels).means()
    return _core.nc2_from_means(means, labels.counts, center)
