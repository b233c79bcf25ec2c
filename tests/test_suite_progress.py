"""Progress of training: a run's own lines in a log (fgcore.training_progress), and what a claims
session that trains says about it (fgcore.suite.progress), also under pytest-xdist."""

from __future__ import annotations

import io
import json
import os
import re
import textwrap

import pytest

from fgcore.suite.progress import SessionProgress, header, referenced_experiments
from fgcore.training_progress import PROGRESS_DIR_ENV, EpochProgress, clock, epoch_bar

pytest_plugins = ("pytester",)


class FakeSpec:
    short = "gaussian_mixture/coarse:5/mlp"
    epochs = 50


# -- a run's own progress ---------------------------------------------------------------------------
def test_a_log_gets_a_line_per_interval_and_one_at_the_end_not_one_per_epoch():
    log = io.StringIO()  # not a terminal: lines, no bar
    bar = EpochProgress("run-x", "k" * 64, 50, show=True, stream=log, interval=3600)
    for epoch in range(50):
        bar.update(1)
        bar.set_postfix({"loss": "0.1", "acc": "0.9"})
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and "\r" not in log.getvalue(), lines
    assert re.fullmatch(r"train run-x: epoch 50/50, [\d.]+ s/epoch, done; loss 0.1 acc 0.9", lines[0]), lines[0]


def test_a_short_interval_gives_a_line_with_the_time_left():
    log = io.StringIO()
    bar = EpochProgress("run-x", "k" * 64, 50, initial=10, show=True, stream=log, interval=0)
    bar.update(1)
    lines = log.getvalue().splitlines()
    assert lines[0] == "train run-x: resumed from its checkpoint at epoch 10 of 50"
    assert re.fullmatch(r"train run-x: epoch 11/50, [\d.]+ s/epoch, ~\d+:\d\d left", lines[1]), lines


def test_the_pace_follows_the_last_epochs(monkeypatch):
    now = [0.0]
    monkeypatch.setattr("fgcore.training_progress.time.monotonic", lambda: now[0])
    bar = EpochProgress("run-x", "k", 100, show=False)
    for epoch in range(40):  # 10 s per epoch at first, then 1 s (a neighbour's job ended)
        now[0] += 10.0 if epoch < 20 else 1.0
        bar.update(1)
    assert bar.seconds_per_epoch() == pytest.approx(1.0) and bar.seconds_left() == pytest.approx(60.0)


def test_a_watcher_file_is_written_only_where_a_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv(PROGRESS_DIR_ENV, raising=False)
    assert epoch_bar(FakeSpec(), key="a" * 64, show=False) is None  # nothing would show it
    monkeypatch.setenv(PROGRESS_DIR_ENV, str(tmp_path))
    bar = epoch_bar(FakeSpec(), key="a" * 64, initial=5, show=False)
    bar.update(1)
    state = json.loads((tmp_path / f"{'a' * 64}.json").read_text())
    assert (state["label"], state["total"], state["initial"], state["done"]) == (FakeSpec.short, 50, 5, False)
    bar.close()
    state = json.loads((tmp_path / f"{'a' * 64}.json").read_text())
    assert state["epoch"] == 6 and state["done"] and state["seconds_per_epoch"] > 0
    assert list(tmp_path.iterdir()) == [tmp_path / f"{'a' * 64}.json"]  # no temporary file left


def test_a_bad_log_interval_is_named(monkeypatch):
    monkeypatch.setenv("FGCORE_LOG_PROGRESS_SECONDS", "often")
    with pytest.raises(ValueError, match="FGCORE_LOG_PROGRESS_SECONDS='often'"):
        EpochProgress("x", "k", 3, stream=io.StringIO())


def test_clock():
    assert (clock(5), clock(65), clock(3725), clock(-1)) == ("0:05", "1:05", "1:02:05", "0:00")


# -- the session's view ------------------------------------------------------------------------------
def _session(plan: dict, parallel: int = 1) -> SessionProgress:
    view = SessionProgress.__new__(SessionProgress)  # no pytest config: the reporting parts only
    view.plan, view.parallel, view.started = plan, parallel, 0.0
    return view


PLAN = {"claims": 3, "experiments": 2, "train": "missing", "runs": {
    "a" * 64: {"label": "A", "experiments": ["exp-a"], "epochs": 100, "family": "d/mlp", "cached": False},
    "b" * 64: {"label": "B", "experiments": ["exp-b", "exp-c"], "epochs": 100, "family": "d/mlp", "cached": False},
    "c" * 64: {"label": "C", "experiments": ["exp-c"], "epochs": 10, "family": "d/mlp", "cached": True},
}}


def test_the_header_counts_cached_and_to_train_runs():
    assert header(PLAN) == ("fgcore: the 3 selected claim test(s) read 3 run(s) of 2 experiment(s): 1 from the "
                            "cache, 2 to train (200 epochs)")
    assert header({**PLAN, "train": "never"}).endswith("2 missing (--fg-train never: their claims fail)")


