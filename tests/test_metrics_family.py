"""NC3, NC4, CDNV, equinorm and equiangularity against float64 references written from the
papers' definitions (Papyan et al. 2020; Galanti et al. 2022), on balanced and unbalanced labels,
float32 and float64 features, torch tensors and label values that are not 0..C-1; and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fgcore.metrics import (
    NCCAgreement,
    cdnv,
    cdnv_from_stats,
    class_statistics,
    equiangularity,
    equinorm,
    nc3,
    nc4,
)

# ------------------------------------------------------------------- references, by definition


def ref_means(H, y):
    H = np.asarray(H, dtype=np.float64)
    classes = np.unique(y)
    return classes, np.array([H[y == c].mean(axis=0) for c in classes])


def ref_centred(H, y, center):
    _, means = ref_means(H, y)
    mu = np.asarray(H, dtype=np.float64).mean(axis=0) if center == "global_mean" else means.mean(0)
    return means - mu


def ref_nc3(W, H, y, center="class_means", squared=False):
    """Papyan et al.: || W'/||W||_F - Mdot/||Mdot||_F ||_F, Mdot = [mu_c - mu_G]."""
    M = ref_centred(H, y, center)
    W = np.asarray(W, dtype=np.float64)
    value = np.linalg.norm(W / np.linalg.norm(W, "fro") - M / np.linalg.norm(M, "fro"), "fro")
    return value**2 if squared else value


def ref_nc4(H, y, outputs, average="samples"):
    """Share of samples with argmax of the classifier's outputs == argmin_c ||h - mu_c||."""
    H = np.asarray(H, dtype=np.float64)
    classes, means = ref_means(H, y)
    ncc = classes[[int(np.argmin([np.linalg.norm(h - m) for m in means])) for h in H]]
    clf = classes[np.argmax(outputs, axis=1)]
    same = ncc == clf
    if average == "samples":
        return same.mean()
    return np.mean([same[y == c].mean() for c in classes])


def ref_cdnv(H, y, ddof=0):
    """Galanti et al.: mean over class pairs of (Var_i + Var_j) / (2 ||mu_i - mu_j||^2)."""
    H = np.asarray(H, dtype=np.float64)
    classes, means = ref_means(H, y)
    var = [np.sum((H[y == c] - m) ** 2) / (np.sum(y == c) - ddof) for c, m in zip(classes, means)]
    C = len(classes)
    terms = [(var[i] + var[j]) / (2 * np.sum((means[i] - means[j]) ** 2))
             for i in range(C) for j in range(i + 1, C)]
    return float(np.mean(terms))


def ref_equinorm(H, y, center="class_means", ddof=0):
    """Papyan et al. Fig. 2: Std_c ||mu_c - mu_G|| / Avg_c ||mu_c - mu_G||."""
    norms = np.linalg.norm(ref_centred(H, y, center), axis=1)
    return np.std(norms, ddof=ddof) / np.mean(norms)


def ref_equiangularity(H, y, center="class_means", reference="etf"):
    """Papyan et al. Fig. 4 (Avg |cos + 1/(C-1)|) or Fig. 3 (Std cos), over pairs c != c'."""
    M = ref_centred(H, y, center)
    C = len(M)
    cos = [M[i] @ M[j] / (np.linalg.norm(M[i]) * np.linalg.norm(M[j]))
           for i in range(C) for j in range(C) if i != j]
    if reference == "etf":
        return np.mean(np.abs(np.array(cos) + 1 / (C - 1)))
    return np.std(cos)


# ----------------------------------------------------------------------------------- data


def features(seed, sizes, d=7, spread=3.0, offset=0.0, dtype=np.float64):
    """Gaussian classes of the given sizes (labels 0..C-1, shuffled) with anisotropic means."""
    rng = np.random.default_rng(seed)
    C = len(sizes)
    means = rng.normal(size=(C, d)) * spread * np.linspace(0.2, 2.0, d) + offset
    y = np.repeat(np.arange(C), sizes)
    rng.shuffle(y)
    H = means[y] + rng.normal(size=(y.size, d))
    return H.astype(dtype), y, rng


BALANCED = [30, 30, 30, 30, 30]
UNBALANCED = [80, 35, 12, 6, 3]
CASES = [(sizes, dtype) for sizes in (BALANCED, UNBALANCED) for dtype in (np.float64, np.float32)]
IDS = [f"{'bal' if s is BALANCED else 'unbal'}-{np.dtype(t).name}" for s, t in CASES]


