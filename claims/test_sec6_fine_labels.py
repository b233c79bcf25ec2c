"""Sec. 6, Fig. 14: trained with 2C random fine labels (each class split in two at random), the
representations first form C clusters by original class (the halves of a class are one dark line);
later the network separates the halves (it collapses onto the 2C labels), while at the end the
C-class structure is still there.

Controls: no_class_structure (fine labels on data whose original classes share one distribution: no
C clusters can form) for what the input gives; original_labels (the same data and network trained on
the C original labels, measured on a random split into halves: nothing tells the halves apart) for what
the fine labels teach.
"""

import measures as m
import pytest
import thresholds as t

from fgcore import run_metrics
from fgcore.suite.checks import Check

CHECKS = [
    Check("D(halves) / D(different original classes) at the first snapshot", m.halves_dark_first, t.HALVES_DARK,
          controls=("no_class_structure",)),
    Check("NC1 on the 2C fine labels at the end / at the first snapshot", m.fine_nc1_fall, t.FINE_NC1_FALL,
          controls=("original_labels",)),
    Check("darkness(diagonal) - darkness(halves) at the end", m.halves_lighter_end, t.HALVES_LIGHTER,
          controls=("original_labels",)),
    Check("D(halves) / D(different original classes) at the end", m.halves_apart_end, t.HALVES_APART,
          controls=("no_class_structure",)),
]


@pytest.mark.claim("fine-labels", applies_to="fine")
def test_fine_labels(claim):
    run = claim.verify(CHECKS, terminal_phase=True).run
    first = [e for e in run.snapshot_epochs if e > 0][:1]
    claim.figure("distance_heatmaps", **run_metrics.heatmap_figure(
        run, kind="train", epochs=first + run_metrics.heatmap_epochs(run)[1:]))
