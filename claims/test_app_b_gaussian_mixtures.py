"""App. B, Fig. 17-18: a 2-layer MLP on coarsely labelled Gaussian mixtures. The mean squared distance
ratio (same superclass, different subclass / same subclass) grows with the separation sigma^2 of the
cluster means; subclasses that are similar (small tau^2, App. B.1) keep less fine structure.

Control (shared_means): the same mixtures with the two subclasses of every superclass sharing one mean,
whatever sigma^2 or tau^2: no ratio can grow, and no superclass keeps more structure than another.
"""

import measures as m
import pytest
import thresholds as t

from fgcore.suite.checks import Check

WEIGHT_DECAYS = (5e-4, 5e-5)   # the trend must hold at these; at 5e-3 the paper's runs do not all fit
SIGMA = [check for wd in WEIGHT_DECAYS for check in (
    Check(f"Spearman(sigma^2, ratio) over the runs at weight decay {wd:g}", m.sigma_rank(wd), t.RANK,
          controls=("shared_means",)),
    Check(f"ratio at the largest / at the smallest sigma^2, weight decay {wd:g}", m.sigma_growth(wd), t.GROWTH,
          controls=("shared_means",)))]
TAU = [
    Check("similar / dissimilar ratio at the smallest tau^2", m.similar_over_dissimilar, t.SIMILAR_LESS,
          controls=("shared_means",)),
    Check("Spearman(tau^2, ratio of the similar superclasses) over the runs", m.tau_rank, t.RANK,
          controls=("shared_means",)),
    Check("similar ratio at the largest / at the smallest tau^2", m.tau_growth, t.GROWTH, controls=("shared_means",)),
]


def _curve(label, c):
    return {"label": label, "x": c["x"], "y": c["median"], "y_seeds": c["seeds"], "reached_100": c["reached_100"]}


@pytest.mark.claim("gmm-sigma", applies_to="gmm-sigma")
def test_gmm_sigma(claim):
    curves = m.sigma_curves(claim.verify(SIGMA, terminal_phase=False))
    for wd, curve in sorted(curves.items(), reverse=True):
        claim.note(f"weight decay {wd:g}: median ratio " + ", ".join(
            f"{x:g}: {y:.2f}{'' if ok else ' (train acc < 100%)'}"
            for x, y, ok in zip(curve["x"], curve["median"], curve["reached_100"])))
    claim.figure("gmm_curves", x_name="sigma^2", log_x=True,
                 curves=[_curve(f"wd={wd:g}", c) for wd, c in sorted(curves.items(), reverse=True)])


@pytest.mark.claim("gmm-tau", applies_to="gmm-tau")
def test_gmm_tau(claim):
    similar, dissimilar = m.tau_curves(claim.verify(TAU, terminal_phase=False))
    claim.figure("gmm_curves", x_name="tau^2", log_x=True,
                 curves=[_curve("similar", similar), _curve("dissimilar", dissimilar)])
