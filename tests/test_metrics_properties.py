"""Property tests (hypothesis) of fgcore.metrics: invariances, exact cases, closed form of D.

Data are drawn from a seed and a few shape parameters, so hypothesis explores sizes and seeds
while every example stays well conditioned (class means spread at least as much as the noise).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fgcore.metrics import class_distance_matrix, msd_ratio, nc1, nc2

SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def labelled_features(draw, min_classes=2, max_classes=6):
    C = draw(st.integers(min_classes, max_classes))
    d = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 15, size=C)
    y = np.repeat(np.arange(C), sizes)
    rng.shuffle(y)
    spread = draw(st.floats(1.0, 10.0))
    H = rng.normal(size=(C, d))[y] * spread + rng.normal(size=(y.size, d))
    return H, y, rng


def random_rotation(rng, d):
    Q, R = np.linalg.qr(rng.normal(size=(d, d)))
    return Q * np.sign(np.diag(R))


@SETTINGS
@given(labelled_features(), st.sampled_from([np.float64, np.float32]))
def test_nc1_is_non_negative(data, dtype):
    H, y, _ = data
    assert nc1(H.astype(dtype), y) >= 0.0


@SETTINGS
@given(labelled_features(), st.floats(-100, 100), st.floats(1e-3, 1e3))
def test_nc1_nc2_invariant_to_rotation_translation_scaling(data, shift, scale):
    H, y, rng = data
    moved = scale * H @ random_rotation(rng, H.shape[1]) + shift * rng.normal(size=H.shape[1])
    # rel 1e-6: the condition number of the class-mean spectrum amplifies float64 rounding.
    assert nc1(moved, y) == pytest.approx(nc1(H, y), rel=1e-6)
    assert nc2(moved, y) == pytest.approx(nc2(H, y), rel=1e-6, abs=1e-9)


@SETTINGS
@given(labelled_features(), st.integers(0, 2**32 - 1))
def test_metrics_invariant_to_renaming_labels(data, seed):
    H, y, _ = data
    C = y.max() + 1
    new_values = np.random.default_rng(seed).choice(10**6, size=C, replace=False) - 500_000
    renamed = new_values[y]
    assert nc1(H, renamed) == pytest.approx(nc1(H, y), rel=1e-9)
    assert nc2(H, renamed) == pytest.approx(nc2(H, y), rel=1e-9, abs=1e-12)
    order = np.argsort(new_values)  # D follows the sorted label values
    np.testing.assert_allclose(class_distance_matrix(H, renamed),
                               class_distance_matrix(H, y)[np.ix_(order, order)], rtol=1e-12)


@SETTINGS
@given(labelled_features())
def test_exactly_collapsed_features_give_zero_nc1(data):
    _, y, rng = data
    C, d = y.max() + 1, 4
    means = rng.integers(-50, 50, size=(C, d)).astype(np.float64)  # exact in binary
    if np.linalg.matrix_rank(means - means.mean(0)) == 0:
        means[0, 0] += 1.0
    assert nc1(means[y], y) == 0.0


@SETTINGS
@given(st.integers(2, 7), st.integers(0, 5), st.integers(0, 2**32 - 1), st.floats(0.1, 100))
def test_exact_simplex_etf_means_give_zero_nc2(C, extra_dims, seed, scale):
    rng = np.random.default_rng(seed)
    d = C + extra_dims
    Q, _ = np.linalg.qr(rng.normal(size=(d, C)))
    means = scale * (np.eye(C) - 1.0 / C) @ Q.T + rng.normal(size=d)
    # Equal class sizes and antithetic noise: the class means are exactly the ETF vertices.
    noise = rng.normal(size=(C, 3, d))
    H = np.concatenate([means[:, None] + noise, means[:, None] - noise], 1).reshape(-1, d)
    y = np.repeat(np.arange(C), 6)
    assert nc2(H, y) == pytest.approx(0.0, abs=1e-9)


def exact_etf_means(rng, C, extra_dims, scale):
    """C class means forming an exact simplex ETF, rotated into C + extra_dims dimensions, scaled
    and translated."""
    d = C + extra_dims
    Q, _ = np.linalg.qr(rng.normal(size=(d, C)))
    return scale * (np.eye(C) - 1.0 / C) @ Q.T + rng.normal(size=d)


@SETTINGS
@given(st.integers(2, 7), st.integers(0, 5), st.integers(0, 2**32 - 1), st.floats(0.1, 100),
       st.lists(st.integers(1, 12), min_size=7, max_size=7))
def test_exact_simplex_etf_with_unequal_class_sizes_gives_zero_nc2(C, extra_dims, seed, scale,
                                                                   pairs):
    rng = np.random.default_rng(seed)
    means = exact_etf_means(rng, C, extra_dims, scale)
    sizes = np.array(pairs[:C])
    # Antithetic noise (+e, -e) keeps every class mean exactly at its vertex, whatever its size.
    blocks = []
    for c in range(C):
        e = rng.normal(size=(sizes[c], means.shape[1]))
        blocks.append(np.concatenate([means[c] + e, means[c] - e]))
    H = np.concatenate(blocks)
    y = np.repeat(np.arange(C), 2 * sizes)
    assert nc2(H, y) == pytest.approx(0.0, abs=1e-9)
    if C > 2 and len(set(sizes.tolist())) > 1:
        # Negative control: centred at the sample mean, unequal sizes pull the centre off the
        # ETF's and the same means score above 0 (2 classes stay antipodal for any centre on
        # their line, so they are exempt).
        assert nc2(H, y, center="global_mean") > 1e-3


@SETTINGS
@given(labelled_features(max_classes=4), st.floats(-1e3, 1e3))
def test_distance_closed_form_equals_brute_force(data, shift):
    H, y, _ = data
    H = H + shift
    D = class_distance_matrix(H, y)
    C = y.max() + 1
    brute = np.empty((C, C))
    for i in range(C):
        for j in range(C):
            diff = H[y == i][:, None, :] - H[y == j][None, :, :]
            brute[i, j] = np.mean(np.einsum("uvk,uvk->uv", diff, diff))
    np.testing.assert_allclose(D, brute, rtol=1e-9)
    assert np.array_equal(D, D.T)
    assert np.all(D >= 0)


@SETTINGS
@given(st.integers(2, 4), st.integers(2, 3), st.integers(0, 2**32 - 1))
def test_msd_ratio_near_one_when_subclasses_share_a_distribution(n_super, n_sub, seed):
    rng = np.random.default_rng(seed)
    n_per, d = 150, 6
    fine = np.repeat(np.arange(n_super * n_sub), n_per)
    coarse = fine % n_super
    H = rng.normal(size=(n_super, d))[coarse] * 5 + rng.normal(size=(fine.size, d))
    # 1 + 1/n_per (biased covariances) + sampling noise ~ sqrt(2 / (n_per * d)) ~ 0.05
    assert abs(msd_ratio(H, fine, coarse).overall - 1.0) < 0.15
