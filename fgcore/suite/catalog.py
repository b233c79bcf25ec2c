"""The claims catalog: stable ids, where each claim stands in the paper, and what it says.

The report and the CI baseline key on these ids. Tolerances say how far a value may move between two
runs before `fgcore compare` calls it a regression (absolute, in the units of the value): a change that
moves a value further than another seed would is a real change.

- Every check has its own (CHECK_TOLERANCES, by claim and check name): the seed-to-seed spread of that
  check's value, max - min over the fast tier's base seeds 0-4, rounded up to two significant digits.
  Measured 2026-12-04 (shared 2-core machine, commit 834899a of branch verdict-rules) with
  `pytest claims -m fast -n 2 --dist loadgroup --fg-seeds 5 --fg-seed 0 --fg-report reports/seeds-0-4`;
  the spread itself is in the comment of each entry. A claim's slow-tier experiments (Fashion-MNIST)
  use the same tolerance; semantic-similarity, which has no fast experiment, was measured on the slow
  tier the same way. The gpu claims (long-training, densenet, vgg-no-structure, hparam-grid) can only
  be measured on the gpu tier: no check of theirs has a tolerance yet.
- `tolerance` of a claim is its primary value's: what compare uses for a check without its own, and
  against a baseline that holds only the primary value. For the CPU tiers it is the spread measured on
  2026-11-28 (twice, with different seed streams, the larger one rounded up), in each entry's comment;
  for the gpu claims it is a guess, marked so.

`seed_rule` says how a claim's verdict is taken over several seeds (`--fg-seeds N`): "median" compares
the median value with the threshold, "all" needs every seed to pass. On a negative control a check must
fail at every seed (fgcore.suite.record).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from ..errors import UnknownNameError


@dataclass(frozen=True)
class ClaimInfo:
    id: str
    paper: str
    statement: str
    tolerance: float       # allowed drift of the primary value between runs (absolute)
    seed_rule: str = "median"
    checks: Mapping[str, float] = field(default_factory=dict)   # check name -> its tolerance (CHECK_TOLERANCES)

    def check_tolerance(self, name: str) -> float | None:
        """The tolerance of one check (None where its spread was not measured: compare then uses the claim's)."""
        return self.checks.get(name)


# check name -> tolerance (its spread over base seeds 0-4, rounded up to two significant digits; see above)
CHECK_TOLERANCES: dict[str, dict[str, float]] = {
    "nc1-collapse": {"NC1 at the end / NC1 of the untrained network": 0.0066},   # spread 0.00657
    "nc2-etf": {"NC2 at the end / NC2 of the untrained network": 0.09},           # spread 0.0900
    "diag-first": {
        "darkness(diagonal) - darkness(superclass lines) at the first snapshot": 0.091,   # spread 0.0902
        # the lead is 19 or 39 epochs: snapshots lie at epochs 20, 40, 60, ...
        "epochs by which the diagonal emerges (darkness >= 0.5) before the superclass lines": 20,   # spread 20
    },
    "diag-darker-final": {"same-superclass D / diagonal D at the end": 0.35},    # spread 0.343
    "tsne-subclusters": {"mean t-SNE cluster purity over superclasses": 0.019},  # spread 0.0185
    "clp-recovers": {"(CLP - chance) / (LPO - chance)": 0.041},                  # spread 0.0404
    "random-coarse": {"same-superclass D / diagonal D at the end": 0.88,         # spread 0.876
                      "(CLP - chance) / (LPO - chance)": 0.023},                 # spread 0.0226
    # the slow tier (Fashion-MNIST natural groups), measured the same way with `-m slow -k semantic`
    "semantic-similarity": {"random-group ratio / natural-group ratio": 0.41},   # spread 0.406
    "fine-labels": {
        "D(halves) / D(different original classes) at the first snapshot": 0.033,   # spread 0.0323
        "NC1 on the 2C fine labels at the end / at the first snapshot": 0.018,       # spread 0.0171
        "darkness(diagonal) - darkness(halves) at the end": 0.036,                   # spread 0.0353
        "D(halves) / D(different original classes) at the end": 0.017,              # spread 0.0170
    },
    "grid-fine-structure": {
        "smallest (CLP - chance) / (LPO - chance) over the configurations": 0.032,                  # 0.0313
        "smallest same-superclass D / diagonal D at the end over the configurations": 0.087,        # 0.0869
        "largest / smallest same-superclass D / diagonal D over the configurations": 0.2,           # 0.198
    },
    "gmm-sigma": {
        "Spearman(sigma^2, ratio) over the runs at weight decay 0.0005": 0.012,           # spread 0.0118
        "ratio at the largest / at the smallest sigma^2, weight decay 0.0005": 26,        # spread 25.2
        "Spearman(sigma^2, ratio) over the runs at weight decay 5e-05": 0.012,            # spread 0.0118
        "ratio at the largest / at the smallest sigma^2, weight decay 5e-05": 26,         # spread 25.0
    },
    "gmm-tau": {
        "similar / dissimilar ratio at the smallest tau^2": 0.15,                         # spread 0.142
        "Spearman(tau^2, ratio of the similar superclasses) over the runs": 0.048,        # spread 0.0473
        "similar ratio at the largest / at the smallest tau^2": 21,                       # spread 20.2
    },
    "theory-separation": {"largest (trained ratio / untrained ratio) over d": 0.025},   # spread 0.0241
}

_CLAIMS = [
    ClaimInfo("nc1-collapse", "Sec. 4, Fig. 3",
              "NC1 on the coarse labels falls toward 0 as training proceeds", 0.01),  # spread 0.007 (150 epochs)
    ClaimInfo("nc2-etf", "Sec. 4, Fig. 3",
              "coarse class means approach a simplex ETF", 0.1),  # spread 0.089 (150 epochs)
    ClaimInfo("diag-first", "Sec. 4.1, Fig. 5; App. E, Fig. 32",
              "the diagonal line (same original class) emerges before the superclass lines", 0.1),  # spread 0.049
    ClaimInfo("diag-darker-final", "Sec. 4.1, Fig. 5d, 7; App. E, Fig. 33, 35",
              "at the end the diagonal is still clearly darker than the superclass lines", 0.5),  # spread 0.44; 0.34 (150 epochs)
    ClaimInfo("tsne-subclusters", "Sec. 4.2, Fig. 6, 8; App. E, Fig. 34",
              "within each superclass, the original classes form separate clusters", 0.05),  # spread 0.018; 0.017 (150 epochs)
    ClaimInfo("clp-recovers", "Sec. 4.3, Fig. 9; App. E, Fig. 36",
              "CLP reaches >= 93% on CIFAR-10 test from 5 coarse labels, close to LPO and OT", 0.05),  # spread 0.031; 0.045 (150 epochs)
    ClaimInfo("semantic-similarity", "Sec. 5, Fig. 10-13",
              "natural superclasses show weaker fine structure than random ones", 0.41),  # spread 0.406 (slow tier, 2026-12-04)
    ClaimInfo("fine-labels", "Sec. 6, Fig. 14; App. D, Fig. 29-31",
              "with 2C random fine labels, representations first form C clusters by original class, then "
              "separate the halves while keeping the C-class structure", 0.03),  # spread 0.020 (seeds 0-4, 2026-11-30)
    ClaimInfo("long-training", "Sec. 4.2, Fig. 7",
              "fine structure persists after 1000 epochs", 0.5),  # a guess: measurable on the gpu tier only
    ClaimInfo("densenet", "App. G, Fig. 40-43",
              "DenseNet-121 shows the same structure, its CLP close to LPO and OT", 0.5),  # a guess: gpu tier only
    ClaimInfo("vgg-no-structure", "App. H, Fig. 44-46",
              "VGG shows collapse without fine structure, even early", 0.2),  # a guess: gpu tier only
    ClaimInfo("random-coarse", "App. F, Fig. 37-39",
              "merging random class pairs gives the same observations", 1.0),  # spread 0.72, 0.90
    ClaimInfo("hparam-grid", "Sec. 4, App. C",
              "all 3x3 lr x wd runs but (0.1, 5e-3) reach ~0 training error", 0.005,
              seed_rule="all"),  # 0.5% training error: the claim's own threshold
    ClaimInfo("grid-fine-structure", "App. C, Fig. 21-28; Sec. 8",
              "every configuration of the lr x wd grid that fits keeps fine structure, and how strong it is "
              "depends on the configuration", 0.03),  # spread 0.027 (seeds 0-4, 2026-11-30)
    ClaimInfo("gmm-sigma", "App. B, Fig. 17",
              "the distance ratio grows with the separation sigma^2", 0.15),
    # spread 0.012 (Spearman over the 16 runs, seeds 0-4, 2026-11-30); one swapped pair moves it by ~0.01
    ClaimInfo("gmm-tau", "App. B.1, Fig. 18",
              "similar subclasses (small tau^2) keep less fine structure than dissimilar ones", 0.15),  # spread 0.073, 0.119; 0.141 with 2 replicates
    ClaimInfo("theory-separation", "Sec. 7, Thm. 7.1",
              "a one-hidden-layer net separates same-label clusters: within-cluster distance << across", 0.03),  # spread 0.024 (seeds 0-4, 2026-11-30)
]
CLAIMS: dict[str, ClaimInfo] = {c.id: replace(c, checks=CHECK_TOLERANCES.get(c.id, {})) for c in _CLAIMS}


def get(claim_id: str) -> ClaimInfo:
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise UnknownNameError(f"unknown claim id {claim_id!r}; the catalog has: {', '.join(CLAIMS)}") from None
