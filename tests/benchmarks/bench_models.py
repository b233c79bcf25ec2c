"""Training throughput of the CPU models: one SGD step (forward, cross-entropy, backward, update)
at batch 128, in images per second.

    PYTHONPATH=. python -m pytest tests/benchmarks/bench_models.py --benchmark-only -p no:cacheprovider

ResNet-18 on a CPU takes seconds per step, so it runs a handful of rounds; small_cnn runs more.
The images/s figure (wall clock), the CPU seconds per step and the setup (device, threads, torch version) are stored in extra_info, so they
appear in ``--benchmark-json`` output next to the timings.
"""

from __future__ import annotations

import platform
import time

import pytest
import torch

from fgcore.models import build

BATCH = 128
CASES = [
    # name, in_shape, num_classes, rounds
    ("small_cnn", (1, 28, 28), 10, 10),
    ("resnet18", (3, 32, 32), 10, 3),
]


# One thread and torch's default: on a shared machine the default can be slower than one thread
# (spin-waiting OpenMP threads), so both figures are worth having.
THREADS = sorted({1, torch.get_num_threads()})


@pytest.fixture
def threads(request):
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


@pytest.mark.parametrize("threads", THREADS, indirect=True, ids=lambda t: f"{t}thread")
@pytest.mark.parametrize("name,in_shape,num_classes,rounds", CASES, ids=[c[0] for c in CASES])
def test_sgd_step_throughput_cpu(benchmark, name, in_shape, num_classes, rounds, threads):
    torch.manual_seed(0)
    model = build(name, num_classes, in_shape).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(BATCH, *in_shape)
    y = torch.randint(0, num_classes, (BATCH,))

    cpu_seconds: list[float] = []

    def step() -> float:
        start = time.process_time()
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        cpu_seconds.append(time.process_time() - start)
        return loss.item()

    loss = benchmark.pedantic(step, rounds=rounds, iterations=1, warmup_rounds=1)
    assert torch.isfinite(torch.tensor(loss))
    mean_s = benchmark.stats.stats.mean
    # CPU seconds of all threads per step (excluding the warm-up): on a shared machine the wall time
    # depends on the other load, the CPU time much less; images/s per core = BATCH / cpu_s.
    cpu_s = sum(cpu_seconds[1:]) / max(len(cpu_seconds) - 1, 1)
    benchmark.extra_info.update(
        images_per_s=round(BATCH / mean_s, 1),
        cpu_seconds_per_step=round(cpu_s, 3),
        batch=BATCH,
        in_shape=list(in_shape),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        cpu=platform.processor() or platform.machine(),
    )
    print(f"\n{name}: {BATCH / mean_s:.1f} images/s wall (one SGD step at batch {BATCH}: {mean_s:.3f} s, "
          f"{cpu_s:.3f} CPU s over {torch.get_num_threads()} threads)")


# -- the trainer's input path: one epoch of CIFAR-sized batches (crop, flip, scale, normalise) --------
# "per_batch": the raw uint8 images cropped, scaled and normalised batch by batch (the first trainer,
# the baseline of `make gpu-check`); "prepared": the split normalised and padded once, one gather per
# batch (what the trainer does now). CUDA cases (bf16, channels-last, as the gpu fixtures) are skipped
# without a GPU.
INPUT_CASES = [("cpu", "per_batch"), ("cpu", "prepared"), ("cuda", "per_batch"), ("cuda", "prepared")]


@pytest.mark.parametrize("device,path", INPUT_CASES, ids=[f"{d}-{p}" for d, p in INPUT_CASES])
def test_cifar_input_batches(benchmark, device, path):
    import numpy as np

    from fgcore.train import device_data

    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    n, batch = 4096, BATCH
    raw = np.random.default_rng(0).integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = np.arange(n) % 10
    mean, std = device_data.channel_stats(raw)
    cuda = device == "cuda"
    split = device_data.prepare_split(raw, labels, labels, device=torch.device(device), mean=mean, std=std,
                                      pad=device_data.PAD, dtype=torch.bfloat16 if cuda else torch.float32,
                                      channels_last=cuda, resident=path == "prepared")
    draws = device_data.draw_epoch(torch.Generator().manual_seed(0), n, batch, augment=True).to(torch.device(device))
    positions = draws.batches(batch)

    def epoch():
        for position in positions:
            x = split.batch(draws.order[position], draws, position)
        if cuda:
            torch.cuda.synchronize()
        return x

    x = benchmark.pedantic(epoch, rounds=5, iterations=1, warmup_rounds=1)
    assert x.shape == (n % batch or batch, 3, 32, 32)
    benchmark.extra_info.update(images_per_s=round(n / benchmark.stats.stats.mean), device=device, path=path,
                                torch=torch.__version__)


# -- ResNet-18 training steps on a GPU: the per-batch baseline beside the fast path (make gpu-check
# prints the same with utilisation and memory) ----------------------------------------------------------
LOOP_CASES = {"baseline": dict(resident=False, cudnn_benchmark=False, fused_sgd=False), "fast": {}}


@pytest.mark.parametrize("variant", sorted(LOOP_CASES))
def test_resnet18_steps_cuda(benchmark, variant):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from fgcore.train import RunSpec, loop

    spec = RunSpec(dataset="fgcore.train.gpu_check:synthetic_cifar10", data_args={"n_train": 12_800, "n_test": 1000},
                   labeling="coarse:5", model="resnet18", augment="crop_flip", precision="bf16", epochs=2)
    steps = 50
    seconds = benchmark.pedantic(lambda: loop.time_epochs(spec, device="cuda", epochs=2, steps=steps,
                                                          execution=loop.Execution(**LOOP_CASES[variant])),
                                 rounds=1, iterations=1)
    per_epoch = seconds[-1] / steps * 391
    benchmark.extra_info.update(seconds_per_epoch=round(per_epoch, 3), device=torch.cuda.get_device_name(0))
    print(f"\nresnet18 {variant}: {per_epoch:.2f} s per CIFAR-10 epoch (batch 128, bf16)")
