"""Synthetic data: the Gaussian mixtures of App. B / B.1 and the four clusters of Sec. 7.

Seeding: the cluster means depend on ``seed`` only, so train and test share them; the samples
depend on (seed, split), so the two splits are independent draws from the same mixture.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from .dataset import Dataset, check_split, split_seed
from .registry import DatasetInfo, register
from .status import DataStatus

# App. B is silent on sizes; these keep a fast-tier MLP run to seconds on a CPU. All are parameters.
GMM_DEFAULTS = {"n_classes": 10, "dim": 32, "sigma2": 4.0, "n_per_class": 200, "n_superclasses": 5}
SUBCLASS_MODES = ("separate", "shared", "hyperplane")


def _positive(name: str, value, integer: bool = False):
    kind = "integer" if integer else "number"
    if isinstance(value, (bool, np.bool_)) or (integer and not isinstance(value, (int, np.integer))):
        raise SpecError(f"{name} must be a positive {kind}, got {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{name} must be a positive {kind}, got {value!r}.") from None
    if not (number > 0) or not np.isfinite(number):
        raise SpecError(f"{name} must be a positive, finite {kind}, got {value!r}.")
    return int(value) if integer else number


def gaussian_mixture_means(
    n_classes: int, dim: int, sigma2: float, tau2: float | None, similar_superclasses, n_superclasses: int, seed: int
) -> np.ndarray:
    """float64 (n_classes, dim) cluster means.

    App. B: mu_c ~ N(0, sigma2 I). B.1: a "similar" superclass s first draws mu ~ N(0, sigma2 I) and
    its subclasses c = s, s + K, s + 2K, ... draw mu_c ~ N(mu, tau2 I). The standard-normal draws are
    fixed by `seed` alone and then scaled, so changing sigma2 or tau2 rescales the same geometry and
    the dissimilar superclasses keep identical means whatever tau2 is (Fig. 18 compares like with like).
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6A11]))
    base = rng.standard_normal((n_classes, dim))
    offsets = rng.standard_normal((n_classes, dim))
    means = np.sqrt(sigma2) * base
    for s in similar_superclasses:
        members = np.arange(s, n_classes, n_superclasses)
        means[members] = np.sqrt(sigma2) * base[s] + np.sqrt(tau2) * offsets[members]
    return means


def gaussian_mixture(
    split: str,
    n_classes: int = GMM_DEFAULTS["n_classes"],
    dim: int = GMM_DEFAULTS["dim"],
    sigma2: float = GMM_DEFAULTS["sigma2"],
    n_per_class: int = GMM_DEFAULTS["n_per_class"],
    tau2: float | None = None,
    similar_superclasses=None,
    n_superclasses: int = GMM_DEFAULTS["n_superclasses"],
    seed: int = 0,
    subclasses: str = "separate",
) -> Dataset:
    """Mixture of `n_classes` Gaussians N(mu_c, I) in R^dim, `n_per_class` samples per class (App. B).

    Labels: y = cluster index. Superclass of class c = c mod n_superclasses (the coarse labeling of
    eq. 4), so a superclass s holds classes s, s + K, ... Defaults (App. B is silent): 10 classes in
    5 superclasses, dim 32, sigma2 = 4 (the value B.1 fixes), 200 samples per class and split.

    B.1 (semantic similarity): pass `tau2`; then the superclasses in `similar_superclasses`
    (default: the first half, ``range(n_superclasses // 2)``) are made of similar subclasses whose
    means are drawn around a shared mu with variance tau2 (see gaussian_mixture_means). tau2=None
    gives plain App. B, with no similar superclasses.

    subclasses: "separate" (the mixture above), or one of two negative controls in which a
    superclass has no sub-clusters: "shared" (every subclass of a superclass has the superclass's
    first mean, so its subclasses are indistinguishable) and "hyperplane" (each superclass is one
    Gaussian N(mu_s, I) and its two subclasses are the two sides of a seeded random hyperplane through
    mu_s: linearly decodable, but not clusters; needs two subclasses per superclass).

    x is float32 (n, dim); samples are shuffled (seeded) so no slice of x is class-ordered.
    meta holds the means (float64), the similar / dissimilar superclasses and every parameter.
    """
    check_split(split)
    n_classes = _positive("n_classes", n_classes, integer=True)
    dim = _positive("dim", dim, integer=True)
    sigma2 = _positive("sigma2", sigma2)
    n_per_class = _positive("n_per_class", n_per_class, integer=True)
    n_superclasses = _positive("n_superclasses", n_superclasses, integer=True)
    _check_superclasses(n_classes, n_superclasses, subclasses)
    tau2, similar = _similar_superclasses(tau2, similar_superclasses, n_superclasses)
    means = gaussian_mixture_means(n_classes, dim, sigma2, tau2, similar, n_superclasses, seed)
    if subclasses != "separate":  # controls: one mean per superclass
        means = means[np.arange(n_classes) % n_superclasses]
    x, y = _mixture_samples(means, n_per_class, n_superclasses, seed, split, hyperplane=subclasses == "hyperplane")
    superclass_map = np.arange(n_classes, dtype=np.int64) % n_superclasses
    return Dataset(
        x=x.astype(np.float32),
        y=y,
        class_names=tuple(f"cluster{c}" for c in range(n_classes)),
        name="gaussian_mixture",
        split=split,
        source="synthetic",
        superclass=superclass_map[y],
        superclass_names=tuple(f"super{s}" for s in range(n_superclasses)),
        meta={
            "superclass_map": superclass_map,
            "means": means,
            "similar_superclasses": similar,
            "dissimilar_superclasses": tuple(s for s in range(n_superclasses) if s not in similar),
            "params": {
                "n_classes": n_classes, "dim": dim, "sigma2": sigma2, "n_per_class": n_per_class,
                "tau2": tau2, "n_superclasses": n_superclasses, "seed": int(seed), "subclasses": subclasses,
            },
        },
    )


