"""ClaimRecord: what a claim test measured, against which threshold, on its experiment and its controls.

A claim is a list of checks. Each check compares a measured value with a Threshold (comparison,
value, why, where the number comes from) on the claim's experiment, per seed, and measures the same
value on each of the check's negative controls: runs on which the claim must NOT hold. The verdict:

- a check holds on its experiment when its values over seeds pass the threshold by the claim's seed rule
  (catalog: "median", or "all" for claims that must hold at every seed); a non-finite value at any
  seed is an **error** of the suite, never absorbed by the median;
- a check fails on a control only when it fails there at every seed ("fails at k/k seeds"): a check that
  holds on a control at any seed cannot tell, and the control shows "passes (defect)" with the seeds;
- a claim **holds** when every check holds on its experiment and fails on each of its controls; a check
  without a control, or a control on which a check holds, means the suite cannot tell, and the claim
  **fails**;
- a control that yields NaN / inf or misses its own precondition is an **error** of the suite.

Besides, every check is measured on the experiment's untrained network (its runs at epoch 0,
fgcore.train.run.UntrainedRun), whether or not it names the `untrained` control role: the report shows
where a threshold is met before any training. The experiment's value carries a bootstrap interval over
its seeds (fgcore.suite.seed_interval).

The record is plain JSON (to_dict) so the report can be rebuilt without training.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .catalog import ClaimInfo
from .seed_interval import seed_interval
from ..vocabulary import (CONTROL_ERROR, CONTROL_SEED_RULE, ERROR, FAILS, FAILS_AS_EXPECTED, HOLDS, NOT_RUN, OPS,
                         PASSES_DEFECT, PRECONDITION_FAILED, SKIPPED)


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


def _put(series: Series, seed: int, value: float | None, note: str | None) -> None:
    series.values[seed] = None if value is None else float(value)
    if note:
        series.notes[seed] = note


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
    """One check's values over seeds on one set of runs (the experiment, a control, or the untrained network).

    A value is None where the quantity could not be measured at that seed (NotMeasured): it counts as
    a value that does not pass. `rule` says how the seeds make one verdict: "median" (the median passes),
    "all" (every seed passes) or "any" (some seed passes: what makes a check hold on a control)."""

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
        """The summary over seeds: the median (unmeasured seeds count as failing); None if unmeasured, NaN
        where a seed gave a non-finite value (there is no median of those)."""
        if not self.values:
            return None
        if not self.finite:
            return math.nan
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
    def passing_seeds(self) -> list[int]:
        """The seeds at which the value passes the threshold."""
        return [seed for seed, v in sorted(self.values.items()) if self.holds_for(v)]

    @property
    def passed(self) -> bool:
        if not self.values or not self.finite:
            return False
        if self.rule == "all":
            return len(self.passing_seeds) == len(self.values)
        if self.rule == CONTROL_SEED_RULE:
            return bool(self.passing_seeds)
        return self.holds_for(self.value)

    @property
    def note(self) -> str | None:
        return "; ".join(f"seed {s}: {n}" for s, n in sorted(self.notes.items())) or None

    def seeds_text(self) -> str:
        """"at 2/5 seeds (1, 3)": where the value passes."""
        passing = self.passing_seeds
        return (f"at {len(passing)}/{len(self.values)} seeds"
                + (f" ({', '.join(map(str, passing))})" if 0 < len(passing) < len(self.values) else ""))

    def to_dict(self, *, interval: bool = False) -> dict[str, Any]:
        out = {"values": {str(k): v for k, v in self.values.items()}, "value": self.value, "spread": self.spread,
               "rule": self.rule, "passed": self.passed, "passing_seeds": self.passing_seeds, "note": self.note}
        if interval:
            out["interval"] = seed_interval(self.values)
        return out


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
    untrained: Series | None = None    # the experiment's untrained network (any seed passing counts)

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
        _put(series, seed, value, note)
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
        series = check.controls.setdefault((role, experiment), Series(threshold.op, check.limit, CONTROL_SEED_RULE))
        _put(series, seed, value, note)

    def record_untrained(self, name: str, threshold: Threshold, value: float | None, *, seed: int = 0,
                         note: str | None = None) -> None:
        """Record check `name` at one seed on the experiment's untrained network (value None: not
        measurable there, with the reason)."""
        check = self._check(name, threshold)
        if check.untrained is None:
            check.untrained = Series(threshold.op, check.limit, CONTROL_SEED_RULE)
        _put(check.untrained, seed, value, note)

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
            if not c.series.finite:
                suite.append(f"check {c.name!r} gave a non-finite value on its experiment ({c.series.values}); "
                             f"a seed without a usable value is an error, not absorbed by the median")
            elif not c.series.passed:
                shown = "not measured" if c.series.value is None else f"{c.series.value:.4g}"
                failed.append(f"{c.name}: {shown} {c.threshold.op} {c.limit:g} does not hold ({c.threshold.why})"
                              + (f" [{c.series.note}]" if c.series.note else ""))
            if not c.controls:
                suite.append(f"check {c.name!r} has no negative control on which it must fail")
            for key, series in c.controls.items():
                status = c.control_status(key, self.control_refs.get(key))
                role, experiment = key
                if status == PASSES_DEFECT:
                    shown = ", ".join(f"{series.values[s]:.4g}" for s in series.passing_seeds)
                    failed.append(f"check {c.name!r} holds on its control {experiment} ({role}: {shown} "
                                  f"{c.threshold.op} {c.limit:g}) {series.seeds_text()} too, so it cannot tell; a "
                                  f"control must fail at every seed")
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
                     "source": c.threshold.source, "rule": c.rule, "tolerance": self.info.check_tolerance(c.name),
                     **c.series.to_dict(interval=True),
                     "untrained": c.untrained.to_dict() if c.untrained is not None else None, "controls": []}
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
            "tolerance": primary["tolerance"] if primary and primary["tolerance"] is not None else self.info.tolerance,
            "value": primary["value"] if primary else None,
            "interval": primary["interval"] if primary else None,
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
