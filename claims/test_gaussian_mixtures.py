"""App. B, Fig. 17-18: a 2-layer MLP on coarsely labelled Gaussian mixtures. The mean squared distance
ratio (same superclass, different subclass / same subclass) grows with the separation sigma^2 of the
cluster means; subclasses that are similar (small tau^2, App. B.1) keep less fine structure.

Negative controls: mixtures whose two subclasses per superclass share one mean (gmm-sigma), and the
B.1 data with tau^2 = 0 for every grid value (gmm-tau): no ratio can grow there.
"""

import pytest

import claim_checks as checks
from fgcore import analysis

RANK = 0.8              # Spearman >= 0.8: the ratio rises (almost) monotonically with the x value;
                        # 6 points of pure noise reach it with probability ~4% (5 points ~8%), and the
                        # median over seeds lowers that further
WEIGHT_DECAYS = (5e-4, 5e-5)   # App. B / issue: the trend must hold at these; 5e-3 is reported only
GROWTH = 2.0            # ... and the ratio must at least double over the grid: Fig. 17 and 18 rise by an
                        # order of magnitude. Without it a pure-noise control (ratio 1.02 +- 0.005 at
                        # every x) reached Spearman 0.88 at one of five base seeds: a rank check alone
                        # cannot tell a trend from a flat curve.


def _sigma_checks(claim, runs, seed, *, control=False, description=None):
    record = checks.recorder(claim, seed, control=control, description=description)
    curves = analysis.ratio_curves(runs, "data_args.sigma2")
    for wd in WEIGHT_DECAYS:
        curve = curves[wd]
        record(f"Spearman(sigma^2, ratio) at weight decay {wd:g}", analysis.spearman(curve["x"], curve["median"]),
               ">=", RANK, "Fig. 17: the ratio grows with the separation of the cluster means")
        record(f"ratio at the largest / at the smallest sigma^2, weight decay {wd:g}",
               curve["median"][-1] / curve["median"][0], ">=", GROWTH, "Fig. 17: it grows by an order of magnitude")
    return curves


@pytest.mark.claim("gmm-sigma", applies_to="gmm-sigma")
def test_gmm_sigma(claim):
    for seed in claim.seeds:
        curves = _sigma_checks(claim, claim.runs(seed=seed), seed)
        name = claim.experiment_info().extra.get("controls", {}).get("gmm", "gmm-sigma-shared-means")
        _sigma_checks(claim, claim.runs(name, seed=seed), seed, control=True,
                      description="the two subclasses of every superclass share one mean")
    for wd, curve in sorted(curves.items(), reverse=True):
        claim.note(f"weight decay {wd:g}: median ratio " + ", ".join(
            f"{x:g}: {y:.2f}{'' if ok else ' (train acc < 100%)'}"
            for x, y, ok in zip(curve["x"], curve["median"], curve["reached_100"])))
    claim.figure("gmm_curves", x_name="sigma^2", log_x=True, curves=[
        {"label": f"wd={wd:g}", "x": c["x"], "y": c["median"], "y_seeds": c["seeds"], "reached_100": c["reached_100"]}
        for wd, c in sorted(curves.items(), reverse=True)])


def _tau_checks(claim, runs, seed, *, control=False, description=None):
    record = checks.recorder(claim, seed, control=control, description=description)
    similar = analysis.ratio_curves(runs, "data_args.tau2", group_key=None, superclasses="similar")[None]
    dissimilar = analysis.ratio_curves(runs, "data_args.tau2", group_key=None, superclasses="dissimilar")[None]
    record("similar / dissimilar ratio at the smallest tau^2", similar["median"][0] / dissimilar["median"][0],
           "<", 1.0, "Fig. 18: similar subclasses keep less fine structure")
    record("Spearman(tau^2, ratio of the similar superclasses)", analysis.spearman(similar["x"], similar["median"]),
           ">=", RANK, "Fig. 18: the similar superclasses' ratio grows as their subclasses move apart")
    record("similar ratio at the largest / at the smallest tau^2", similar["median"][-1] / similar["median"][0],
           ">=", GROWTH, "Fig. 18: it grows by an order of magnitude")
    return similar, dissimilar


@pytest.mark.claim("gmm-tau", applies_to="gmm-tau")
def test_gmm_tau(claim):
    for seed in claim.seeds:
        similar, dissimilar = _tau_checks(claim, claim.runs(seed=seed), seed)
        name = claim.experiment_info().extra.get("controls", {}).get("gmm", "gmm-tau-control")
        _tau_checks(claim, claim.runs(name, seed=seed), seed, control=True,
                    description="similar superclasses whose subclass spread does not grow (tau^2 = 0)")
    claim.figure("gmm_curves", x_name="tau^2", log_x=True, curves=[
        {"label": label, "x": c["x"], "y": c["median"], "y_seeds": c["seeds"], "reached_100": c["reached_100"]}
        for label, c in (("similar", similar), ("dissimilar", dissimilar))])
