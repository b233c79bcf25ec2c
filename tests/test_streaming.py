"""The streaming accumulator agrees with the array metrics, including on collapsed float32 data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fgcore.metrics import (
    ClassStatistics,
    NCCAgreement,
    cdnv,
    cdnv_from_stats,
    class_distance_from_stats,
    class_distance_matrix,
    class_statistics,
    equiangularity,
    equiangularity_from_stats,
    equinorm,
    equinorm_from_stats,
    nc1,
    nc1_from_stats,
    nc2,
    nc2_from_stats,
    nc3,
    nc3_from_stats,
    nc4,
)
from fgcore.metrics import _core
from fgcore.metrics.validation import check_features, check_labels


def feed(acc, H, y, batch_sizes):
    start = 0
    for b in batch_sizes:
        if start >= len(y):
            break
        acc.update(H[start:start + b], y[start:start + b])
        start += b
    if start < len(y):
        acc.update(H[start:], y[start:])
    return acc.result()


def random_batches(rng, n):
    return rng.integers(1, max(2, n // 3), size=n)  # feed() stops when the data runs out


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(1, 7), st.integers(0, 2**32 - 1), st.booleans(),
       st.booleans())
def test_accumulator_equals_array_functions(C, d, seed, known_counts, as_torch):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, size=120)
    y[:C] = np.arange(C)
    y[C:2 * C] = np.arange(C)  # every class has two samples
    H = rng.normal(size=(C, d))[y] * 4 + rng.normal(size=(y.size, d)) + 50.0
    counts = np.bincount(y, minlength=C) if known_counts else None
    Hb, yb = (torch.from_numpy(H), torch.from_numpy(y)) if as_torch else (H, y)
    stats = feed(ClassStatistics(C, class_counts=counts), Hb, yb, random_batches(rng, y.size))
    assert nc1_from_stats(stats) == pytest.approx(nc1(H, y), rel=1e-8)
    assert nc2_from_stats(stats) == pytest.approx(nc2(H, y), rel=1e-9, abs=1e-12)
    for center in ("class_means", "global_mean"):
        assert nc1_from_stats(stats, center=center) == pytest.approx(nc1(H, y, center=center),
                                                                     rel=1e-8)
        assert nc2_from_stats(stats, center=center) == pytest.approx(nc2(H, y, center=center),
                                                                     rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(class_distance_from_stats(stats), class_distance_matrix(H, y),
                               rtol=1e-9)
    np.testing.assert_array_equal(stats.counts, np.bincount(y, minlength=C))
    np.testing.assert_allclose(stats.global_mean, H.mean(0), rtol=1e-12)
    # The rest of the family from the same statistics.
    W = rng.normal(size=(C, d))
    assert nc3_from_stats(stats, W) == pytest.approx(nc3(W, H, y), rel=1e-9)
    assert cdnv_from_stats(stats) == pytest.approx(cdnv(H, y), rel=1e-9)
    assert equinorm_from_stats(stats) == pytest.approx(equinorm(H, y), rel=1e-9, abs=1e-12)
    assert equiangularity_from_stats(stats) == pytest.approx(equiangularity(H, y), rel=1e-9,
                                                             abs=1e-12)
    logits = H @ rng.normal(size=(d, C))
    agreement = NCCAgreement(stats)
    for a in range(0, y.size, 25):
        agreement.update(Hb[a:a + 25], logits[a:a + 25], yb[a:a + 25])
    assert agreement.result() == nc4(H, y, logits=logits)


def collapsed_float32(seed=1, C=5, d=64, n_per=200):
    """Collapsed features: within-class std 1e-3 around class means of size ~20."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(C), n_per)
    rng.shuffle(y)
    H = (rng.normal(size=(C, d))[y] * 10 + 20 + 1e-3 * rng.normal(size=(y.size, d)))
    return H.astype(np.float32), y


def test_accumulator_on_collapsed_float32_features_matches_two_pass_float64():
    H, y = collapsed_float32()
    Ht, yt = torch.from_numpy(H), torch.from_numpy(y)
    for counts in (None, np.bincount(y)):
        acc = ClassStatistics(5, class_counts=counts)
        for a in range(0, len(y), 128):
            acc.update(Ht[a:a + 128], yt[a:a + 128])
        stats = acc.result()
        expected = nc1(H, y)
        assert 0 < nc1_from_stats(stats) == pytest.approx(expected, rel=1e-6)
        np.testing.assert_allclose(class_distance_from_stats(stats), class_distance_matrix(H, y),
                                   rtol=1e-7)
    # The naive one-pass float32 statistics (sum h h' / n - mu mu') lose the within-class part.
    means = torch.stack([Ht[yt == c].mean(0) for c in range(5)])
    naive_trace = [float((Ht[yt == c] ** 2).sum(1).mean() - (means[c] ** 2).sum()) for c in range(5)]
    true_trace = [float(np.var(H[y == c].astype(np.float64), axis=0).sum()) for c in range(5)]
    assert max(abs(a - b) / b for a, b in zip(naive_trace, true_trace)) > 1.0


