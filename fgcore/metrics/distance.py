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
    """Class distance matrix of eq. (6), D_ij = mean over u in class i, v in class j of
    ||h_u - h_v||^2, as a (C, C) float64 numpy array with classes in sorted order of the unique
    values of ``y``.

    Closed form D_ij = ||mu_i - mu_j||^2 + tr(S_i) + tr(S_j), S_c the biased (1/n_c) covariance
    with two-pass (centred) traces: O(n d + C^2 d) instead of O(n^2 d). The mean includes the
    pairs u = v when i = j (as eq. 6 does), so D_ii = 2 tr(S_i). Symmetric, non-negative; equals the
    brute-force mean of pairwise squared distances. Needs at least two classes; one sample per
    class is allowed (its D_ii is 0).
    """
    stats = class_statistics(H, y)
    require_classes(stats.classes, "y", 2)
    return _core.distance_from_parts(stats.means, stats.traces)


@dataclass(frozen=True)
class MSDRatio:
    """Mean squared distance ratio of App. B, overall and per superclass.

    per_superclass[s] = different_subclass[s] / same_subclass[s]; superclasses with a single
    subclass have no different-subclass pairs and are listed in ``left_out`` instead."""

    overall: float
    per_superclass: dict
    same_subclass: dict
    different_subclass: dict
    left_out: tuple


def msd_ratio(H: Any, fine: Any, coarse: Any) -> MSDRatio:
    """Mean squared distance ratio (App. B): the mean squared distance between samples of the same
    superclass but different subclasses, divided by the mean squared distance between samples of
    the same subclass. About 1 when the subclasses of a superclass share one distribution; larger
    means more fine-grained structure.

    H: (n, d) features. fine: subclass (original class) label of each sample. coarse: superclass
    label of each sample; every subclass must lie in one superclass (fine nested in coarse), and
    every subclass needs at least two samples.

    Pairs are ordered pairs of samples and, as in eq. (6) and `class_distance_matrix`, the
    same-subclass pairs include u = v (so the same-subclass mean of subclass a is D_aa = 2 tr S_a).
    Per superclass s: different = sum_{a != b in s} n_a n_b D_ab / sum_{a != b in s} n_a n_b and
    same = sum_{a in s} n_a^2 D_aa / sum_{a in s} n_a^2. ``overall`` pools the pairs of all
    superclasses that have at least two subclasses (pair-weighted means over those superclasses,
    the natural reading of App. B), then takes the ratio. Superclasses with one subclass are left
    out of both.
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
    different superclasses (so ``other`` is 1 by construction).

    diagonal:        mean of D_ii / ref (same original class).
    same_superclass: mean of D_ij / ref, i != j in the same superclass (the "superclass lines").
    other:           mean of D_ij / ref, i and j in different superclasses (= 1).
    reference:       ref, the raw different-superclass mean of D.
    darkness_*:      1 - the normalised value (darker = closer, as in the heatmaps).
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

    D: (C, C) class distance matrix (`class_distance_matrix`), rows in the order of the original
    classes. superclass_of: (C,) integers, superclass_of[i] = superclass of the class in row i.
    Normalises D by its mean over ordered pairs (i, j) in different superclasses, then averages the
    diagonal and the off-diagonal same-superclass entries (superclasses with a single class have
    only a diagonal entry). Needs two or more superclasses and at least one with two classes.
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

    history: a mapping epoch -> StructureLines, or a sequence of (epoch, StructureLines) pairs (any
    order; sorted by epoch here). level: a darkness level (darkness = 1 - normalised value, so
    level 0.5 means "at most half the different-superclass distance").
    Returns {"diagonal": first epoch with darkness_diagonal >= level, or None;
             "same_superclass": first epoch with darkness_same_superclass >= level, or None}.
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
