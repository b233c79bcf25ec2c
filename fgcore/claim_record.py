"""ClaimRecord: what a claim test measured, against which threshold, and its verdict.

A claim test records named checks (value, comparison, threshold, why that threshold) per seed, and
the same checks on its negative control. The verdict of a check over seeds follows the claim's
seed rule (catalog: "median" or "all"); the claim holds when every check holds; the control is
"as expected" when the claim's checks do NOT all hold on it. A control on which the claim's checks
all pass is a defect of the check (it cannot fail), and the test fails.
The record is plain JSON (to_dict) so the report can be rebuilt without training.
"""

from __future__ import annotations

import math
import operator
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from .catalog import ClaimInfo

OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


class PreconditionFailed(AssertionError):
    """A claim about the terminal phase on a run that never reached it: a failure that says so."""


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


@dataclass
class Check:
    name: str
    op: str
    threshold: float
    why: str
    rule: str
    values: dict[int, float] = field(default_factory=dict)

    def holds_for(self, value: float) -> bool:
        return bool(OPS[self.op](value, self.threshold))

    @property
    def value(self) -> float:
        """The summary value over seeds: the median (also under the "all" rule, for display)."""
        return float(statistics.median(self.values.values()))

    @property
    def spread(self) -> float:
        vals = list(self.values.values())
        return float(max(vals) - min(vals)) if vals else 0.0

    @property
    def passed(self) -> bool:
        if not self.values:
            return False
        if self.rule == "all":
            return all(self.holds_for(v) for v in self.values.values())
        return self.holds_for(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "threshold": self.threshold, "why": self.why,
                "rule": self.rule, "values": {str(k): v for k, v in self.values.items()},
                "value": self.value if self.values else None, "spread": self.spread, "passed": self.passed}


class ClaimRecord:
    """Collects one claim test's measurements; see the module docstring."""

    def __init__(self, info: ClaimInfo, *, tier: str | None, experiment: str | None, nodeid: str,
                 seeds: list[int]):
        self.info, self.tier, self.experiment, self.nodeid = info, tier, experiment, nodeid
        self.seeds = seeds
        self.checks: dict[str, Check] = {}
        self.control_checks: dict[str, Check] = {}
        self.control_description = ""
        self.experiments: list[str] = [experiment] if experiment else []
        self.run_keys: dict[str, str] = {}   # run key -> short description
        self.figures: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.data_sources: set[str] = set()
        self.started = time.perf_counter()
        self.outcome: str | None = None       # set by the plugin: passed / failed / error / skipped
        self.message: str | None = None

    # -- recording -----------------------------------------------------------------------------
    def _record(self, table: dict[str, Check], name: str, value: float, op: str, threshold: float,
                why: str, seed: int) -> bool:
        if op not in OPS:
            raise ValueError(f"check {name!r}: op must be one of {', '.join(OPS)}, got {op!r}")
        value = float(value)
        check = table.get(name)
        if check is None:
            check = table[name] = Check(name, op, float(threshold), why, self.info.seed_rule)
        elif (check.op, check.threshold) != (op, float(threshold)):
            raise ValueError(f"check {name!r} recorded with two different thresholds")
        check.values[seed] = value
        return check.holds_for(value)

    def check(self, name: str, value: float, op: str, threshold: float, *, why: str, seed: int = 0) -> bool:
        """Record one measured comparison of the claim (returns whether this seed's value holds)."""
        return self._record(self.checks, name, value, op, threshold, why, seed)

    def control(self, name: str, value: float, op: str, threshold: float, *, seed: int = 0,
                description: str | None = None) -> bool:
        """Record the same comparison on the negative control, where it is expected NOT to hold."""
        if description:
            self.control_description = description
        return self._record(self.control_checks, name, value, op, threshold, "negative control", seed)

    def use_run(self, run: Any, experiment: str | None = None) -> Any:
        """Note that a Run was used (its cache key goes to the report) and return it."""
        self.run_keys[run.key] = f"{experiment or self.experiment}: {run.spec.short}"
        if experiment and experiment not in self.experiments:
            self.experiments.append(experiment)
        source = run.meta.get("data_source")
        if source:
            self.data_sources.add(source)
        return run

    def require_terminal_phase(self, run: Any, minimum: float = 0.995) -> None:
        """Precondition of terminal-phase claims: >= 99.5% training accuracy on the training labels."""
        accuracy = run.final_train_accuracy()
        if accuracy < minimum:
            raise PreconditionFailed(
                f"precondition not met: run {run.spec.short} [{run.key[:12]}] reached {accuracy:.2%} training "
                f"accuracy on its training labels, below the {minimum:.1%} of the terminal phase; the claim "
                f"is about the terminal phase, so train longer or fix the regime (not the threshold)")

    def figure(self, kind: str, **data: Any) -> None:
        self.figures.append({"kind": kind, "data": _jsonable(data)})

    def note(self, text: str) -> None:
        self.notes.append(text)

    # -- verdicts ------------------------------------------------------------------------------
    @property
    def holds(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks.values())

    @property
    def control_holds(self) -> bool | None:
        """Whether the claim's checks all pass on the control (None: no control recorded)."""
        if not self.control_checks:
            return None
        return all(c.passed for c in self.control_checks.values())

    def conclude(self) -> None:
        """Raise AssertionError unless the claim holds and its control fails (what the test asserts)."""
        problems = []
        if not self.checks:
            problems.append("the test recorded no check")
        problems += [f"{c.name}: {c.value:.4g} {c.op} {c.threshold:g} does not hold ({c.why})"
                     for c in self.checks.values() if not c.passed]
        if self.control_holds is None:
            problems.append("no negative control was recorded")
        elif self.control_holds:
            problems.append("the negative control (" + (self.control_description or "?") + ") passes the "
                            "claim's checks too, so the check cannot tell: " + "; ".join(
                                f"{c.name}: {c.value:.4g}" for c in self.control_checks.values()))
        if problems:
            raise AssertionError(f"claim {self.info.id} ({self.experiment or ''}): " + " | ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        checks = [c.to_dict() for c in self.checks.values()]
        primary = checks[0] if checks else None
        verdict = self.outcome_verdict()
        return _jsonable({
            "id": self.info.id, "paper": self.info.paper, "statement": self.info.statement,
            "tier": self.tier, "experiment": self.experiment, "experiments": self.experiments,
            "test": self.nodeid, "seeds": self.seeds, "seed_rule": self.info.seed_rule,
            "tolerance": self.info.tolerance,
            "value": primary["value"] if primary else None,
            "threshold": primary["threshold"] if primary else None,
            "op": primary["op"] if primary else None,
            "checks": checks, "verdict": verdict,
            "control": {"description": self.control_description,
                        "checks": [c.to_dict() for c in self.control_checks.values()],
                        "verdict": (None if self.control_holds is None else
                                    "passes (defect)" if self.control_holds else "fails as expected")},
            "runs": self.run_keys, "data_sources": sorted(self.data_sources), "figures": self.figures,
            "notes": self.notes, "seconds": time.perf_counter() - self.started,
            "outcome": self.outcome, "message": self.message,
        })

    def outcome_verdict(self) -> str:
        if self.outcome == "skipped":
            return "skipped"
        if self.outcome == "error":
            return "error"
        if self.outcome == "failed" and self.message and "precondition not met" in self.message:
            return "precondition failed"
        if not self.checks:
            return "error" if self.outcome else "not run"
        return "holds" if self.holds else "fails"
