"""Speed of the CLP embedding: openTSNE vs scikit-learn's t-SNE on 10,000 x 512 (the target: openTSNE
at least 2x faster on 2 cores).

    PYTHONPATH=. .venv/bin/python -m pytest tests/benchmarks/bench_clp.py -p no:xdist --benchmark-only

Both run through fgcore.clp.embed with the same settings (perplexity 30, 250 + 500 iterations, PCA
initialisation, the same thread rule), on one superclass of the CIFAR-10 CLP: 10,000 features of
dimension 512 from two subclasses. One round each (minutes on a CPU); the openTSNE case stores the
speedup over the scikit-learn round in extra_info["speedup"] when both ran in the session.
"""

from __future__ import annotations

import os
import platform

import numpy as np
import pytest

from fgcore.clp.embedding import auto_n_jobs, embed, tsne_backend

N, D = 10_000, 512
_TIMES: dict = {}


def environment() -> dict:
    import openTSNE
    import sklearn

    return {
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "openTSNE": openTSNE.__version__,
    }


@pytest.fixture(scope="module")
def superclass_features():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, N)
    return (rng.normal(size=(2, D))[y] * 2 + rng.normal(size=(N, D))).astype(np.float32)


@pytest.mark.benchmark(group="t-SNE 10000x512")
@pytest.mark.parametrize("backend", ["sklearn", "openTSNE"])
def test_tsne_embedding(benchmark, superclass_features, backend):
    if backend == "openTSNE" and tsne_backend() != "openTSNE":
        pytest.skip("openTSNE is not installed")
    n_jobs = auto_n_jobs(N)
    benchmark.extra_info.update(environment())
    benchmark.extra_info["n_jobs"] = n_jobs
    Y = benchmark.pedantic(embed, args=(superclass_features, "tsne"),
                           kwargs={"random_state": 0, "n_jobs": n_jobs, "backend": backend},
                           rounds=1, iterations=1)
    assert Y.shape == (N, 2) and np.all(np.isfinite(Y))
    _TIMES[backend] = benchmark.stats.stats.min
    if len(_TIMES) == 2:
        benchmark.extra_info["speedup"] = _TIMES["sklearn"] / _TIMES["openTSNE"]
        print(f"\nopenTSNE speedup over sklearn t-SNE: {benchmark.extra_info['speedup']:.2f}x "
              f"(n_jobs={n_jobs}, load {os.getloadavg()[0]:.1f})")
