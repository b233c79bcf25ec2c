"""Cluster-and-Linear-Probe and the linear probe: recovery, chance level, mapping, bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from fgcore.clp import (
    DEFAULTS,
    cluster_and_probe,
    effective_perplexity,
    embed,
    linear_probe,
    tsne_backend,
)


def blobs(rng, n_classes, n_per, d=16, separation=20.0, centers=None):
    centers = rng.normal(size=(n_classes, d)) * separation if centers is None else centers
    y = np.repeat(np.arange(n_classes), n_per)
    rng.shuffle(y)
    return centers[y] + rng.normal(size=(y.size, d)), y, centers


def separated_problem(seed=0, n_super=3, per_super=2, n_tr=50, n_te=30):
    rng = np.random.default_rng(seed)
    C = n_super * per_super
    H_tr, y_tr, centers = blobs(rng, C, n_tr)
    H_te, y_te, _ = blobs(rng, C, n_te, centers=centers)
    return H_tr, y_tr, H_te, y_te, y_tr % n_super


def test_clp_recovers_well_separated_subclusters_exactly():
    H_tr, y_tr, H_te, y_te, coarse = separated_problem()
    r = cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, embedding="pca")
    assert r.accuracy == 1.0 and r.coarse_accuracy == 1.0
    assert r.chance == pytest.approx(0.5)
    assert r.mean_purity == 1.0 and all(v == 1.0 for v in r.ari.values())
    # The mapping sends every cluster to an original class of its own superclass, one-to-one.
    assert sorted(r.mapping.values()) == list(range(6))
    assert all(r.mapping[j] % 3 == r.superclass_of_cluster[j] for j in r.mapping)
    np.testing.assert_array_equal(r.reconstructed_classes, y_tr)
    np.testing.assert_array_equal(r.predictions, y_te)
    assert set(r.embeddings) == {0, 1, 2}
    e = r.embeddings[1]
    assert e.points.shape == (100, 2)
    np.testing.assert_array_equal(e.labels, y_tr[e.indices])
    assert np.all(coarse[e.indices] == 1)


def test_clp_on_pure_noise_is_near_the_chance_baseline():
    rng = np.random.default_rng(1)
    n, d = 600, 8
    y_tr, y_te = rng.integers(0, 4, n), rng.integers(0, 4, n)
    r = cluster_and_probe(rng.normal(size=(n, d)), y_tr % 2, rng.normal(size=(n, d)), y_te,
                          y_tr=y_tr, embedding="pca")
    # chance ~ 0.5 / 2; the best-of-2 mapping per superclass adds a small positive bias; the
    # binomial std of an accuracy on 600 samples is ~0.018, so 0.07 is ~4 std.
    assert abs(r.chance - 0.25) < 0.06
    assert abs(r.accuracy - r.chance) < 0.07
    assert r.mean_purity < 0.65  # random clusters are ~half pure in a 2-class superclass


def test_clp_scores_labels_of_any_values_and_torch_inputs():
    H_tr, y_tr, H_te, y_te, coarse = separated_problem(seed=2, n_super=2)
    names = np.array([10, 70, 30, 50])
    r = cluster_and_probe(torch.from_numpy(H_tr), torch.from_numpy(names[coarse] * 0 + coarse + 5),
                          torch.from_numpy(H_te), names[y_te], y_tr=names[y_tr], embedding="pca")
    assert r.accuracy == 1.0
    assert set(r.purity) == {5, 6}
    assert set(r.mapping.values()) == set(names.tolist())


def test_chance_is_sample_weighted_for_superclasses_of_different_sizes():
    rng = np.random.default_rng(3)
    centers = rng.normal(size=(5, 16)) * 20
    H_tr, y_tr, _ = blobs(rng, 5, 40, centers=centers)
    H_te, y_te, _ = blobs(rng, 5, 20, centers=centers)
    sup = np.array([0, 0, 0, 1, 1])  # 3 classes and 2 classes
    r = cluster_and_probe(H_tr, sup[y_tr], H_te, y_te, y_tr=y_tr, embedding="pca")
    assert r.accuracy == 1.0
    assert r.chance == pytest.approx((60 / 3 + 40 / 2) / 100)


def test_clusters_per_superclass_int_and_mapping():
    H_tr, y_tr, H_te, y_te, coarse = separated_problem(seed=4)
    r1 = cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, embedding="none",
                           clusters_per_superclass=1)
    # One cluster per superclass: at most one of its two classes can be right.
    assert r1.accuracy == pytest.approx(0.5) and r1.embeddings is None
    r3 = cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, embedding="pca",
                           clusters_per_superclass={0: 2, 1: 3, 2: 2})
    assert len(r3.mapping) == 7 and sum(v is None for v in r3.mapping.values()) == 1
    assert r3.settings["clusters_per_superclass"] == {0: 2, 1: 3, 2: 2}


def test_clp_with_open_tsne_is_deterministic_and_recovers_subclusters():
    assert tsne_backend() == "openTSNE"
    H_tr, y_tr, H_te, y_te, coarse = separated_problem(seed=5, n_super=2, n_tr=40, n_te=20)
    a = cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, random_state=3)
    b = cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, random_state=3)
    assert a.settings["tsne_backend"] == "openTSNE" and a.accuracy == 1.0
    for s in (0, 1):
        np.testing.assert_array_equal(a.embeddings[s].points, b.embeddings[s].points)
    expected = effective_perplexity(DEFAULTS.perplexity, 80)  # 80 points per superclass
    assert expected < DEFAULTS.perplexity
    assert a.settings["effective_perplexity"] == {0: expected, 1: expected}


def test_sklearn_tsne_is_the_fallback_without_open_tsne(monkeypatch):
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # import openTSNE now raises ImportError
    assert tsne_backend() == "sklearn"
    rng = np.random.default_rng(6)
    X = np.concatenate([rng.normal(size=(15, 5)), rng.normal(size=(15, 5)) + 30])
    Y = embed(X, "tsne", random_state=0, n_jobs=1)
    assert Y.shape == (30, 2)
    # The two groups end up apart: every point is nearer its own group's centre.
    c0, c1 = Y[:15].mean(0), Y[15:].mean(0)
    assert np.all(np.linalg.norm(Y[:15] - c0, axis=1) < np.linalg.norm(Y[:15] - c1, axis=1))


def test_small_superclasses_get_a_lower_perplexity():
    assert effective_perplexity(30, 1000) == 30
    assert effective_perplexity(30, 31) == 10
    assert effective_perplexity(30, 2) == 1


# ----------------------------------------------------------------------------------------- probe


@pytest.fixture
def one_torch_thread():
    # Idle torch threads spin between the probe's many tiny operations; on a busy 2-core machine
    # that is seconds per test.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_linear_probe_sklearn_and_torch_agree_on_separable_data(one_torch_thread):
    rng = np.random.default_rng(7)
    H_tr, y_tr, centers = blobs(rng, 4, 40, d=10, separation=3.0)
    H_te, y_te, _ = blobs(rng, 4, 40, d=10, centers=centers)
    values = np.array([3, 9, -1, 4])
    a = linear_probe(H_tr, values[y_tr], H_te, values[y_te], backend="sklearn")
    b = linear_probe(torch.from_numpy(H_tr).float(), values[y_tr], H_te, values[y_te],
                     backend="torch")
    assert a.backend == "sklearn" and b.backend.startswith("torch")
    assert a.accuracy > 0.9 and abs(a.accuracy - b.accuracy) <= 0.02
    assert set(np.unique(a.predictions)) <= set(values.tolist())
    # The two solvers optimise the same objective: their predictions agree almost everywhere.
    assert np.mean(a.predictions == b.predictions) > 0.97


def test_linear_probe_near_chance_on_noise():
    rng = np.random.default_rng(8)
    n = 800
    r = linear_probe(rng.normal(size=(n, 5)), rng.integers(0, 4, n), rng.normal(size=(n, 5)),
                     rng.integers(0, 4, n))
    assert abs(r.accuracy - 0.25) < 0.07  # ~4 binomial std on 800 samples


# ------------------------------------------------------------------------------------ bad input


def test_clp_bad_input():
    H_tr, y_tr, H_te, y_te, coarse = separated_problem(seed=9, n_tr=6, n_te=3)
    with pytest.raises(ValueError, match="y_tr must be nested in coarse_tr"):
        cluster_and_probe(H_tr, (y_tr + np.arange(y_tr.size)) % 3, H_te, y_te, y_tr=y_tr,
                          embedding="pca")
    with pytest.raises(ValueError, match=r"y_te has classes \[17\] that never occur in y_tr"):
        cluster_and_probe(H_tr, coarse, H_te, np.where(y_te == 0, 17, y_te), y_tr=y_tr,
                          embedding="pca")
    with pytest.raises(ValueError, match="H_tr has 16 features but H_te has 3"):
        cluster_and_probe(H_tr, coarse, H_te[:, :3], y_te, y_tr=y_tr, embedding="pca")
    with pytest.raises(ValueError, match="coarse_tr has 35 labels but H_tr has 36 rows"):
        cluster_and_probe(H_tr, coarse[1:], H_te, y_te, y_tr=y_tr, embedding="pca")
    with pytest.raises(ValueError, match="y_tr must hold integer"):
        cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr * 1.0, embedding="pca")
    bad = H_te.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="H_te contains 1 NaN"):
        cluster_and_probe(H_tr, coarse, bad, y_te, y_tr=y_tr, embedding="pca")
    with pytest.raises(ValueError, match="embedding must be one of"):
        cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, embedding="umap")
    with pytest.raises(ValueError, match="no entry for superclasses \\[2\\]"):
        cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, embedding="pca",
                          clusters_per_superclass={0: 2, 1: 2})
    with pytest.raises(ValueError, match="positive integers"):
        cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, embedding="pca",
                          clusters_per_superclass=0)
    with pytest.raises(ValueError, match="fewer than the 13 clusters"):
        cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, embedding="pca",
                          clusters_per_superclass=13)


def test_linear_probe_bad_input():
    rng = np.random.default_rng(10)
    H, y = rng.normal(size=(10, 3)), np.repeat([0, 1], 5)
    with pytest.raises(ValueError, match="y_tr has one class only"):
        linear_probe(H, np.zeros(10, dtype=int), H, y)
    with pytest.raises(ValueError, match="probe backend must be one of"):
        linear_probe(H, y, H, y, backend="jax")
    with pytest.raises(ValueError, match="C must be a positive number"):
        linear_probe(H, y, H, y, C=0.0)
    with pytest.raises(ValueError, match="y_te has 9 labels but H_te has 10 rows"):
        linear_probe(H, y, H, y[1:])
