"""The Neural-Collapse family as one table, `METRICS`: every part of fgcore that reports it reads this.

`fgcore measure` (its numbers and its page), the trainer's statistics at every statistics epoch (the
run's history), fgcore.run_metrics.collapse_curve and the collapse figure (fgcore.drawing.collapse)
iterate over the table, so a metric added to it is measured, recorded in every run trained from then
on, listed on the page and drawn, with no other edit. A new metric is one function and one entry,
``register(Metric(...))`` (see the example of `Metric`).

How each entry is called:

- ``reads="features"``: ``streaming(stats)`` on `fgcore.metrics.ClassStats` (the trainer streams the
  training split's features through `ClassStatistics` with ``covariance=True``, so ``sigma_w`` is
  there) and ``array(H, y)`` on features and labels; without an ``array`` function the metric is
  ``streaming(class_statistics(H, y))`` on arrays (exact, float64; no ``sigma_w``).
- ``reads="classifier"`` (NC3, NC4): they compare the final linear layer with the class means, so
  they exist only where the features feed a linear head with one row per label. ``streaming(stats,
  weight=W, batches=[(features, logits, labels), ...])`` with the pass's batches, and ``array(H, y,
  weight=W, logits=Z, classes=classes)``.

A metric whose function raises ValueError on some features (two class means that coincide, a zero
head) is recorded as NaN in the history and as None with a note by `fgcore measure`; a ``required``
metric (NC1 and NC2, the quantities of the paper's Fig. 3 that the claims read) stops the training
run instead, and every run's history has it.

The built-in entries name fgcore.metrics' functions by import path ("fgcore.metrics.collapse:nc1"),
imported at the first call: reading the table (the claims report draws the collapse figure in a
process that never imports torch) imports no torch. A registered metric lives in the process that
registered it: register it in a module the training processes import (a sweep's workers import only
fgcore), and note that a run's cache key does not change with the table (a run trained before the
metric was registered has no history of it: fgcore.run_metrics.collapse_curve leaves it out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .. import import_path, registry

__all__ = ["METRICS", "Curve", "Metric", "register"]

DIRECTIONS = ("falls", "rises")
READS = ("features", "classifier")


@dataclass(frozen=True)
class Curve:
    """How the collapse figure draws a metric over the epochs (fgcore.drawing.collapse.nc_curves).

    Parameters
    ----------
    label : str
        Its legend entry.
    colour : int, default=None
        Index into the figures' colour-blind-safe palette (fgcore.drawing.style.PALETTE); None: the
        first colour no other curve of its panel uses.
    style : str, default="-"
        Matplotlib line style.
    panel : str, default=None
        Key of the metric whose panel it is drawn in; None: a panel of its own, titled `title`.
    title : str, default=None
        The title of its own panel (default: the metric's name).
    log : bool, default=False
        Its own panel on a log axis where every value is positive (NC1 falls by orders of magnitude).
    complement : bool, default=False
        Draw 1 - value (NC4 as the mismatch 1 - NC4, as Papyan et al. 2020 plot it in their Fig. 7).

    Examples
    --------
    >>> from fgcore.metrics import METRICS
    >>> METRICS["cdnv"].curve.panel, METRICS["nc4"].curve.complement
    ('nc1', True)
    """

    label: str
    colour: int | None = None
    style: str = "-"
    panel: str | None = None
    title: str | None = None
    log: bool = False
    complement: bool = False


@dataclass(frozen=True)
class Metric:
    """One number of the Neural-Collapse family (see the module docstring for how it is called).

    Parameters
    ----------
    key : str
        Its key in a run's history, in `fgcore measure`'s numbers and in the collapse figure's data
        (a Python identifier).
    name : str
        How people read it ("NC1").
    meaning : str
        What it measures and where it comes from, in one line.
    direction : {"falls", "rises"}
        Which way it moves as the features collapse.
    collapse_value : float
        Its value under full collapse (0 for NC1, 1 for NC4).
    streaming : callable or str
        The function on class statistics, or its import path "package.module:function".
    array : callable or str, default=None
        The function on features; None: `streaming` on `class_statistics(H, y)` (features metrics).
    reads : {"features", "classifier"}, default="features"
        What it needs besides the features and labels: nothing, or the final linear layer.
    required : bool, default=False
        The trainer stops rather than record NaN where it is undefined, and every history has it.
    curve : Curve, default=None
        How the collapse figure draws it; None: not drawn.

    Examples
    --------
    Tr(Sigma_W) / Tr(Sigma_B), a simpler form of NC1 that some studies report, as one function on class
    statistics; on features it is that function of `class_statistics(H, y)`:

    >>> import numpy as np
    >>> from fgcore import metrics
    >>> def trace_ratio(stats):
    ...     between = ((stats.means - stats.global_mean) ** 2).sum(axis=1)
    ...     return float(stats.traces.mean() / between.mean())
    >>> entry = metrics.Metric("trace_ratio", "Tr(Σ_W)/Tr(Σ_B)", "within- over between-class variance",
    ...                        direction="falls", collapse_value=0.0, streaming=trace_ratio,
    ...                        curve=metrics.Curve("Tr(Σ_W)/Tr(Σ_B)", style=":", panel="nc1"))
    >>> entry.on_features(np.array([[0., 0.], [0., 2.], [4., 0.], [4., 2.]]), [0, 0, 1, 1])
    0.25
    >>> entry.target
    '→ 0'
    """

    key: str
    name: str
    meaning: str
    direction: str
    collapse_value: float
    streaming: Callable[..., float] | str
    array: Callable[..., float] | str | None = None
    reads: str = "features"
    required: bool = False
    curve: Curve | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.isidentifier():
            raise ValueError(f"Metric key must be a Python identifier (it is a history key), got {self.key!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"Metric {self.key!r}: direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if self.reads not in READS:
            raise ValueError(f"Metric {self.key!r}: reads must be one of {READS}, got {self.reads!r}")
        for field, function in (("streaming", self.streaming), ("array", self.array)):
            if function is None and field == "array" and self.reads == "features":
                continue
            if not (callable(function) or import_path.is_import_path(function)):
                raise ValueError(f"Metric {self.key!r}: {field} must be a function or its import path "
                                 f"{import_path.FORM}, got {function!r}")
        if self.curve is not None and not isinstance(self.curve, Curve):
            raise ValueError(f"Metric {self.key!r}: curve must be a fgcore.metrics.Curve, got {self.curve!r}")

    @property
    def target(self) -> str:
        """Its value under collapse, as a reader sees it ("→ 0")."""
        return f"→ {self.collapse_value:g}"

    def on_statistics(self, stats: Any, **classifier: Any) -> float:
        """The metric on class statistics (a classifier metric also takes weight= and batches=)."""
        return float(_function(self.streaming, self.key)(stats, **classifier))

    def on_features(self, H: Any, y: Any, **classifier: Any) -> float:
        """The metric on features and labels (a classifier metric also takes weight=, logits=, classes=)."""
        if self.array is None:
            from .stats import class_statistics

            return self.on_statistics(class_statistics(H, y))
        return float(_function(self.array, self.key)(H, y, **classifier))


def _function(function: Callable[..., float] | str, key: str) -> Callable[..., float]:
    return import_path.resolve(function, f"metric {key!r}") if isinstance(function, str) else function


METRICS: dict[str, Metric] = {}


def register(metric: Metric, *, replace: bool = False) -> Metric:
    """Add a metric to the table, from now on in this process (see the module docstring).

    Parameters
    ----------
    metric : Metric
        The entry; its key must be new.
    replace : bool, default=False
        Replace the entry of the same key instead.

    Returns
    -------
    Metric
        `metric`, so a module can keep it: ``SPREAD = register(Metric(...))``.

    Raises
    ------
    TypeError
        When `metric` is not a `Metric`.
    ValueError
        When its key is taken and `replace` is False.

    Examples
    --------
    >>> from fgcore import metrics
    >>> spread = metrics.Metric("spread", "spread", "mean within-class variance", "falls", 0.0,
    ...                         streaming=lambda stats: float(stats.traces.mean()))
    >>> metrics.register(spread) is spread and "spread" in metrics.METRICS
    True
    >>> del metrics.METRICS["spread"]     # (leave the table as it was)
    """
    if not isinstance(metric, Metric):
        raise TypeError(f"register() takes a fgcore.metrics.Metric, got {type(metric).__name__}")
    return registry.add(METRICS, metric.key, metric, what="metric", replace=replace)


# -- NC3 and NC4: the public functions' signatures in the table's calling convention -----------------------
def _nc3_on_features(H: Any, y: Any, *, weight: Any, logits: Any = None, classes: Any = None) -> float:
    from .classifier import nc3

    return nc3(weight, H, y, classes=classes)


def _nc3_on_statistics(stats: Any, *, weight: Any, batches: Any = None) -> float:
    from .stats import nc3_from_stats

    return nc3_from_stats(stats, weight)


def _nc4_on_features(H: Any, y: Any, *, weight: Any = None, logits: Any, classes: Any = None) -> float:
    from .classifier import nc4

    return nc4(H, y, logits=logits, classes=classes)


def _nc4_on_statistics(stats: Any, *, weight: Any = None, batches: Any) -> float:
    """NC4 needs the class means of the very pass whose decisions it judges: the pass keeps its
    (features, logits, labels) batches and they are streamed once its statistics are complete."""
    from .streaming import NCCAgreement

    agreement = NCCAgreement(stats)
    for features, logits, labels in batches:
        agreement.update(features, logits, labels)
    return agreement.result()


# The family, in the order every table, history and figure lists it. Colours index the figures' palette.
for _metric in (
    Metric("nc1", "NC1", "within-class variability, Tr(Σ_W Σ_B⁺)/C (paper eq. 1-2; Papyan et al. 2020)",
           "falls", 0.0, "fgcore.metrics.stats:nc1_from_stats", "fgcore.metrics.collapse:nc1", required=True,
           curve=Curve("NC1 = Tr(Σ_W Σ_B⁺)/C", 0, title="NC1: within-class variability", log=True)),
    Metric("nc2", "NC2", "distance of the centred class means from a simplex ETF (paper eq. 3)",
           "falls", 0.0, "fgcore.metrics.stats:nc2_from_stats", "fgcore.metrics.collapse:nc2", required=True,
           curve=Curve("NC2 (eq. 3)", 1, title="NC2: means vs simplex ETF")),
    Metric("nc3", "NC3", "classifier rows against the centred class means, ‖W/‖W‖ − M/‖M‖‖ (Papyan et al. 2020)",
           "falls", 0.0, _nc3_on_statistics, _nc3_on_features, reads="classifier",
           curve=Curve("‖W/‖W‖ − M/‖M‖‖", 3, title="NC3: classifier vs means")),
    Metric("nc4", "NC4", "share of training samples on which the classifier picks the nearest class centre "
                         "(Papyan et al. 2020)",
           "rises", 1.0, _nc4_on_statistics, _nc4_on_features, reads="classifier",
           curve=Curve("1 − NC4 (share of samples)", 6, title="NC4: classifier ≠ nearest centre", complement=True)),
    Metric("cdnv", "CDNV", "class-distance normalised variance, mean over class pairs (Galanti et al. 2022)",
           "falls", 0.0, "fgcore.metrics.stats:cdnv_from_stats", "fgcore.metrics.geometry:cdnv",
           curve=Curve("CDNV (Galanti et al.)", 5, "--", panel="nc1")),
    Metric("equinorm", "equinorm", "coefficient of variation of the centred class-mean lengths (Papyan et al., "
                                   "Fig. 2)",
           "falls", 0.0, "fgcore.metrics.stats:equinorm_from_stats", "fgcore.metrics.geometry:equinorm",
           curve=Curve("equinorm", 4, "--", panel="nc2")),
    Metric("equiangularity", "equiangularity", "mean |cos + 1/(C−1)| between centred class means (Papyan et al., "
                                               "Fig. 4)",
           "falls", 0.0, "fgcore.metrics.stats:equiangularity_from_stats", "fgcore.metrics.geometry:equiangularity",
           curve=Curve("equiangularity", 3, ":", panel="nc2")),
):
    register(_metric)
del _metric
