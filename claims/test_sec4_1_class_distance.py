"""Sec. 4.1, Fig. 5: the class distance matrix of the original classes has three dark lines; the
diagonal (same original class) emerges first and stays darker than the superclass lines.

Controls: no_subclusters (one Gaussian per superclass split by a random hyperplane: nothing to find)
for both claims; collapsed (the same data and network at a weight decay whose terminal phase erases the
fine structure, Fig. 4b) for what must survive to the end. The collapsed run is no control of
diag-first: there too the diagonal emerges first, before the terminal phase erases it.
"""

import measures as m
import pytest
import thresholds as t

from fgcore import run_metrics
from fgcore.suite.checks import Check

LINE_GAP = Check("darkness(diagonal) - darkness(superclass lines) at the first snapshot", m.line_gap_first,
                 t.LINE_GAP, controls=("no_subclusters",))
LEAD = Check(f"epochs by which the diagonal emerges (darkness >= {m.EMERGENCE_LEVEL}) before the superclass lines",
             m.diagonal_lead, t.EMERGES_FIRST, controls=("no_subclusters",))
DIAG_RATIO = Check("same-superclass D / diagonal D at the end", m.diag_ratio, t.DIAG_RATIO,
                   controls=("no_subclusters", "collapsed"))


@pytest.mark.claim("diag-first", applies_to="coarse")
def test_diag_first(claim):
    subject = claim.verify([LINE_GAP, LEAD], terminal_phase=True)
    run = subject.run
    first = [e for e in run.snapshot_epochs if e > 0][:1]
    claim.figure("distance_heatmaps", **run_metrics.heatmap_figure(run, epochs=first + run_metrics.heatmap_epochs(run)[1:]))


@pytest.mark.claim("diag-darker-final", applies_to="coarse")
def test_diag_darker_final(claim):
    subject = claim.verify([DIAG_RATIO], terminal_phase=True)
    claim.figure("distance_heatmaps", **run_metrics.heatmap_figure(subject.run))
