"""Geometry of the class means and the variability measured against it: equinorm and
equiangularity (Papyan et al. 2020, the two halves of NC2) and the class-distance normalised
variance CDNV (Galanti et al. 2022, a form of NC1 without a pseudo-inverse)."""

from __future__ import annotations

from typing import Any

from . import _core, _family
from .stats import stats_from_labels
from .validation import (
    check_center,
    check_choice,
    check_ddof,
    check_features,
    check_labels,
    require_classes,
    require_samples,
)

def _class_means(H: Any, y: Any):
    feats = check_features(H, "H")
    labels = check_labels(y, feats, "y", "H")
    require_classes(labels.classes, "y", 2)
    return feats, labels, _core.passes(feats.data, labels).means()


def equinorm(H: Any, y: Any, *, center: str = "class_means", ddof: int = 0) -> float:
    """Spread of the lengths of the centred class means (Papyan et al. 2020, Fig. 2).

        equinorm = Std_c ||mu_c - mu|| / Avg_c ||mu_c - mu||,

    the coefficient of variation of the distances of the C class means from their centre mu.
    Neural Collapse drives it to 0 (the means become equinorm), one half of NC2.

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features: numpy array, nested lists, or a torch tensor on any device; float64 arithmetic.
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values; the classes are the sorted unique values (at least two).
    center : {"class_means", "global_mean"}, default="class_means"
        mu: the mean of the class means (the centre of a simplex ETF, so its vertices score 0
        whatever the class sizes), or the mean of all samples (mu_G of Papyan et al., who measure
        balanced data sets, where the two coincide).
    ddof : {0, 1}, default=0
        Std over the C classes with divisor C - ddof. 0: the C class means are the whole
        population, not a sample of one; 1 gives torch.std's default, which some toolkits use.

    Returns
    -------
    float
        The coefficient of variation, >= 0; 0 when every centred class mean has the same length.

    Raises
    ------
    ValueError
        On malformed ``H`` or ``y`` (see `nc1`), fewer than two classes (or ``ddof`` >= C), an
        unknown ``center`` or ``ddof``, or class means that all coincide.

    See Also
    --------
    equiangularity : the other half of Papyan et al.'s NC2.
    nc2 : both halves in one number (eq. 3).
    equinorm_from_stats : the same number from streamed class statistics.

    Notes
    -----
    Papyan et al. also plot the same coefficient for the classifier's rows; pass ``W`` itself with
    one row per class (``equinorm(W, np.arange(len(W)))``) for that.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import equinorm
    >>> y = np.array([0, 0, 1, 1, 1, 2])
    >>> round(equinorm(np.eye(3)[y], y), 12)     # the vertices of a simplex: one length
    0.0
    >>> H = np.array([[2., 0.], [0., 1.], [0., -3.]])
    >>> round(equinorm(H, [0, 1, 2]), 4)
    0.2047
    """
    check_center(center)
    check_ddof(ddof)
    feats, labels, means = _class_means(H, y)
    return _family.equinorm(means, labels.counts, center, ddof, feats.eps, feats.shape[0],
                            labels.classes)


