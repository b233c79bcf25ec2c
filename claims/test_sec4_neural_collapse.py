"""Sec. 4, Fig. 3: Neural Collapse happens on the coarse labels (NC1 -> 0, class means -> simplex ETF).

Control (no_collapse): the same data and labels, a network that reaches the terminal phase without
collapsing (a 2-layer MLP without BatchNorm on the CPU tiers).
"""

import measures as m
import pytest
import thresholds as t

from fgcore import run_metrics
from fgcore.suite.checks import Check

NC1_FALL = Check("NC1 at the end / NC1 of the untrained network", m.nc1_fall, t.NC1_FALL, controls=("no_collapse",))
NC2_FALL = Check("NC2 at the end / NC2 of the untrained network", m.nc2_fall, t.NC2_FALL, controls=("no_collapse",))


@pytest.mark.claim("nc1-collapse", applies_to="coarse")
def test_nc1_collapse(claim):
    subject = claim.verify([NC1_FALL], terminal_phase=True)
    claim.figure("nc_curves", **run_metrics.collapse_curve(subject.run))


@pytest.mark.claim("nc2-etf", applies_to="coarse")
def test_nc2_etf(claim):
    subject = claim.verify([NC2_FALL], terminal_phase=True)
    claim.figure("nc_curves", **run_metrics.collapse_curve(subject.run))
