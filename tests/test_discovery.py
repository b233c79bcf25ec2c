"""fgcore.metrics.cluster_accuracy and discovery_scores: clusters found inside superclasses against the
original classes (Hungarian-matched accuracy, NMI, ARI).

Properties (hypothesis): a perfect clustering under any renaming of its clusters scores 1 on all three;
a clustering independent of the classes scores its chance level (the accuracy near the stated chance,
NMI and ARI within superclasses near 0). References: scikit-learn's adjusted_rand_score and
normalized_mutual_info_score, and the matching checked against every permutation on small cases (the
brute force that scipy's linear_sum_assignment replaces).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from fgcore.clp import cluster_and_probe
from fgcore.metrics import DiscoveryScores, cluster_accuracy, discovery_scores

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def nested_labels(draw, max_superclasses=4, max_classes=5, min_size=1, max_size=12):
    """(classes, superclass of each sample, rng): 1-4 superclasses of 2-5 classes each, class values
    scattered (not 0..C-1), class sizes 1-12, samples shuffled."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_sup = draw(st.integers(1, max_superclasses))
    per_sup = [draw(st.integers(2, max_classes)) for _ in range(n_sup)]
    values = rng.choice(1000, size=sum(per_sup), replace=False)
    sup_of_class = np.repeat(rng.choice(50, size=n_sup, replace=False), per_sup)
    sizes = rng.integers(min_size, max_size + 1, size=values.size)
    codes = np.repeat(np.arange(values.size), sizes)
    rng.shuffle(codes)
    return values[codes], sup_of_class[codes], rng


def rename_within(y, sup, rng, reuse_ids: bool):
    """A perfect clustering of `y` under a random renaming: a random permutation of cluster ids inside each
    superclass (reuse_ids: the same ids 0..k-1 in every superclass, as CLP's per-superclass k-means gives;
    else ids unique over the whole data set, in random order)."""
    clusters = np.empty_like(y)
    fresh = iter(rng.permutation(10_000))
    for s in np.unique(sup):
        classes = np.unique(y[sup == s])
        ids = rng.permutation(classes.size) if reuse_ids else np.array([next(fresh) for _ in classes])
        for c, cluster in zip(classes, ids):
            clusters[y == c] = cluster
    return clusters


@SETTINGS
@given(nested_labels(), st.booleans())
def test_a_perfect_clustering_under_any_renaming_scores_one(data, reuse_ids):
    y, sup, rng = data
    clusters = rename_within(y, sup, rng, reuse_ids)
    scores = discovery_scores(y, clusters, sup)
    for s in [scores, *scores.per_superclass.values()]:
        assert (s.cluster_accuracy, s.nmi, s.ari, s.nmi_within, s.ari_within) == pytest.approx((1, 1, 1, 1, 1))
    assert cluster_accuracy(y, clusters, superclass=sup) == 1.0
    if not reuse_ids:  # unique ids: the plain matching of all clusters to all classes sees the same partition
        assert cluster_accuracy(y, clusters) == 1.0
    # every cluster is matched to the class it holds
    assert all(scores.mapping[(s, c)] == y[(sup == s) & (clusters == c)][0] for s, c in scores.mapping)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(2, 4), st.booleans())
