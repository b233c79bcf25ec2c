"""The Runs a claims session reads: trained once (or loaded from the cache), never trained when the
session says so (--fg-train never), in which case a missing run fails with the command that makes it.

A claim is skipped only when its data is not on this machine (fgcore.errors.NotFoundError, which the
data sets raise with where they looked and how to get the data); any other error while training, a
FileNotFoundError of a broken cache or archive included, is an error of that claim, never a skip.
`fgcore compare` fails when a claim its baseline measured is skipped."""

from __future__ import annotations

from typing import Any

import pytest

from ..errors import NotFoundError
from ..experiments import Experiment, Fixtures
from .options import SuiteOptions


class RunProvider:
    def __init__(self, options: SuiteOptions, fixtures: Fixtures):
        self.options, self.fixtures = options, fixtures

    def experiment(self, name: str) -> Experiment:
        return self.fixtures.load(name)

    def runs(self, name: str, seed: int) -> list[tuple[dict, Any]]:
        """[(grid point, Run)] of experiment `name` under the session's profile, at base seed `seed`."""
        from ..train import train
        from ..train.cache import RunStore

        options = self.options
        out = []
        for point, spec in self.experiment(name).runs(options.profile, seed=seed):
            entry = RunStore(options.cache).entry(spec.key)
            if options.train == "never" and not entry.is_complete():
                from ..sweep import sweep_command

                command = sweep_command(name, profile=options.profile, seed=seed, cache=options.cache)
                pytest.fail(f"run {spec.short} of experiment {name} is not in the cache ({entry.path}) and "
                            f"--fg-train=never; produce it with: {command}", pytrace=False)
            try:
                run = train(spec, cache=options.cache, device=options.device, progress=False)
            except NotFoundError as exc:   # only data that is not on this machine; any other error is one
                pytest.skip(f"data for experiment {name} not found: {exc}")
            out.append((point, run))
        return out
