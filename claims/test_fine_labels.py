"""Sec. 6, Fig. 14: trained with 2C random fine labels (each class split in two at random), the
representations first form C clusters by original class, and keep that structure at the end.

Negative control: fine labels on data whose original classes share one distribution (no class
structure to find), the fixture's [controls] fine_labels.
"""

import pytest

import claim_checks as checks
from fgcore import analysis

HALVES_CLOSE = 0.10    # "within 10%": early on, the two fine halves of a class are as close as one half
                       # to itself (Fig. 14a: three dark lines, i.e. C clusters, not 2C)
HALVES_APART = 0.9     # at the end the halves are still closer than different original classes
                       # (Fig. 14d: the 10-class structure is preserved, with a lighter colour)
NO_STRUCTURE = "fine labels on a Gaussian mixture whose classes all share one distribution"


def _fine_checks(claim, run, seed, *, control=False, description=None):
    first = [e for e in run.snapshot_epochs if e > 0][0]
    early, late = analysis.fine_label_distances(run, first), analysis.fine_label_distances(run, "last")
    record = checks.recorder(claim, seed, control=control, description=description)
    record("|D(halves) - D(within fine class)| / D(within) at the first snapshot",
           abs(early["halves"] - early["within"]) / early["within"], "<=", HALVES_CLOSE,
           "Fig. 14a: the fine halves of a class are not yet told apart")
    record("D(halves) / D(different original classes) at the end", late["halves"] / late["different"], "<",
           HALVES_APART, "Fig. 14d: the original-class structure is still there at the end")


@pytest.mark.claim("fine-labels", applies_to="fine")
def test_fine_labels(claim):
    for seed in claim.seeds:
        run = claim.run(seed=seed)
        claim.require_terminal_phase(run)
        _fine_checks(claim, run, seed)
        _, control = checks.control_runs(claim, "fine_labels", "gmm-fine-no-structure", seed)
        _fine_checks(claim, control, seed, control=True, description=NO_STRUCTURE)
    claim.figure("distance_heatmaps", **analysis.heatmap_figure(
        run, kind="train", epochs=[e for e in run.snapshot_epochs if e > 0][:1] + analysis.heatmap_epochs(run)[1:]))
