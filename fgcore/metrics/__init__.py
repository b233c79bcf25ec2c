"""Metrics of last-layer features (sklearn.metrics style: functions on arrays, validated input).

    nc1(H, y), nc2(H, y)                      Sec. 3.1, eq. (1)-(3)      (collapse.py)
    class_distance_matrix(H, y)               Sec. 4.1, eq. (6)          (distance.py)
    msd_ratio(H, fine, coarse)                App. B                     (distance.py)
    structure_lines(D, superclass_of), emergence(history, level)   Fig. 4-5 (distance.py)
    ClassStatistics, class_statistics, *_from_stats                 per-epoch statistics without
                                                                    storing features (streaming.py)

H is an (n, d) numpy array or torch tensor on any device; y holds integer labels of any values
(classes are the sorted unique values). Computation is in float64.
"""

from .collapse import nc1, nc2
from .distance import (
    MSDRatio,
    StructureLines,
    class_distance_matrix,
    emergence,
    msd_ratio,
    structure_lines,
)
from .stats import (
    ClassStats,
    class_distance_from_stats,
    class_statistics,
    nc1_from_stats,
    nc2_from_stats,
)
from .streaming import ClassStatistics

__all__ = [
    "nc1",
    "nc2",
    "class_distance_matrix",
    "msd_ratio",
    "MSDRatio",
    "structure_lines",
    "StructureLines",
    "emergence",
    "ClassStatistics",
    "ClassStats",
    "class_statistics",
    "nc1_from_stats",
    "nc2_from_stats",
    "class_distance_from_stats",
]
