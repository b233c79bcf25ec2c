"""fgcore.suite.shared_training: before the claims run, each worker trains the missing runs no other
process is training, longest first."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import filelock

from fgcore.experiments import Fixtures
from fgcore.suite import shared_training
from fgcore.train import RunStore

FIXTURE = """
description = "a tiny grid"
tier = "fast"
tags = ["probe"]

[controls]
collapsed = "probe-control"

[spec]
{spec}
[grid]
lr = [0.05, 0.01]
""".format(spec=(Path(__file__).parent / "data" / "tiny_run_spec.toml").read_text())

CONTROL = """
description = "its control, trained longer"
extends = "probe"
tags = []

[spec]
epochs = 5
snapshot_epochs = [0, 5]

[grid]
lr = [0.05]
"""


class ClaimItem:
    """What train_missing reads of a collected claim test."""

    def __init__(self, experiment: str, skip: bool = False):
        self.callspec = SimpleNamespace(params={"experiment": experiment})
        self.skip = skip

    def get_closest_marker(self, name: str):
        return object() if name == "claim" or (name == "skip" and self.skip) else None


def setting(tmp_path):
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "probe.toml").write_text(FIXTURE)
    (folder / "probe-control.toml").write_text(CONTROL)
    options = SimpleNamespace(cache=tmp_path / "cache", device=None, train="missing", profile=None, seed=0, seeds=1)
    return options, Fixtures([folder])


def test_missing_runs_come_longest_first_with_the_controls_they_name(tmp_path):
    options, fixtures = setting(tmp_path)
    specs = shared_training.missing_specs([ClaimItem("probe")], options, fixtures)
    assert [s.epochs for s in specs] == [5, 3, 3]
    assert shared_training.missing_specs([ClaimItem("probe", skip=True)], options, fixtures) == []


def test_a_run_another_process_trains_is_passed_over_and_the_rest_trained(tmp_path):
    options, fixtures = setting(tmp_path)
    specs = shared_training.missing_specs([ClaimItem("probe")], options, fixtures)
    store = RunStore(options.cache)
    busy = store.entry(specs[1].key)
    busy.lock_path.parent.mkdir(parents=True)
    with filelock.FileLock(str(busy.lock_path)):
        assert shared_training.train_missing([ClaimItem("probe")], options, fixtures) == 2
    assert [store.entry(s.key).is_complete() for s in specs] == [True, False, True]
    assert shared_training.missing_specs([ClaimItem("probe")], options, fixtures) == [specs[1]]
    options.train = "never"
    assert shared_training.train_missing([ClaimItem("probe")], options, fixtures) == 0