def test_bf16_batches_use_the_bf16_rank_cutoff_and_match_the_array_path():
    H, y = collapsed_float32(C=4, d=16, n_per=100)
    Hb = torch.from_numpy(H).to(torch.bfloat16)
    stats = feed(ClassStatistics(4), Hb, torch.from_numpy(y), [256] * 2)
    assert stats.input_eps == torch.finfo(torch.bfloat16).eps
    assert nc1_from_stats(stats) == pytest.approx(nc1(Hb, y), rel=1e-6)


def test_accumulator_without_covariance_gives_d_and_nc2_only():
    rng = np.random.default_rng(2)
    y = np.repeat(np.arange(3), 10)
    H = rng.normal(size=(30, 4)) + y[:, None]
    stats = feed(ClassStatistics(3, covariance=False), H, y, [7, 7, 7])
    assert stats.sigma_w is None
    np.testing.assert_allclose(class_distance_from_stats(stats), class_distance_matrix(H, y),
                               rtol=1e-10)
    with pytest.raises(ValueError, match="covariance=True"):
        nc1_from_stats(stats)


def test_class_statistics_of_arrays_equal_the_accumulator():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 200)
    H = rng.normal(size=(200, 5)) + y[:, None]
    a = class_statistics(H, y)
    b = feed(ClassStatistics(4), H, y, [50] * 4)
    np.testing.assert_allclose(a.means, b.means, rtol=1e-12)
    np.testing.assert_allclose(a.traces, b.traces, rtol=1e-10)
    assert nc2_from_stats(a) == pytest.approx(nc2(H, y), rel=1e-12)


def test_torch_passes_equal_numpy_passes():
    # The accelerator code path (index_add_ on the device) run on CPU tensors.
    rng = np.random.default_rng(4)
    y = rng.integers(0, 5, 300)
    H = (rng.normal(size=(5, 8))[y] * 3 + rng.normal(size=(300, 8))).astype(np.float32)
    V = np.linalg.qr(rng.normal(size=(8, 4)))[0]
    f_np = check_features(H)
    f_t = check_features(H, keep_tensor=True)
    p_np = _core.passes(f_np.data, check_labels(y, f_np))
    p_t = _core.passes(f_t.data, check_labels(torch.from_numpy(y), f_t))
    m = p_np.means()
    np.testing.assert_allclose(p_t.means(), m, rtol=1e-12)
    for a, b in zip(p_t.centred(m, V), p_np.centred(m, V)):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_accelerator_code_path_end_to_end_on_cpu_tensors(monkeypatch):
    # Public functions send CPU data to numpy; force the tensor (CUDA) path to check it whole.
    import fgcore.metrics.collapse as collapse
    import fgcore.metrics.distance as distance
    import fgcore.metrics.stats as stats_module

    rng = np.random.default_rng(5)
    y = rng.choice([7, -2, 40], size=150)
    H = (rng.normal(size=(41 + 3, 6))[y + 2] * 3 + rng.normal(size=(150, 6))).astype(np.float32)
    expected = (nc1(H, y), nc2(H, y), class_distance_matrix(H, y))

    def tensors(H, name="H", keep_tensor=False):
        return check_features(H, name, keep_tensor=True)

    for module in (collapse, distance, stats_module):
        monkeypatch.setattr(module, "check_features", tensors)
    used = []
    original = _core.passes
    monkeypatch.setattr(_core, "passes", lambda X, labels: used.append(type(X)) or original(X, labels))
    got = (nc1(H, y), nc2(H, y), class_distance_matrix(H, y))
    assert used == [torch.Tensor] * 3
    assert got[0] == pytest.approx(expected[0], rel=1e-9)
    assert got[1] == pytest.approx(expected[1], rel=1e-9)
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-9)


# ------------------------------------------------------------------------------------ bad input


def test_accumulator_bad_input():
    acc = ClassStatistics(3)
    with pytest.raises(ValueError, match="no batch was added"):
        acc.result()
    with pytest.raises(ValueError, match=r"labels 0..2 .* from 0 to 3"):
        acc.update(np.ones((2, 4)), np.array([0, 3]))
    with pytest.raises(ValueError, match="y_batch must hold integer"):
        acc.update(np.ones((2, 4)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="one label per row"):
        acc.update(np.ones((2, 4)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="H_batch contains 1 NaN"):
        acc.update(np.array([[1.0, np.nan]]), np.array([0]))
    acc.update(np.ones((2, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match="has 5 features but earlier batches had 4"):
        acc.update(np.ones((2, 5)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"classes \[2\] received no samples"):
        acc.result()


def test_accumulator_checks_class_counts():
    with pytest.raises(ValueError, match="class_counts must be 2 positive integers"):
        ClassStatistics(2, class_counts=[3, 0])
    acc = ClassStatistics(2, class_counts=[2, 2])
    acc.update(np.ones((3, 2)), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="class 0 received 1 samples but class_counts says 2"):
        acc.result()
    with pytest.raises(ValueError, match="class 1 has now 3 samples"):
        acc.update(np.ones((1, 2)), np.array([1]))
    with pytest.raises(ValueError, match="n_classes must be a positive integer"):
        ClassStatistics(0)
