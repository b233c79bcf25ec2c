"""The CUDA branch of the trainer, run on the CPU: bf16 autocast, channels-last inputs and weights,
crop and flip by one gather from the data set prepared once, fused SGD, opt-in torch.compile."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fgcore.train import Run, RunSpec, RunStore, device_data, loop, train

IMAGES = dict(dataset="fgcore.train.gpu_check:synthetic_cifar10", data_args={"n_train": 60, "n_test": 20},
              labeling="coarse:5", model="small_cnn", model_args={"width": 8}, epochs=2, batch_size=16,
              augment="crop_flip", snapshot_epochs=(0, 2))
CUDA_BRANCH = loop.Execution(channels_last=True, fused_sgd=True)


def test_the_cuda_branch_trains_end_to_end_on_the_cpu(tmp_path, monkeypatch):
    seen = {"batches": [], "trainers": []}
    batch, build = device_data.DeviceSplit.batch, loop._Trainer._build

    def recording_batch(self, *args, **kwargs):
        x = batch(self, *args, **kwargs)
        seen["batches"].append(x)
        return x

    def recording_build(self):
        build(self)
        seen["trainers"].append(self)
        self.model.head.register_forward_hook(lambda m, i, out: seen.setdefault("head", out.dtype) and None)

    monkeypatch.setattr(device_data.DeviceSplit, "batch", recording_batch)
    monkeypatch.setattr(loop._Trainer, "_build", recording_build)
    spec = RunSpec(**IMAGES, precision="bf16")
    entry = RunStore(tmp_path).entry(spec.key)
    loop.train_into(spec, entry, device="cpu", progress=False, execution=CUDA_BRANCH)
    run = Run(entry)

    x = seen["batches"][0]
    assert x.dtype == torch.bfloat16 and x.shape[1:] == (3, 32, 32)
    assert x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    trainer = seen["trainers"][-1]
    conv = next(m for m in trainer.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert trainer.optimizer.defaults["fused"] is True
    assert seen["head"] == torch.bfloat16  # autocast was on
    assert run.meta["precision"] == "bf16" and run.meta["execution"]["channels_last"] is True
    assert np.isfinite(run.features("last")).all() and run.features("last").dtype == np.float32
    # bf16 changed the numbers (it ran), not the meaning: close to the float32 run of the same seed.
    float32 = train(RunSpec(**IMAGES), cache=tmp_path, device="cpu")
    difference = np.linalg.norm(run.features(0) - float32.features(0)) / np.linalg.norm(float32.features(0))
    assert 0 < difference < 0.02


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_one_gather_from_the_prepared_split_equals_the_per_batch_crop(channels_last, dtype):
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, size=(20, 3, 8, 8), dtype=np.uint8)
    mean, std = device_data.channel_stats(raw)
    labels = np.arange(20) % 5
    split = device_data.prepare_split(raw, labels, labels, device=torch.device("cpu"), mean=mean, std=std,
                                      pad=device_data.PAD, dtype=dtype, channels_last=channels_last)
    draws = device_data.draw_epoch(torch.Generator().manual_seed(3), 20, 8, augment=True)
    assert draws.flip.any() and not draws.flip.all() and len(set(draws.dy.tolist())) > 1
    m, s = torch.from_numpy(mean).reshape(1, -1, 1, 1), torch.from_numpy(std).reshape(1, -1, 1, 1)
    for position in draws.batches(8):
        index = draws.order[position]
        got = split.batch(index, draws, position)
        cropped = device_data.crop_flip(torch.from_numpy(raw)[index], draws.dy[position], draws.dx[position],
                                        draws.flip[position])
        expected = ((device_data.scale_raw(cropped) - m) / s).to(dtype)
        assert got.dtype == dtype and got.is_contiguous(memory_format=torch.channels_last) == channels_last
        assert torch.equal(got, expected)
    expected = ((device_data.scale_raw(torch.from_numpy(raw[5:15])) - m) / s).to(dtype)
    assert torch.equal(split.inputs(slice(5, 15)), expected)


def test_draws_need_a_cpu_generator():
    cuda_generator = SimpleNamespace(device=torch.device("cuda"))  # stands in for torch.Generator("cuda")
    with pytest.raises(ValueError, match="CPU generator"):
        device_data.draw_epoch(cuda_generator, 10, 4, augment=False)


def test_torch_compile_is_opt_in_and_not_part_of_the_key(tmp_path):
    spec = RunSpec(**{**IMAGES, "epochs": 1, "snapshot_epochs": (0, 1)})
    eager = train(spec, cache=tmp_path / "eager", device="cpu")
    compiled = train(spec, cache=tmp_path / "compiled", device="cpu", compile="eager")  # dynamo, no C compiler
    assert compiled.key == eager.key
    assert compiled.meta["execution"]["compile"] == "eager" and eager.meta["execution"]["compile"] is None
    np.testing.assert_allclose(compiled.features("last"), eager.features("last"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("precision, execution", [
    ("float32", loop.Execution()),
    ("bf16", CUDA_BRANCH),
])
def test_static_buffer_steps_train_the_eager_run_bit_for_bit(tmp_path, precision, execution):
    """The CUDA-graph path (fgcore.train.graphed_steps) without the graph: the full batches read from
    static buffers by a step counter on the device, the last partial batch eagerly. Same losses,
    accuracies and features as the eager loop, bit for bit (60 samples at batch 16: 3 full batches,
    then 12)."""
    spec = RunSpec(**IMAGES, precision=precision)
    graphed = loop.Execution(**{**execution.__dict__, "cuda_graph": True})
    eager_entry = RunStore(tmp_path / "eager").entry(spec.key)
    loop.train_into(spec, eager_entry, device="cpu", progress=False, execution=execution)
    graph_entry = RunStore(tmp_path / "graph").entry(spec.key)
    loop.train_into(spec, graph_entry, device="cpu", progress=False, execution=graphed)
    eager, graph = Run(eager_entry), Run(graph_entry)
    assert graph.meta["execution"]["cuda_graph"] is True and eager.meta["execution"]["cuda_graph"] is False
    drop = ("train_seconds", "eval_seconds")
    for a, b in zip(eager.history, graph.history, strict=True):
        assert {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}
    for epoch in spec.snapshot_epochs:
        assert np.array_equal(eager.features(epoch), graph.features(epoch))


def test_graphed_steps_count_full_batches_and_leave_the_partial_one(monkeypatch):
    """A step counter picks batch k of the epoch's draws: positions k*b .. k*b + b - 1, in order."""
    from fgcore.train.graphed_steps import GraphedSteps

    seen = []

    def step(draws, positions):
        seen.append(draws.order[positions].tolist())
        return torch.tensor(1.0), torch.tensor(2)

    steps = GraphedSteps(step, lambda: None, batch=4, device=torch.device("cpu"), graph=True)
    draws = device_data.draw_epoch(torch.Generator().manual_seed(0), 10, 4, augment=True)
    loss, correct = steps.run_epoch(draws, 2)
    assert seen == [draws.order[0:4].tolist(), draws.order[4:8].tolist()]
    assert (float(loss), int(correct)) == (2.0, 4)
    assert not steps.captured   # no graph on the CPU
    seen.clear()
    steps.run_epoch(device_data.draw_epoch(torch.Generator().manual_seed(1), 10, 4, augment=True), 1)
    assert len(seen) == 1 and steps.counter.item() == 1
