"""Sec. 4.2-4.3, Fig. 6, 9: within each superclass the original classes form separate t-SNE clusters,
and Cluster-and-Linear-Probe recovers the original classes from coarse labels alone.

Controls: no_subclusters (one Gaussian per superclass split by a random hyperplane: the subclasses stay
linearly decodable, so LPO is well above chance, but no clustering can find them) and collapsed (the
same data and network in a regime whose terminal phase erases the fine structure, Fig. 4b).
"""

import measures as m
import pytest
import thresholds as t

from fgcore import run_metrics
from fgcore.suite.checks import Check

FINE_STRUCTURE = ("no_subclusters", "collapsed")
PURITY = Check("mean t-SNE cluster purity over superclasses", m.purity, t.PURITY, controls=FINE_STRUCTURE)
CLP_FRACTION = Check("(CLP - chance) / (LPO - chance)", m.clp_fraction, t.CLP_FRACTION, controls=FINE_STRUCTURE)
# CLP within 3 points of LPO and of OT (the [compare] ot run): Fig. 9, and Fig. 43 for DenseNet-121.
CLOSE_TO_LPO_AND_OT = [
    Check("|CLP - LPO|", m.clp_lpo_gap, t.CLP_CLOSE, controls=("collapsed",)),
    Check("|CLP - OT|", m.clp_ot_gap, t.CLP_CLOSE, controls=("collapsed",)),
]
# The paper's headline run (official CIFAR-10, ResNet-18; its fixture sets [clp] headline = true).
HEADLINE = [Check("CLP test accuracy", m.clp_accuracy, t.CLP_ABSOLUTE, controls=("collapsed",))] + CLOSE_TO_LPO_AND_OT


def tsne_figure(claim, run, result) -> None:
    panels = [{"superclass": int(s), "points": emb.points, "labels": emb.labels, "purity": float(result.purity[s])}
              for s, emb in sorted(result.embeddings.items())]
    claim.figure("tsne", class_names=run.class_names, superclasses=panels)


def discovery_rows(claim, subject) -> list[dict]:
    """CLP's clusters scored as the coarse-to-fine literature scores them (Hungarian-matched cluster accuracy
    with its chance level, NMI, ARI: fgcore.metrics.discovery_scores) on the experiment and on each control
    of the CLP fraction that was measured. Recorded beside the checks, not a check: no threshold for them
    comes from the paper."""
    controls = claim.experiment_info().controls
    subjects = [(claim.experiment, "experiment", subject)]
    for role in CLP_FRACTION.controls:
        ref = claim.control_refs.get((role, controls.get(role)))
        if ref is not None and not ref.error:     # measured, its precondition met
            subjects.append((ref.experiment, role, claim.subject(ref.experiment, subject.seed)))
    rows = []
    for experiment, role, measured in subjects:
        scores = m.clp_numbers(measured)["discovery"]
        if scores is not None:
            rows.append({"label": experiment if role == "experiment" else role.replace("_", " "),
                         "experiment": experiment, "role": role, **scores})
    return rows


def clp_figure(claim, subject, ot: float | None = None) -> None:
    numbers = m.clp_numbers(subject)
    claim.figure("clp_bars", clp=numbers["clp"], lpo=numbers["lpo"], ot=ot, chance=numbers["chance"],
                 discovery=discovery_rows(claim, subject))


@pytest.mark.claim("tsne-subclusters", applies_to="coarse")
def test_tsne_subclusters(claim):
    subject = claim.verify([PURITY], terminal_phase=True)
    tsne_figure(claim, subject.run, run_metrics.clp(subject.run, random_state=subject.seed))
    # The report's first picture (Fig. 1's idea): the whole data set's features and the NC1 curve.
    claim.figure("overview", experiment=claim.experiment,
                 **run_metrics.overview_figure(subject.run, random_state=subject.seed))


@pytest.mark.claim("clp-recovers", applies_to="coarse")
def test_clp_recovers(claim):
    headline = bool(claim.experiment_info().extra.get("clp", {}).get("headline"))
    subject = claim.verify([CLP_FRACTION] + (HEADLINE if headline else []), terminal_phase=True)
    # The OT bar wherever the fixture names an OT run (Fig. 9; Fig. 36 on Coarse CIFAR-100).
    clp_figure(claim, subject, m.ot_accuracy(subject) if "ot" in claim.experiment_info().compare else None)
