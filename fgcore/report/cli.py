"""`fgcore report` and `fgcore compare`, registered by fgcore/cli.py through register(subparsers).

Exit codes: 0 done / no regression; 1 `compare` found a regression; 2 bad input (fgcore.cli.main turns
ValueError and FileNotFoundError into a one-line message and 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..vocabulary import TIERS


def _cmd_report(args: argparse.Namespace) -> int:
    from . import build

    index = build(args.records, args.out, dpi=args.dpi)
    print(f"report: {index.resolve()}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from . import baseline as baseline_io
    from .compare import compare, format_table

    baseline_path = Path(args.baseline)
    if not baseline_path.exists():
        if not args.update:
            raise FileNotFoundError(f"no baseline at {baseline_path}; create it on purpose with "
                                    f"`fgcore compare {args.baseline} {args.current} --update`")
        written = baseline_io.write(baseline_path, args.current, args.tier)
        print(f"no baseline yet: wrote {written} from {args.current}")
        return 0
    result = compare(baseline_path, args.current, tiers=args.tier, accept_missing=args.accept_missing or ())
    print(format_table(result))
    if args.update:
        written = baseline_io.write(baseline_path, args.current, args.tier)
        print(f"baseline updated on request (--update): {written}")
        return 0
    return 1 if result.failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="build the HTML claims report (index.html) from a claims JSON",
                              description="Write OUT/index.html (self-contained) and OUT/claims.json from the "
                                          "records of a claims session.")
    p.add_argument("records", help="claims JSON of a session: reports/sessions/*.json, DIR/claims.json, or DIR")
    p.add_argument("-o", "--out", default="reports/latest", help="report directory (default reports/latest)")
    p.add_argument("--dpi", type=int, default=None, help="figure resolution (default 100)")
    p.set_defaults(func=_cmd_report)

    p = subparsers.add_parser(
        "compare", help="compare claim verdicts and values with a baseline; exit 1 on a regression",
        description="Exit 1 when a claim's verdict flips, a check's status on one of its negative controls "
                    "changes, its value moves beyond the claim's tolerance, or a claim the baseline measured is "
                    "skipped, not run or missing; new claims, and claims the baseline skipped too, are reported.")
    p.add_argument("baseline", help="baseline (reports/baseline/fast.json) or an earlier claims JSON")
    p.add_argument("current", help="claims JSON of the run to check (or a report directory)")
    p.add_argument("--tier", action="append", choices=TIERS, default=None,
                   help="compare (and --update) only records of this tier; repeat for several (default: all)")
    p.add_argument("--accept-missing", action="append", default=None, metavar="ID[,ID...]",
                   help="accept on purpose that these claims (an id, or ID:EXPERIMENT) are skipped, not run or "
                        "missing in CURRENT: reported as accepted instead of failing; repeat or separate by commas")
    p.add_argument("--update", action="store_true",
                   help="rewrite BASELINE from CURRENT (on purpose: after a deliberate change of results)")
    p.set_defaults(func=_cmd_compare)