# ------------------------------------------------------------------------- agreement with refs


@pytest.mark.parametrize("sizes, dtype", CASES, ids=IDS)
@pytest.mark.parametrize("center", ["class_means", "global_mean"])
def test_mean_geometry_matches_the_definitions(sizes, dtype, center):
    H, y, _ = features(1, sizes, dtype=dtype)
    H64 = H.astype(np.float64)  # the same numbers: the references see what fgcore sees
    for ddof in (0, 1):
        assert equinorm(H, y, center=center, ddof=ddof) == pytest.approx(
            ref_equinorm(H64, y, center, ddof), rel=1e-10)
    for reference in ("etf", "mean"):
        assert equiangularity(H, y, center=center, reference=reference) == pytest.approx(
            ref_equiangularity(H64, y, center, reference), rel=1e-10)


@pytest.mark.parametrize("sizes, dtype", CASES, ids=IDS)
def test_cdnv_matches_the_definition(sizes, dtype):
    H, y, _ = features(2, sizes, dtype=dtype)
    for ddof in (0, 1):
        assert cdnv(H, y, ddof=ddof) == pytest.approx(ref_cdnv(H.astype(np.float64), y, ddof),
                                                      rel=1e-10)


@pytest.mark.parametrize("sizes, dtype", CASES, ids=IDS)
@pytest.mark.parametrize("center", ["class_means", "global_mean"])
def test_nc3_matches_the_definition(sizes, dtype, center):
    H, y, rng = features(3, sizes, dtype=dtype)
    W = rng.normal(size=(len(sizes), H.shape[1])).astype(dtype)
    for squared in (False, True):
        assert nc3(W, H, y, center=center, squared=squared) == pytest.approx(
            ref_nc3(W, H.astype(np.float64), y, center, squared), rel=1e-10)


@pytest.mark.parametrize("sizes, dtype", CASES, ids=IDS)
def test_nc4_matches_the_definition(sizes, dtype):
    H, y, rng = features(4, sizes, dtype=dtype)
    H64 = H.astype(np.float64)
    _, means = ref_means(H64, y)
    # A classifier close to, but not, the nearest-centre rule: some samples disagree.
    W = means + 2.0 * rng.normal(size=means.shape)
    b = -0.5 * np.sum(means**2, axis=1) + 5.0 * rng.normal(size=len(means))
    outputs = H64 @ W.T + b
    expected = ref_nc4(H64, y, outputs)
    assert 0.3 < expected < 0.99  # the test exercises both outcomes
    assert nc4(H, y, W=W, b=b) == pytest.approx(expected, abs=1e-15)
    assert nc4(H, y, logits=outputs) == pytest.approx(expected, abs=1e-15)
    assert nc4(H, y, logits=outputs, average="classes") == pytest.approx(
        ref_nc4(H64, y, outputs, "classes"), abs=1e-15)


def test_torch_tensors_and_label_values_that_are_not_dense_codes():
    H, y, rng = features(5, UNBALANCED)
    values = np.array([999, -3, 10, 42, 7])
    yv = values[y]
    order = np.argsort(values)  # the classes are the sorted label values
    W = rng.normal(size=(5, H.shape[1]))
    logits = H @ W.T
    Ht, yt = torch.from_numpy(H), torch.from_numpy(yv)
    # The reference on codes 0..C-1; fgcore on the values, with W's rows / logits' columns named.
    assert cdnv(Ht, yt) == pytest.approx(ref_cdnv(H, y), rel=1e-12)
    assert equinorm(Ht, yt) == pytest.approx(ref_equinorm(H, y), rel=1e-12)
    assert equiangularity(H.tolist(), yv.tolist()) == pytest.approx(ref_equiangularity(H, y),
                                                                    rel=1e-12)
    assert nc3(torch.from_numpy(W), Ht, yt, classes=values) == pytest.approx(
        ref_nc3(W, H, y), rel=1e-12)
    assert nc3(W[order], H, yv) == pytest.approx(ref_nc3(W, H, y), rel=1e-12)  # sorted rows
    assert nc4(Ht, yt, logits=torch.from_numpy(logits), classes=values) == pytest.approx(
        ref_nc4(H, y, logits), abs=1e-15)
    assert nc4(H, yv, logits=logits[:, order]) == pytest.approx(ref_nc4(H, y, logits), abs=1e-15)


