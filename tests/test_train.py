"""The trainer and its cache: a tiny end-to-end run, cache hits, locking, resume, corruption."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from fgcore import metrics
from fgcore.train import CorruptEntryError, Run, RunSpec, RunStore, resolve, train
from fgcore.train import device_data, loop

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
    # ... and so does the rest of the collapse family; NC3 and NC4 need the head, which the cache does
    # not keep: they are checked against the trained model below.
    assert record["cdnv"] == pytest.approx(metrics.cdnv(h, y_train), rel=1e-6)
    assert record["equinorm"] == pytest.approx(metrics.equinorm(h, y_train), rel=1e-6)
    assert record["equiangularity"] == pytest.approx(metrics.equiangularity(h, y_train), rel=1e-6)
    assert 0.0 <= record["nc4"] <= 1.0 and np.isfinite(record["nc3"])


def test_nc3_and_nc4_in_the_history_are_those_of_the_final_model(tmp_path, monkeypatch):
    trained = {}
    original_init = loop._Trainer.__init__

    def keep(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        trained["trainer"] = self
    monkeypatch.setattr(loop._Trainer, "__init__", keep)
    run = train(tiny(), cache=tmp_path)
    model = trained["trainer"].model.eval()
    H = torch.from_numpy(run.features("last", "train"))
    y = run.labels("train", "train")
    with torch.no_grad():
        logits = model.head(H).numpy()
    W = model.head.weight.detach().numpy()
    record = run.record("last")
    assert record["nc3"] == pytest.approx(metrics.nc3(W, H.numpy(), y), rel=1e-5)
    assert record["nc4"] == pytest.approx(metrics.nc4(H.numpy(), y, logits=logits), abs=1 / len(y))


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
    monkeypatch.setenv("FGCORE_CHECKPOINT_SECONDS", "0")  # a checkpoint after every epoch
    original = loop._Trainer._train_epoch

    def crash_at_3(self, epoch):
        if epoch == 3:
            raise KeyboardInterrupt("simulated crash")
        return original(self, epoch)

    monkeypatch.setattr(loop._Trainer, "_train_epoch", crash_at_3)
    with pytest.raises(KeyboardInterrupt):
        train(tiny(), cache=tmp_path / "resumed")
    entry = RunStore(tmp_path / "resumed").entry(resolve(tiny()).key)
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


def test_without_waiting_a_spec_another_process_trains_is_passed_over(tmp_path):
    import filelock

    spec = resolve(tiny())
    entry = RunStore(tmp_path).entry(spec.key)
    entry.lock_path.parent.mkdir(parents=True)
    with filelock.FileLock(str(entry.lock_path)):  # another process would hold this while training
        assert train(spec, cache=tmp_path, wait=False) is None
        assert not entry.is_complete()
    run = train(spec, cache=tmp_path, wait=False)  # free again: trained here
    assert run is not None and entry.is_complete()


def test_spec_validation_names_the_argument():
    with pytest.raises(ValueError, match="`loss`"):
        tiny(loss="")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        resolve(tiny(loss="hinge"))   # names are checked against the registries when a spec is resolved
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


# -- one seed, one run: on every device, in every precision it names ---------------------------------
IMAGES = dict(dataset="fgcore.train.gpu_check:synthetic_cifar10", data_args={"n_train": 60, "n_test": 20},
              labeling="coarse:5", model="small_cnn", model_args={"width": 8}, epochs=2, batch_size=16,
              augment="crop_flip", snapshot_epochs=(0, 2))


def images(**changes) -> RunSpec:
    return RunSpec(**{**IMAGES, **changes})


def _without_timings(history):
    return [{k: v for k, v in r.items() if not k.endswith("_seconds")} for r in history]


def test_the_same_spec_trained_twice_gives_identical_features(tmp_path):
    first = train(images(), cache=tmp_path / "a", device="cpu")
    second = train(images(), cache=tmp_path / "b", device="cpu")
    for epoch in first.snapshot_epochs:
        for split in ("train", "test"):
            np.testing.assert_array_equal(first.features(epoch, split), second.features(epoch, split))
    assert _without_timings(first.history) == _without_timings(second.history)


def _legacy_stream(seed, n, batch, epochs):
    """The draws of the first trainer, which drew on a CPU generator per batch while training on the
    CPU: a permutation per epoch, then per batch the crop rows, the crop columns and the flips."""
    generator = torch.Generator().manual_seed(seed)
    stream = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        draws = [(torch.randint(0, 9, (min(batch, n - s),), generator=generator),
                  torch.randint(0, 9, (min(batch, n - s),), generator=generator),
                  torch.rand(min(batch, n - s), generator=generator) < 0.5) for s in range(0, n, batch)]
        stream.append((order, *(torch.cat([d[i] for d in draws]) for i in range(3))))
    return stream


def _recorded_stream(monkeypatch, tmp_path, spec, device, execution=None):
    stream = []
    original = device_data.draw_epoch

    def recording(generator, n, batch_size, *, augment):
        draws = original(generator, n, batch_size, augment=augment)
        stream.append((draws.order.clone(), draws.dy.clone(), draws.dx.clone(), draws.flip.clone()))
        return draws

    monkeypatch.setattr(loop, "draw_epoch", recording)
    store = RunStore(tmp_path / device / str(execution))
    entry = store.entry(spec.key)
    loop.train_into(spec, entry, device=device, progress=False, execution=execution)
    return stream


def test_the_data_stream_is_the_same_on_every_device(monkeypatch, tmp_path):
    """Indices, crop offsets and flips depend on the seed only: the CPU in float32, the CUDA branch's
    code on the CPU (bf16, channels-last, fused SGD), CUDA when there is one; and they are the
    stream the trainer drew before it drew on a CPU generator everywhere (cached CPU runs stay valid)."""
    spec = images()
    reference = _recorded_stream(monkeypatch, tmp_path, spec, "cpu")
    assert len(reference) == spec.epochs
    others = [_recorded_stream(monkeypatch, tmp_path, images(precision="bf16"), "cpu",
                               loop.Execution(channels_last=True, fused_sgd=True))]
    if torch.cuda.is_available():
        others.append(_recorded_stream(monkeypatch, tmp_path, images(precision="bf16"), "cuda"))
    for other in others:
        for mine, theirs in zip(reference, other, strict=True):
            for a, b in zip(mine, theirs, strict=True):
                assert torch.equal(a, b.cpu())
    legacy = _legacy_stream(spec.seed, 60, spec.batch_size, spec.epochs)
    for mine, old in zip(reference, legacy, strict=True):
        for a, b in zip(mine, old, strict=True):
            assert torch.equal(a, b)


def test_precision_is_part_of_the_key_and_float32_keys_did_not_move():
    assert tiny(precision="bf16").key != tiny().key
    # The key TINY had before `precision` existed (at TRAINING_CODE_VERSION 2): float32 runs keep it.
    assert tiny().key == "7e45611b8faf797cd13bf1bcd12fab54"
    assert "precision" not in json.loads(tiny().canonical_json())["spec"]
    assert json.loads(tiny(precision="bf16").canonical_json())["spec"]["precision"] == "bf16"
    assert RunSpec.from_dict(tiny(precision="bf16").to_dict()).precision == "bf16"
    with pytest.raises(ValueError, match="`precision`"):
        tiny(precision="fp16")


def test_meta_records_precision_and_execution(tmp_path):
    run = train(tiny(), cache=tmp_path, device="cpu")
    assert run.meta["precision"] == "float32"
    assert run.meta["execution"] == {"channels_last": False, "cudnn_benchmark": False, "fused_sgd": False,
                                     "resident": True, "compile": None, "cuda_graph": False}
    assert run.meta["devices"] == [{"device": "cpu", "from_epoch": 1}]


def test_default_device_keeps_float32_runs_on_the_cpu(monkeypatch):
    monkeypatch.delenv("FGCORE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert loop.default_device(tiny()).type == "cpu"
    assert loop.default_device(tiny(precision="bf16")).type == "cuda"
    monkeypatch.setenv("FGCORE_DEVICE", "cpu")
    assert loop.default_device(tiny(precision="bf16")).type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("FGCORE_DEVICE")
    assert loop.default_device(tiny(precision="bf16")).type == "cpu"


def test_inputs_prepared_once_equal_the_per_batch_path(tmp_path):
    """The data set normalised and padded once (one gather per batch) trains exactly the run that
    crops, scales and normalises every batch from the raw uint8 images."""
    spec = images()
    resident = train(spec, cache=tmp_path / "resident", device="cpu")
    entry = RunStore(tmp_path / "per-batch").entry(spec.key)
    loop.train_into(spec, entry, device="cpu", progress=False, execution=loop.Execution(resident=False))
    per_batch = Run(entry)
    np.testing.assert_array_equal(resident.features("last"), per_batch.features("last"))


# -- checkpoints: data, never code --------------------------------------------------------------------
class _RunsCode:
    """Unpickling this calls os.mkdir(path): what a hostile checkpoint.pt on a shared cache could do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def _crash_at_epoch_3(monkeypatch, spec, cache):
    monkeypatch.setenv("FGCORE_CHECKPOINT_SECONDS", "0")
    original = loop._Trainer._train_epoch

    def crash(self, epoch, max_steps=None):
        if epoch == 3:
            raise KeyboardInterrupt("simulated crash")
        return original(self, epoch, max_steps)

    monkeypatch.setattr(loop._Trainer, "_train_epoch", crash)
    with pytest.raises(KeyboardInterrupt):
        train(spec, cache=cache, device="cpu")
    monkeypatch.setattr(loop._Trainer, "_train_epoch", original)
    return RunStore(cache).entry(resolve(spec).key).file("checkpoint.pt")


