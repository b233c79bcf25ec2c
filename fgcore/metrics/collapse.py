"""Neural-collapse metrics NC1 and NC2 (Sec. 3.1, eq. 1-3 of the paper)."""

from __future__ import annotations

from typing import Any

import numpy as np
from . import _core
from .validation import check_features, check_labels, require_classes, require_samples


def nc1(H: Any, y: Any) -> float:
    """Within-class variability collapse, NC1 = (1/C) Tr(Sigma_W Sigma_B^+) (eq. 1-2).

    H: (n, d) features, numpy array or torch tensor on any device (the passes over H run on its
       device, in float64). y: integer labels of any values; C = number of distinct values, each
       with at least two samples. Sigma_W is the mean over classes of the biased (1/n_c) class
       covariances; Sigma_B = (1/C) sum_c (mu_c - mu_G)(mu_c - mu_G)' with mu_G the mean of all
       samples, as in eq. (2).

    Computation (O(n d C), no d x d matrix): with M = U S V' the SVD of the centred class means
    (C x d, float64), Sigma_B^+ = C V S^-2 V' on the range of Sigma_B, hence
    NC1 = sum_k v_k' Sigma_W v_k / s_k^2, and v_k' Sigma_W v_k comes from a second pass that projects
    the centred features on the kept v_k. Every term is a ratio of non-negative numbers, so
    NC1 >= 0 by construction.

    Rank cutoff: at most min(C - 1, d) directions are kept (the count-weighted centred means sum to
    zero, so a C-th direction is rounding noise by construction), and of those only the ones with

        s_k > max( sqrt(C) * f * (eps_in + sqrt(n) * eps64),  max(C, d) * eps64 * s_1 ),

    where f = max_c sqrt(||mu_c||^2 + tr S_c) is the largest per-class root-mean-square feature
    norm and eps_in the machine epsilon of H's dtype (float32: 1.19e-7, bf16: 7.8e-3, float64:
    2.2e-16). Why: rounding H to its dtype moves each class mean by at most eps_in * f, so the mean
    matrix moves by at most sqrt(C) * eps_in * f in spectral norm, and by Weyl's inequality a
    direction in which the true class means have no spread shows a singular value no larger than
    that. Float32 features whose class means are truly rank-deficient therefore do not get a
    rounding-noise direction inverted (the source of the well-known huge NC1 values); the second
    term is numpy's default rule for the float64 SVD itself. If you converted low-precision
    features to float64 before calling, the cutoff falls back to float64 precision; pass them in
    their stored dtype.
    """
    return _nc1_details(H, y)[0]


def _nc1_details(H: Any, y: Any):
    """(NC1, number of kept directions of Sigma_B); see `nc1`."""
    feats = check_features(H, "H")
    n, d = feats.shape
    labels = check_labels(y, feats, "y", "H")
    require_classes(labels.classes, "y", 2)
    require_samples(labels.counts, labels.classes, 2, "a within-class covariance needs two samples")
    p = _core.passes(feats.data, labels)
    means = p.means()
    s, V = _core.mean_spectrum(means, labels.counts)
    sq, proj = p.centred(means, V)
    counts = labels.counts.astype(np.float64)
    traces = sq / counts
    within = (proj / counts[:, None]).mean(axis=0)  # v_k' Sigma_W v_k, eq. (1)
    tol = _core.rank_tolerance(s, _core.feature_scale(means, traces), feats.eps,
                               labels.n_classes, d, n)
    return _core.nc1_from_parts(s, within, tol)


def nc2(H: Any, y: Any) -> float:
    """Convergence of the class means to a simplex ETF, eq. (3):

        NC2 = || M M' / ||M M'||_F - (I - 11'/C) / sqrt(C - 1) ||_F,

    M the (C, d) matrix of class means centred at the global mean mu_G (the mean of all samples,
    as in eq. 2), in float64. 0 for class means forming an exact simplex ETF (equal class sizes);
    at most 2. Needs at least two classes with distinct means; one sample per class is allowed.
    """
    feats = check_features(H, "H")
    labels = check_labels(y, feats, "y", "H")
    require_classes(labels.classes, "y", 2)
    means = _core.passes(feats.data, labels).means()
    return _core.nc2_from_means(means, labels.counts)
