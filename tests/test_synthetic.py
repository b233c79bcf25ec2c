"""Statistics of the synthetic generators: App. B / B.1 Gaussian mixtures and the Sec. 7 clusters.

Tolerances are a few standard errors of the estimate they bound (stated at each assert), so a
wrong variance, a missing scale or a wrong mean fails while sampling noise does not.
"""

from __future__ import annotations

import numpy as np
import pytest

from fgcore.data import gaussian_mixture, load, theory_clusters


def _class_means(ds):
    return np.stack([ds.x[ds.y == c].mean(axis=0, dtype=np.float64) for c in range(ds.n_classes)])


# ----------------------------------------------------------------------------- App. B


def test_gmm_layout_and_labels():
    ds = gaussian_mixture("train", n_classes=6, n_superclasses=3, dim=5, n_per_class=7)
    assert ds.x.dtype == np.float32 and ds.x.shape == (42, 5) and ds.y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(ds.y), [7] * 6)
    np.testing.assert_array_equal(ds.superclass, ds.y % 3)  # superclass = class mod K (eq. 4)
    np.testing.assert_array_equal(ds.superclass_map, [0, 1, 2, 0, 1, 2])
    assert ds.source == "synthetic" and ds.meta["similar_superclasses"] == ()
    assert not np.all(np.diff(ds.y) >= 0)  # shuffled, not class-ordered


def test_gmm_samples_are_unit_gaussians_around_the_means():
    ds = gaussian_mixture("train", dim=16, n_per_class=500, sigma2=2.0, seed=3)
    means = ds.meta["means"]
    # Per-coordinate error of a class mean: sd 1/sqrt(500) = 0.045; 0.25 is > 5 sd over 160 coordinates.
    assert np.abs(_class_means(ds) - means).max() < 0.25
    resid = ds.x - means[ds.y]
    # Variance of 80,000 unit-normal residuals: sd of the estimate ~0.005; 0.05 allows 10 sd.
    assert abs(resid.var() - 1.0) < 0.05
    # Coordinates uncorrelated: off-diagonal sample covariance sd ~ 1/sqrt(8000) = 0.011.
    cov = np.cov(resid.T)
    assert np.abs(cov - np.diag(np.diag(cov))).max() < 0.06


def test_gmm_means_have_variance_sigma2():
    ds = gaussian_mixture("train", n_classes=50, n_superclasses=5, dim=200, sigma2=4.0, n_per_class=1, seed=1)
    per_coord = ds.meta["means"].var()
    # 10,000 N(0, 4) draws: the variance estimate has sd 4 * sqrt(2/10^4) = 0.057; 0.3 is > 5 sd.
    assert abs(per_coord - 4.0) < 0.3


def test_gmm_means_depend_on_seed_only_samples_on_split():
    train, test = gaussian_mixture("train", seed=5), gaussian_mixture("test", seed=5)
    np.testing.assert_array_equal(train.meta["means"], test.meta["means"])
    assert not np.allclose(train.x, test.x)
    np.testing.assert_array_equal(gaussian_mixture("train", seed=5).x, train.x)  # reproducible
    assert not np.allclose(gaussian_mixture("train", seed=6).meta["means"], train.meta["means"])


def test_gmm_similar_subclasses_are_close_dissimilar_far():
    sigma2, tau2, dim = 4.0, 0.04, 64
    ds = gaussian_mixture("test", sigma2=sigma2, tau2=tau2, dim=dim, n_per_class=1, seed=2)
    similar, dissimilar = ds.meta["similar_superclasses"], ds.meta["dissimilar_superclasses"]
    assert similar == (0, 1) and dissimilar == (2, 3, 4)  # default: the first half of 5 superclasses
    means = ds.meta["means"]
    gap = lambda s: np.sum((means[s] - means[s + 5]) ** 2) / dim  # per-coordinate squared gap
    # Expected per-coordinate gap: 2 tau2 = 0.08 (similar) vs 2 sigma2 = 8 (dissimilar); a chi2 with
    # 64 d.o.f. stays within a factor 2 of its mean with overwhelming probability.
    for s in similar:
        assert 2 * tau2 / 2 < gap(s) < 2 * tau2 * 2
    for s in dissimilar:
        assert 2 * sigma2 / 2 < gap(s) < 2 * sigma2 * 2


def test_gmm_tau2_changes_only_the_similar_superclasses():
    a = gaussian_mixture("train", tau2=0.1, seed=4).meta["means"]
    b = gaussian_mixture("train", tau2=2.0, seed=4).meta["means"]
    plain = gaussian_mixture("train", seed=4).meta["means"]
    dissimilar_classes = [c for c in range(10) if c % 5 >= 2]
    np.testing.assert_array_equal(a[dissimilar_classes], b[dissimilar_classes])
    np.testing.assert_array_equal(a[dissimilar_classes], plain[dissimilar_classes])
    # B.1: both subclasses of similar superclass 0 (classes 0 and 5) are mu + sqrt(tau2) * offset with
    # one shared centre mu (= the plain mean of class 0) and offsets fixed by the seed.
    for c in (0, 5):
        np.testing.assert_allclose((a[c] - plain[0]) / np.sqrt(0.1), (b[c] - plain[0]) / np.sqrt(2.0), atol=1e-9)
    assert not np.allclose(a[0], a[5])
    custom = gaussian_mixture("train", tau2=0.0, similar_superclasses=[4], seed=4)
    np.testing.assert_array_equal(custom.meta["means"][4], custom.meta["means"][9])  # tau2=0: identical


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_superclasses": 3}, "must divide n_classes"),
        ({"n_superclasses": 10}, "needs >= 2 subclasses"),
        ({"similar_superclasses": [0]}, "needs tau2"),
        ({"tau2": 1.0, "similar_superclasses": [7]}, "similar_superclasses"),
        ({"sigma2": -1.0}, "sigma2"),
        ({"dim": 2.5}, "dim"),
        ({"n_per_class": 0}, "n_per_class"),
        ({"tau2": -0.1}, "tau2"),
    ],
)
def test_gmm_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gaussian_mixture("train", **kwargs)