def test_a_clustering_independent_of_the_classes_scores_chance(seed, n_sup, k, unequal):
    """Cluster accuracy within superclasses near chance = sum_i p_(i) q_(i) (largest class shares paired
    with the largest cluster shares; 1/k for equal sizes); NMI and ARI within superclasses near 0.

    The tolerances are the fluctuations of each score under independence, measured on 200-300 draws of
    n = 6,000 samples with k = 2-4: the best matching's excess over chance at most 1.6 / sqrt(n) (mean
    0.4-0.8 / sqrt(n) for equal sizes; allowed: 1.5 k / sqrt(n)), |ARI| at most 1.3 / sqrt(n) (sd 0.2-0.3 /
    sqrt(n) for unequal sizes, ~0.02 / sqrt(n) for equal ones; allowed: 3 / sqrt(n)), NMI at most 11 / n
    (allowed: 30 / n)."""
    rng = np.random.default_rng(seed)
    n = 6000
    p = rng.dirichlet(np.full(k, 2.0)) if unequal else np.full(k, 1 / k)
    q = rng.dirichlet(np.full(k, 2.0)) if unequal else np.full(k, 1 / k)
    y = np.concatenate([rng.choice(k, size=n, p=p) + 10 * s for s in range(n_sup)])
    sup = np.repeat(np.arange(n_sup), n)
    clusters = rng.choice(k, size=y.size, p=q)            # independent of y
    scores = discovery_scores(y, clusters, sup)
    expected = float(np.sort(p)[::-1] @ np.sort(q)[::-1])
    assert scores.chance == pytest.approx(expected, abs=0.02)   # the stated level, from the sample's shares
    assert abs(scores.cluster_accuracy - scores.chance) <= 1.5 * k / np.sqrt(n)
    assert 0 <= scores.nmi_within <= 30 / n and abs(scores.ari_within) <= 3 / np.sqrt(n)
    if not unequal:
        assert scores.chance == pytest.approx(1 / k, abs=0.02)