def equiangularity(H: Any, y: Any, *, center: str = "class_means",
                   reference: str = "etf") -> float:
    """How far the angles between the centred class means are from those of a simplex ETF
    (Papyan et al. 2020, Fig. 3-4).

        equiangularity = Avg_{c != c'} | cos(mu_c - mu, mu_c' - mu) + 1/(C - 1) |,

    the mean distance of the pairwise cosines from -1/(C - 1), the cosine between any two vertices
    of a simplex ETF (Papyan et al.'s "maximal-angle equiangularity", Fig. 4). 0 exactly when the
    centred means are equiangular at the largest possible angle; with `equinorm` = 0 that is a
    simplex ETF (NC2).

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features (numpy, lists, or a torch tensor on any device); float64 arithmetic.
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values (at least two classes).
    center : {"class_means", "global_mean"}, default="class_means"
        mu: the mean of the class means, or the mean of all samples (see `equinorm`).
    reference : {"etf", "mean"}, default="etf"
        "etf": spread of the cosines around -1/(C - 1), as above (Fig. 4). "mean": their
        standard deviation over the C (C - 1) ordered pairs (Papyan et al.'s equiangularity,
        Fig. 3), which is 0 for any equiangular means, maximal angle or not.

    Returns
    -------
    float
        >= 0; at most 1 + 1/(C - 1) for "etf", at most 1 for "mean".

    Raises
    ------
    ValueError
        On malformed ``H`` or ``y``, fewer than two classes, an unknown ``center`` or
        ``reference``, or a class mean that coincides with the centre within rounding (its
        direction, so its cosines, are undefined).

    See Also
    --------
    equinorm, nc2, equiangularity_from_stats

    Notes
    -----
    The cosines come from unit vectors in float64 and are clipped to [-1, 1]. A centred class
    mean counts as zero when it is shorter than twice the rounding of a class mean
    (max_c ||mu_c|| (eps_in + sqrt(n) eps64), eps_in the machine epsilon of ``H``'s dtype).
    For two classes both conventions give 0: two centred means are always antipodal.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import equiangularity
    >>> y = np.array([0, 1, 1, 2, 3, 3, 3])
    >>> round(equiangularity(np.eye(4)[y], y), 12)    # simplex ETF: cosines all -1/3
    0.0
    >>> square = np.array([[1., 0.], [0., 1.], [-1., 0.], [0., -1.]])
    >>> round(equiangularity(square, [0, 1, 2, 3]), 4)   # cosines 0, 0, -1 instead of -1/3
    0.4444
    """
    check_center(center)
    check_choice(reference, "reference", _family.REFERENCES)
    feats, labels, means = _class_means(H, y)
    return _family.equiangularity(means, labels.counts, center, reference, feats.eps,
                                  feats.shape[0], labels.classes)


def cdnv(H: Any, y: Any, *, ddof: int = 0) -> float:
    """Class-distance normalised variance (Galanti et al. 2022), the mean over class pairs.

        CDNV = (2 / (C (C - 1))) sum_{i < j} (Var_i + Var_j) / (2 ||mu_i - mu_j||^2),

    Var_c = (1 / (n_c - ddof)) sum_{h in class c} ||h - mu_c||^2, the total variance of class c.
    Galanti et al. (Def. of the CDNV, the pairwise V_f(Q_i, Q_j); they report its average over
    i != j) measure within-class variability against the distance between classes without
    inverting anything; it goes to 0 as the features collapse (NC1).

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features (numpy, lists, or a torch tensor on any device); two-pass float64 variances.
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values (at least two classes; with ``ddof=1`` two samples per
        class).
    ddof : {0, 1}, default=0
        0: the plug-in (biased) variance, E ||h - mu_c||^2 over the class's samples, as Galanti
        et al. define Var_f(Q) = E_{x~Q} ||f(x) - mu_f(Q)||^2 (and as fgcore's class distance
        matrix uses); 1: the unbiased n_c - 1 divisor (nc-toolbox's choice).

    Returns
    -------
    float
        CDNV >= 0; 0 when every sample equals its class mean.

    Raises
    ------
    ValueError
        On malformed ``H`` or ``y``, fewer than two classes, a class with one sample and
        ``ddof=1``, or two class means that coincide within rounding (a division by zero).

    See Also
    --------
    nc1 : within-class variability through the pseudo-inverse of Sigma_B.
    class_distance_matrix : D_ij = ||mu_i - mu_j||^2 + tr S_i + tr S_j from the same statistics.
    cdnv_from_stats : the same number from streamed class statistics.

    Notes
    -----
    Unlike NC1, CDNV sees variability in every direction, not only in the span of the class means.
    The variances are two-pass (centred at the class mean), so collapsed float32 features far
    from the origin keep their within-class part; the squared mean distances are formed from the
    differences, not from a Gram matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import cdnv
    >>> y = np.array([0, 0, 1, 1])
    >>> H = np.array([[0., 1.], [0., -1.], [4., 1.], [4., -1.]])
    >>> cdnv(H, y)          # variances 1 and 1, squared distance 16: (1 + 1) / 32
    0.0625
    >>> cdnv(np.eye(2)[y], y)   # collapsed
    0.0
    """
    ddof = check_ddof(ddof)
    feats = check_features(H, "H")
    labels = check_labels(y, feats, "y", "H")
    require_classes(labels.classes, "y", 2)
    if ddof:
        require_samples(labels.counts, labels.classes, 2,
                        "an unbiased (ddof=1) variance needs two samples")
    stats = stats_from_labels(feats, labels)
    return _family.cdnv(stats.means, stats.traces, stats.counts, ddof, feats.eps, feats.shape[0],
                        labels.classes)
