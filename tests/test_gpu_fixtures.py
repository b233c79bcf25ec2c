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


@pytest.mark.parametrize("profile", ["paper", "quick"])
def test_runs_shared_between_experiments_stay_shared(profile):
    grid = {(p["lr"], p["weight_decay"]): s.key for p, s in load_experiment("cifar10-resnet18-grid").runs(profile)}
    assert grid[(0.1, 5e-4)] == load_experiment("cifar10-resnet18-coarse").run_specs(profile)[0].key
    # the excluded point is its own experiment (hparam-grid's control); the quick grid leaves it out
    assert (0.1, 5e-3) in grid or profile == "quick"
    if (0.1, 5e-3) in grid:
        assert grid[(0.1, 5e-3)] == load_experiment("cifar10-resnet18-excluded").run_specs(profile)[0].key


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


def _differences(a, b) -> dict:
    """The RunSpec fields in which two specs differ: {field: (a's, b's)}."""
    da, db = a.to_dict(), b.to_dict()
    return {k: (da.get(k), db.get(k)) for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)}


# The appendices' grids (App. D-H): experiment -> the single-configuration experiment it extends.
GRIDS = {"cifar10-resnet18-fine-grid": "cifar10-resnet18-fine",
         "cifar10-resnet18-random-coarse-grid": "cifar10-resnet18-random-coarse",
         "cifar10-densenet121-grid": "cifar10-densenet121-coarse",
         "cifar10-vgg19-grid": "cifar10-vgg19-coarse",
         "cifar100-resnet18-coarse-grid": "cifar100-resnet18-coarse"}
PAPER_GRID = {(lr, wd) for lr in (0.1, 0.01, 0.001) for wd in (5e-3, 5e-4, 5e-5)}


@pytest.mark.parametrize("grid, single", sorted(GRIDS.items()))
def test_the_appendix_grids_are_the_paper_grid_and_one_shared_run_in_quick(grid, single):
    experiment, base = load_experiment(grid), load_experiment(single)
    paper = {(p["lr"], p["weight_decay"]): s for p, s in experiment.runs("paper")}
    assert set(paper) == PAPER_GRID and experiment.tier == "gpu"
    for spec in paper.values():   # only the configuration differs from the single run
        assert set(_differences(spec, base.run_specs("paper")[0])) <= {"lr", "weight_decay"}
    if single.startswith("cifar10-"):   # the paper's own configuration is the single run, not a second one
        assert paper[(0.1, 5e-4)].key == base.run_specs("paper")[0].key
    (quick,) = experiment.run_specs("quick")   # one configuration, the single experiment's quick run
    assert quick.key == base.run_specs("quick")[0].key
    note = experiment.profiles["quick"]["note"]
    assert "one configuration" in note and "not the paper's 3 x 3 grid" in note and single in note


def test_coarse_cifar100_is_y_mod_20_in_fig_34s_configuration_with_same_data_controls():
    experiment = load_experiment("cifar100-resnet18-coarse")
    for profile in ("paper", "quick"):
        (spec,) = experiment.run_specs(profile)
        assert (spec.dataset, spec.labeling, spec.model, spec.lr, spec.weight_decay) == (
            "cifar100", "coarse:20", "resnet18", 0.01, 1e-4)
        natural = load_experiment("cifar100-resnet18-natural").run_specs(profile)[0]
        assert set(_differences(spec, natural)) == {"labeling", "lr", "weight_decay"}
        for role in ("no_collapse", "collapsed"):   # the same data and labels, another network
            (control,) = load_experiment(experiment.controls[role]).run_specs(profile)
            assert (control.dataset, control.labeling) == ("cifar100", "coarse:20") and control.model != "resnet18"
        (vgg,) = load_experiment(experiment.controls["collapsed"]).run_specs(profile)
        assert _differences(vgg, spec) == {"model": ("vgg19", "resnet18")}
        (ot,) = load_experiment(experiment.compare["ot"]).run_specs(profile)
        assert _differences(ot, spec) == {"labeling": ("identity", "coarse:20")}
    assert experiment.tags == ("coarse",) and "headline" not in experiment.extra.get("clp", {})


def test_densenet_is_compared_with_a_densenet_trained_on_the_original_labels():
    experiment = load_experiment("cifar10-densenet121-coarse")
    for profile in ("paper", "quick"):
        (spec,) = experiment.run_specs(profile)
        (ot,) = load_experiment(experiment.compare["ot"]).run_specs(profile)
        assert _differences(ot, spec) == {"labeling": ("identity", "coarse:5")}
