"""How far a check's value moves when only the seed changes: a bootstrap confidence interval of the
median over the base seeds of a session (`--fg-seeds N`).

With a handful of seeds, a claim's value is reported the way few-run results are reported in deep RL
(Agarwal et al. 2021, rliable): a percentile bootstrap interval of the statistic the verdict reads (here
the median over seeds), computed with scipy.stats.bootstrap from a fixed random state, so the same
values always give the same interval. With few seeds the interval is wide (with 5 seeds a 95% interval
of the median spans most of the values): that is what five seeds can say. With one seed there is no
interval, and the record says why.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000
RANDOM_STATE = 0   # the bootstrap's own seed: the interval is a function of the values


def seed_interval(values: Mapping[Any, float | None]) -> dict[str, Any]:
    """The interval of the median of `values` (seed -> value; None: not measured at that seed).

    Returns {"low", "high", "confidence", "method"} or, where there is no interval, {"low": None,
    "high": None, "why"}. Seeds whose value is None or not finite are left out of the bootstrap and
    counted in "method".

    Examples
    --------
    >>> seed_interval({0: 0.028, 1: 0.031, 2: 0.035, 3: 0.029, 4: 0.033})["low"]
    0.028
    >>> seed_interval({0: 0.028})["why"]
    'one seed (run the claims with --fg-seeds N for an interval over seeds)'
    """
    from scipy.stats import bootstrap

    measured = np.array([v for v in values.values() if v is not None and math.isfinite(v)], dtype=np.float64)
    if len(values) < 2:
        return {"low": None, "high": None,
                "why": "one seed (run the claims with --fg-seeds N for an interval over seeds)"}
    if len(measured) < 2:
        return {"low": None, "high": None,
                "why": f"{len(measured)} of {len(values)} seeds gave a finite value (nothing to bootstrap)"}
    result = bootstrap((measured,), np.median, n_resamples=RESAMPLES, confidence_level=CONFIDENCE,
                       method="percentile", rng=np.random.default_rng(RANDOM_STATE))
    left_out = len(values) - len(measured)
    return {"low": float(result.confidence_interval.low), "high": float(result.confidence_interval.high),
            "confidence": CONFIDENCE,
            "method": f"percentile bootstrap of the median over {len(measured)} seeds ({RESAMPLES:,} resamples)"
                      + (f"; {left_out} seed(s) without a finite value left out" if left_out else "")}
