"""Declared checks, and the one driver that runs them on a claim's experiment and on its controls.

A claim test states what it measures and on which runs:

    NC1_FALL = Check("NC1 at the end / NC1 of the untrained network", measures.nc1_fall,
                     thresholds.NC1_FALL, controls=("no_collapse",))

    @pytest.mark.claim("nc1-collapse", applies_to="coarse")
    def test_nc1_collapse(claim):
        subject = claim.verify([NC1_FALL], terminal_phase=True)
        claim.figure("nc_curves", **run_metrics.collapse_curve(subject.run))

The driver (verify) does the rest for every seed: it fetches the experiment's runs, checks the
terminal-phase precondition where the claim is about it, measures each check, measures each check again
on the experiment's untrained network (its runs at epoch 0: the `untrained` role, which the suite fills
for every experiment), then fetches each control named by the experiment's fixture ([controls] role =
"experiment"), checks the same precondition there (a control that misses it is an error of the suite,
not a pass), and measures every check that names that role on it. The record (fgcore.suite.record)
turns this into a verdict.

A check whose value on the untrained network says nothing (1 by construction, as a ratio of the last
value to the untrained one) declares why (`untrained="..."`): it is not measured there, the reason is
recorded instead, and such a check cannot name the `untrained` role (a constant is no control).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from .record import NotMeasured, PreconditionFailed, SuiteError, Threshold
from ..vocabulary import CONTROL_ROLES, TERMINAL_ACCURACY, UNTRAINED


@dataclass(frozen=True)
class Check:
    """One check of a claim: a measure of a Subject, its threshold, the control roles it must fail on, and
    (untrained) why its value on the untrained network says nothing, where it does not."""

    name: str
    measure: Callable[["Subject"], float]
    threshold: Threshold
    controls: tuple[str, ...]
    untrained: str | None = None

    def __post_init__(self) -> None:
        unknown = [role for role in self.controls if role not in CONTROL_ROLES]
        if unknown:
            raise ValueError(f"check {self.name!r}: unknown control role(s) {unknown}; "
                             f"roles: {', '.join(CONTROL_ROLES)}")
        if not self.controls:
            raise ValueError(f"check {self.name!r}: name at least one control on which it must fail")
        if self.untrained is not None and UNTRAINED in self.controls:
            raise ValueError(f"check {self.name!r} names the {UNTRAINED!r} control and says its value there "
                             f"says nothing ({self.untrained}); a control on which a check cannot pass is no "
                             f"control")


@dataclass
class Subject:
    """What a check measures: the runs of one experiment (the claim's, or a control in its place) at one
    base seed. `compare(key)` gives the runs of the experiment named in the claim experiment's
    [compare] table (e.g. the random groupings a natural grouping is compared with)."""

    experiment: str
    runs: list[tuple[dict, Any]]
    seed: int
    tier: str | None
    compare: Callable[[str], list[tuple[dict, Any]]]

    @property
    def run(self) -> Any:
        if len(self.runs) != 1:
            raise ValueError(f"experiment {self.experiment} has {len(self.runs)} runs (a grid); this measure "
                             f"needs one")
        return self.runs[0][1]

    @property
    def all_runs(self) -> list[Any]:
        return [run for _, run in self.runs]


def terminal_phase_problem(run: Any, minimum: float = TERMINAL_ACCURACY) -> str | None:
    """Why `run` is not in the terminal phase (None if it is): its final training accuracy."""
    accuracy = run.final_train_accuracy()
    if accuracy >= minimum:
        return None
    return (f"run {run.spec.short} [{run.key[:12]}] reached {accuracy:.2%} training accuracy on its training "
            f"labels, below the {minimum:.1%} of the terminal phase")


def require_terminal_phase(runs: Sequence[tuple[dict, Any]], experiment: str) -> None:
    for _, run in runs:
        problem = terminal_phase_problem(run)
        if problem:
            raise PreconditionFailed(f"precondition not met: experiment {experiment}: {problem}; the claim is "
                                     f"about the terminal phase, so train longer or fix the regime (not the "
                                     f"threshold)")


def _measure(check: Check, subject: Subject) -> tuple[float | None, str | None]:
    try:
        return float(check.measure(subject)), None
    except NotMeasured as exc:
        return None, str(exc)


def untrained_name(experiment: str) -> str:
    """How the untrained network of `experiment` is named as a control (the record, the report, compare)."""
    return f"{experiment}@epoch0"


def untrained_subject(subject: Subject) -> Subject:
    """`subject` at epoch 0: its runs and its comparison runs as their untrained networks
    (fgcore.train.run.UntrainedRun). Raises ValueError for a run without features at epoch 0 (a
    comparison run without them: NotMeasured, when a measure asks for it)."""
    def compare(key: str) -> list[tuple[dict, Any]]:
        try:
            return [(point, run.untrained()) for point, run in subject.compare(key)]
        except ValueError as exc:
            raise NotMeasured(str(exc)) from None

    return replace(subject, experiment=untrained_name(subject.experiment),
                   runs=[(point, run.untrained()) for point, run in subject.runs], compare=compare)


def controls_of(experiment_info: Any, checks: Sequence[Check]) -> dict[str, str]:
    """role -> control experiment for every role the checks name, from the fixture's [controls] table
    (the untrained role is the suite's, not the fixture's: it is left out here)."""
    table = experiment_info.controls
    roles = [role for role in dict.fromkeys(role for check in checks for role in check.controls) if role != UNTRAINED]
    missing = [role for role in roles if role not in table]
    if missing:
        needed = "; ".join(f"{role}: {CONTROL_ROLES[role]} (for "
                           + ", ".join(repr(c.name) for c in checks if role in c.controls) + ")" for role in missing)
        raise SuiteError(f"experiment {experiment_info.name} ({experiment_info.path}) names no control for "
                         f"{needed}; add the role to its [controls] table, e.g. {missing[0]} = \"<experiment>\"")
    return {role: table[role] for role in roles}


def leaving_out(subject: Subject, leave_out: Callable[[dict], bool] | None) -> Subject:
    """`subject` without the runs whose grid point `leave_out` picks (None: all of them kept)."""
    if leave_out is None:
        return subject
    kept = [(point, run) for point, run in subject.runs if not leave_out(point)]
    if not kept:
        raise SuiteError(f"experiment {subject.experiment}: the claim leaves out every one of its "
                         f"{len(subject.runs)} run(s); its grid must hold a point the claim is about")
    return replace(subject, runs=kept)


def measure_untrained(claim: Any, checks: Sequence[Check], subject: Subject) -> None:
    """Record every check on the untrained network of `subject` (and as the `untrained` control where a
    check names it). Not measurable there: the value is absent with the reason; a check that names the
    role but cannot be measured on it is an error of the suite (it has no control there)."""
    try:
        untrained, problem = untrained_subject(subject), None
    except ValueError as exc:
        untrained, problem = None, str(exc)
    name = untrained_name(subject.experiment)
    for check in checks:
        if check.untrained is not None:
            value, note = None, f"not measured on the untrained network: {check.untrained}"
        elif untrained is None:
            value, note = None, problem
        else:
            value, note = _measure(check, untrained)
        claim.record_untrained(check.name, check.threshold, value, seed=subject.seed, note=note)
        if UNTRAINED in check.controls:
            if value is None:
                claim.control_error(UNTRAINED, name, CONTROL_ROLES[UNTRAINED],
                                    f"check {check.name!r} cannot be measured on the untrained network ({note})")
            else:
                claim.record_control(check.name, check.threshold, value, role=UNTRAINED, experiment=name,
                                     description=CONTROL_ROLES[UNTRAINED], seed=subject.seed, note=note)


def verify(claim: Any, checks: Sequence[Check], *, terminal_phase: bool,
           leave_out: Callable[[dict], bool] | None = None) -> Subject:
    """Measure `checks` on the claim's experiment and on each control, for every seed of the session.

    claim: the plugin's Claim (a ClaimRecord that can fetch runs). leave_out: a predicate on grid points
    (e.g. {"lr": 0.1, "weight_decay": 5e-3}) whose runs the claim is not about; they are left out of the
    experiment before the precondition and the measures. Returns the experiment's Subject at the last
    seed (for figures). Raises PreconditionFailed when the experiment misses the terminal phase; a
    control that misses it is recorded as an error of the suite.
    """
    info = claim.experiment_info()
    controls = controls_of(info, checks)
    subject = None
    for seed in claim.seeds:
        subject = leaving_out(claim.subject(claim.experiment, seed, terminal_phase=terminal_phase), leave_out)
        if terminal_phase:
            require_terminal_phase(subject.runs, claim.experiment)
        for check in checks:
            value, note = _measure(check, subject)
            claim.record(check.name, check.threshold, value, seed=seed, note=note)
        measure_untrained(claim, checks, subject)
        for role, name in controls.items():
            description = claim.experiment_info(name).description
            control = claim.subject(name, seed, terminal_phase=terminal_phase)
            if terminal_phase:
                problems = [p for p in (terminal_phase_problem(run) for run in control.all_runs) if p]
                if problems:
                    claim.control_error(role, name, description, "misses the terminal-phase precondition of "
                                        "the claim: " + "; ".join(problems))
                    continue
            for check in checks:
                if role in check.controls:
                    value, note = _measure(check, control)
                    claim.record_control(check.name, check.threshold, value, role=role, experiment=name,
                                         description=description, seed=seed, note=note)
    assert subject is not None, "a claim session has at least one seed"
    return subject