def test_a_head_with_outputs_for_classes_absent_from_y():
    H, y, rng = features(6, [20, 20, 20])
    logits = np.concatenate([H @ rng.normal(size=(H.shape[1], 3)), np.full((len(y), 1), -1e9)], 1)
    assert nc4(H, y, logits=logits, classes=[0, 1, 2, 3]) == pytest.approx(
        ref_nc4(H, y, logits[:, :3]), abs=1e-15)
    logits[:5, 3] = 1e9  # the head picks the absent class: never the nearest centre
    with_misses = nc4(H, y, logits=logits, classes=[0, 1, 2, 3])
    ncc_agrees = ref_nc4(H[5:], y[5:], logits[5:, :3]) * (len(y) - 5)
    assert with_misses == pytest.approx(ncc_agrees / len(y), abs=1e-15)


def test_the_accelerator_code_path_on_cpu_tensors(monkeypatch):
    # Public functions send CPU data to numpy; force the tensor (CUDA) path to check it whole.
    import fgcore.metrics.classifier as classifier
    import fgcore.metrics.geometry as geometry
    from fgcore.metrics.validation import check_features

    H, y, rng = features(7, UNBALANCED, dtype=np.float32)
    W = rng.normal(size=(5, H.shape[1]))
    b = rng.normal(size=5)
    logits = H.astype(np.float64) @ W.T + b
    expected = (nc3(W, H, y), nc4(H, y, W=W, b=b), nc4(H, y, logits=logits), cdnv(H, y),
                equinorm(H, y), equiangularity(H, y))

    def tensors(H, name="H", keep_tensor=False):
        return check_features(H, name, keep_tensor=name == "H")

    for module in (classifier, geometry):
        monkeypatch.setattr(module, "check_features", tensors)
    got = (nc3(W, H, y), nc4(H, y, W=W, b=b), nc4(H, y, logits=logits), cdnv(H, y),
           equinorm(H, y), equiangularity(H, y))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_inputs_are_not_modified():
    H, y, rng = features(8, BALANCED, dtype=np.float32)
    W = rng.normal(size=(5, H.shape[1]))
    before = H.copy(), W.copy()
    nc3(W, H, y), nc4(H, y, W=W), cdnv(H, y), equinorm(H, y), equiangularity(H, y)
    np.testing.assert_array_equal(H, before[0])
    np.testing.assert_array_equal(W, before[1])


# --------------------------------------------------------- precision where simple forms fail


def test_cdnv_of_collapsed_float32_features_far_from_the_origin():
    # Within-class std 1e-3 around class means of size ~1e3: a one-pass float32 variance
    # (E||h||^2 - ||mu||^2) is cancellation noise; the two-pass float64 variance is exact.
    H, y, _ = features(9, UNBALANCED, spread=50.0, offset=1e3)
    means = ref_means(H, y)[1]
    H32 = (means[y] + 1e-3 * (H - means[y])).astype(np.float32)
    expected = ref_cdnv(H32.astype(np.float64), y)
    assert cdnv(H32, y) == pytest.approx(expected, rel=1e-9)
    Ht = torch.from_numpy(H32)
    naive_var = [float((Ht[y == c] ** 2).sum(1).mean() - (Ht[y == c].mean(0) ** 2).sum())
                 for c in range(5)]
    true_var = [np.sum((H32[y == c].astype(np.float64) - m) ** 2) / np.sum(y == c)
                for c, m in enumerate(ref_means(H32, y)[1])]
    assert max(abs(a - t) / t for a, t in zip(naive_var, true_var)) > 1.0


def test_nearest_centre_rule_far_from_the_origin():
    # Means 1e8 from the origin, 1 apart: distances through ||h||^2 - 2 h.mu + ||mu||^2 in float64
    # lose everything below ~1e8 * 1e8 * 1e-16 = 1; the centred rule keeps the decisions.
    rng = np.random.default_rng(10)
    means = 1e8 + np.array([[0.0, 0.0], [1.0, 0.0]])
    y = np.repeat([0, 1], 50)
    H = means[y] + rng.uniform(-0.45, 0.45, size=(100, 2))
    local = H - 1e8  # the same points, near the origin, for the reference
    truth = np.argmin(((local[:, None] - (means - 1e8)[None]) ** 2).sum(-1), axis=1)
    logits = np.eye(2)[truth]
    assert nc4(H, y, logits=logits) == 1.0
    naive = np.argmin((H**2).sum(1)[:, None] - 2 * H @ means.T + (means**2).sum(1), axis=1)
    assert np.mean(naive == truth) < 0.9  # what an uncentred expansion would have reported


