"""Unit tests of fgcore.metrics: references, the float32 rank trap, lines of D, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fgcore.metrics import (
    StructureLines,
    class_distance_matrix,
    emergence,
    msd_ratio,
    nc1,
    nc2,
    structure_lines,
)
from fgcore.metrics.collapse import _nc1_details


def reference_nc1(H, y, rel_cutoff=1e-10, center="global_mean"):
    """Textbook float64 NC1: d x d Sigma_W, Sigma_B, eigendecomposition of Sigma_B; eigenvalues
    below rel_cutoff * the largest are treated as zero (a cutoff far above float64 noise and far
    below any genuine direction in these tests)."""
    H = np.asarray(H, dtype=np.float64)
    classes = np.unique(y)
    C = len(classes)
    means = np.array([H[y == c].mean(0) for c in classes])
    mu_g = H.mean(0) if center == "global_mean" else means.mean(0)
    sw = sum(np.cov(H[y == c].T, bias=True).reshape(H.shape[1], -1) for c in classes) / C
    sb = (means - mu_g).T @ (means - mu_g) / C
    w, V = np.linalg.eigh(sb)
    keep = w > rel_cutoff * w.max()
    return float(np.trace(sw @ (V[:, keep] / w[keep]) @ V[:, keep].T) / C)


def brute_force_distance(H, y):
    classes = np.unique(y)
    D = np.empty((len(classes), len(classes)))
    for i, a in enumerate(classes):
        for j, b in enumerate(classes):
            diff = H[y == a][:, None, :] - H[y == b][None, :, :]
            D[i, j] = np.mean(np.sum(diff**2, axis=-1))
    return D


def gaussian_classes(rng, C=5, d=12, n_per=40, spread=3.0, offset=0.0):
    means = rng.normal(size=(C, d)) * spread + offset
    y = np.repeat(np.arange(C), n_per)
    rng.shuffle(y)
    return means[y] + rng.normal(size=(y.size, d)), y


# ------------------------------------------------------------------------------------ references


def test_nc1_matches_float64_eigendecomposition_reference():
    rng = np.random.default_rng(0)
    for C, d in [(5, 12), (4, 2), (10, 3), (2, 1)]:  # includes d < C - 1 (rank d)
        H, y = gaussian_classes(rng, C=C, d=d)
        value, rank = _nc1_details(H, y)
        assert rank == min(C - 1, d)
        assert value == pytest.approx(reference_nc1(H, y), rel=1e-9)


def test_nc1_with_unbalanced_classes_uses_the_global_mean():
    rng = np.random.default_rng(1)
    C, d = 4, 6
    means = rng.normal(size=(C, d)) * 2
    y = np.concatenate([np.full(k, c) for c, k in enumerate([5, 17, 40, 9])])
    H = means[y] + rng.normal(size=(y.size, d))
    assert nc1(H, y) == pytest.approx(reference_nc1(H, y), rel=1e-9)
    by_class_means = nc1(H, y, center="class_means")
    assert by_class_means == pytest.approx(reference_nc1(H, y, center="class_means"), rel=1e-9)
    assert abs(by_class_means / nc1(H, y) - 1) > 1e-3  # the option changes the number here


def antithetic_classes(rng, means, n_pairs, noise):
    """Each class: mu + e and mu - e pairs, so the class means are exactly mu (in exact
    arithmetic): lets a test fix rank-deficient class means."""
    C, d = means.shape
    e = rng.normal(size=(C, n_pairs, d)) * noise
    H = np.concatenate([means[:, None] + e, means[:, None] - e], axis=1).reshape(-1, d)
    y = np.repeat(np.arange(C), 2 * n_pairs)
    return H, y


def test_float32_features_with_rank_deficient_means_keep_only_the_true_range():
    # 4 classes whose means lie on a line (rank 1) in 3-D, far from the origin; isotropic spread.
    # Rounding to float32 moves the means off the line by ~1e-7 * 30: a naive cutoff inverts that
    # direction and multiplies the within-class variance in it by ~1e12.
    rng = np.random.default_rng(2)
    line = np.outer(np.arange(4.0), [1.0, 2.0, -1.0]) + 30.0
    H, y = antithetic_classes(rng, line, n_pairs=50, noise=1.0)
    H32 = H.astype(np.float32)
    expected = reference_nc1(H, y)
    value, rank = _nc1_details(H32, y)
    assert rank == 1
    assert value == pytest.approx(expected, rel=1e-5)  # float32 rounding of the inputs
    # Negative control: the same float32 values announced as float64 get float64's cutoff, the
    # rounding-noise directions are inverted and NC1 explodes. That is what the eps_in rule stops.
    value64, rank64 = _nc1_details(H32.astype(np.float64), y)
    assert rank64 == 3 and value64 > 1e6 * expected


def test_float32_collapsed_features_naive_pinv_is_negative_ours_matches_reference():
    rng = np.random.default_rng(1)
    C, d, n_per = 5, 64, 200
    mu = rng.normal(size=(C, d)) * 10 + 20
    y = np.repeat(np.arange(C), n_per)
    H = (mu[y] + 1e-3 * rng.normal(size=(y.size, d))).astype(np.float32)
    # naive: everything in float32, one-pass Sigma_W, pinv with numpy's classic rcond
    Ht, yt = torch.from_numpy(H), torch.from_numpy(y)
    means = torch.stack([Ht[yt == c].mean(0) for c in range(C)])
    sw = sum(Ht[yt == c].T @ Ht[yt == c] / n_per - torch.outer(means[c], means[c])
             for c in range(C)) / C
    M = means - Ht.mean(0)
    naive = float(torch.trace(sw @ torch.linalg.pinv(M.T @ M / C, rtol=1e-15)) / C)
    expected = reference_nc1(H, y)
    assert naive < -1e3 * expected  # badly negative
    assert 0 <= nc1(H, y) == pytest.approx(expected, rel=1e-6)


def test_nc2_zero_for_exact_simplex_etf_and_positive_otherwise():
    rng = np.random.default_rng(3)
    C, d = 4, 7
    etf = np.eye(C) - 1.0 / C
    Q, _ = np.linalg.qr(rng.normal(size=(d, C)))
    means = 5.0 * etf @ Q.T + rng.normal(size=d)  # rotated, scaled, translated ETF
    H, y = antithetic_classes(rng, means, n_pairs=10, noise=0.5)
    assert nc2(H, y) == pytest.approx(0.0, abs=1e-10)
    H2, y2 = gaussian_classes(rng, C=C, d=d)
    assert nc2(H2, y2) > 0.05


def test_nc2_matches_eq3_written_out():
    rng = np.random.default_rng(4)
    H, y = gaussian_classes(rng, C=6, d=9)
    means = np.array([H[y == c].mean(0) for c in range(6)])
    M = means - H.mean(0)
    G = M @ M.T
    expected = np.linalg.norm(G / np.linalg.norm(G) - (np.eye(6) - 1 / 6) / np.sqrt(5))
    assert nc2(H, y) == pytest.approx(expected, rel=1e-12)


def test_nc2_on_unbalanced_classes_centres_at_the_mean_of_the_class_means():
    rng = np.random.default_rng(41)
    C, d = 5, 9
    y = np.repeat(np.arange(C), [50, 30, 10, 6, 4])
    H = rng.normal(size=(C, d))[y] * 3 + rng.normal(size=(y.size, d))
    means = np.array([H[y == c].mean(0) for c in range(C)])

    def eq3(M):
        G = M @ M.T
        return np.linalg.norm(G / np.linalg.norm(G) - (np.eye(C) - 1 / C) / np.sqrt(C - 1))

    assert nc2(H, y) == pytest.approx(eq3(means - means.mean(0)), rel=1e-12)
    assert nc2(H, y, center="global_mean") == pytest.approx(eq3(means - H.mean(0)), rel=1e-12)
    # An exact ETF with these unequal sizes: 0 by default, not 0 around the sample mean.
    etf = np.eye(C) - 1.0 / C
    assert nc2(etf[y], y) == pytest.approx(0.0, abs=1e-12)
    assert nc2(etf[y], y, center="global_mean") > 0.3


@pytest.mark.parametrize("metric", [nc1, nc2])
def test_an_unknown_centre_is_named(metric):
    with pytest.raises(ValueError, match="center must be 'class_means'.*got 'median'"):
        metric(GOOD_H, GOOD_Y, center="median")


def test_class_distance_matrix_equals_brute_force_even_for_collapsed_offset_features():
    rng = np.random.default_rng(5)
    H, y = gaussian_classes(rng, C=4, d=6, n_per=25)
    np.testing.assert_allclose(class_distance_matrix(H, y), brute_force_distance(H, y), rtol=1e-9)
    # Tight classes far from the origin: the Gram form would lose the within-class part.
    H2 = 1e4 + 1e-3 * H
    np.testing.assert_allclose(class_distance_matrix(H2, y), brute_force_distance(H2, y),
                               rtol=1e-9)


def test_metrics_accept_torch_tensors_and_any_label_values():
    rng = np.random.default_rng(6)
    H, y = gaussian_classes(rng, C=3, d=5)
    values = np.array([100, -7, 3])[y]
    order = np.argsort([100, -7, 3])  # rows of D follow the sorted label values
    D = class_distance_matrix(H, y)
    np.testing.assert_allclose(class_distance_matrix(torch.from_numpy(H), torch.from_numpy(values)),
                               D[np.ix_(order, order)], rtol=1e-12)
    assert nc1(torch.from_numpy(H).float(), values) == pytest.approx(nc1(H, y), rel=1e-5)
    assert nc2(H.tolist(), values.tolist()) == pytest.approx(nc2(H, y), rel=1e-12)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(7)
    H, y = gaussian_classes(rng)
    Ht = torch.from_numpy(H.copy())
    before = H.copy()
    nc1(H, y), nc2(H, y), class_distance_matrix(H, y), nc1(Ht, y)
    np.testing.assert_array_equal(H, before)
    np.testing.assert_array_equal(Ht.numpy(), before)


# ------------------------------------------------------------------------------------ msd ratio


def test_msd_ratio_matches_pairwise_definition_with_self_pairs():
    rng = np.random.default_rng(8)
    fine = np.repeat(np.arange(6), [10, 12, 8, 9, 11, 7])
    coarse = np.array([0, 0, 1, 1, 1, 2])[fine]
    H = rng.normal(size=(fine.size, 3)) + np.eye(6, 3)[fine % 3] * 2
    sq = np.sum((H[:, None] - H[None]) ** 2, axis=-1)
    same_sup = coarse[:, None] == coarse[None]
    same_sub = fine[:, None] == fine[None]
    r = msd_ratio(H, fine, coarse)
    for s in (0, 1):
        blk = (coarse == s)[:, None] & (coarse == s)[None]
        expected = sq[blk & ~same_sub].mean() / sq[blk & same_sub].mean()
        assert r.per_superclass[s] == pytest.approx(expected, rel=1e-10)
    pooled_rows = coarse != 2  # superclass 2 has one subclass: left out of both means
    kept = pooled_rows[:, None] & pooled_rows[None]
    pooled = sq[kept & same_sup & ~same_sub].mean() / sq[kept & same_sub].mean()
    assert r.overall == pytest.approx(pooled, rel=1e-10)
    assert r.left_out == (2,)


def test_msd_ratio_near_one_for_shared_distribution_and_large_for_separated_subclasses():
    rng = np.random.default_rng(9)
    fine = np.repeat(np.arange(6), 200)
    coarse = fine % 3
    super_means = rng.normal(size=(3, 5)) * 5
    shared = super_means[coarse] + rng.normal(size=(fine.size, 5))
    r = msd_ratio(shared, fine, coarse)
    # Expected 1 + O(1/n) bias (biased covariances) + noise of order sqrt(1/(n d)) ~ 0.03.
    assert abs(r.overall - 1.0) < 0.1
    assert all(abs(v - 1.0) < 0.15 for v in r.per_superclass.values())
    separated = shared + rng.normal(size=(6, 5))[fine] * 4
    assert msd_ratio(separated, fine, coarse).overall > 5


def test_msd_ratio_leaves_out_single_subclass_superclasses():
    rng = np.random.default_rng(10)
    fine = np.repeat(np.arange(5), 10)
    coarse = np.array([0, 0, 1, 1, 2])[fine]
    r = msd_ratio(rng.normal(size=(50, 3)), fine, coarse)
    assert set(r.per_superclass) == {0, 1} and r.left_out == (2,)


# ------------------------------------------------------------------------- lines and emergence


def test_structure_lines_of_an_ideal_matrix():
    superclass_of = np.array([0, 1, 0, 1])
    D = np.where(superclass_of[:, None] == superclass_of[None], 4.0, 10.0)
    np.fill_diagonal(D, 1.0)
    lines = structure_lines(D, superclass_of)
    assert lines.other == 1.0 and lines.reference == 10.0
    assert lines.diagonal == pytest.approx(0.1) and lines.same_superclass == pytest.approx(0.4)
    assert lines.darkness_diagonal == pytest.approx(0.9)
    assert lines.darkness_same_superclass == pytest.approx(0.6)


def test_structure_lines_from_features_with_a_singleton_superclass():
    rng = np.random.default_rng(11)
    H, y = gaussian_classes(rng, C=5, d=8)
    D = class_distance_matrix(H, y)
    sup = np.array([0, 0, 1, 1, 2])
    lines = structure_lines(D, sup)
    diff = sup[:, None] != sup[None]
    same_off = (sup[:, None] == sup[None]) & ~np.eye(5, dtype=bool)
    assert lines.diagonal == pytest.approx(np.diag(D).mean() / D[diff].mean())
    assert lines.same_superclass == pytest.approx(D[same_off].mean() / D[diff].mean())


def test_emergence_first_epoch_at_level_in_any_order():
    def sl(diag, same):
        return StructureLines(diagonal=diag, same_superclass=same)

    history = [(20, sl(0.5, 0.9)), (0, sl(0.95, 0.99)), (120, sl(0.2, 0.6)), (240, sl(0.1, 0.4))]
    assert emergence(history, 0.5) == {"diagonal": 20, "same_superclass": 240}
    assert emergence(dict(history), 0.85) == {"diagonal": 240, "same_superclass": None}
    assert emergence(history, 0.0) == {"diagonal": 0, "same_superclass": 0}


# ------------------------------------------------------------------------------------- bad input

GOOD_H = np.random.default_rng(12).normal(size=(12, 3))
GOOD_Y = np.repeat([0, 1, 2], 4)


@pytest.mark.parametrize("metric", [nc1, nc2, class_distance_matrix])
@pytest.mark.parametrize(
    "H, y, match",
    [
        (np.where(np.arange(36).reshape(12, 3) == 7, np.nan, GOOD_H), GOOD_Y, r"H contains 1 NaN"),
        (np.where(np.arange(36).reshape(12, 3) == 4, np.inf, GOOD_H), GOOD_Y, r"row 1"),
        (GOOD_H, np.zeros(12, dtype=int), r"1 distinct class"),
        (GOOD_H, GOOD_Y[:-1], r"y has 11 labels but H has 12 rows"),
        (GOOD_H, GOOD_Y.astype(float), r"y must hold integer class labels; got dtype float64"),
        (GOOD_H, GOOD_Y.astype(bool), r"integer class labels"),
        (GOOD_H, np.array(["a"] * 12), r"y must hold integer class labels"),
        (GOOD_H[:, 0], GOOD_Y, r"H must be a 2-D array .* Reshape it to \(n, 1\)"),
        (GOOD_H[None], GOOD_Y, r"H must be a 2-D array"),
        (GOOD_H, GOOD_Y[:, None], r"y must be a 1-D array"),
        (np.zeros((0, 3)), np.zeros(0, dtype=int), r"H is empty"),
        (GOOD_H.astype(complex), GOOD_Y, r"real-valued"),
        (np.array([["a"] * 3] * 12), GOOD_Y, r"H must be a numeric"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_argument(metric, H, y, match):
    with pytest.raises(ValueError, match=match):
        metric(H, y)


def test_nc1_needs_two_samples_per_class_but_nc2_and_distance_do_not():
    y = np.array([0, 0, 1, 1, 2])  # class 2 has one sample
    H = np.random.default_rng(13).normal(size=(5, 3))
    with pytest.raises(ValueError, match=r"at least 2 sample.*: 2 \(1\)"):
        nc1(H, y)
    assert np.isfinite(nc2(H, y))
    assert class_distance_matrix(H, y)[2, 2] == 0.0


def test_coinciding_class_means_are_reported():
    H = np.tile(np.array([[1.0, 2.0], [3.0, 4.0]]), (2, 1))
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="class means coincide"):
        nc1(H, y)
    with pytest.raises(ValueError, match="class means coincide"):
        nc2(H, y)


def test_msd_ratio_bad_input():
    H = np.random.default_rng(14).normal(size=(8, 2))
    fine = np.repeat([0, 1, 2, 3], 2)
    with pytest.raises(ValueError, match="fine must be nested in coarse.*swapped"):
        msd_ratio(H, fine, np.array([0, 1] * 4))
    with pytest.raises(ValueError, match="single subclass"):
        msd_ratio(H, fine, fine)
    with pytest.raises(ValueError, match=r"fine: every class needs at least 2"):
        msd_ratio(H[:7], fine[:7], fine[:7] // 2)
    with pytest.raises(ValueError, match="coarse has 7 labels"):
        msd_ratio(H, fine, (fine // 2)[:7])


@pytest.mark.parametrize(
    "D, sup, match",
    [
        (np.ones((3, 3)), np.zeros(3, dtype=int), "one superclass"),
        (np.ones((3, 3)), np.arange(3), "single class"),
        (np.ones((3, 2)), np.arange(3), "square"),
        (np.ones((4, 4)), np.array([0, 0, 1]), "superclass_of has length 3"),
        (-np.ones((4, 4)), np.array([0, 0, 1, 1]), "negative"),
        (np.full((4, 4), np.nan), np.array([0, 0, 1, 1]), "NaN"),
        (np.ones((4, 4)), np.array([0.0, 0, 1, 1]), "superclass_of must hold integers"),
    ],
)
def test_structure_lines_bad_input(D, sup, match):
    with pytest.raises(ValueError, match=match):
        structure_lines(D, sup)


def test_emergence_bad_input():
    lines = StructureLines(diagonal=0.5, same_superclass=0.5)
    with pytest.raises(ValueError, match="level must be a finite number"):
        emergence([(0, lines)], float("nan"))
    with pytest.raises(ValueError, match="history is empty"):
        emergence([], 0.5)
    with pytest.raises(ValueError, match="same epoch twice"):
        emergence([(0, lines), (0, lines)], 0.5)
    with pytest.raises(ValueError, match="pairs"):
        emergence([(0, 0.5)], 0.5)
