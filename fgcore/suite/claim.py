"""Claim: what a claim test receives (the `claim` fixture): a ClaimRecord that can also fetch the Runs
of its experiment, its controls and its comparison experiments, and run declared checks on them."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..experiments import Experiment
from .checks import Check, Subject, require_terminal_phase, verify
from .record import ClaimRecord, SuiteError
from .runs import RunProvider


class Claim(ClaimRecord):
    def __init__(self, *args: Any, provider: RunProvider, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.provider = provider

    def experiment_info(self, name: str | None = None) -> Experiment:
        return self.provider.experiment(name or self._experiment_name())

    def _experiment_name(self) -> str:
        if self.experiment is None:
            raise ValueError("this claim is not parametrised by an experiment: name one")
        return self.experiment

    def runs(self, experiment: str | None = None, *, seed: int = 0) -> list[tuple[dict, Any]]:
        """[(grid point, Run)] of an experiment (default: this test's) at base seed `seed`."""
        name = experiment or self._experiment_name()
        note = self.experiment_info(name).profiles.get(self.provider.options.profile, {}).get("note")
        if note and f"{name}: {note}" not in self.notes:  # e.g. a quick run shorter than the paper's
            self.note(f"{name}: {note}")
        return [(point, self.use_run(run, name)) for point, run in self.provider.runs(name, seed)]

    def run(self, experiment: str | None = None, *, seed: int = 0) -> Any:
        """The single Run of an experiment without a grid."""
        runs = self.runs(experiment, seed=seed)
        if len(runs) != 1:
            raise ValueError(f"experiment {experiment or self.experiment} has {len(runs)} runs (a grid); "
                             f"use claim.runs()")
        return runs[0][1]

    def subject(self, experiment: str, seed: int, *, terminal_phase: bool = False) -> Subject:
        """The runs of `experiment` at base seed `seed`, with this claim's comparison experiments (which
        must reach the terminal phase too when the claim is about it)."""
        compare_table = self.experiment_info().compare

        def compare(key: str) -> list[tuple[dict, Any]]:
            if key not in compare_table:
                raise SuiteError(f"experiment {self.experiment} has no [compare] entry {key!r}; it has "
                                 f"{sorted(compare_table) or 'none'}")
            runs = self.runs(compare_table[key], seed=seed)
            if terminal_phase:
                require_terminal_phase(runs, compare_table[key])
            return runs

        return Subject(experiment, self.runs(experiment, seed=seed), seed, self.tier, compare)

    def verify(self, checks: Sequence[Check], *, terminal_phase: bool,
               leave_out: Callable[[dict], bool] | None = None) -> Subject:
        """Measure the declared checks on this claim's experiment and its controls (fgcore.suite.checks)."""
        return verify(self, checks, terminal_phase=terminal_phase, leave_out=leave_out)