# --------------------------------------------------------------------------- streaming forms


def test_nc3_and_geometry_from_stats_equal_the_array_forms():
    from fgcore.metrics import ClassStatistics, equiangularity_from_stats, equinorm_from_stats
    from fgcore.metrics import nc3_from_stats

    H, y, rng = features(11, UNBALANCED, dtype=np.float32)
    W = rng.normal(size=(5, H.shape[1]))
    acc = ClassStatistics(5, covariance=False)
    for a in range(0, len(y), 17):
        acc.update(torch.from_numpy(H[a:a + 17]), torch.from_numpy(y[a:a + 17]))
    for stats in (acc.result(), class_statistics(H, y)):
        assert nc3_from_stats(stats, W) == pytest.approx(nc3(W, H, y), rel=1e-9)
        assert nc3_from_stats(stats, W, center="global_mean", squared=True) == pytest.approx(
            nc3(W, H, y, center="global_mean", squared=True), rel=1e-9)
        for ddof in (0, 1):
            assert cdnv_from_stats(stats, ddof=ddof) == pytest.approx(cdnv(H, y, ddof=ddof),
                                                                      rel=1e-9)
            assert equinorm_from_stats(stats, ddof=ddof) == pytest.approx(
                equinorm(H, y, ddof=ddof), rel=1e-9)
        for reference in ("etf", "mean"):
            assert equiangularity_from_stats(stats, reference=reference) == pytest.approx(
                equiangularity(H, y, reference=reference), rel=1e-9)


def test_ncc_agreement_over_batches_equals_nc4():
    H, y, rng = features(12, UNBALANCED, dtype=np.float32)
    logits = H.astype(np.float64) @ rng.normal(size=(H.shape[1], 5))
    stats = class_statistics(H, y)
    for centres in (stats, stats.means):
        acc = NCCAgreement(centres)
        for a in range(0, len(y), 23):
            acc.update(torch.from_numpy(H[a:a + 23]), logits[a:a + 23], y[a:a + 23])
        assert acc.result() == pytest.approx(nc4(H, y, logits=logits), abs=1e-15)
        assert acc.result("classes") == pytest.approx(
            nc4(H, y, logits=logits, average="classes"), abs=1e-15)


# ------------------------------------------------------------------------------- bad input

GOOD_H = np.random.default_rng(13).normal(size=(12, 3)) + np.repeat(np.eye(3) * 4, 4, axis=0)
GOOD_Y = np.repeat([0, 1, 2], 4)
GOOD_W = np.random.default_rng(14).normal(size=(3, 3))

CALLS = {
    "nc3": lambda H, y: nc3(GOOD_W, H, y),
    "nc4": lambda H, y: nc4(H, y, logits=np.zeros((len(np.asarray(y)), 3))),
    "cdnv": cdnv,
    "equinorm": equinorm,
    "equiangularity": equiangularity,
}


