"""Properties of the relabelings (eq. 4, eq. 5, App. F) and their error messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fgcore import labels as L

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def classes_and_k(draw):
    """(C, k, y) with k dividing C and y a label vector over 0..C-1."""
    k = draw(st.integers(1, 6))
    c = k * draw(st.integers(1, 6))
    y = np.asarray(draw(st.lists(st.integers(0, c - 1), min_size=1, max_size=60)), dtype=np.int64)
    return c, k, y


@SETTINGS
@given(classes_and_k())
def test_coarse_is_y_mod_k(case):
    c, k, y = case
    out = L.coarse(y, k, n_classes=c)
    np.testing.assert_array_equal(out, y % k)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(L.relabel(f"coarse:{k}", y, n_classes=c, seed=0, split="train"), y % k)


@SETTINGS
@given(classes_and_k(), st.integers(0, 2**31 - 1))
def test_random_coarse_is_balanced_and_split_independent(case, seed):
    c, k, y = case
    table = L.superclass_of(f"random_coarse:{k}", n_classes=c, seed=seed)
    np.testing.assert_array_equal(np.bincount(table, minlength=k), [c // k] * k)  # C/k classes each
    train = L.relabel(f"random_coarse:{k}", y, n_classes=c, seed=seed, split="train")
    test = L.relabel(f"random_coarse:{k}", y, n_classes=c, seed=seed, split="test")
    np.testing.assert_array_equal(train, test)  # the permutation depends on the seed only
    np.testing.assert_array_equal(train, table[y])
    np.testing.assert_array_equal(train, L.random_permutation(c, seed)[y] % k)


def test_random_coarse_actually_shuffles():
    tables = {tuple(L.superclass_of("random_coarse:5", n_classes=10, seed=s)) for s in range(20)}
    # 945 ways to pair 10 classes: 20 seeds landing on at most 10 distinct pairings would mean a broken shuffle.
    assert len(tables) > 10


@SETTINGS
@given(classes_and_k(), st.integers(0, 2**31 - 1))
def test_fine_splits_each_class_in_two(case, seed):
    c, _, y = case
    f = L.relabel("fine", y, n_classes=c, seed=seed, split="train")
    np.testing.assert_array_equal(f % c, y)  # fine label f belongs to original class f mod C
    assert set(np.unique(f // c)) <= {0, 1} and f.max() < 2 * c
    np.testing.assert_array_equal(L.fine_original_class(c)[f], y)
    np.testing.assert_array_equal(f, L.relabel("fine", y, n_classes=c, seed=seed, split="train"))
    assert L.superclass_of("fine", n_classes=c, seed=seed) is None


def test_fine_halves_every_class_and_depends_on_split():
    y = np.repeat(np.arange(10), 2000)
    train = L.relabel("fine", y, n_classes=10, seed=1, split="train")
    test = L.relabel("fine", y, n_classes=10, seed=1, split="test")
    for c in range(10):
        share = np.mean(train[y == c] >= 10)
        # Bernoulli(1/2) over 2000 draws: sd 0.011; 0.05 is 4.5 sd.
        assert abs(share - 0.5) < 0.05
    assert np.mean(train != test) > 0.4  # independent draws differ on about half the samples
    assert not np.array_equal(train, L.relabel("fine", y, n_classes=10, seed=2, split="train"))
    np.testing.assert_array_equal(L.fine(y, 10, 1, split="train"), train)


@SETTINGS
@given(classes_and_k(), st.integers(0, 1000))
def test_superclass_of_is_consistent_with_relabel(case, seed):
    c, k, y = case
    mapping = np.random.default_rng(seed).integers(0, 3, size=c)
    for labeling in (f"coarse:{k}", f"random_coarse:{k}", "natural"):
        table = L.superclass_of(labeling, n_classes=c, seed=seed, superclass_map=mapping)
        got = L.relabel(labeling, y, n_classes=c, seed=seed, split="test", superclass=mapping[y])
        np.testing.assert_array_equal(got, table[y])
        assert L.n_training_labels(labeling, n_classes=c, superclass_map=mapping) == int(table.max()) + 1
    assert L.superclass_of("identity", n_classes=c, seed=seed) is None
    np.testing.assert_array_equal(L.relabel("identity", y, n_classes=c, seed=seed, split="train"), y)


def test_superclasses_accepts_arrays_and_dicts():
    y = np.array([0, 1, 2, 3, 1])
    np.testing.assert_array_equal(L.superclasses(y, [1, 0, 1, 2]), [1, 0, 1, 2, 0])
    np.testing.assert_array_equal(L.superclasses(y, {0: 1, 1: 0, 2: 1, 3: 2}), [1, 0, 1, 2, 0])
    fashion = {0: 0, 2: 0, 3: 0, 4: 0, 6: 0, 5: 1, 7: 1, 9: 1, 1: 2, 8: 3}
    np.testing.assert_array_equal(L.superclasses(np.arange(10), fashion), [0, 2, 0, 0, 0, 1, 0, 1, 3, 1])
    with pytest.raises(ValueError, match=r"no superclass for class\(es\) \[3\]"):
        L.superclasses(y, {0: 0, 1: 0, 2: 1})


def test_n_training_labels():
    assert L.n_training_labels("coarse:5", n_classes=10) == 5
    assert L.n_training_labels("random_coarse:2", n_classes=10) == 2
    assert L.n_training_labels("fine", n_classes=10) == 20
    assert L.n_training_labels("identity", n_classes=10) == 10
    assert L.n_training_labels("natural", n_classes=10, superclass_map=[0, 2, 0, 0, 0, 1, 0, 1, 3, 1]) == 4


# ----------------------------------------------------------------------------- errors


def test_k_must_divide_c():
    with pytest.raises(ValueError, match=r"k=3 does not divide .* C=10.*\[1, 2, 5, 10\]"):
        L.coarse(np.arange(10), 3)
    with pytest.raises(ValueError, match="k=4 does not divide"):
        L.relabel("random_coarse:4", np.arange(10), n_classes=10, seed=0, split="train")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        L.coarse(np.arange(10), 0)


@pytest.mark.parametrize(
    "y, message",
    [
        (np.array([0, 10]), "label 10, out of range for n_classes=10"),
        (np.array([-1, 2]), "negative labels"),
        (np.array([0.0, 1.0]), "integer labels"),
        (np.zeros((2, 2), dtype=int), "one-dimensional"),
    ],
)
def test_bad_labels_are_named(y, message):
    with pytest.raises(ValueError, match=message):
        L.relabel("fine", y, n_classes=10, seed=0, split="train")


@pytest.mark.parametrize("labeling", ["coarse", "coarse:x", "fine:2", "superclass", "", 5])
def test_unknown_labeling_lists_the_valid_ones(labeling):
    with pytest.raises(ValueError, match="valid labelings: coarse:K, random_coarse:K, fine, natural, random_natural, identity"):
        L.relabel(labeling, np.arange(4), n_classes=4, seed=0, split="train")


def test_natural_needs_its_superclasses():
    with pytest.raises(ValueError, match="superclass="):
        L.relabel("natural", np.arange(4), n_classes=4, seed=0, split="train")
    with pytest.raises(ValueError, match="superclass_map="):
        L.superclass_of("natural", n_classes=4, seed=0)
    with pytest.raises(ValueError, match="one per sample"):
        L.relabel("natural", np.arange(4), n_classes=4, seed=0, split="train", superclass=np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="one per class"):
        L.superclass_of("natural", n_classes=4, seed=0, superclass_map=[0, 1])


def test_seed_and_n_classes_are_validated():
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        L.random_coarse(np.arange(4), 2, seed=-1)
    with pytest.raises(ValueError, match="n_classes must be a positive integer"):
        L.fine(np.arange(4), n_classes=0, seed=0)
    with pytest.raises(ValueError, match="split must be"):
        L.relabel("fine", np.arange(4), n_classes=4, seed=0, split="")


def test_random_natural_keeps_group_sizes_and_matches_superclass_of():
    natural = np.array([0, 2, 0, 0, 0, 1, 0, 1, 3, 1])  # Fashion-MNIST: tops, trouser, footwear, bag
    y = np.repeat(np.arange(10), 3)
    table = L.superclass_of("random_natural", n_classes=10, seed=4, superclass_map=natural)
    assert sorted(np.bincount(table)) == sorted(np.bincount(natural))
    relabeled = L.relabel("random_natural", y, n_classes=10, seed=4, split="train", superclass=natural[y])
    np.testing.assert_array_equal(relabeled, table[y])
    other = L.superclass_of("random_natural", n_classes=10, seed=5, superclass_map=natural)
    assert not np.array_equal(other, table)
