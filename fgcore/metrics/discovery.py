"""Fine-class discovery scored as the coarse-to-fine literature scores it (FALCON, Grcić et al., ICML 2024;
GEORGE, Sohoni et al., NeurIPS 2020): clusters found inside each superclass, compared with the
original classes by Hungarian-matched accuracy, normalised mutual information and the adjusted Rand index.

    cluster_accuracy(labels_true, labels_pred, superclass=None)   best one-to-one matching of clusters to
                                                                  classes (within each superclass)
    discovery_scores(labels_true, labels_pred, superclass)        accuracy with its chance level, NMI and
                                                                  ARI, per superclass and overall

The matching is scipy's linear_sum_assignment, NMI and ARI are scikit-learn's: nothing here re-derives
them, it only decides what is compared with what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import linear_sum_assignment

from .validation import check_integer_vector, check_labels, superclass_of_subclass


@dataclass(frozen=True, eq=False)
class DiscoveryScores:
    """What `discovery_scores` found: how well clusters made inside each superclass recover its classes.

    Attributes
    ----------
    cluster_accuracy : float
        Share of the samples whose cluster is matched to their class, the matching one-to-one and made
        within each superclass (scipy's linear_sum_assignment on the superclass's contingency table).
    chance : float
        The accuracy that matching gives a clustering independent of the classes with the same cluster
        sizes, in the limit of many samples (see `cluster_accuracy`, Notes): 1/k for k equal clusters of
        k equal classes.
    nmi, ari : float
        scikit-learn's normalized_mutual_info_score (arithmetic mean) and adjusted_rand_score over all the
        scored samples at once, a cluster being identified by its superclass and its id: the score the
        literature reports. The clustering was given the superclasses, so a clustering that knows nothing
        else scores above 0 here.
    nmi_within, ari_within : float
        The same two scores within each superclass, averaged over the superclasses weighted by their
        samples: 0 for a clustering independent of the classes, 1 for a perfect one.
    n_samples : int
        Samples scored (those of superclasses with at least two classes).
    per_superclass : dict
        Superclass value -> the DiscoveryScores of that superclass alone (whose own ``per_superclass`` and
        ``mapping`` are empty); only superclasses with at least two classes.
    left_out : list
        Superclass values holding a single class: nothing to discover there, so they are not scored.
    mapping : dict
        (superclass, cluster) -> the class the matching gives that cluster, or None for a cluster left
        unmatched (more clusters than classes in its superclass).
    """

    cluster_accuracy: float
    chance: float
    nmi: float
    ari: float
    nmi_within: float
    ari_within: float
    n_samples: int
    per_superclass: dict = field(default_factory=dict)
    left_out: list = field(default_factory=list)
    mapping: dict = field(default_factory=dict)

    SCORES: ClassVar[tuple[str, ...]] = ("cluster_accuracy", "chance", "nmi", "ari", "nmi_within", "ari_within")

    def scores(self) -> dict[str, float]:
        """The six numbers by name (SCORES), without the per-superclass detail: a row of a table."""
        return {name: getattr(self, name) for name in self.SCORES}


@dataclass(frozen=True)
class _Labels:
    """Validated labels as numpy int64 codes with the values they stand for."""

    true: np.ndarray            # class code of each sample
    classes: np.ndarray         # class values
    pred: np.ndarray            # cluster code of each sample
    clusters: np.ndarray        # cluster values
    sup: np.ndarray             # superclass code of each sample
    superclasses: np.ndarray    # superclass values
    sup_of_class: np.ndarray    # superclass code of each class


def _check(labels_true: Any, labels_pred: Any, superclass: Any) -> _Labels:
    """Validate: 1-D integer labels of the same samples, the classes nested in the superclasses."""
    try:
        empty = len(labels_true) == 0    # before the dtype: an empty list reads as float64
    except TypeError:
        empty = False
    if empty:
        raise ValueError("labels_true is empty; the scores need at least one sample.")
    true_values = check_integer_vector(labels_true, "labels_true")
    n = true_values.shape[0]
    true_classes, true_codes = np.unique(true_values, return_inverse=True)
    pred = check_labels(labels_pred, n, "labels_pred", "labels_true")
    if superclass is None:
        sup_codes, sup_values = np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64)
    else:
        sup = check_labels(superclass, n, "superclass", "labels_true")
        sup_codes, sup_values = np.asarray(sup.codes), sup.classes
    sup_of_class = superclass_of_subclass(true_codes, sup_codes, true_classes, sup_values,
                                          ("labels_true", "superclass"))
    return _Labels(true_codes.astype(np.int64), true_classes, np.asarray(pred.codes), pred.classes, sup_codes,
                   sup_values, sup_of_class)


def _table(true_codes: np.ndarray, pred_codes: np.ndarray):
    """Contingency table (classes x clusters) of one superclass, with the classes and clusters it holds."""
    classes, t = np.unique(true_codes, return_inverse=True)
    clusters, c = np.unique(pred_codes, return_inverse=True)
    table = np.zeros((classes.size, clusters.size), dtype=np.int64)
    np.add.at(table, (t, c), 1)
    return table, classes, clusters


def _matched(table: np.ndarray):
    """(samples on the matched cells, matched (row, column) pairs) of the best one-to-one matching."""
    rows, cols = linear_sum_assignment(table, maximize=True)
    return int(table[rows, cols].sum()), rows, cols


def _chance_matched(table: np.ndarray) -> float:
    """Expected matched samples of a clustering independent of the classes, in the limit: the table is then
    n p q^T, and the best matching pairs the largest class shares with the largest cluster shares
    (rearrangement inequality)."""
    p = np.sort(table.sum(axis=1))[::-1].astype(np.float64)
    q = np.sort(table.sum(axis=0))[::-1].astype(np.float64)
    r = min(p.size, q.size)
    return float(np.dot(p[:r], q[:r]) / table.sum())


def cluster_accuracy(labels_true: Any, labels_pred: Any, *, superclass: Any = None) -> float:
    """Hungarian-matched cluster accuracy: the share of samples whose cluster is matched to their class
    by the best one-to-one matching of clusters to classes.

    With ``superclass``, the matching is made within each superclass: the clusters found among the
    samples of superclass s are matched to the original classes of s, one to one, so that as many samples
    of s as possible fall in a cluster matched to their class (scipy's linear_sum_assignment on the
    classes x clusters contingency table of s); the accuracy pools the matched samples of every
    superclass. This is how a clustering made inside each superclass, as Cluster-and-Linear-Probe's,
    is scored: a cluster is identified by its superclass and its id, so ids may repeat across
    superclasses. When every cluster id lies in one superclass, the pooled value equals the best global
    matching over all clusters and classes (its table is block-diagonal, and the best matching of a
    block-diagonal table matches within the blocks), the accuracy the coarse-to-fine literature
    reports (FALCON, ICML 2024).

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        The original class of each sample, integers of any values.
    labels_pred : array-like of shape (n_samples,)
        The cluster of each sample, integers of any values (the numbering carries no meaning).
    superclass : array-like of shape (n_samples,), default=None
        The superclass of each sample; every class of ``labels_true`` must lie in one superclass. None:
        one superclass holding everything (a plain matching of all clusters to all classes).

    Returns
    -------
    float
        In [0, 1]: 1 when, within each superclass, the clusters are the classes under some renaming.
        With more clusters than classes the clusters left unmatched count as wrong; with fewer, the
        classes left unmatched do.

    Raises
    ------
    ValueError
        On labels that are not 1-D integers of the same length, empty labels, or a class of
        ``labels_true`` found in two superclasses ("are they swapped?").

    See Also
    --------
    discovery_scores : this accuracy with its chance level, NMI and ARI, per superclass and overall.

    Notes
    -----
    The chance level. For a clustering independent of the classes, with class shares p and cluster
    shares q in a superclass, the contingency table tends to n p q^T, and the best matching then pairs
    the largest class shares with the largest cluster shares: chance = sum_i p_(i) q_(i) over the
    min(classes, clusters) largest of each, pooled over superclasses weighted by their samples. That is
    1/k for k equal clusters of k equal classes (0.5 for CLP on two classes per superclass). On finite
    samples the maximum over matchings lies somewhat above it (it picks the luckiest matching: for 2
    classes and n samples, about 0.4 / sqrt(n) above). `discovery_scores` reports it as ``chance``.

    Examples
    --------
    >>> from fgcore.metrics import cluster_accuracy
    >>> cluster_accuracy([0, 0, 1, 1, 2], [7, 7, 3, 3, 5])     # the same partition under other names
    1.0
    >>> cluster_accuracy([0, 0, 1, 1], [0, 0, 0, 0])           # one cluster matches one class only
    0.5
    >>> cluster_accuracy([0, 0, 1, 1, 2, 2, 3, 3], [0, 0, 1, 1, 0, 0, 1, 1],
    ...                  superclass=[0, 0, 0, 0, 1, 1, 1, 1])  # ids reused in each superclass
    1.0
    """
    labels = _check(labels_true, labels_pred, superclass)
    matched = 0
    for s in range(len(labels.superclasses)):
        rows = labels.sup == s
        matched += _matched(_table(labels.true[rows], labels.pred[rows])[0])[0]
    return float(matched / labels.true.size)


def _superclass_scores(labels: _Labels, rows: np.ndarray) -> tuple[DiscoveryScores, float, float, dict]:
    """The scores of the samples `rows` (one superclass), its matched and chance-expected samples, and its
    matching (cluster value -> class value or None)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    true, pred = labels.true[rows], labels.pred[rows]
    table, class_codes, cluster_codes = _table(true, pred)
    matched, matched_rows, matched_cols = _matched(table)
    expected = _chance_matched(table)
    n = int(true.size)
    nmi = float(normalized_mutual_info_score(true, pred))
    ari = float(adjusted_rand_score(true, pred))
    scores = DiscoveryScores(cluster_accuracy=matched / n, chance=expected / n, nmi=nmi, ari=ari,
                             nmi_within=nmi, ari_within=ari, n_samples=n)
    mapping = {labels.clusters[c].item(): None for c in cluster_codes}
    mapping.update({labels.clusters[cluster_codes[j]].item(): labels.classes[class_codes[i]].item()
                    for i, j in zip(matched_rows, matched_cols)})
    return scores, matched, expected, mapping


