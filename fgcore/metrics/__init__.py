"""Metrics of last-layer features (sklearn.metrics style: functions on arrays, validated input).

    nc1(H, y), nc2(H, y)                      Sec. 3.1, eq. (1)-(3)           (collapse.py)
    nc3(W, H, y), nc4(H, y, logits | W, b)    Papyan et al. 2020, NC3-NC4     (classifier.py)
    cdnv(H, y)                                Galanti et al. 2022             (geometry.py)
    equinorm(H, y), equiangularity(H, y)      Papyan et al. 2020, Fig. 2-4    (geometry.py)
    class_distance_matrix(H, y)               Sec. 4.1, eq. (6)               (distance.py)
    msd_ratio(H, fine, coarse)                App. B                          (distance.py)
    structure_lines(D, superclass_of), emergence(history, level)   Fig. 4-5 (distance.py)
    cluster_accuracy(y, clusters, superclass=), discovery_scores(y, clusters, superclass)
                                              FALCON (ICML 2024), GEORGE (NeurIPS 2020): clusters
                                              found in each superclass vs its classes (discovery.py)
    ClassStatistics, class_statistics, *_from_stats, NCCAgreement   the same numbers without
                                                                    storing features (streaming.py,
                                                                    stats.py)

H is an (n, d) numpy array or torch tensor on any device; y holds integer labels of any values
(classes are the sorted unique values). Computation is in float64. Where the literature has two
conventions, the functions take it as an option: ``center`` ("class_means", the centre of a simplex
ETF, or "global_mean", the mean of all samples), ``ddof`` (biased or unbiased variances).
"""

from .classifier import nc3, nc4
from .collapse import nc1, nc2
from .distance import (
    MSDRatio,
    StructureLines,
    class_distance_matrix,
    emergence,
    msd_ratio,
    structure_lines,
)
from .discovery import DiscoveryScores, cluster_accuracy, discovery_scores
from .geometry import cdnv, equiangularity, equinorm
from .stats import (
    ClassStats,
    cdnv_from_stats,
    class_distance_from_stats,
    class_statistics,
    equiangularity_from_stats,
    equinorm_from_stats,
    nc1_from_stats,
    nc2_from_stats,
    nc3_from_stats,
)
from .streaming import ClassStatistics, NCCAgreement

__all__ = [
    "nc1",
    "nc2",
    "nc3",
    "nc4",
    "cdnv",
    "equinorm",
    "equiangularity",
    "class_distance_matrix",
    "msd_ratio",
    "MSDRatio",
    "structure_lines",
    "StructureLines",
    "emergence",
    "cluster_accuracy",
    "discovery_scores",
    "DiscoveryScores",
    "ClassStatistics",
    "NCCAgreement",
    "ClassStats",
    "class_statistics",
    "nc1_from_stats",
    "nc2_from_stats",
    "nc3_from_stats",
    "cdnv_from_stats",
    "equinorm_from_stats",
    "equiangularity_from_stats",
    "class_distance_from_stats",
]
