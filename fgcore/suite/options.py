"""The options of a claims session (pytest --fg-*), in one value; their defaults come from fgcore.settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pytest

from .. import settings
from ..vocabulary import PROFILES

TRAIN_POLICIES = ("missing", "never")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("fgcore", "fgcore claims")
    group.addoption("--fg-profile", choices=PROFILES, default=None,
                    help="gpu experiments: the paper's schedule and grid (paper) or a short run (quick); "
                         "default $FGCORE_PROFILE, else paper")
    group.addoption("--fg-seed", type=int, default=None,
                    help="base seed added to every experiment's seeds (default $FGCORE_SEED, else 0)")
    group.addoption("--fg-seeds", type=int, default=None,
                    help="run each claim's experiments over this many base seeds (default $FGCORE_SEEDS, else 1)")
    group.addoption("--fg-experiments", default=None,
                    help="only experiments whose name matches this glob pattern (e.g. 'digits-*')")
    group.addoption("--fg-train", choices=TRAIN_POLICIES, default="missing",
                    help="missing: train runs that are not cached; never: only read the cache")
    group.addoption("--fg-cache", default=None, help="run cache root (default $FGCORE_CACHE or ~/.cache/fgcore)")
    group.addoption("--fg-device", default=None, help="training device (default: fgcore's, see $FGCORE_DEVICE)")
    group.addoption("--fg-report", default=None, metavar="DIR",
                    help="write DIR/claims.json and DIR/index.html (the claim report) at the end")
    group.addoption("--fg-progress", type=float, default=None, metavar="SECONDS",
                    help="while claims train runs: a progress line (runs, epochs, time left) every SECONDS "
                         "(default $FGCORE_PROGRESS_SECONDS, else 30; 0: none)")


@dataclass(frozen=True)
class SuiteOptions:
    profile: str
    seed: int
    seeds: int
    experiments: str | None
    train: str
    cache: str | None
    device: str | None
    report: str | None
    progress: float

    @classmethod
    def from_config(cls, config: pytest.Config) -> "SuiteOptions":
        get = config.getoption

        def given(name: str, default: Any) -> Any:
            value = get(name)
            return default() if value is None else value

        return cls(profile=given("--fg-profile", settings.profile), seed=given("--fg-seed", settings.seed),
                   seeds=max(1, given("--fg-seeds", settings.seeds)), experiments=get("--fg-experiments"),
                   train=get("--fg-train"), cache=get("--fg-cache"), device=get("--fg-device"),
                   report=get("--fg-report"), progress=given("--fg-progress", settings.progress_seconds))

    @property
    def base_seeds(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