def discovery_scores(labels_true: Any, labels_pred: Any, superclass: Any) -> DiscoveryScores:
    """How well clusters made inside each superclass recover its original classes, scored as the
    coarse-to-fine literature scores it: Hungarian-matched accuracy with its chance level, NMI and ARI,
    per superclass and overall.

    In each superclass with at least two classes, the clusters found among its samples are compared with
    its classes: the accuracy of the best one-to-one matching of those clusters to those classes
    (`cluster_accuracy`), scikit-learn's normalized_mutual_info_score and adjusted_rand_score. Overall:
    the accuracy pools the matched samples of every superclass; NMI and ARI are computed once over all
    scored samples, a cluster being identified by its superclass and its id (``nmi``, ``ari``: what the
    literature reports), and averaged over the superclasses weighted by their samples (``nmi_within``,
    ``ari_within``: 0 for a clustering that finds nothing beyond the superclasses it was given).

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        The original class of each sample, integers of any values.
    labels_pred : array-like of shape (n_samples,)
        The cluster of each sample, integers of any values; ids may repeat across superclasses (a
        cluster is its superclass and its id).
    superclass : array-like of shape (n_samples,)
        The superclass of each sample (the labels the clustering was given); every class of
        ``labels_true`` must lie in one superclass.

    Returns
    -------
    DiscoveryScores
        ``.cluster_accuracy``, ``.chance``, ``.nmi``, ``.ari``, ``.nmi_within``, ``.ari_within``, and
        ``.per_superclass`` with the same numbers for each superclass; superclasses of a single class
        are left out (``.left_out``).

    Raises
    ------
    ValueError
        As `cluster_accuracy`, and when every superclass holds a single class (nothing to discover).

    See Also
    --------
    cluster_accuracy : the matched accuracy alone, and its chance level (Notes).

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.metrics import discovery_scores
    >>> y = np.array([0, 0, 1, 1, 2, 2, 3, 3])          # four original classes
    >>> s = y // 2                                       # merged into superclasses {0, 1} and {2, 3}
    >>> clusters = np.array([1, 1, 0, 0, 0, 1, 1, 1])   # found inside each superclass
    >>> scores = discovery_scores(y, clusters, s)
    >>> scores.cluster_accuracy, scores.chance           # 4 of 4, then 3 of 4 matched
    (0.875, 0.5)
    >>> scores.per_superclass[0].nmi, scores.per_superclass[0].ari
    (1.0, 1.0)
    >>> scores.mapping[(1, 0)], scores.mapping[(1, 1)]  # superclass 1: cluster 0 is class 2, 1 is 3
    (2, 3)
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels = _check(labels_true, labels_pred, superclass)
    per, mapping, left_out = {}, {}, []
    matched = chance = 0.0
    scored = np.zeros(labels.true.size, dtype=bool)
    for s, s_value in enumerate(labels.superclasses.tolist()):
        if np.count_nonzero(labels.sup_of_class == s) < 2:
            left_out.append(s_value)
            continue
        rows = labels.sup == s
        scored |= rows
        per[s_value], hits, expected, local = _superclass_scores(labels, rows)
        matched, chance = matched + hits, chance + expected
        mapping.update({(s_value, cluster): value for cluster, value in local.items()})
    if not per:
        raise ValueError(
            "every superclass holds a single class of labels_true, so there is nothing to discover; check "
            "that labels_true and superclass are not swapped or identical."
        )
    n = int(scored.sum())
    # A cluster is its superclass and its id: one code per (superclass, cluster) pair.
    pooled = labels.sup[scored] * len(labels.clusters) + labels.pred[scored]
    true = labels.true[scored]
    weights = np.array([p.n_samples for p in per.values()], dtype=np.float64)
    return DiscoveryScores(
        cluster_accuracy=float(matched / n), chance=float(chance / n),
        nmi=float(normalized_mutual_info_score(true, pooled)), ari=float(adjusted_rand_score(true, pooled)),
        nmi_within=float(np.average([p.nmi for p in per.values()], weights=weights)),
        ari_within=float(np.average([p.ari for p in per.values()], weights=weights)),
        n_samples=n, per_superclass=per, left_out=left_out, mapping=mapping,
    )
