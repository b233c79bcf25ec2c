"""The trainer and its cache: a tiny end-to-end run, cache hits, locking, resume, corruption."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fgcore import metrics
from fgcore.train import CorruptEntryError, Run, RunSpec, RunStore, train
from fgcore.train import loop

REPO = Path(__file__).resolve().parents[1]

TINY = dict(dataset="gaussian_mixture", data_args={"dim": 8, "n_per_class": 20, "sigma2": 4.0},
            labeling="coarse:5", model="mlp", model_args={"width": 16, "depth": 1},
            epochs=4, batch_size=32, lr=0.05, snapshot_epochs=(0, 2, 4))


def tiny(**changes) -> RunSpec:
    return RunSpec(**{**TINY, **changes})


def test_tiny_run_end_to_end(tmp_path):
    run = train(tiny(), cache=tmp_path)
    assert run.snapshot_epochs == (0, 2, 4)
    assert [r["epoch"] for r in run.history] == [0, 1, 2, 3, 4]
    h = run.features(4, "train")
    assert h.shape == (200, 16) and h.dtype == np.float32
    assert run.features("last", "test").shape[0] == run.labels("test", "original").shape[0]
    y_orig, y_train = run.labels("train", "original"), run.labels("train", "train")
    assert set(np.unique(y_orig)) == set(range(10))
    np.testing.assert_array_equal(y_train, y_orig % 5)
    np.testing.assert_array_equal(run.superclass_of, np.arange(10) % 5)
    # The per-epoch statistics agree with the metrics computed on the stored features.
    record = run.record(4)
    assert record["nc1"] == pytest.approx(metrics.nc1(h, y_train), rel=1e-6)
    assert record["nc2"] == pytest.approx(metrics.nc2(h, y_train), rel=1e-6)
    np.testing.assert_allclose(run.distance_matrix(4, "original"),
                               metrics.class_distance_matrix(h, y_orig), rtol=1e-6)
    assert 0.0 <= record["train_acc"] <= 1.0 and record["train_acc"] > run.record(0)["train_acc"]


def test_second_call_is_a_cache_hit(tmp_path, monkeypatch):
    spec = tiny()
    first = train(spec, cache=tmp_path)
    monkeypatch.setattr(loop._Trainer, "run", lambda self: pytest.fail("trained again instead of loading"))
    second = train(spec, cache=tmp_path)
    assert second.key == first.key
    np.testing.assert_array_equal(second.features(4), first.features(4))


def test_different_specs_different_entries(tmp_path):
    assert tiny().key != tiny(weight_decay=5e-3).key
    assert tiny().key == RunSpec.from_dict(tiny().to_dict()).key


def test_interrupted_run_is_not_valid_and_resumes_to_the_same_result(tmp_path, monkeypatch):
    reference = train(tiny(), cache=tmp_path / "reference")
    monkeypatch.setattr(loop, "CHECKPOINT_SECONDS", 0.0)  # a checkpoint after every epoch
    original = loop._Trainer._train_epoch

    def crash_at_3(self, epoch):
        if epoch == 3:
            raise KeyboardInterrupt("simulated crash")
        return original(self, epoch)

    monkeypatch.setattr(loop._Trainer, "_train_epoch", crash_at_3)
    with pytest.raises(KeyboardInterrupt):
        train(tiny(), cache=tmp_path / "resumed")
    entry = RunStore(tmp_path / "resumed").entry(tiny().key)
    assert entry.path.is_dir() and not entry.is_complete()
    with pytest.raises(CorruptEntryError, match="not a complete run"):
        Run(entry)
    monkeypatch.setattr(loop._Trainer, "_train_epoch", original)
    resumed = train(tiny(), cache=tmp_path / "resumed")
    assert [r["epoch"] for r in resumed.history] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(resumed.features(4), reference.features(4), rtol=1e-6, atol=1e-6)


def test_corrupted_feature_file_is_detected(tmp_path):
    run = train(tiny(), cache=tmp_path)
    path = run.path / "features" / "epoch_0004.safetensors"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(data))
    fresh = Run(RunStore(tmp_path).entry(run.key))
    with pytest.raises(CorruptEntryError, match="checksum"):
        fresh.features(4)
    result = subprocess.run([sys.executable, "-m", "fgcore", "--cache", str(tmp_path), "cache", "verify"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1 and "sha256" in result.stdout


def test_truncated_file_makes_the_entry_incomplete(tmp_path):
    run = train(tiny(), cache=tmp_path)
    path = run.path / "features" / "epoch_0002.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    assert not RunStore(tmp_path).entry(run.key).is_complete()


def test_two_processes_train_once(tmp_path):
    script = textwrap.dedent(f"""
        import json, os, sys
        from fgcore.train import RunSpec, train
        spec = RunSpec.from_dict(json.loads(sys.argv[1]))
        run = train(spec, cache=sys.argv[2])
        print(json.dumps({{"pid": os.getpid(), "trained_by": run.meta["pid"], "key": run.key}}))
    """)
    spec = json.dumps(tiny(epochs=6, snapshot_epochs=(0, 6)).to_dict())
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", script, spec, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0]["key"] == results[1]["key"]
    trainers = {r["trained_by"] for r in results}
    assert len(trainers) == 1 and trainers <= {r["pid"] for r in results}
    assert len(RunStore(tmp_path).keys()) == 1


def test_spec_validation_names_the_argument():
    with pytest.raises(ValueError, match="`loss`"):
        tiny(loss="hinge")
    with pytest.raises(ValueError, match="`epochs`"):
        tiny(epochs=0)
    with pytest.raises(ValueError, match="unknown field"):
        RunSpec.from_dict({**tiny().to_dict(), "learning_rate": 0.1})


def test_a_cache_hit_imports_no_torch(tmp_path):
    spec = tiny()
    train(spec, cache=tmp_path)
    script = ("import json, sys; from fgcore.train import RunSpec, train; "
              "run = train(RunSpec.from_dict(json.loads(sys.argv[1])), cache=sys.argv[2]); "
              "print(run.features('last').shape, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script, json.dumps(spec.to_dict()), str(tmp_path)],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.split()[-1] == "False", out.stdout
