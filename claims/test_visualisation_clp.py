"""Sec. 4.2-4.3, Fig. 6, 9: within each superclass the original classes form separate t-SNE clusters,
and Cluster-and-Linear-Probe recovers the original classes from coarse labels alone.

Negative control: one Gaussian per superclass split by a random hyperplane (no sub-clusters; the
subclasses stay linearly decodable, so LPO is well above chance and CLP's threshold stays high).
"""

import pytest

import claim_checks as checks
from fgcore import analysis


@pytest.mark.claim("tsne-subclusters", applies_to="coarse")
def test_tsne_subclusters(claim):
    for seed in claim.seeds:
        run = claim.run(seed=seed)
        claim.require_terminal_phase(run)
        result = checks.cluster_purity(claim, run, seed)
        _, control = checks.control_runs(claim, "fine_structure", "gmm-hyperplane", seed)
        checks.cluster_purity(claim, control, seed, control=True, description=checks.NO_SUBCLUSTERS)
    checks.tsne_figure(claim, run, result)


@pytest.mark.claim("clp-recovers", applies_to="coarse")
def test_clp_recovers(claim):
    headline = claim.experiment_info().extra.get("clp", {})  # [clp] headline = true, ot = "<experiment>"
    for seed in claim.seeds:
        run = claim.run(seed=seed)
        claim.require_terminal_phase(run)
        numbers = checks.clp_relative(claim, run, seed)
        ot = None
        if headline.get("headline"):  # the paper's headline run: official CIFAR-10, ResNet-18
            ot_run = claim.run(headline["ot"], seed=seed)
            ot = analysis.best_test_accuracy(ot_run)
            claim.check("CLP test accuracy", numbers["clp"], ">=", checks.CLP_ABSOLUTE, seed=seed,
                        why="abstract and Fig. 9: 93% on CIFAR-10 test from 5 coarse labels")
            claim.check("|CLP - LPO|", abs(numbers["clp"] - numbers["lpo"]), "<=", checks.CLP_CLOSE, seed=seed,
                        why="Fig. 9: CLP is close to the linear probe on the original labels")
            claim.check("|CLP - OT|", abs(numbers["clp"] - ot), "<=", checks.CLP_CLOSE, seed=seed,
                        why="Fig. 9: CLP is close to a network trained on the original labels")
        _, control = checks.control_runs(claim, "fine_structure", "gmm-hyperplane", seed)
        checks.clp_relative(claim, control, seed, control=True, description=checks.NO_SUBCLUSTERS)
    checks.clp_figure(claim, numbers, ot)