def test_a_checkpoint_holding_a_pickled_object_is_refused(tmp_path, monkeypatch, capsys):
    reference = train(tiny(), cache=tmp_path / "reference", device="cpu")
    path = _crash_at_epoch_3(monkeypatch, tiny(), tmp_path / "cache")
    marker = tmp_path / "code-ran"
    state = torch.load(path, weights_only=True)
    state["payload"] = _RunsCode(marker)
    torch.save(state, path)
    capsys.readouterr()
    run = train(tiny(), cache=tmp_path / "cache", device="cpu")
    err = capsys.readouterr().err
    assert not marker.exists(), "the pickled object was executed"
    assert "cannot resume" in err and "objects other than tensors" in err and "starting over" in err
    assert [r["epoch"] for r in run.history] == [0, 1, 2, 3, 4]  # trained from epoch 0 again
    np.testing.assert_array_equal(run.features(4), reference.features(4))


def test_a_checkpoint_from_another_device_resumes_and_says_so(tmp_path, monkeypatch, capsys):
    """A checkpoint is loaded onto the CPU first (map_location), so one written on a GPU resumes here;
    the run says so and its meta lists which device trained which epochs."""
    reference = train(tiny(), cache=tmp_path / "reference", device="cpu")
    path = _crash_at_epoch_3(monkeypatch, tiny(), tmp_path / "cache")
    state = torch.load(path, weights_only=True)
    assert state["epoch"] == 2
    state["segments"] = [{"device": "cuda:0 (NVIDIA H200)", "from_epoch": 1}]
    torch.save(state, path)
    capsys.readouterr()
    run = train(tiny(), cache=tmp_path / "cache", device="cpu")
    err = capsys.readouterr().err
    assert "resuming" in err and "written on cuda:0 (NVIDIA H200)" in err
    assert run.meta["devices"] == [{"device": "cuda:0 (NVIDIA H200)", "from_epoch": 1},
                                   {"device": "cpu", "from_epoch": 3}]
    np.testing.assert_allclose(run.features(4), reference.features(4), rtol=1e-6, atol=1e-6)


def test_a_family_measure_undefined_at_an_epoch_is_nan_and_the_run_goes_on(tmp_path, monkeypatch):
    def coinciding(*args):
        raise ValueError("the means of classes 0 and 1 coincide")
    monkeypatch.setitem(metrics.METRICS, "cdnv", dataclasses.replace(metrics.METRICS["cdnv"], streaming=coinciding))
    run = train(tiny(), cache=tmp_path)
    assert all(np.isnan(record["cdnv"]) for record in run.history if "nc1" in record)
    assert np.isfinite(run.record("last")["equinorm"]) and run.final_train_accuracy() > 0