def test_the_status_line_names_the_runs_their_epoch_and_the_time_left():
    import time

    now = time.time()
    states = {"a" * 64: {"label": "A", "epoch": 40, "total": 100, "initial": 0, "seconds_per_epoch": 2.0,
                         "started": now - 80, "updated": now, "done": False}}
    line = _session(PLAN).status(states)
    # A: 60 epochs x 2 s left; B not started: 100 epochs at A's pace (same data set and model), one worker
    assert line.endswith("| training exp-a (epoch 40/100, ~2:00 left) | 0 of 2 trained, ~5:20 left"), line
    assert _session(PLAN, parallel=2).status(states).endswith("~2:40 left")  # two workers share the work


def test_no_overall_estimate_before_a_pace_is_known_and_untimed_families_are_counted():
    states = {"a" * 64: {"label": "A", "epoch": 0, "total": 100, "initial": 0, "seconds_per_epoch": None,
                         "started": 0, "updated": 0, "done": False}}
    assert _session(PLAN).time_left(states, ["a" * 64, "b" * 64]) == (None, 2)
    plan = {**PLAN, "runs": {**PLAN["runs"], "d" * 64: {"label": "D", "experiments": ["exp-d"], "epochs": 10,
                                                        "family": "gmm/mlp", "cached": False}}}
    states["a" * 64] = {**states["a" * 64], "epoch": 50, "seconds_per_epoch": 1.0}
    # A: 50 s left; B: 100 epochs at A's pace; D: a family nobody has timed yet
    assert _session(plan).time_left(states, ["a" * 64, "b" * 64, "d" * 64]) == (150.0, 1)
    line = _session(plan).status(states)
    assert line.endswith("~2:30 left + 1 run(s) not timed yet"), line


def test_referenced_experiments_are_the_names_in_a_fixtures_tables():
    from dataclasses import dataclass, field

    @dataclass
    class Experiment:
        name: str = "exp-a"
        spec: dict = field(default_factory=lambda: {"dataset": "exp-d"})  # the run itself, not a reference
        extra: dict = field(default_factory=lambda: {
            "controls": {"fine": "exp-b", "nothing": "not-an-experiment"}, "compare": {"ot": ["exp-c", "exp-a"]}})

    known = {"exp-a", "exp-b", "exp-c", "exp-d"}
    assert referenced_experiments(Experiment(), known) == {"exp-b", "exp-c"}


# -- a session, end to end (pytester, with and without xdist) --------------------------------------
SLEEPY_NET = '''
import math, time
from torch import nn

class Sleepy(nn.Module):
    def __init__(self, num_classes, in_features):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_features, 8), nn.ReLU())
        self.head = nn.Linear(8, num_classes)

    def features(self, x):
        if self.training:
            time.sleep(0.03)  # a run of 120 epochs lasts about 4 s on any machine
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))

def build(num_classes, in_shape):
    return Sleepy(num_classes, math.prod(in_shape))
'''
EXPERIMENT = """
tier = "fast"
tags = ["progtest"]
[spec]
dataset = "gaussian_mixture"
data_args = {{ dim = 4, n_per_class = 10 }}
labeling = "coarse:5"
model = "sleepy_net:build"
batch_size = 100
epochs = 120
seed = {seed}
stats_every = 0
"""


@pytest.mark.parametrize("workers", [0, 2], ids=["one process", "xdist -n 2"])
def test_a_session_that_trains_says_what_it_trains_and_then_that_the_cache_has_it(pytester, monkeypatch, claim_probe,
                                                                                   workers):
    (pytester.path / "fixtures").mkdir()
    for seed in (1, 2):
        (pytester.path / "fixtures" / f"prog-{seed}.toml").write_text(EXPERIMENT.format(seed=seed))
    (pytester.path / "sleepy_net.py").write_text(textwrap.dedent(SLEEPY_NET))
    pytester.makepyfile(test_claims=claim_probe("progtest"))
    monkeypatch.setenv("FGCORE_FIXTURES", str(pytester.path / "fixtures"))
    monkeypatch.setenv("PYTHONPATH", f"{pytester.path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    args = ["-p", "no:cacheprovider", "--fg-cache", str(pytester.path / "cache"), "--fg-progress", "1",
            *(["-n", str(workers)] if workers else ["-p", "no:xdist"])]
    first = pytester.runpytest_subprocess(*args)
    text = first.stdout.str()
    first.assert_outcomes(passed=2)
    assert "read 2 run(s) of 2 experiment(s): 0 from the cache, 2 to train (240 epochs)" in text, text
    assert re.search(r"fgcore: training prog-1: 120 epochs", text), text
    assert re.search(r"fgcore \d+:\d\d \| training prog-\d \(epoch \d+/120(, ~\d+:\d\d left)?\)", text), text
    assert re.search(r"fgcore: trained prog-2 in \d+:\d\d \(120 epochs\)", text), text
    if workers:
        return  # the second session reads the cache the same way with and without xdist
    second = pytester.runpytest_subprocess(*args)
    second.assert_outcomes(passed=2)
    assert "2 from the cache, none to train" in second.stdout.str()
    assert "fgcore: training" not in second.stdout.str()
