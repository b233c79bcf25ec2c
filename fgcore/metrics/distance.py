"""Class distances (Sec. 4.1, eq. 6), the mean squared distance ratio (App. B) and the lines of D
(Fig. 4-5) with their emergence over training."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from . import _core
from .validation import (
    as_numpy,
    check_features,
    check_integer_vector,
    check_labels,
    require_classes,
    require_samples,
    superclass_of_subclass,
    to_tensor,
)
from .stats import class_statistics, stats_from_labels


def class_distance_matrix(H: Any, y: Any) -> np.ndarray:
    """Class distance matrix of eq. (6): D_ij = mean over u in class i, v in class j of
    ||h_u - h_v||^2.

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features (numpy, lists, or a torch tensor on any device); float64 arithmetic.
    y : array-like or torch.Tensor of shape (n_samples,)
        Integer labels of any values (at least two classes; one sample per class is allowed, its
        D_ii is 0).

    Returns
    -------
    D : numpy.ndarray of shape (n_classes, n_classes)
        float64, symmetric, non-negative; rows and columns in the sorted order of the unique
        values of ``y``.

    Raises
    ------
    ValueError
        On malformed ``H`` or ``y`` (see `nc1`) or fewer than two classes.

    See Also
    --------
    structure_lines : the means of D along its diagonal and superclass blocks (Fig. 4-5).
    class_distance_from_stats : the same matrix from streamed class statistics.

    Notes
    -----
    Closed form D_ij = ||mu_i - mu_j||^2 + tr(S_i) + tr(S_j), S_c the biased (1/n_c) covariance
    with two-pass (centred) traces: O(n d + C^2 d) instead of O(n^2 d). The mean includes the
    pairs u = v when i = j (as eq. 6 does), so D_ii = 2 tr(S_i). It equals the brute-force mean of
    pairwise squared distances; mean differences are formed directly, not through a Gram matrix,
    so tight classes far from the origin keep their within-class part.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import class_distance_matrix
    >>> H = np.array([[0., 0.], [2., 0.], [0., 3.]])
    >>> class_distance_matrix(H, [5, 5, 9])      # class 5: two points 2 apart; class 9: one point
    array([[ 2., 11.],
           [11.,  0.]])
    """
    stats = class_statistics(H, y)
    require_classes(stats.classes, "y", 2)
    return _core.distance_from_parts(stats.means, stats.traces)


@dataclass(frozen=True)
class MSDRatio:
    """Mean squared distance ratio of App. B, overall and per superclass (see `msd_ratio`).

    Attributes
    ----------
    overall : float
        The ratio over the pooled pairs of every superclass with two or more subclasses.
    per_superclass : dict
        Superclass value -> different_subclass / same_subclass.
    same_subclass, different_subclass : dict
        Superclass value -> the two mean squared distances.
    left_out : tuple
        Superclasses with a single subclass (no different-subclass pairs).
    """

    overall: float
    per_superclass: dict
    same_subclass: dict
    different_subclass: dict
    left_out: tuple


def msd_ratio(H: Any, fine: Any, coarse: Any) -> MSDRatio:
    """Mean squared distance ratio (App. B): the mean squared distance between samples of the same
    superclass but different subclasses, divided by the mean squared distance between samples of
    the same subclass.

    About 1 when the subclasses of a superclass share one distribution; larger means more
    fine-grained structure.

    Parameters
    ----------
    H : array-like or torch.Tensor of shape (n_samples, n_features)
        Features (numpy, lists, or a torch tensor on any device); float64 arithmetic.
    fine : array-like of shape (n_samples,)
        Subclass (original class) label of each sample, integers of any values; every subclass
        needs at least two samples.
    coarse : array-like of shape (n_samples,)
        Superclass label of each sample; every subclass must lie in one superclass.

    Returns
    -------
    MSDRatio
        ``.overall``, ``.per_superclass`` and the two mean distances behind each ratio.

    Raises
    ------
    ValueError
        On malformed input, a subclass in two superclasses ("are they swapped?"), a subclass with
        one sample, no superclass with two subclasses, or a zero same-subclass distance.

    Notes
    -----
    Pairs are ordered pairs of samples and, as in eq. (6) and `class_distance_matrix`, the
    same-subclass pairs include u = v (so the same-subclass mean of subclass a is D_aa = 2 tr S_a).
    Per superclass s: different = sum_{a != b in s} n_a n_b D_ab / sum_{a != b in s} n_a n_b and
    same = sum_{a in s} n_a^2 D_aa / sum_{a in s} n_a^2. ``overall`` pools the pairs of all
    superclasses that have at least two subclasses (pair-weighted means over those superclasses,
    the natural reading of App. B), then takes the ratio. Superclasses with one subclass are left
    out of both. Everything comes from the closed form of D (`class_distance_matrix`), O(n d).

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import msd_ratio
    >>> H = np.array([[0.], [1.], [10.], [11.]])  # two subclasses of one superclass, 10 apart
    >>> r = msd_ratio(H, fine=[0, 0, 1, 1], coarse=[7, 7, 7, 7])
    >>> round(r.overall, 6), r.per_superclass
    (201.0, {7: 201.0})
    """
    feats = check_features(H, "H")
    fine_l = check_labels(fine, feats, "fine", "H")
    coarse_l = check_labels(coarse, feats, "coarse", "H")
    fine_classes, coarse_classes = fine_l.classes, coarse_l.classes
    superclass_of = superclass_of_subclass(as_numpy(fine_l.codes), as_numpy(coarse_l.codes),
                                           fine_classes, coarse_classes)
    require_samples(fine_l.counts, fine_classes, 2,
                    "the same-subclass distance needs two samples of the subclass", "fine")
    stats = stats_from_labels(feats, fine_l)
    D = _core.distance_from_parts(stats.means, stats.traces)
    nf = fine_l.counts.astype(np.float64)

    per, same, diff, left_out = {}, {}, {}, []
    tot = np.zeros(4)  # different-pair sum, different-pair weight, same sum, same weight
    for s_code, s_value in enumerate(coarse_classes.tolist()):
        members = np.flatnonzero(superclass_of == s_code)
        if members.size < 2:
            left_out.append(s_value)
            continue
        w = np.outer(nf[members], nf[members])
        Ds = D[np.ix_(members, members)]
        same_sum, same_w = float(np.trace(w * Ds)), float(np.trace(w))
        diff_sum, diff_w = float(np.sum(w * Ds)) - same_sum, float(np.sum(w)) - same_w
        same[s_value], diff[s_value] = same_sum / same_w, diff_sum / diff_w
        per[s_value] = _ratio(diff[s_value], same[s_value], f"superclass {s_value!r}")
        tot += (diff_sum, diff_w, same_sum, same_w)
    if not per:
        raise ValueError(
            "every superclass in coarse holds a single subclass of fine, so there are no pairs in "
            "the same superclass but different subclasses; check that fine and coarse are not "
            "swapped or identical."
        )
    overall = _ratio(float(tot[0] / tot[1]), float(tot[2] / tot[3]), "the pooled superclasses")
    return MSDRatio(overall=overall, per_superclass=per, same_subclass=same,
                    different_subclass=diff, left_out=tuple(left_out))


def _ratio(num: float, den: float, where: str) -> float:
    if den <= 0.0:
        raise ValueError(
            f"the same-subclass mean squared distance is 0 for {where} (every subclass is a single "
            "repeated point), so the ratio is undefined."
        )
    return num / den


# --------------------------------------------------------------------------- lines of D (Fig. 4-5)


@dataclass(frozen=True)
class StructureLines:
    """Means of the class distance matrix after dividing it by its mean over pairs of classes in
    different superclasses (so ``other`` is 1 by construction); see `structure_lines`.

    Attributes
    ----------
    diagonal : float
        Mean of D_ii / ref (same original class).
    same_superclass : float
        Mean of D_ij / ref, i != j in the same superclass (the "superclass lines").
    other : float
        Mean of D_ij / ref, i and j in different superclasses (= 1).
    reference : float
        ref, the raw different-superclass mean of D.
    darkness_diagonal, darkness_same_superclass : float
        1 - the normalised value (darker = closer, as in the heatmaps).
    """

    diagonal: float
    same_superclass: float
    other: float = 1.0
    reference: float = float("nan")
    darkness_diagonal: float = field(init=False)
    darkness_same_superclass: float = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "darkness_diagonal", 1.0 - self.diagonal)
        object.__setattr__(self, "darkness_same_superclass", 1.0 - self.same_superclass)


def structure_lines(D: Any, superclass_of: Any) -> StructureLines:
    """Lines of the class distance matrix (Fig. 4-5).

    Normalises D by its mean over ordered pairs (i, j) in different superclasses, then averages the
    diagonal and the off-diagonal same-superclass entries (superclasses with a single class have
    only a diagonal entry).

    Parameters
    ----------
    D : array-like of shape (n_classes, n_classes)
        Class distance matrix (`class_distance_matrix`), rows in the order of the original
        classes; finite and non-negative.
    superclass_of : array-like of shape (n_classes,)
        Integers: superclass_of[i] is the superclass of the class in row i. Needs two or more
        superclasses and at least one with two classes.

    Returns
    -------
    StructureLines
        ``.diagonal``, ``.same_superclass`` (normalised means) and their darkness.

    Raises
    ------
    ValueError
        If D is not a finite, non-negative square matrix, ``superclass_of`` does not match its
        rows, there is one superclass only, no superclass has two classes, or D is zero on every
        pair of different superclasses.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import structure_lines
    >>> D = np.array([[1., 4., 10., 10.], [4., 1., 10., 10.],
    ...               [10., 10., 1., 4.], [10., 10., 4., 1.]])
    >>> lines = structure_lines(D, superclass_of=[0, 0, 1, 1])
    >>> lines.diagonal, lines.same_superclass, round(lines.darkness_diagonal, 2)
    (0.1, 0.4, 0.9)
    """
    try:
        Dm = to_tensor(D).cpu().to(torch.float64).numpy()
    except (TypeError, ValueError, RuntimeError):
        raise ValueError("D must be a numeric (C, C) array.") from None
    if Dm.ndim != 2 or Dm.shape[0] != Dm.shape[1]:
        raise ValueError(f"D must be a square (C, C) matrix; got shape {Dm.shape}.")
    if not np.all(np.isfinite(Dm)):
        raise ValueError("D contains NaN or infinite values.")
    if np.any(Dm < 0):
        raise ValueError("D has negative entries; a matrix of mean squared distances cannot.")
    C = Dm.shape[0]
    sup = check_integer_vector(superclass_of, "superclass_of", C, "D's rows")
    same = sup[:, None] == sup[None, :]
    if np.unique(sup).size < 2:
        raise ValueError(
            "superclass_of puts every class in one superclass; the lines are normalised by pairs "
            "in different superclasses, so at least two are needed."
        )
    off_same = same & ~np.eye(C, dtype=bool)
    if not off_same.any():
        raise ValueError(
            "every superclass in superclass_of holds a single class, so there are no superclass "
            "lines (pairs of different classes in the same superclass)."
        )
    ref = float(Dm[~same].mean())
    if ref <= 0.0:
        raise ValueError("D is zero on all pairs in different superclasses; cannot normalise by it.")
    return StructureLines(diagonal=float(np.diag(Dm).mean()) / ref,
                          same_superclass=float(Dm[off_same].mean()) / ref,
                          other=1.0, reference=ref)


def emergence(history: Any, level: float) -> dict:
    """First snapshot at which each line of D is dark enough.

    Parameters
    ----------
    history : mapping or sequence
        A mapping epoch -> StructureLines, or a sequence of (epoch, StructureLines) pairs (any
        order; sorted by epoch here), one per epoch.
    level : float
        A darkness level (darkness = 1 - normalised value, so 0.5 means "at most half the
        different-superclass distance").

    Returns
    -------
    dict
        {"diagonal": first epoch with darkness_diagonal >= level, or None;
        "same_superclass": first epoch with darkness_same_superclass >= level, or None}.

    Raises
    ------
    ValueError
        If ``level`` is not a finite number, ``history`` is empty, malformed or has an epoch twice.

    Examples
    --------
    >>> from fgcore.metrics import StructureLines, emergence
    >>> history = {0: StructureLines(0.9, 0.95), 10: StructureLines(0.4, 0.8),
    ...            20: StructureLines(0.2, 0.45)}
    >>> emergence(history, level=0.5)
    {'diagonal': 10, 'same_superclass': 20}
    """
    if not isinstance(level, (int, float, np.integer, np.floating)) or not math.isfinite(level):
        raise ValueError(f"level must be a finite number; got {level!r}.")
    items = list(history.items()) if isinstance(history, Mapping) else list(history)
    if not items:
        raise ValueError("history is empty; give at least one (epoch, StructureLines) snapshot.")
    for item in items:
        if (not isinstance(item, tuple) or len(item) != 2
                or not isinstance(item[1], StructureLines)):
            raise ValueError(
                "history must be a mapping epoch -> StructureLines or a sequence of "
                f"(epoch, StructureLines) pairs; got an entry {item!r}."
            )
    epochs = [e for e, _ in items]
    if len(set(epochs)) != len(epochs):
        raise ValueError("history has the same epoch twice; give one snapshot per epoch.")
    items.sort(key=lambda kv: kv[0])
    first = {"diagonal": None, "same_superclass": None}
    for epoch, lines in items:
        if first["diagonal"] is None and lines.darkness_diagonal >= level:
            first["diagonal"] = epoch
        if first["same_superclass"] is None and lines.darkness_same_superclass >= level:
            first["same_superclass"] = epoch
    return first
