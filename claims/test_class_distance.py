"""Sec. 4.1, Fig. 5: the class distance matrix of the original classes has three dark lines; the
diagonal (same original class) emerges first and stays darker than the superclass lines.

Negative control: a Gaussian mixture with one Gaussian per superclass, its two subclasses the sides
of a random hyperplane (the fixture's [controls] fine_structure): no sub-clusters exist there.
"""

import pytest

import claim_checks as checks
from fgcore import analysis


@pytest.mark.claim("diag-first", applies_to="coarse")
def test_diag_first(claim):
    for seed in claim.seeds:
        run = claim.run(seed=seed)
        checks.diag_first(claim, run, seed)
        _, control = checks.control_runs(claim, "fine_structure", "gmm-hyperplane", seed)
        checks.diag_first(claim, control, seed, control=True, description=checks.NO_SUBCLUSTERS)
    claim.figure("distance_heatmaps", **analysis.heatmap_figure(
        run, epochs=[e for e in run.snapshot_epochs if e > 0][:1] + analysis.heatmap_epochs(run)[1:]))


@pytest.mark.claim("diag-darker-final", applies_to="coarse")
def test_diag_darker_final(claim):
    for seed in claim.seeds:
        run = claim.run(seed=seed)
        claim.require_terminal_phase(run)
        checks.diag_darker_final(claim, run, seed)
        _, control = checks.control_runs(claim, "fine_structure", "gmm-hyperplane", seed)
        checks.diag_darker_final(claim, control, seed, control=True, description=checks.NO_SUBCLUSTERS)
    claim.figure("distance_heatmaps", **analysis.heatmap_figure(run))
