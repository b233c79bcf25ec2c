"""The words a claims record uses for its verdicts, and how the report writes comparisons.

The report, `fgcore compare` and the baselines match these strings exactly (never by substring), so
a record written with another spelling shows as an unknown verdict instead of being misread.
"""

from __future__ import annotations

# The verdict of a record (one claim on one experiment).
HOLDS = "holds"
FAILS = "fails"
PRECONDITION_FAILED = "precondition failed"
ERROR = "error"
SKIPPED = "skipped"
NOT_RUN = "not run"
VERDICTS = (HOLDS, FAILS, PRECONDITION_FAILED, ERROR, SKIPPED, NOT_RUN)
NOT_COMPARED = (SKIPPED, NOT_RUN)   # records that measured nothing

# What a negative control did with a check (and, taken over its checks, with the claim): a control
# must make every check fail; one on which a check holds shows that the check cannot fail, and one
# that yields no usable value (NaN/inf, or a missed precondition) is an error of the suite.
FAILS_AS_EXPECTED = "fails as expected"
PASSES_DEFECT = "passes (defect)"
CONTROL_ERROR = "error"
CONTROL_STATUSES = (FAILS_AS_EXPECTED, PASSES_DEFECT, CONTROL_ERROR)

# Comparison operators of a check, as the report prints them.
OP_SYMBOLS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}

TIER_ORDER = {"fast": 0, "slow": 1, "gpu": 2}
