"""The words fgcore and its claims suite share, spelled once: tiers, profiles, comparisons, verdicts,
control roles and the terminal phase."""

from __future__ import annotations

import operator

TIERS = ("fast", "slow", "gpu")
PROFILES = ("paper", "quick")

TIER_ORDER = {tier: i for i, tier in enumerate(TIERS)}

# Comparisons a threshold may use, and how the report prints them.
OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
OP_SYMBOLS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}

# "Terminal phase": >= 99.5% training accuracy on the training labels (claims about it require it of
# every run they read, controls and comparison runs included).
TERMINAL_ACCURACY = 0.995

# Verdicts of a claim record (one claim on one experiment), in the order the report lists them. The
# report, `fgcore compare` and the baselines match these strings exactly, never by substring.
HOLDS = "holds"
FAILS = "fails"
PRECONDITION_FAILED = "precondition failed"
ERROR = "error"
SKIPPED = "skipped"
NOT_RUN = "not run"
VERDICTS = (HOLDS, FAILS, PRECONDITION_FAILED, ERROR, SKIPPED, NOT_RUN)
NOT_COMPARED = (SKIPPED, NOT_RUN)   # records that measured nothing

# What a negative control did with a check (and, over its checks, with the claim): a control must make
# every check fail; one on which a check holds shows that the check cannot fail, and one that yields no
# usable value (NaN / inf, or a missed precondition) is an error of the suite.
FAILS_AS_EXPECTED = "fails as expected"
PASSES_DEFECT = "passes (defect)"
CONTROL_ERROR = "error"
CONTROL_STATUSES = (FAILS_AS_EXPECTED, PASSES_DEFECT, CONTROL_ERROR)
# How the seeds of a session (--fg-seeds N) make one verdict of a check on a control: it holds there when
# it holds at ANY seed, so a control "fails as expected" only when the check fails at every seed.
CONTROL_SEED_RULE = "any"

# Roles of negative controls: the keys of a fixture's [controls] table. Each check of a claim names the
# roles on which it must fail; the fixture says which experiment fills each role, except UNTRAINED, which
# the suite fills for every experiment with the experiment's own runs at epoch 0.
UNTRAINED = "untrained"
CONTROL_ROLES = {
    "no_collapse": "the same data, a network that reaches the terminal phase without collapsing",
    "no_subclusters": "data whose superclasses hold no sub-clusters (one Gaussian split by a hyperplane)",
    "collapsed": "the same data and network in a regime whose terminal phase erases the fine structure "
                 "(the Neural-Collapse picture, Fig. 4b)",
    "no_class_structure": "fine labels on data whose original classes share one distribution",
    "original_labels": "the same data and network trained on the original labels, measured on the same "
                       "random split into halves (the halves are never told apart)",
    "shared_means": "Gaussian mixtures whose subclasses share one mean (no ratio can grow)",
    "merged_clusters": "the Sec. 7 data with C1 and C2 sharing one mean",
    "random_grouping": "another random grouping of the same sizes in the natural groups' place",
    "keeps_structure": "a network that keeps fine structure (ResNet-18), in VGG's place",
    "excluded_run": "the grid point the paper reports as not fitting",
    "seed_replicates": "one configuration of a grid trained at several seeds: how much a measure varies "
                       "when the configuration does not",
    UNTRAINED: "the experiment's own runs at epoch 0, before any training (filled by the suite for every "
               "experiment; no fixture names it)",
}
