"""The numbers `fgcore measure` gives: their names, what each measures and how to read it.

The Neural-Collapse family comes from fgcore.metrics.METRICS (the table the trainer and the claims
report read too, with any metric registered there), the accuracies and the fine structure from OTHERS.
`NUMBERS` is the union, read afresh from the table on every look-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .. import metrics

__all__ = ["DISCOVERY_NUMBERS", "NUMBERS", "OTHERS", "plain"]

# key -> (name, what it measures and where it comes from, its reading): the numbers besides the family.
OTHERS: dict[str, tuple[str, str, str]] = {
    "train_acc": ("training accuracy", "on the training labels (argmax of the model's output)", "→ 1"),
    "test_acc": ("test accuracy", "on the test split's training labels", ""),
    "test_acc_original": ("test accuracy (original classes)", "the head's label mapped to its original class",
                          ""),
    "distance_ratio": ("distance ratio", "mean squared distance between samples of one superclass and "
                                         "different classes over that within one class (App. B)",
                       "1: no fine structure; larger: more"),
    "superclass_to_diagonal": ("same-superclass D / diagonal D", "the superclass lines of D over its "
                                                                 "diagonal (Fig. 5d)",
                               "1: collapsed onto the superclass; larger: classes stay apart"),
    "tsne_purity": ("t-SNE purity", "mean purity of k-means clusters on each superclass's t-SNE embedding "
                                    "against the original classes (Fig. 6)", "1: separate clusters"),
    "clp": ("CLP", "Cluster-and-Linear-Probe test accuracy on the original classes, from the training "
                   "labels alone (Sec. 4.3)", "near LPO: the fine structure is recoverable"),
    "lpo": ("LPO", "linear probe on the true original labels (Sec. 4.3)", ""),
    "clp_chance": ("chance", "a random class within the predicted superclass", ""),
    "clp_fraction": ("(CLP − chance) / (LPO − chance)", "how much of what a probe can recover CLP recovers "
                     "(the denominator at least half the way from chance to a perfect probe)",
                     "1: all of it"),
    "cluster_acc": ("cluster accuracy", "share of training samples whose CLP cluster is matched to their original "
                    "class by the best one-to-one matching of each superclass's clusters to its classes (Hungarian; "
                    "FALCON, ICML 2024; GEORGE, NeurIPS 2020)",
                    "1: the clusters are the original classes; collapsed: near its chance"),
    "cluster_acc_chance": ("cluster accuracy at chance", "what that matching gives clusters independent of the "
                           "classes (largest class shares paired with the largest cluster shares)",
                           "1/k for k equal classes per superclass"),
    "nmi": ("NMI", "normalised mutual information of CLP's clusters and the original classes over all training "
                   "samples, as the literature reports it (it credits the superclasses CLP was given)",
            "1: the classes; above 0 even at chance"),
    "ari": ("ARI", "adjusted Rand index of the same, over all training samples", "1: the classes; above 0 even at "
                                                                                  "chance"),
    "nmi_within": ("NMI within superclasses", "NMI of the clusters and classes of each superclass, mean weighted "
                                              "by its samples", "1: the classes; collapsed: near 0"),
    "ari_within": ("ARI within superclasses", "ARI of the same, mean weighted by samples",
                   "1: the classes; collapsed: near 0"),
}
# numbers key -> field of fgcore.metrics.DiscoveryScores
DISCOVERY_NUMBERS = {"cluster_acc": "cluster_accuracy", "cluster_acc_chance": "chance", "nmi": "nmi", "ari": "ari",
                     "nmi_within": "nmi_within", "ari_within": "ari_within"}


class _Numbers(Mapping):
    """key -> (name, what it measures, its reading): the family first (fgcore.metrics.METRICS as it is
    now, value under collapse as its reading), then OTHERS."""

    def __getitem__(self, key: str) -> tuple[str, str, str]:
        if key in metrics.METRICS:
            metric = metrics.METRICS[key]
            return metric.name, metric.meaning, metric.target
        return OTHERS[key]

    def __iter__(self) -> Iterator[str]:
        yield from metrics.METRICS
        yield from (key for key in OTHERS if key not in metrics.METRICS)

    def __len__(self) -> int:
        return sum(1 for _ in self)


NUMBERS: Mapping[str, tuple[str, str, str]] = _Numbers()


def plain(value: Any) -> Any:
    """numpy values and arrays as JSON values; NaN and inf as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
