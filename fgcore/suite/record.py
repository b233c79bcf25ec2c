"""ClaimRecord: what a claim test measured, against which threshold, on its experiment and its controls.

A claim is a list of checks. Each check compares a measured value with a Threshold (comparison,
value, why, where the number comes from) on the claim's experiment, per seed, and measures the same
value on each of the check's negative controls: runs on which the claim must NOT hold. The verdict:

- a check holds on a set of runs when its values over seeds pass the threshold by the claim's seed rule
  (catalog: "median", or "all" for claims that must hold at every seed);
- a claim **holds** when every check holds on its experiment and every check fails on each of its
  controls; a check without a control, or a control on which a check holds, means the suite cannot
  tell, and the claim **fails** (the control shows "passes (defect)");
- a control that yields NaN / inf or misses its own precondition is an **error** of the suite.

The record is plain JSON (to_dict) so the report can be rebuilt without training.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .catalog import ClaimInfo
from ..vocabulary import (CONTROL_ERROR, ERROR, FAILS, FAILS_AS_EXPECTED, HOLDS, NOT_RUN, OPS, PASSES_DEFECT,
                         PRECONDITION_FAILED, SKIPPED)


class PreconditionFailed(AssertionError):
    """A claim about the terminal phase on a run that never reached it: a failure that says so."""


class SuiteError(AssertionError):
    """The suite, not the paper, is at fault: a control that yields NaN or misses its precondition,
    a check without a control, a fixture that does not name a control a claim needs."""


class NotMeasured(Exception):
    """Raised by a measure when its quantity does not exist on these runs (e.g. a line of the distance
    matrix never emerges within the run). The check fails at that seed, with this message."""


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


@dataclass(frozen=True)
class Threshold:
    """A declared threshold: `value op threshold` must hold. `value` may differ by tier ({"gpu": 0.9,
    "fast": 0.8}); `why` says what the number means, `source` where it comes from (a figure or section
    of the paper, a chance baseline, or a measurement stated next to it)."""

    op: str
    value: float | Mapping[str, float]
    why: str
    source: str

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"Threshold: op must be one of {', '.join(OPS)}, got {self.op!r}")
        if not self.why or not self.source:
            raise ValueError("Threshold: say why the number is what it is (why=) and where it comes from (source=)")

    def at(self, tier: str | None) -> float:
        if isinstance(self.value, Mapping):
            try:
                return float(self.value[tier or "fast"])
            except KeyError:
                raise ValueError(f"threshold ({self.why}) has no value for tier {tier!r}; "
                                 f"it has {sorted(self.value)}") from None
        return float(self.value)


@dataclass
class Series:
    """One check's values over seeds on one set of runs (the experiment, or one control).

    A value is None where the quantity could not be measured at that seed (NotMeasured): it counts as
    a value that does not pass."""

    op: str
    threshold: float
    rule: str
    values: dict[int, float | None] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)

    def holds_for(self, value: float | None) -> bool:
        return value is not None and math.isfinite(value) and bool(OPS[self.op](value, self.threshold))

    def _failing(self) -> float:
        """Where an unmeasured value sorts: on the failing side of every threshold."""
        return -math.inf if self.op in (">=", ">") else math.inf

    @property
    def value(self) -> float | None:
        """The summary over seeds: the median (unmeasured seeds count as failing); None if unmeasured."""
        if not self.values:
            return None
        median = statistics.median(self._failing() if v is None else v for v in self.values.values())
        return None if median == self._failing() else float(median)

    @property
    def spread(self) -> float:
        measured = [v for v in self.values.values() if v is not None and math.isfinite(v)]
        return float(max(measured) - min(measured)) if measured else 0.0

    @property
    def finite(self) -> bool:
        return all(v is None or math.isfinite(v) for v in self.values.values())

    @property
    def passed(self) -> bool:
        if not self.values:
            return False
        if self.rule == "all":
            return all(self.holds_for(v) for v in self.values.values())
        return self.holds_for(self.value)

    @property
    def note(self) -> str | None:
        return "; ".join(f"seed {s}: {n}" for s, n in sorted(self.notes.items())) or None

    def to_dict(self) -> dict[str, Any]:
        return {"values": {str(k): v for k, v in self.values.items()}, "value": self.value,
                "spread": self.spread, "passed": self.passed, "note": self.note}


@dataclass
class ControlRef:
    """One negative control of a claim: a role (what kind of control) filled by an experiment."""

    role: str
    experiment: str
    description: str
    error: str | None = None


@dataclass
class CheckRecord:
    name: str
    threshold: Threshold
    limit: float
    rule: str
    series: Series
    controls: dict[tuple[str, str], Series] = field(default_factory=dict)   # (role, experiment) -> values

    def control_status(self, key: tuple[str, str], ref: ControlRef | None) -> str:
        series = self.controls[key]
        if (ref is not None and ref.error) or not series.finite:
            return CONTROL_ERROR
        return PASSES_DEFECT if series.passed else FAILS_AS_EXPECTED


class ClaimRecord:
    """Collects one claim test's measurements; see the module docstring."""

    def __init__(self, info: ClaimInfo, *, tier: str | None, experiment: str | None, nodeid: str,
                 seeds: list[int]):
        self.info, self.tier, self.experiment, self.nodeid = info, tier, experiment, nodeid
        self.seeds = seeds
        self.checks: dict[str, CheckRecord] = {}
        self.control_refs: dict[tuple[str, str], ControlRef] = {}
        self.experiments: list[str] = [experiment] if experiment else []
        self.run_keys: dict[str, str] = {}   # run key -> short description
        self.figures: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.data_sources: set[str] = set()
        self.started = time.perf_counter()
        self.outcome: str | None = None       # set by the plugin: passed / failed / error / skipped
        self.message: str | None = None

    # -- recording -----------------------------------------------------------------------------
    def _check(self, name: str, threshold: Threshold) -> CheckRecord:
        limit = threshold.at(self.tier)
        check = self.checks.get(name)
        if check is None:
            check = self.checks[name] = CheckRecord(name, threshold, limit, self.info.seed_rule,
                                              Series(threshold.op, limit, self.info.seed_rule))
        elif (check.threshold.op, check.limit) != (threshold.op, limit):
            raise ValueError(f"check {name!r} recorded with two different thresholds")
        return check

    def record(self, name: str, threshold: Threshold, value: float | None, *, seed: int = 0,
               note: str | None = None) -> bool:
        """Record the claim's check `name` at one seed (value None: not measurable, with a note)."""
        series = self._check(name, threshold).series
        series.values[seed] = None if value is None else float(value)
        if note:
            series.notes[seed] = note
        return series.holds_for(series.values[seed])

    def add_control(self, role: str, experiment: str, description: str) -> ControlRef:
        ref = self.control_refs.get((role, experiment))
        if ref is None:
            ref = self.control_refs[(role, experiment)] = ControlRef(role, experiment, description)
            if experiment not in self.experiments:
                self.experiments.append(experiment)
        return ref

    def control_error(self, role: str, experiment: str, description: str, message: str) -> None:
        """A control that could not be measured (missed precondition, broken run): an error of the suite."""
        ref = self.add_control(role, experiment, description)
        ref.error = message if not ref.error else ref.error

    def record_control(self, name: str, threshold: Threshold, value: float | None, *, role: str,
                       experiment: str, description: str, seed: int = 0, note: str | None = None) -> None:
        """Record check `name` measured at one seed on a control, where it is expected NOT to hold."""
        check = self._check(name, threshold)
        self.add_control(role, experiment, description)
        series = check.controls.setdefault((role, experiment), Series(threshold.op, check.limit, check.rule))
        series.values[seed] = None if value is None else float(value)
        if note:
            series.notes[seed] = note

    # The plain form for hand-written claims (and tests): a comparison stated inline.
    def check(self, name: str, value: float, op: str, threshold: float, *, why: str, seed: int = 0,
              source: str = "stated in the test") -> bool:
        return self.record(name, Threshold(op, threshold, why, source), value, seed=seed)

    def control(self, name: str, value: float, op: str, threshold: float, *, seed: int = 0,
                description: str | None = None, role: str = "control", experiment: str | None = None) -> None:
        known = self.checks.get(name)
        why = known.threshold.why if known else "negative control"
        source = known.threshold.source if known else "stated in the test"
        self.record_control(name, Threshold(op, threshold, why, source), value, role=role,
                            experiment=experiment or description or role, description=description or role,
                            seed=seed)

    def use_run(self, run: Any, experiment: str | None = None) -> Any:
        """Note that a Run was used (its cache key goes to the report) and return it."""
        self.run_keys[run.key] = f"{experiment or self.experiment}: {run.spec.short}"
        source = run.meta.get("data_source")
        if source:
            self.data_sources.add(source)
        return run

    def figure(self, kind: str, **data: Any) -> None:
        self.figures.append({"kind": kind, "data": _jsonable(data)})

    def note(self, text: str) -> None:
        self.notes.append(text)

    # -- verdicts ------------------------------------------------------------------------------
    @property
    def holds(self) -> bool:
        """Every check holds on the experiment (the controls are judged separately)."""
        return bool(self.checks) and all(c.series.passed for c in self.checks.values())

    def control_statuses(self) -> dict[tuple[str, str], str]:
        """Per control: error if it errs anywhere, passes (defect) if any check holds on it, else fails."""
        out = {key: (CONTROL_ERROR if ref.error else FAILS_AS_EXPECTED) for key, ref in self.control_refs.items()}
        for check in self.checks.values():
            for key in check.controls:
                status = check.control_status(key, self.control_refs.get(key))
                if status == CONTROL_ERROR or (status == PASSES_DEFECT and out.get(key) != CONTROL_ERROR):
                    out[key] = status
        return out

    @property
    def control_verdict(self) -> str | None:
        statuses = set(self.control_statuses().values())
        if not statuses:
            return None
        for status in (CONTROL_ERROR, PASSES_DEFECT):
            if status in statuses:
                return status
        return FAILS_AS_EXPECTED

    def problems(self) -> tuple[list[str], list[str]]:
        """(claim problems, suite errors): why the claim does not hold, and what is wrong with the suite."""
        failed, suite = [], []
        if not self.checks:
            suite.append("the test recorded no check")
        for c in self.checks.values():
            if not c.series.passed:
                shown = "not measured" if c.series.value is None else f"{c.series.value:.4g}"
                failed.append(f"{c.name}: {shown} {c.threshold.op} {c.limit:g} does not hold ({c.threshold.why})"
                              + (f" [{c.series.note}]" if c.series.note else ""))
            if not c.controls:
                suite.append(f"check {c.name!r} has no negative control on which it must fail")
            for key, series in c.controls.items():
                status = c.control_status(key, self.control_refs.get(key))
                role, experiment = key
                if status == PASSES_DEFECT:
                    failed.append(f"check {c.name!r} holds on its control {experiment} ({role}: {series.value:.4g} "
                                  f"{c.threshold.op} {c.limit:g}) too, so it cannot tell")
                elif status == CONTROL_ERROR and not (self.control_refs.get(key) and self.control_refs[key].error):
                    suite.append(f"check {c.name!r} gave a non-finite value on its control {experiment} "
                                 f"({series.values})")
        suite += [f"control {ref.experiment} ({ref.role}): {ref.error}" for ref in self.control_refs.values()
                  if ref.error]
        return failed, suite

    def conclude(self) -> None:
        """Raise unless the claim holds and every check fails on each of its controls."""
        failed, suite = self.problems()
        where = f"claim {self.info.id} ({self.experiment or ''})"
        if suite:
            raise SuiteError(f"{where}: error of the suite: " + " | ".join(suite + failed))
        if failed:
            raise AssertionError(f"{where}: " + " | ".join(failed))

    def to_dict(self) -> dict[str, Any]:
        statuses = self.control_statuses()
        checks = []
        for c in self.checks.values():
            entry = {"name": c.name, "op": c.threshold.op, "threshold": c.limit, "why": c.threshold.why,
                     "source": c.threshold.source, "rule": c.rule, **c.series.to_dict(), "controls": []}
            for key, series in c.controls.items():
                ref = self.control_refs.get(key) or ControlRef(*key, description=key[1])
                entry["controls"].append({"role": ref.role, "experiment": ref.experiment,
                                          "description": ref.description, **series.to_dict(),
                                          "status": c.control_status(key, ref)})
            checks.append(entry)
        primary = checks[0] if checks else None
        controls = [{"role": ref.role, "experiment": ref.experiment, "description": ref.description,
                     "status": statuses[key], "message": ref.error} for key, ref in self.control_refs.items()]
        return _jsonable({
            "id": self.info.id, "paper": self.info.paper, "statement": self.info.statement,
            "tier": self.tier, "experiment": self.experiment, "experiments": self.experiments,
            "test": self.nodeid, "seeds": self.seeds, "seed_rule": self.info.seed_rule,
            "tolerance": self.info.tolerance,
            "value": primary["value"] if primary else None,
            "threshold": primary["threshold"] if primary else None,
            "op": primary["op"] if primary else None,
            "checks": checks, "verdict": self.outcome_verdict(), "controls": controls,
            "control": {"verdict": self.control_verdict,
                        "description": "; ".join(f"{ref.experiment}: {ref.description}"
                                                 for ref in self.control_refs.values())},
            "runs": self.run_keys, "data_sources": sorted(self.data_sources), "figures": self.figures,
            "notes": self.notes, "seconds": time.perf_counter() - self.started,
            "outcome": self.outcome, "message": self.message,
        })

    def outcome_verdict(self) -> str:
        if self.outcome == "skipped":
            return SKIPPED
        if self.outcome == "precondition":
            return PRECONDITION_FAILED
        if self.outcome in ("error", "suite-error"):
            return ERROR
        if not self.checks:
            return ERROR if self.outcome else NOT_RUN
        failed, suite = self.problems()
        if suite:
            return ERROR
        return FAILS if failed else HOLDS
