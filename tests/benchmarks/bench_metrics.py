"""Speed of fgcore.metrics.

    PYTHONPATH=. .venv/bin/python -m pytest tests/benchmarks/bench_metrics.py -p no:xdist --benchmark-only

* D closed form vs brute force (all n^2 pairwise squared distances, scipy's cdist, then class-block
  means) at n = 3,000, d = 512, C = 10. Target: closed form >= 100x faster. The brute-force test
  also times the closed form itself and stores the ratio in extra_info["speedup"].
* nc1 + nc2 + D on 50,000 x 512 float32 features with C = 10 (the CIFAR-10 training set).
  Target: <= 1 s on 2 CPU cores; <= 50 ms on a GPU (the CUDA case is skipped without one).
* The whole Neural-Collapse family side by side on the same data (nc1 ... equiangularity, one
  benchmark each, one group), so each new measure is read against nc1.
* The streaming accumulator over the same data in batches of 4,096 (per-epoch statistics), and
  NC4's streaming form (NCCAgreement) over the same batches.

Every benchmark stores the machine's state in extra_info (CPUs, 1-minute load average, versions):
on a shared machine the load explains most of the spread.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import pytest
import scipy
import torch
from scipy.spatial.distance import cdist

from fgcore.metrics import (
    ClassStatistics,
    NCCAgreement,
    cdnv,
    class_distance_from_stats,
    class_distance_matrix,
    class_statistics,
    equiangularity,
    equinorm,
    nc1,
    nc1_from_stats,
    nc2,
    nc2_from_stats,
    nc3,
    nc4,
)


def environment() -> dict:
    return {
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def features(n, d, C, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, n)
    H = rng.normal(size=(C, d))[y] * 2 + rng.normal(size=(n, d))
    return H.astype(dtype), y


# ----------------------------------------------------------------- D: closed form vs brute force


@pytest.fixture(scope="module")
def small():
    return features(3000, 512, 10, dtype=np.float64)


def brute_force_distance(H, y):
    """Eq. (6) by definition: every pairwise squared distance, then the mean over class blocks."""
    classes, codes = np.unique(y, return_inverse=True)
    onehot = np.eye(len(classes))[codes]
    S = cdist(H, H, metric="sqeuclidean")
    counts = onehot.sum(0)
    return onehot.T @ S @ onehot / np.outer(counts, counts)


@pytest.mark.benchmark(group="D n=3000 d=512: closed form vs brute force")
def test_distance_closed_form(benchmark, small):
    H, y = small
    benchmark.extra_info.update(environment())
    D = benchmark(class_distance_matrix, H, y)
    assert D.shape == (10, 10)


@pytest.mark.benchmark(group="D n=3000 d=512: closed form vs brute force")
def test_distance_brute_force(benchmark, small):
    H, y = small
    benchmark.extra_info.update(environment())
    brute = benchmark.pedantic(brute_force_distance, args=(H, y), rounds=3, iterations=1)
    closed = []
    for _ in range(10):
        t = time.perf_counter()
        D = class_distance_matrix(H, y)
        closed.append(time.perf_counter() - t)
    benchmark.extra_info["closed_form_min_s"] = min(closed)
    benchmark.extra_info["speedup"] = benchmark.stats.stats.min / min(closed)
    np.testing.assert_allclose(D, brute, rtol=1e-9)  # same numbers, or the ratio means nothing


# ---------------------------------------------------------- nc1 + nc2 + D on a CIFAR-sized set


@pytest.fixture(scope="module")
def cifar_sized():
    return features(50_000, 512, 10)


def all_three(H, y):
    return nc1(H, y), nc2(H, y), class_distance_matrix(H, y)


@pytest.mark.benchmark(group="nc1+nc2+D 50000x512 float32")
def test_nc1_nc2_distance_cpu(benchmark, cifar_sized):
    H, y = cifar_sized
    benchmark.extra_info.update(environment())
    benchmark.pedantic(all_three, args=(H, y), rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="nc1+nc2+D 50000x512 float32")
@pytest.mark.parametrize("metric", [nc1, nc2, class_distance_matrix],
                         ids=["nc1", "nc2", "distance"])
def test_each_metric_cpu(benchmark, cifar_sized, metric):
    H, y = cifar_sized
    benchmark.extra_info.update(environment())
    benchmark.pedantic(metric, args=(H, y), rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.benchmark(group="nc1+nc2+D 50000x512 float32")
def test_nc1_nc2_distance_cuda(benchmark, cifar_sized):
    H, y = cifar_sized
    Ht, yt = torch.from_numpy(H).cuda(), torch.from_numpy(y).cuda()
    benchmark.extra_info.update(environment())

    def run():
        out = all_three(Ht, yt)
        torch.cuda.synchronize()
        return out

    benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=2)


# ------------------------------------------------- the Neural-Collapse family, side by side


@pytest.fixture(scope="module")
def head(cifar_sized):
    """A 10 x 512 linear head and its logits on the CIFAR-sized features."""
    H, _ = cifar_sized
    rng = np.random.default_rng(1)
    W = rng.normal(size=(10, H.shape[1])) / np.sqrt(H.shape[1])
    b = rng.normal(size=10)
    return W, b, (H @ W.T.astype(np.float32) + b.astype(np.float32))


FAMILY = {
    "nc1": lambda H, y, head: nc1(H, y),
    "nc2": lambda H, y, head: nc2(H, y),
    "nc3": lambda H, y, head: nc3(head[0], H, y),
    "nc4-logits": lambda H, y, head: nc4(H, y, logits=head[2]),
    "nc4-W-b": lambda H, y, head: nc4(H, y, W=head[0], b=head[1]),
    "cdnv": lambda H, y, head: cdnv(H, y),
    "equinorm": lambda H, y, head: equinorm(H, y),
    "equiangularity": lambda H, y, head: equiangularity(H, y),
}


@pytest.mark.benchmark(group="NC family 50000x512 float32, C=10")
@pytest.mark.parametrize("name", list(FAMILY))
def test_family_cpu(benchmark, cifar_sized, head, name):
    H, y = cifar_sized
    benchmark.extra_info.update(environment())
    value = benchmark.pedantic(FAMILY[name], args=(H, y, head), rounds=5, iterations=1,
                               warmup_rounds=1)
    benchmark.extra_info["value"] = value
    assert np.isfinite(value)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.benchmark(group="NC family 50000x512 float32, C=10, CUDA")
@pytest.mark.parametrize("name", list(FAMILY))
def test_family_cuda(benchmark, cifar_sized, head, name):
    H, y = cifar_sized
    Ht, yt = torch.from_numpy(H).cuda(), torch.from_numpy(y).cuda()
    on_gpu = (torch.from_numpy(head[0]).cuda(), torch.from_numpy(head[1]).cuda(),
              torch.from_numpy(head[2]).cuda())
    benchmark.extra_info.update(environment())

    def run():
        out = FAMILY[name](Ht, yt, on_gpu)
        torch.cuda.synchronize()
        return out

    benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=2)


# ------------------------------------------------------------------------ streaming accumulator


@pytest.mark.benchmark(group="streaming 50000x512 float32, batches of 4096")
@pytest.mark.parametrize("covariance", [False, True], ids=["means+traces", "with-sigma_w"])
def test_streaming_accumulator_cpu(benchmark, cifar_sized, covariance):
    H, y = cifar_sized
    coarse = y % 5
    Ht, yt = torch.from_numpy(H), torch.from_numpy(coarse)
    counts = np.bincount(coarse)
    benchmark.extra_info.update(environment())

    def run():
        acc = ClassStatistics(5, covariance=covariance, class_counts=counts)
        for a in range(0, len(yt), 4096):
            acc.update(Ht[a:a + 4096], yt[a:a + 4096])
        stats = acc.result()
        out = nc2_from_stats(stats), class_distance_from_stats(stats)
        return (nc1_from_stats(stats),) + out if covariance else out

    benchmark.pedantic(run, rounds=3, iterations=1)


@pytest.mark.benchmark(group="streaming 50000x512 float32, batches of 4096")
def test_streaming_ncc_agreement_cpu(benchmark, cifar_sized, head):
    H, y = cifar_sized
    Ht, yt, logits = torch.from_numpy(H), torch.from_numpy(y), torch.from_numpy(head[2])
    stats = class_statistics(H, y)
    benchmark.extra_info.update(environment())

    def run():
        acc = NCCAgreement(stats)
        for a in range(0, len(yt), 4096):
            acc.update(Ht[a:a + 4096], logits[a:a + 4096], yt[a:a + 4096])
        return acc.result()

    benchmark.pedantic(run, rounds=3, iterations=1)
