"""Sec. 4, Fig. 3: Neural Collapse happens on the coarse labels (NC1 -> 0, class means -> simplex ETF).

Negative control: the untrained network (its epoch-0 features in place of the final ones).
"""

import pytest

from claim_checks import NC1_FACTOR, NC2_FACTOR
from fgcore import analysis

UNTRAINED = "untrained network: epoch-0 features in place of the final ones"


@pytest.mark.claim("nc1-collapse", applies_to="coarse")
def test_nc1_collapse(claim):
    for seed in claim.seeds:
        run = claim.run(seed=seed)
        claim.require_terminal_phase(run)
        curve = analysis.collapse_curve(run)
        nc1 = dict(zip(curve["epochs"], curve["nc1"]))
        start, end, terminal = nc1[curve["epochs"][0]], curve["nc1"][-1], nc1[curve["terminal_epoch"]]
        claim.check("NC1 at the end / NC1 of the untrained network", end / start, "<=", NC1_FACTOR, seed=seed,
                    why="Fig. 3: NC1 falls by orders of magnitude; a tenfold fall at least")
        claim.check("NC1 at the end / NC1 where the terminal phase began", end / terminal, "<", 1.0, seed=seed,
                    why="Papyan et al.: collapse continues through the terminal phase")
        claim.control("NC1 at the end / NC1 of the untrained network", start / start, "<=", NC1_FACTOR,
                      seed=seed, description=UNTRAINED)
        claim.control("NC1 at the end / NC1 where the terminal phase began", start / terminal, "<", 1.0,
                      seed=seed)
    claim.figure("nc_curves", **curve)


@pytest.mark.claim("nc2-etf", applies_to="coarse")
def test_nc2_etf(claim):
    for seed in claim.seeds:
        run = claim.run(seed=seed)
        claim.require_terminal_phase(run)
        curve = analysis.collapse_curve(run)
        start, end = curve["nc2"][0], curve["nc2"][-1]
        claim.check("NC2 at the end / NC2 of the untrained network", end / start, "<=", NC2_FACTOR, seed=seed,
                    why="Fig. 3: the class means approach a simplex ETF (NC2 -> 0); at least halved")
        claim.control("NC2 at the end / NC2 of the untrained network", start / start, "<=", NC2_FACTOR,
                      seed=seed, description=UNTRAINED)
    claim.figure("nc_curves", **curve)