def _check_superclasses(n_classes: int, n_superclasses: int, subclasses: str) -> None:
    """Equally many classes in every superclass, at least two; a known mode of subclasses."""
    if n_classes % n_superclasses:
        raise SpecError(
            f"n_superclasses={n_superclasses} must divide n_classes={n_classes} (superclass = class mod "
            "n_superclasses, eq. 4, with equally many classes per superclass)."
        )
    if n_classes == n_superclasses:
        raise SpecError(f"n_superclasses={n_superclasses} equals n_classes; a superclass needs >= 2 subclasses.")
    if subclasses not in SUBCLASS_MODES:
        raise SpecError(f"subclasses={subclasses!r} is not one of {', '.join(SUBCLASS_MODES)}.")
    if subclasses == "hyperplane" and n_classes != 2 * n_superclasses:
        raise SpecError("subclasses='hyperplane' splits each superclass in two: it needs n_classes = "
                        f"2 * n_superclasses, got {n_classes} and {n_superclasses}.")


def _similar_superclasses(tau2, similar_superclasses, n_superclasses: int) -> tuple[float | None, tuple[int, ...]]:
    """(tau2, the sorted similar superclasses) of App. B.1, or (None, ()) for plain App. B."""
    if tau2 is None:
        if similar_superclasses is not None and len(tuple(similar_superclasses)) > 0:
            raise SpecError("similar_superclasses needs tau2 (the spread of similar subclass means, App. B.1).")
        return None, ()
    tau2 = float(tau2)
    if not (tau2 >= 0) or not np.isfinite(tau2):
        raise SpecError(f"tau2 must be a non-negative finite number, got {tau2!r}.")
    similar = tuple(range(n_superclasses // 2)) if similar_superclasses is None else tuple(similar_superclasses)
    bad = [s for s in similar if not isinstance(s, (int, np.integer)) or not 0 <= s < n_superclasses]
    if bad or len(set(similar)) != len(similar):
        raise SpecError(
            f"similar_superclasses={similar!r} must be distinct superclass indices in 0..{n_superclasses - 1}."
        )
    return tau2, tuple(sorted(int(s) for s in similar))


def _mixture_samples(means: np.ndarray, n_per_class: int, n_superclasses: int, seed: int, split: str, *,
                     hyperplane: bool) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): n_per_class samples N(mu_c, I) of every class, shuffled; with `hyperplane`, relabelled by
    the side of a seeded random hyperplane through their superclass mean."""
    n_classes, dim = means.shape
    rng = np.random.default_rng(split_seed(seed, split, "gaussian_mixture"))
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    rng.shuffle(y)
    x = means[y] + rng.standard_normal((y.shape[0], dim))  # samples N(mu_c, I)
    if hyperplane:
        # Relabel by the side of a hyperplane through the superclass mean (normals fixed by the seed).
        normals = np.random.default_rng(np.random.SeedSequence([int(seed), 0x4E0])).standard_normal(
            (n_superclasses, dim))
        superclass = y % n_superclasses
        side = np.einsum("ij,ij->i", x - means[y], normals[superclass]) > 0
        y = superclass + n_superclasses * side.astype(np.int64)
    return x, y


# Sec. 7's example scaling is tau = d^0.52 with kappa = 1; n there (d^0.32) is far too small to
# train on, so the default n is a practical choice. All are parameters.
THEORY_DEFAULTS = {"d": 1024, "n": 400, "tau_exponent": 0.52, "kappa": 1.0}


def theory_means(d: int, tau: float, seed: int, merge_c1_c2: bool = False) -> np.ndarray:
    """float64 (4, d): tau times 4 orthonormal vectors (QR of a seeded Gaussian d x 4 matrix).

    With merge_c1_c2, C2 gets C1's mean (the negative control: same label, indistinguishable)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x7E0]))
    q, r = np.linalg.qr(rng.standard_normal((d, 4)))
    q = q * np.sign(np.diag(r))  # the unique QR with a positive diagonal: stable across LAPACKs
    means = tau * q.T
    if merge_c1_c2:
        means[1] = means[0]
    return means


def theory_clusters(
    split: str,
    d: int = THEORY_DEFAULTS["d"],
    n: int = THEORY_DEFAULTS["n"],
    tau: float | None = None,
    kappa: float = THEORY_DEFAULTS["kappa"],
    seed: int = 0,
    merge_c1_c2: bool = False,
    n_test: int | None = None,
) -> Dataset:
    """The Sec. 7 data (eq. 7): x = mu_p + xi, xi ~ N(0, kappa^2 I), 4 clusters of n/4 samples.

    n_test: samples of the test split (default n). The theorem's n = d^0.32 leaves 2-6 training
    samples per cluster, too few to measure distances on, so claims measure on fresh test samples
    from the same clusters (the noise of a fresh sample is independent of the trained weights).

    Means: pairwise orthogonal with ||mu_p|| = tau (default tau = d^0.52, the paper's example).
    y = cluster index 0..3 (C1..C4); superclass = y // 2: superclass 0 is coarse label +1 (C1, C2),
    superclass 1 is -1 (C3, C4); ``meta["coarse_sign"]`` = [+1, -1] maps superclass to that sign.
    merge_c1_c2=True gives C1 and C2 the same mean (negative control). x is float32 (n, d),
    samples shuffled (seeded).
    """
    check_split(split)
    d = _positive("d", d, integer=True)
    n = _positive("n", n, integer=True)
    if split == "test" and n_test is not None:
        n = _positive("n_test", n_test, integer=True)
    if d < 4:
        raise SpecError(f"d={d} is too small: 4 pairwise-orthogonal means need d >= 4.")
    if n % 4:
        raise SpecError(f"n={n} must be divisible by 4 (each cluster holds n/4 samples, Sec. 7).")
    tau = d ** THEORY_DEFAULTS["tau_exponent"] if tau is None else _positive("tau", tau)
    kappa = _positive("kappa", kappa)
    means = theory_means(d, tau, seed, bool(merge_c1_c2))
    rng = np.random.default_rng(split_seed(seed, split, "theory_clusters"))
    y = np.repeat(np.arange(4, dtype=np.int64), n // 4)
    rng.shuffle(y)
    x = means[y] + kappa * rng.standard_normal((n, d))
    superclass_map = np.array([0, 0, 1, 1], dtype=np.int64)
    return Dataset(
        x=x.astype(np.float32),
        y=y,
        class_names=("C1", "C2", "C3", "C4"),
        name="theory_clusters",
        split=split,
        source="synthetic",
        superclass=superclass_map[y],
        superclass_names=("+1", "-1"),
        meta={
            "superclass_map": superclass_map,
            "coarse_sign": np.array([1, -1], dtype=np.int64),
            "means": means,
            "params": {"d": d, "n": n, "tau": float(tau), "kappa": kappa, "seed": int(seed), "merge_c1_c2": bool(merge_c1_c2)},
        },
    )


def _generated(name: str):
    return lambda root=None: DataStatus(name, True, "generated on the fly (synthetic)")


register(DatasetInfo(
    "gaussian_mixture", gaussian_mixture, "synthetic Gaussian mixture of App. B / B.1",
    augment="none", normalize="none", status=_generated("gaussian_mixture")))
register(DatasetInfo(
    "theory_clusters", theory_clusters, "synthetic 4-cluster data of Sec. 7",
    augment="none", normalize="none", status=_generated("theory_clusters")))