@pytest.mark.parametrize("metric", CALLS.values(), ids=CALLS.keys())
@pytest.mark.parametrize(
    "H, y, match",
    [
        (np.where(np.arange(36).reshape(12, 3) == 7, np.nan, GOOD_H), GOOD_Y, r"H contains 1 NaN"),
        (GOOD_H, np.zeros(12, dtype=int), r"1 distinct class"),
        (GOOD_H, GOOD_Y.astype(float), r"y must hold integer class labels; got dtype float64"),
        (GOOD_H[:, 0], GOOD_Y, r"H must be a 2-D array .* Reshape it to \(n, 1\)"),
        (GOOD_H, GOOD_Y[:, None], r"y must be a 1-D array"),
        (np.zeros((0, 3)), np.zeros(0, dtype=int), r"H is empty"),
        (np.array([["a"] * 3] * 12), GOOD_Y, r"H must be a numeric"),
    ],
)
def test_bad_features_and_labels_raise_a_value_error_naming_the_argument(metric, H, y, match):
    with pytest.raises(ValueError, match=match):
        metric(H, y)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nc3(GOOD_W[:2], GOOD_H, GOOD_Y), r"W's rows has 2 entries but y has 3 classes"),
        (lambda: nc3(np.ones((3, 5)), GOOD_H, GOOD_Y), r"W has 5 columns but H has 3 features"),
        (lambda: nc3(np.ones((3, 4)).T, np.tile(GOOD_H, (1, 2))[:, :4], GOOD_Y),
         r"looks transposed"),
        (lambda: nc3(np.where(np.eye(3), np.inf, 1.0), GOOD_H, GOOD_Y), r"W contains 3 NaN"),
        (lambda: nc3(np.zeros((3, 3)), GOOD_H, GOOD_Y), r"W is zero"),
        (lambda: nc3(np.ones((4, 3)), GOOD_H, GOOD_Y, classes=[0, 1, 2, 5]),
         r"W has rows for classes \[5\] that y does not contain"),
        (lambda: nc3(GOOD_W, GOOD_H, GOOD_Y, classes=[0, 1, 1]), r"classes holds the same"),
        (lambda: nc3(GOOD_W, GOOD_H, GOOD_Y, classes=[0, 1, 7]),
         r"y has classes \[2\] that no entry of W's rows scores"),
        (lambda: nc3(GOOD_W, GOOD_H, GOOD_Y, center="origin"), r"center must be"),
        (lambda: nc4(GOOD_H, GOOD_Y), r"give either logits .* not neither"),
        (lambda: nc4(GOOD_H, GOOD_Y, logits=np.zeros((12, 3)), W=GOOD_W), r"not both"),
        (lambda: nc4(GOOD_H, GOOD_Y, logits=np.zeros((12, 3)), b=np.zeros(3)),
         r"b is the bias that goes with W"),
        (lambda: nc4(GOOD_H, GOOD_Y, logits=np.zeros((11, 3))),
         r"logits has 11 rows but H has 12"),
        (lambda: nc4(GOOD_H, GOOD_Y, logits=np.zeros((12, 2))),
         r"logits' columns has 2 entries but y has 3 classes; pass classes="),
        (lambda: nc4(GOOD_H, GOOD_Y, W=GOOD_W, b=np.zeros(2)), r"b must be a vector of 3"),
        (lambda: nc4(GOOD_H, GOOD_Y, W=GOOD_W, b=[0, np.nan, 0]), r"b contains 1 NaN"),
        (lambda: nc4(GOOD_H, GOOD_Y, W=GOOD_W, average="median"), r"average must be one of"),
        (lambda: nc4(GOOD_H, GOOD_Y, W=GOOD_W, average=["samples"]), r"got \['samples'\]"),
        (lambda: cdnv(GOOD_H, GOOD_Y, ddof=2), r"ddof must be one of"),
        (lambda: cdnv(GOOD_H[:9], np.array([0, 0, 0, 0, 1, 1, 1, 1, 2]), ddof=1),
         r"y: every class needs at least 2 sample\(s\) because an unbiased"),
        (lambda: cdnv(np.array([[1.0], [1.0], [3.0], [3.0], [1.0]]), [0, 0, 1, 1, 2]),
         r"means of classes 0 and 2 coincide"),
        (lambda: equinorm(GOOD_H, GOOD_Y, ddof=True), r"ddof must be one of"),
        (lambda: equinorm(np.ones((4, 2)), [0, 0, 1, 1]), r"class means coincide"),
        (lambda: equiangularity(GOOD_H, GOOD_Y, reference="max"), r"reference must be one of"),
        (lambda: equiangularity(np.array([[0.0], [1.0], [2.0]]), [0, 1, 2]),
         r"mean of class\(es\) \[1\] coincides with the centre"),
    ],
)
def test_bad_arguments_raise_a_value_error_that_says_what_to_do(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_ncc_agreement_bad_input():
    acc = NCCAgreement(np.eye(3))
    with pytest.raises(ValueError, match="no batch was added"):
        acc.result()
    with pytest.raises(ValueError, match="H_batch has 2 features but the centres have 3"):
        acc.update(np.ones((2, 2)), np.ones((2, 3)), [0, 1])
    with pytest.raises(ValueError, match=r"logits_batch must have one row per row .* \(2, 2\)"):
        acc.update(np.ones((2, 3)), np.ones((2, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"y_batch must be labels 0..2 .* from 0 to 3"):
        acc.update(np.ones((2, 3)), np.ones((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="means contains 1 NaN"):
        NCCAgreement(np.where(np.eye(3), np.nan, 0.0)[:1])
