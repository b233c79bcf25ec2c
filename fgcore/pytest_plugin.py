"""The fgcore pytest plugin: options, cached runs by experiment name, claim records.

Registered through the `pytest11` entry point (and by the checkout's conftest.py as a fallback).
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fgcore", "fgcore claims")
    group.addoption("--fg-profile", choices=("paper", "quick"), default=os.environ.get("FGCORE_PROFILE", "paper"),
                    help="gpu experiments: the paper's schedule and grid, or a short one-configuration run")
    group.addoption("--fg-seed", type=int, default=int(os.environ.get("FGCORE_SEED", 0)),
                    help="base seed added to every experiment's seeds (default 0)")
    group.addoption("--fg-cache", default=None, help="run cache root (default $FGCORE_CACHE or ~/.cache/fgcore)")
    group.addoption("--fg-device", default=None, help="training device (default: CUDA if available, else CPU)")


def _configure_threads(config: pytest.Config) -> None:
    """Split the machine's cores between pytest-xdist workers instead of oversubscribing them."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_configure(config: pytest.Config) -> None:
    _configure_threads(config)


@pytest.fixture(scope="session")
def fg_options(request: pytest.FixtureRequest) -> dict:
    get = request.config.getoption
    return {"profile": get("--fg-profile"), "seed": get("--fg-seed"), "cache": get("--fg-cache"),
            "device": get("--fg-device")}


@pytest.fixture(scope="session")
def fg_runs(fg_options):
    """fg_runs(name) -> [(grid point, Run)]: every run of an experiment, trained once or from the cache."""
    from .experiments import load_experiment
    from .train import train

    def get(name: str):
        experiment = load_experiment(name)
        return [(point, train(spec, cache=fg_options["cache"], device=fg_options["device"], progress=False))
                for point, spec in experiment.runs(fg_options["profile"], seed=fg_options["seed"])]

    return get
