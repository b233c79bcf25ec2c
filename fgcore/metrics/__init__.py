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
    METRICS, Metric, Curve, register          the Neural-Collapse family as one table: what fgcore
                                              measure, the trainer's history and the collapse figure
                                              read; a new metric is one function + one entry (table.py)

H is an (n, d) numpy array or torch tensor on any device; y holds integer labels of any values
(classes are the sorted unique values). Computation is in float64. Where the literature has two
conventions, the functions take it as an option: ``center`` ("class_means", the centre of a simplex
ETF, or "global_mean", the mean of all samples), ``ddof`` (biased or unbiased variances).

The functions are imported when first used (``fgcore.metrics.nc1`` or ``from fgcore.metrics import
nc1``): importing the package, and reading its table, imports no torch.
"""

import importlib
from typing import Any

from .table import METRICS, Curve, Metric, register

# name -> the module of fgcore.metrics that defines it (imported on first use: see the docstring)
_LAZY = {
    "nc3": "classifier",
    "nc4": "classifier",
    "nc1": "collapse",
    "nc2": "collapse",
    "MSDRatio": "distance",
    "StructureLines": "distance",
    "class_distance_matrix": "distance",
    "emergence": "distance",
    "msd_ratio": "distance",
    "structure_lines": "distance",
    "DiscoveryScores": "discovery",
    "cluster_accuracy": "discovery",
    "discovery_scores": "discovery",
    "cdnv": "geometry",
    "equiangularity": "geometry",
    "equinorm": "geometry",
    "ClassStats": "stats",
    "cdnv_from_stats": "stats",
    "class_distance_from_stats": "stats",
    "class_statistics": "stats",
    "equiangularity_from_stats": "stats",
    "equinorm_from_stats": "stats",
    "nc1_from_stats": "stats",
    "nc2_from_stats": "stats",
    "nc3_from_stats": "stats",
    "ClassStatistics": "streaming",
    "NCCAgreement": "streaming",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value   # found once; later reads do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "METRICS",
    "Metric",
    "Curve",
    "register",
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