def test_the_pooled_scores_credit_the_superclasses_the_clustering_was_given():
    """Over all samples at once (the literature's NMI and ARI) a clustering that only knows the superclasses
    scores above 0; within superclasses it scores 0 (stated in DiscoveryScores)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=20_000)
    scores = discovery_scores(y, rng.integers(0, 2, size=y.size), y // 2)
    assert abs(scores.nmi_within) < 0.01 and abs(scores.ari_within) < 0.01
    assert scores.nmi > 0.5 and scores.ari > 0.05


def brute_force_accuracy(y, clusters) -> float:
    """The best one-to-one matching by trying every permutation of the padded contingency table."""
    classes, t = np.unique(y, return_inverse=True)
    ids, c = np.unique(clusters, return_inverse=True)
    size = max(classes.size, ids.size)
    table = np.zeros((size, size), dtype=np.int64)
    np.add.at(table, (t, c), 1)
    best = max(sum(table[i, perm[i]] for i in range(size)) for perm in itertools.permutations(range(size)))
    return best / y.size


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 6), st.integers(1, 40))
def test_the_matching_is_the_best_of_all_permutations(seed, n_classes, n_clusters, n):
    rng = np.random.default_rng(seed)
    y, clusters = rng.integers(0, n_classes, size=n) * 3 - 5, rng.integers(0, n_clusters, size=n) + 100
    assert cluster_accuracy(y, clusters) == pytest.approx(brute_force_accuracy(y, clusters), abs=1e-15)


@SETTINGS
@given(nested_labels(max_classes=4, max_size=6), st.integers(1, 5))
def test_within_superclasses_the_matching_is_the_best_per_superclass_and_the_best_overall(data, k):
    y, sup, rng = data
    clusters = rng.integers(0, k, size=y.size)                 # ids reused in every superclass
    per = {s: brute_force_accuracy(y[sup == s], clusters[sup == s]) for s in np.unique(sup)}
    pooled = sum(per[s] * np.count_nonzero(sup == s) for s in per) / y.size
    assert cluster_accuracy(y, clusters, superclass=sup) == pytest.approx(pooled, abs=1e-12)
    scores = discovery_scores(y, clusters, sup)
    assert scores.cluster_accuracy == pytest.approx(pooled, abs=1e-12)
    for s, accuracy in per.items():
        assert scores.per_superclass[s].cluster_accuracy == pytest.approx(accuracy, abs=1e-12)
    # With ids unique across superclasses the global matching of all clusters to all classes is the same
    # (a block-diagonal table), if the brute force is small enough to try.
    unique_ids = sup * 10 + clusters
    if max(np.unique(y).size, np.unique(unique_ids).size) <= 8:
        assert brute_force_accuracy(y, unique_ids) == pytest.approx(pooled, abs=1e-12)


@SETTINGS
@given(nested_labels(), st.integers(1, 6))
def test_nmi_and_ari_are_scikit_learns(data, k):
    y, sup, rng = data
    clusters = rng.integers(0, k, size=y.size)
    scores = discovery_scores(y, clusters, sup)
    for s, one in scores.per_superclass.items():
        rows = sup == s
        assert one.nmi == normalized_mutual_info_score(y[rows], clusters[rows])
        assert one.ari == adjusted_rand_score(y[rows], clusters[rows])
    unique_ids = sup * 100 + clusters                           # a cluster is its superclass and its id
    assert scores.nmi == pytest.approx(normalized_mutual_info_score(y, unique_ids), abs=1e-12)
    assert scores.ari == pytest.approx(adjusted_rand_score(y, unique_ids), abs=1e-12)
    weights = [np.count_nonzero(sup == s) for s in scores.per_superclass]
    assert scores.nmi_within == pytest.approx(
        np.average([one.nmi for one in scores.per_superclass.values()], weights=weights), abs=1e-12)


def test_one_superclass_is_the_plain_scores_and_torch_labels_work():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    clusters = np.array([5, 5, 5, 1, 1, 3, 3])
    scores = discovery_scores(torch.as_tensor(y), torch.as_tensor(clusters), np.zeros(7, dtype=int))
    assert scores.nmi == scores.nmi_within == normalized_mutual_info_score(y, clusters)
    assert scores.ari == scores.ari_within == adjusted_rand_score(y, clusters)
    assert scores.cluster_accuracy == cluster_accuracy(y, clusters) == 5 / 7   # 5 -> 0, 1 -> 1, 3 -> 2
    assert isinstance(scores.cluster_accuracy, float) and isinstance(scores, DiscoveryScores)


def test_superclasses_of_one_class_are_left_out():
    y = np.array([0, 0, 1, 1, 2, 2])
    scores = discovery_scores(y, [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 9, 9])
    assert scores.left_out == [9] and list(scores.per_superclass) == [0] and scores.n_samples == 4


@pytest.mark.parametrize("args, message", [
    (([[0, 1]], [0, 1], None), "labels_true must be 1-D"),
    (([0, 1], [0.5, 1.0], None), "labels_pred must hold integer class labels"),
    (([0, 1, 1], [0, 1], None), "labels_pred has 2 labels but labels_true has 3"),
    (([], [], None), "labels_true is empty"),
    (([0, 1], [0, 1], [0, 1.5]), "superclass must hold integer class labels"),
    (([0, 0, 1], [0, 1, 1], [0, 1, 1]), "labels_true must be nested in superclass"),
])
def test_bad_input_names_the_argument(args, message):
    y, clusters, sup = args
    with pytest.raises(ValueError, match=message):
        cluster_accuracy(y, clusters, superclass=sup)
    with pytest.raises(ValueError, match=message):
        discovery_scores(y, clusters, [0] * len(y) if sup is None else sup)


def test_nothing_to_discover_is_an_error():
    with pytest.raises(ValueError, match="every superclass holds a single class of labels_true"):
        discovery_scores([0, 0, 1, 1], [0, 1, 0, 1], [0, 0, 1, 1])


def test_clp_scores_its_own_clusters():
    """cluster_and_probe's discovery scores are those of its training clusters (reconstructed_labels)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, size=(6, 4))
    y_tr, y_te = np.repeat(np.arange(6), 30), np.repeat(np.arange(6), 10)
    H_tr, H_te = centres[y_tr] + rng.normal(size=(180, 4)), centres[y_te] + rng.normal(size=(60, 4))
    coarse = y_tr % 3
    result = cluster_and_probe(H_tr, coarse, H_te, y_te, y_tr=y_tr, embedding="pca")
    expected = discovery_scores(y_tr, result.reconstructed_labels, coarse)
    assert result.discovery.cluster_accuracy == expected.cluster_accuracy
    assert result.discovery.nmi == expected.nmi and result.discovery.ari_within == expected.ari_within
    assert sorted(result.discovery.per_superclass) == [0, 1, 2]
    assert {s: r.ari for s, r in result.discovery.per_superclass.items()} == pytest.approx(result.ari)
