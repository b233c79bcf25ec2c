"""Property tests (hypothesis) of fgcore.metrics: invariances, exact cases, closed form of D.

Data are drawn from a seed and a few shape parameters, so hypothesis explores sizes and seeds
while every example stays well conditioned (class means spread at least as much as the noise).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fgcore.metrics import (
    cdnv,
    class_distance_matrix,
    equiangularity,
    equinorm,
    msd_ratio,
    nc1,
    nc2,
    nc3,
    nc4,
)

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
    assert equinorm(H, y) == pytest.approx(0.0, abs=1e-9)
    assert equiangularity(H, y) == pytest.approx(0.0, abs=1e-9)
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


# ------------------------------------------------------ NC3, NC4, CDNV, equinorm, equiangularity


def class_means(H, y):
    return np.array([H[y == c].mean(axis=0) for c in range(y.max() + 1)])


@SETTINGS
@given(labelled_features(min_classes=2), st.floats(1e-3, 1e3),
       st.sampled_from(["class_means", "global_mean"]))
def test_nc3_is_zero_when_the_classifier_rows_are_the_centred_means_up_to_scale(data, scale,
                                                                                 center):
    H, y, _ = data
    means = class_means(H, y)
    centre = means.mean(0) if center == "class_means" else H.mean(0)
    W = scale * (means - centre)
    assert nc3(W, H, y, center=center) == pytest.approx(0.0, abs=1e-7)
    # ... and not zero for another classifier (a cyclic shift of the same rows).
    assert nc3(np.roll(W, 1, axis=0), H, y, center=center) > 1e-3


@SETTINGS
@given(labelled_features(min_classes=2))
def test_nc4_is_one_when_the_classifier_is_the_nearest_class_centre_rule(data):
    H, y, rng = data
    means = class_means(H, y)
    # argmax_c h.mu_c - ||mu_c||^2 / 2 == argmin_c ||h - mu_c||: a linear classifier.
    assert nc4(H, y, W=means, b=-0.5 * np.sum(means**2, axis=1)) == 1.0
    distances = ((H[:, None, :] - means[None]) ** 2).sum(-1)
    assert nc4(H, y, logits=-distances) == 1.0
    assert nc4(H, y, logits=-distances, average="classes") == 1.0
    assert nc4(H, y, logits=distances) < 1.0  # the farthest centre instead


@SETTINGS
@given(labelled_features(), st.sampled_from([np.float64, np.float32]))
def test_cdnv_is_zero_for_collapsed_features_and_positive_otherwise(data, dtype):
    H, y, rng = data
    C, d = y.max() + 1, 4
    means = rng.integers(-50, 50, size=(C, d)).astype(np.float64)  # exact in binary
    while len(np.unique(means, axis=0)) < C:
        means = rng.integers(-50, 50, size=(C, d)).astype(np.float64)
    assert cdnv(means[y].astype(dtype), y) == 0.0
    assert cdnv((means[y] + rng.normal(size=(y.size, d))).astype(dtype), y) > 0.0


def rename(y, seed):
    C = y.max() + 1
    values = np.random.default_rng(seed).choice(10**6, size=C, replace=False) - 500_000
    return values, values[y]


@SETTINGS
@given(labelled_features(), st.integers(0, 2**32 - 1))
def test_the_family_is_invariant_to_renaming_labels(data, seed):
    H, y, rng = data
    values, renamed = rename(y, seed)
    C = y.max() + 1
    W = rng.normal(size=(C, H.shape[1]))
    logits = H @ rng.normal(size=(H.shape[1], C))
    for metric in (cdnv, equinorm, equiangularity):
        assert metric(H, renamed) == pytest.approx(metric(H, y), rel=1e-9, abs=1e-12)
    # W's rows and the logits' columns stay with their classes: name them by the new values.
    assert nc3(W, H, renamed, classes=values) == pytest.approx(nc3(W, H, y), rel=1e-9)
    assert nc4(H, renamed, logits=logits, classes=values) == nc4(H, y, logits=logits)
    order = np.argsort(values)  # or put them in the order of the sorted values
    assert nc3(W[order], H, renamed) == pytest.approx(nc3(W, H, y), rel=1e-9)
    assert nc4(H, renamed, logits=logits[:, order]) == nc4(H, y, logits=logits)


@SETTINGS
@given(labelled_features(), st.floats(-100, 100), st.floats(1e-3, 1e3))
def test_the_family_is_invariant_to_rotation_translation_scaling(data, shift, scale):
    H, y, rng = data
    Q = random_rotation(rng, H.shape[1])
    t = shift * rng.normal(size=H.shape[1])
    moved = scale * H @ Q + t
    # rel 1e-6 as for nc1/nc2: conditioning of the class-mean geometry amplifies rounding.
    for metric in (cdnv, equinorm, equiangularity):
        assert metric(moved, y) == pytest.approx(metric(H, y), rel=1e-6, abs=1e-9)
    C = y.max() + 1
    W = rng.normal(size=(C, H.shape[1]))
    # NC3 compares W with the centred means: rotate and rescale the classifier with them.
    assert nc3(3.0 * W @ Q, moved, y) == pytest.approx(nc3(W, H, y), rel=1e-6, abs=1e-9)
    # The nearest-centre decisions do not move; the classifier's outputs are given.
    logits = H @ W.T
    assert nc4(moved, y, logits=logits) == nc4(H, y, logits=logits)


@SETTINGS
@given(labelled_features())
def test_the_family_stays_in_its_range(data):
    H, y, rng = data
    C = y.max() + 1
    W = rng.normal(size=(C, H.shape[1]))
    assert 0.0 <= nc3(W, H, y) <= 2.0
    assert 0.0 <= nc4(H, y, W=W) <= 1.0
    assert 0.0 <= equiangularity(H, y) <= 1.0 + 1.0 / (C - 1)
    assert 0.0 <= equiangularity(H, y, reference="mean") <= 1.0
    assert equinorm(H, y) >= 0.0 and cdnv(H, y) >= 0.0
