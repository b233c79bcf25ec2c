"""The gpu experiments as the first GPU session will run them: bf16 stated, quick lengths that can
reach the terminal phase, runs shared where claims expect them shared, and the README's run counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fgcore.experiments import available, load_experiment

README = Path(__file__).resolve().parents[1] / "README.md"


def _specs(tier, profile):
    return {name: load_experiment(name).run_specs(profile) for name in available(tier)}


@pytest.mark.parametrize("profile", ["paper", "quick"])
def test_gpu_runs_state_bf16_and_cpu_tiers_stay_float32(profile):
    for name, specs in _specs("gpu", profile).items():
        assert all(s.precision == "bf16" for s in specs), name
    for tier in ("fast", "slow"):
        for name, specs in _specs(tier, profile).items():
            assert all(s.precision == "float32" for s in specs), name


def test_quick_lengths_leave_room_for_the_terminal_phase():
    """The 30-epoch quick runs could not pass: fine labels need several times the coarse length."""
    quick = {name: max(s.epochs for s in specs) for name, specs in _specs("gpu", "quick").items()}
    paper = {name: max(s.epochs for s in specs) for name, specs in _specs("gpu", "paper").items()}
    coarse = quick["cifar10-resnet18-coarse"]
    assert coarse >= 60  # twice the 30 epochs found borderline for coarse labels
    assert quick["cifar10-resnet18-fine"] >= 3 * coarse
    assert all(quick[n] <= paper[n] for n in quick)


def test_quick_runs_shared_between_experiments_stay_shared():
    grid = {(p["lr"], p["weight_decay"]): s.key for p, s in load_experiment("cifar10-resnet18-grid").runs("quick")}
    assert grid[(0.1, 5e-4)] == load_experiment("cifar10-resnet18-coarse").run_specs("quick")[0].key
    assert grid[(0.1, 5e-3)] == load_experiment("cifar10-resnet18-excluded").run_specs("quick")[0].key


def test_the_quick_long_training_run_says_what_it_is():
    experiment = load_experiment("cifar10-resnet18-coarse-1000ep")
    epochs = experiment.run_specs("quick")[0].epochs
    note = experiment.profiles["quick"]["note"]
    assert epochs < 1000 and f"{epochs} epochs" in note and "not the paper's 1,000" in note


def test_readme_counts_the_gpu_runs():
    counts = {profile: len({s.key for specs in _specs("gpu", profile).values() for s in specs})
              for profile in ("paper", "quick")}
    text = " ".join(README.read_text().split())
    found = re.search(r"The `gpu` claims read (\d+) distinct training runs in the paper profile .*? and (\d+) in "
                      r"the quick profile", text)
    assert found, "README: the sentence counting the gpu runs is gone"
    assert (int(found.group(1)), int(found.group(2))) == (counts["paper"], counts["quick"])
