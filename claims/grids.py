"""Claims judged at each configuration of a grid: App. D-H repeat the observations of Sec. 4 and 6 for
all nine configurations of the 3 x 3 table of learning rate x weight decay (Figs. 29-46).

A check holds on such a grid when it holds at every configuration the claim is about, so
`each_configuration(check)` measures it at each configuration and judges the worst value (the smallest
against a lower bound, the largest against an upper bound); a configuration where it cannot be
measured counts as failing. Its threshold and controls are the check's own: the controls are single
runs, measured as they are. `verify` leaves out the (lr 0.1, wd 5e-3) point as App. C does (it does not
fit CIFAR-10; measures.is_excluded), requires the terminal phase of every other configuration, and
notes each configuration's value; the figures follow the paper's: the class distance matrices of every
configuration at one epoch (Figs. 29-33, 35, 37-46), CLP and LPO per configuration (Figs. 28, 36, 43).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import measures as m

from fgcore import run_metrics
from fgcore.suite.checks import Check, Subject
from fgcore.suite.record import NotMeasured

# The epochs of the appendices' heatmaps (of 350): Figs. 29-31 and 32-46 show 20, 200 and 350.
PAPER_EPOCHS = (20, 200, 350)
SHORT_NAMES = {"lr": "lr", "weight_decay": "wd"}


def label(configuration: dict, sep: str = " · ") -> str:
    """'lr 0.1 · wd 0.0005': a configuration (a grid point without its replicate) for people."""
    return sep.join(f"{SHORT_NAMES.get(k, k)} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                    for k, v in configuration.items() if k != "replicate") or "the run"


def configurations(subject: Subject) -> list[tuple[dict, Subject]]:
    """(configuration, its runs as a Subject) in grid order; the replicates of one configuration stay
    together (the measures judge an experiment's runs by their median)."""
    groups: dict[tuple, list] = {}
    for point, run in subject.runs:
        key = tuple((k, v) for k, v in point.items() if k != "replicate")
        groups.setdefault(key, []).append((point, run))
    return [(dict(key), replace(subject, runs=runs)) for key, runs in groups.items()]


@dataclass
class EachConfiguration:
    """A measure taken at every configuration of a subject, returning the worst value for `op`; the
    values of each configuration are kept by (experiment, seed) for the claim's notes."""

    measure: Callable[[Subject], float]
    op: str
    values: dict[tuple[str, int], dict[str, float | str]] = field(default_factory=dict)

    def __call__(self, subject: Subject) -> float:
        found: dict[str, float | str] = {}
        for configuration, part in configurations(subject):
            try:
                found[label(configuration)] = float(self.measure(part))
            except NotMeasured as exc:
                found[label(configuration)] = f"not measured ({exc})"
        self.values[(subject.experiment, subject.seed)] = found
        missing = [f"{name}: {value}" for name, value in found.items() if isinstance(value, str)]
        if missing:
            raise NotMeasured("; ".join(missing))
        worst = min if self.op in (">=", ">") else max
        return worst(found.values())


def each_configuration(check: Check) -> Check:
    """`check` judged at every configuration of a grid, by its worst value."""
    return Check(f"{check.name}, worst configuration", EachConfiguration(check.measure, check.threshold.op),
                 check.threshold, check.controls)


def verify(claim: Any, checks: Sequence[Check]) -> Subject:
    """Measure `checks` at every configuration of the claim's grid but (0.1, 5e-3), each configuration in
    the terminal phase, and on the controls; note each configuration's value. Returns the subject of the
    configurations judged at the last seed."""
    judged = [each_configuration(check) for check in checks]
    subject = claim.verify(judged, terminal_phase=True, leave_out=m.is_excluded)
    every = claim.runs(seed=subject.seed)
    left_out = [label(point) for point, _ in every if m.is_excluded(point)]
    if left_out:
        claim.note(f"left out, as App. C does ((0.1, 5e-3) does not fit CIFAR-10): {', '.join(left_out)}")
    for check in judged:
        for (experiment, seed), values in check.measure.values.items():
            if experiment == claim.experiment:
                claim.note(f"{check.name}, seed {seed}: " + "; ".join(
                    f"{name}: {value:.4g}" if isinstance(value, float) else f"{name}: {value}"
                    for name, value in values.items()))
    return subject


def _nearest_snapshot(run, paper_epoch: int) -> int:
    """The run's snapshot epoch nearest to `paper_epoch` of the paper's 350, rescaled to its length."""
    target = paper_epoch / 350 * run.snapshot_epochs[-1]
    return min((e for e in run.snapshot_epochs if e > 0), key=lambda e: abs(e - target))


def heatmaps(claim: Any, kind: str = "original", paper_epochs: Sequence[int] = PAPER_EPOCHS) -> None:
    """One "distance_heatmaps" figure per paper epoch, a panel per configuration (every one of the grid,
    the left-out one marked): the appendices' 3 x 3 tables of class distance matrices. kind "original"
    draws D of the original classes with the lines of Fig. 5 in each title; "train", D of the fine
    labels (Fig. 14)."""
    seed = claim.seeds[-1]
    every = [(point, part.all_runs[0])   # the first replicate of each configuration
             for point, part in configurations(Subject(claim.experiment, claim.runs(seed=seed), seed, claim.tier,
                                                       compare=None))]
    for paper_epoch in paper_epochs:
        epoch = _nearest_snapshot(every[0][1], paper_epoch)
        labelled = [(label(point, sep="\n") + (" (left out)" if m.is_excluded(point) else "") + f", epoch {epoch}",
                     run) for point, run in every]
        claim.figure("distance_heatmaps", **run_metrics.configurations_heatmap_figure(labelled, epoch, kind))


def clp_bars(claim: Any, subject: Subject) -> None:
    """CLP and LPO per configuration (Figs. 28, 36, 43), with its chance level and same-superclass D /
    diagonal D; the left-out configuration hatched."""
    every = replace(subject, runs=claim.runs(seed=subject.seed))
    claim.figure("grid_clp_bars", configurations=[
        {"label": label(n["point"], sep="\n"), "left_out": m.is_excluded(n["point"]), "clp": n["clp"],
         "lpo": n["lpo"], "chance": n["chance"], "diag_ratio": n["diag_ratio"]}
        for n in m.grid_numbers(every)])
