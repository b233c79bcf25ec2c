"""Sec. 5, Fig. 10-13: superclasses of semantically similar classes (CIFAR-100's official 20; the
natural Fashion-MNIST groups tops / footwear / trouser / bag) show weaker fine structure than random
superclasses of the same sizes (the experiment's [compare] random).

Control (random_grouping): another random grouping of the same sizes in the natural groups' place; it
must not look weaker than the random ones. Every run read, comparison and control included, must have
reached the terminal phase.
"""

import measures as m
import pytest
import thresholds as t

from fgcore.suite.checks import Check

WEAKER = Check("random-group ratio / natural-group ratio", m.random_over_natural, t.SEMANTIC_FACTOR,
               controls=("random_grouping",))


@pytest.mark.claim("semantic-similarity", applies_to="natural-groups")
def test_semantic_similarity(claim):
    subject = claim.verify([WEAKER], terminal_phase=True)
    random = subject.compare("random")
    control_name = claim.experiment_info().controls["random_grouping"]
    bars = {"natural": m.mean_group_ratio(subject.runs), "random": m.mean_group_ratio(random),
            "random (control)": m.mean_group_ratio(claim.runs(control_name, seed=subject.seed))}
    claim.figure("ratio_bars", bars=bars)
