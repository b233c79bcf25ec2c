"""fgcore.train.derived: results computed from a cached run (CLP, LPO) kept in its cache entry."""

import threading
import time

import numpy as np
import pytest

from fgcore import run_metrics
from fgcore.train import RunSpec, derived, train
from fgcore.train.cache import Entry

CODE = ("fgcore.train.derived",)


class FakeRun:
    def __init__(self, root):
        self.entry = Entry(root, "somekey")
        self.entry.path.mkdir(parents=True)


class Counter:
    def __init__(self, value=7, pause=0.0):
        self.calls, self.value, self.pause = 0, value, pause

    def __call__(self):
        self.calls += 1
        time.sleep(self.pause)
        return {"value": self.value, "array": np.arange(3)}


def test_a_result_is_computed_once_and_read_back_while_name_arguments_and_code_stay_the_same(tmp_path, monkeypatch):
    run, compute = FakeRun(tmp_path), Counter()
    first = derived.load_or_compute(run, "clp", {"random_state": 0}, compute, CODE)
    again = derived.load_or_compute(run, "clp", {"random_state": 0}, compute, CODE)
    assert compute.calls == 1 and again["value"] == 7 and np.array_equal(again["array"], first["array"])
    assert sorted(p.suffix for p in (run.entry.path / "derived").iterdir()) == [".lock", ".pkl"]
    derived.load_or_compute(run, "clp", {"random_state": 1}, compute, CODE)    # other arguments
    derived.load_or_compute(run, "lpo", {"random_state": 0}, compute, CODE)    # another measure
    assert compute.calls == 3
    monkeypatch.setattr(derived, "code_digest", lambda modules: "the code changed")
    derived.load_or_compute(run, "clp", {"random_state": 0}, compute, CODE)
    assert compute.calls == 4


def test_a_damaged_result_is_computed_again_and_replaced(tmp_path):
    run, compute = FakeRun(tmp_path), Counter()
    derived.load_or_compute(run, "clp", {}, compute, CODE)
    path = derived.result_path(run, "clp", {}, CODE)
    path.write_bytes(path.read_bytes()[:10])
    assert derived.load_or_compute(run, "clp", {}, compute, CODE)["value"] == 7 and compute.calls == 2
    assert derived.load_or_compute(run, "clp", {}, compute, CODE)["value"] == 7 and compute.calls == 2


def test_a_cache_that_cannot_be_written_only_costs_the_time_to_compute_again(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(derived, "atomic_write_bytes", full_disk)
    run, compute = FakeRun(tmp_path), Counter()
    assert derived.load_or_compute(run, "clp", {}, compute, CODE)["value"] == 7
    assert derived.load_or_compute(run, "clp", {}, compute, CODE)["value"] == 7 and compute.calls == 2


def test_processes_asking_at_once_compute_it_once(tmp_path):
    run, compute = FakeRun(tmp_path), Counter(pause=0.5)
    results = []
    threads = [threading.Thread(target=lambda: results.append(derived.load_or_compute(run, "clp", {}, compute, CODE)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert compute.calls == 1 and [r["value"] for r in results] == [7, 7, 7]


def test_the_clp_of_a_cached_run_is_stored_in_its_entry_and_read_by_a_new_process(tmp_path):
    spec = RunSpec(dataset="gaussian_mixture", data_args={"dim": 8, "n_per_class": 30, "sigma2": 25.0},
                   labeling="coarse:5", model="mlp", model_args={"width": 32, "depth": 1}, epochs=3,
                   batch_size=50, lr=0.05, snapshot_epochs=(0, 3))
    run = train(spec, cache=tmp_path, progress=False)
    result = run_metrics.clp(run, random_state=3)
    # kept under the epoch "last" stands for (3), so the run's untrained view, whose "last" is epoch 0,
    # never reads it
    stored = derived.result_path(run, "clp", {"epoch": 3, "random_state": 3}, run_metrics.PROBE_CODE)
    assert stored.is_file()
    # What another process finds: the stored result, without computing (compute would fail here).
    def never():
        raise AssertionError("computed again")

    again = derived.load_or_compute(run, "clp", {"epoch": 3, "random_state": 3}, never, run_metrics.PROBE_CODE)
    assert again.accuracy == result.accuracy and np.array_equal(again.predictions, result.predictions)


def test_a_run_outside_any_cache_is_computed_every_time():
    compute = Counter()

    class Measured:
        entry = None

    derived.load_or_compute(Measured(), "clp", {}, compute, CODE)
    derived.load_or_compute(Measured(), "clp", {}, compute, CODE)
    assert compute.calls == 2