def test_gmm_through_load_matches_the_direct_call():
    direct = gaussian_mixture("test", dim=8, n_per_class=20, tau2=0.5, seed=9)
    loaded = load("gaussian_mixture", "test", seed=9, dim=8, n_per_class=20, tau2=0.5)
    np.testing.assert_array_equal(direct.x, loaded.x)
    np.testing.assert_array_equal(direct.y, loaded.y)


# ----------------------------------------------------------------------------- Sec. 7


def test_theory_means_are_orthogonal_with_norm_tau():
    ds = theory_clusters("train", d=64, n=40, tau=7.5, seed=1)
    means = ds.meta["means"]
    gram = means @ means.T
    np.testing.assert_allclose(np.diag(gram), 7.5**2, rtol=1e-12)
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-10)
    assert theory_clusters("train", d=1024, n=4).meta["params"]["tau"] == pytest.approx(1024**0.52)


def test_theory_labels_sizes_and_noise():
    ds = theory_clusters("train", d=200, n=400, tau=10.0, kappa=0.5, seed=2)
    assert ds.x.shape == (400, 200) and ds.x.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(ds.y), [100] * 4)  # n/4 per cluster
    np.testing.assert_array_equal(ds.superclass, ds.y // 2)  # C1, C2 -> +1 (0); C3, C4 -> -1 (1)
    assert ds.superclass_names == ("+1", "-1")
    np.testing.assert_array_equal(ds.meta["coarse_sign"][ds.superclass], np.where(ds.y < 2, 1, -1))
    resid = ds.x - ds.meta["means"][ds.y]
    # 80,000 N(0, 0.25) draws: the variance estimate has sd 0.25 * sqrt(2/8e4) = 0.0013.
    assert abs(resid.var() - 0.25) < 0.01
    # Empirical cluster means within 5 sd (kappa / sqrt(100) = 0.05 per coordinate) of the truth.
    assert np.abs(_class_means(ds) - ds.meta["means"]).max() < 0.3


def test_theory_means_shared_across_splits_and_merge_control():
    train, test = theory_clusters("train", d=32, n=8, seed=3), theory_clusters("test", d=32, n=8, seed=3)
    np.testing.assert_array_equal(train.meta["means"], test.meta["means"])
    assert not np.allclose(train.x, test.x)
    merged = theory_clusters("train", d=32, n=8, seed=3, merge_c1_c2=True).meta["means"]
    np.testing.assert_array_equal(merged[0], merged[1])
    np.testing.assert_array_equal(merged[2:], train.meta["means"][2:])
    loaded = load("theory_clusters", "test", seed=3, d=32, n=8)
    np.testing.assert_array_equal(loaded.x, test.x)


@pytest.mark.parametrize(
    "kwargs, message", [({"n": 10}, "divisible by 4"), ({"d": 3}, "d >= 4"), ({"kappa": 0}, "kappa"), ({"tau": -1}, "tau")]
)
def test_theory_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        theory_clusters("train", **{"d": 16, "n": 8, **kwargs})


def test_shared_subclass_means_control():
    ds = gaussian_mixture("train", dim=8, n_per_class=30, sigma2=9.0, subclasses="shared", seed=3)
    means = ds.meta["means"]
    np.testing.assert_array_equal(means[:5], means[5:])
    assert ds.n_classes == 10 and np.all(ds.superclass == ds.y % 5)


def test_hyperplane_subclasses_are_sides_of_a_plane():
    ds = gaussian_mixture("train", dim=8, n_per_class=100, sigma2=9.0, subclasses="hyperplane", seed=3)
    assert np.all(ds.superclass == ds.y % 5)
    counts = np.bincount(ds.y, minlength=10)
    assert counts.sum() == 1000 and counts.min() > 60  # each side of a plane through the mean: about half
    from sklearn.linear_model import LogisticRegression

    for s in range(5):  # within a superclass the two subclasses are linearly separable
        rows = ds.superclass == s
        clf = LogisticRegression(C=1e4, max_iter=2000).fit(ds.x[rows], ds.y[rows])
        assert clf.score(ds.x[rows], ds.y[rows]) > 0.97
    with pytest.raises(ValueError, match="subclasses="):
        gaussian_mixture("train", subclasses="nested")


def test_theory_test_split_size():
    assert theory_clusters("test", d=64, n=8, n_test=40).x.shape == (40, 64)
    assert theory_clusters("train", d=64, n=8, n_test=40).x.shape == (8, 64)
