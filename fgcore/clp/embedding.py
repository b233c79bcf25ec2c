"""2-D embeddings of features for CLP and the t-SNE figures (Sec. 4.2-4.3, Fig. 6, 8)."""

from __future__ import annotations

import os

import numpy as np

from ..machine import limited_threads, single_threaded_blas, usable_cpus
from .defaults import DEFAULTS, CLPDefaults

METHODS = ("tsne", "pca", "none")


def effective_perplexity(perplexity: float, n: int) -> float:
    """The perplexity t-SNE can use on n points: 3 * perplexity < n - 1 neighbours are needed, so
    small groups get (n - 1) / 3 (at least 1).

    Parameters
    ----------
    perplexity : float
        The perplexity asked for.
    n : int
        Number of points to embed.

    Returns
    -------
    float
        min(perplexity, (n - 1) / 3), at least 1.

    Examples
    --------
    >>> from fgcore.clp import effective_perplexity
    >>> effective_perplexity(30.0, 5000), effective_perplexity(30.0, 31)
    (30.0, 10.0)
    """
    return float(max(1.0, min(perplexity, (n - 1) / 3.0)))


def auto_n_jobs(n: int) -> int:
    """Threads for t-SNE when none are given: the idle CPUs of this process, 1 below 5,000 points.

    t-SNE synchronises its threads every iteration; below a few thousand points that costs more
    than it saves, and on a busy machine (other processes holding the cores) spinning threads
    made openTSNE 1.5x (10k points) to 100x (120 points) slower than one thread in our
    measurements. The embedding does not depend on the thread count (openTSNE gives bit-identical
    results for 1 and 2 threads), so choosing it from the load changes speed only."""
    if n < 5_000:
        return 1
    cpus = usable_cpus()
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return int(max(1, min(cpus, round(cpus - busy + 1))))


def tsne_backend() -> str:
    """The t-SNE implementation `embed` uses: "openTSNE" when importable, else "sklearn".

    Returns
    -------
    str
        "openTSNE" or "sklearn".

    Examples
    --------
    >>> from fgcore.clp import tsne_backend
    >>> tsne_backend() in ("openTSNE", "sklearn")
    True
    """
    try:
        import openTSNE  # noqa: F401
    except ImportError:
        return "sklearn"
    return "openTSNE"


def embed(X: np.ndarray, method: str = "tsne", *, random_state: int = 0,
          perplexity: float | None = None, n_jobs: int | None = None,
          defaults: CLPDefaults = DEFAULTS, backend: str | None = None) -> np.ndarray:
    """Embed the rows of X for clustering (CLP) and the t-SNE figures.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d)
        The points (features of one superclass, say).
    method : {"tsne", "pca", "none"}, default="tsne"
        t-SNE to 2-D (Sec. 4.2-4.3), the first two principal components, or X itself.
    random_state : int, default=0
        Seed; the embedding is deterministic for a given seed.
    perplexity : float, default=None
        t-SNE perplexity (None: ``defaults.perplexity``, 30), lowered for small n
        (`effective_perplexity`).
    n_jobs : int, default=None
        t-SNE threads (None: ``defaults.n_jobs``, else `fgcore.clp.embedding.auto_n_jobs`); the
        embedding does not depend on it.
    defaults : CLPDefaults, default=DEFAULTS
        The t-SNE iterations and initialisation.
    backend : {"openTSNE", "sklearn"}, default=None
        Force a t-SNE implementation (None: `tsne_backend`).

    Returns
    -------
    numpy.ndarray
        (n, 2) float64 for "tsne" and "pca"; X as float64 for "none". Fewer than 3 points are
        put on a line.

    Raises
    ------
    ValueError
        On an unknown ``method`` or ``backend``.

    Notes
    -----
    tsne: openTSNE (exact neighbours below 20k points, where they are faster than Annoy at these
    dimensions and leave nothing to chance; Barnes-Hut gradients below 10k points, FFT above, as
    openTSNE chooses), else scikit-learn's Barnes-Hut TSNE with the same perplexity, the same
    750 iterations and PCA initialisation.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.clp import embed
    >>> X = np.array([[-2., 0., 5.], [2., 0., 5.], [0., -1., 5.], [0., 1., 5.]])
    >>> P = embed(X, "pca")                  # the widest direction (the first axis) comes first
    >>> P.shape, np.allclose(P, [[-2, 0], [2, 0], [0, -1], [0, 1]])
    ((4, 2), True)
    """
    X = np.ascontiguousarray(X)
    if method not in METHODS:
        raise ValueError(f"embedding must be one of {METHODS}; got {method!r}.")
    if method == "none":
        return X.astype(np.float64, copy=False)
    n = X.shape[0]
    if n < 3:
        # Too few points to embed; put them on a line so k-means still sees their order.
        return np.column_stack([np.arange(n, dtype=np.float64), np.zeros(n)])
    if method == "pca":
        return _pca2(X)
    perplexity = defaults.perplexity if perplexity is None else perplexity
    n_jobs = n_jobs or defaults.n_jobs or auto_n_jobs(n)
    backend = backend or tsne_backend()
    p = effective_perplexity(perplexity, n)
    if backend == "openTSNE":
        return _open_tsne(X, p, random_state, n_jobs, defaults)
    if backend == "sklearn":
        return _sklearn_tsne(X, p, random_state, n_jobs, defaults)
    raise ValueError(f"backend must be 'openTSNE' or 'sklearn'; got {backend!r}.")


def _pca2(X: np.ndarray) -> np.ndarray:
    """First two principal components (sign fixed so the largest loading is positive)."""
    Xc = X.astype(np.float64) - X.mean(axis=0, dtype=np.float64)
    with single_threaded_blas():
        _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    Vt = Vt[:2]
    sign = np.sign(Vt[np.arange(Vt.shape[0]), np.argmax(np.abs(Vt), axis=1)])
    Y = Xc @ (Vt * sign[:, None]).T
    if Y.shape[1] < 2:  # one feature only
        Y = np.column_stack([Y, np.zeros(len(Y))])
    return Y


def _pca_init(X: np.ndarray) -> np.ndarray:
    """t-SNE initialisation: 2-D PCA scaled to std 1e-4 in the first axis (openTSNE's rule)."""
    Y = _pca2(X)
    sd = Y[:, 0].std()
    return Y / (sd if sd > 0 else 1.0) * 1e-4


def _open_tsne(X: np.ndarray, perplexity: float, random_state: int, n_jobs: int,
               defaults: CLPDefaults) -> np.ndarray:
    from openTSNE import TSNE

    init = (_pca_init(X) if defaults.tsne_initialization == "pca"
            else defaults.tsne_initialization)
    tsne = TSNE(
        n_components=2, perplexity=perplexity, initialization=init,
        early_exaggeration_iter=defaults.tsne_early_exaggeration_iter,
        n_iter=defaults.tsne_n_iter, n_jobs=n_jobs, random_state=random_state,
        neighbors="exact" if X.shape[0] < 20_000 else "auto", verbose=False,
    )
    with single_threaded_blas():  # keeps openTSNE's own threads off an oversubscribed BLAS
        return np.asarray(tsne.fit(X), dtype=np.float64)


def _sklearn_tsne(X: np.ndarray, perplexity: float, random_state: int, n_jobs: int,
                  defaults: CLPDefaults) -> np.ndarray:
    from sklearn.manifold import TSNE

    tsne = TSNE(
        n_components=2, perplexity=perplexity, init=defaults.tsne_initialization,
        max_iter=defaults.tsne_early_exaggeration_iter + defaults.tsne_n_iter,
        random_state=random_state, n_jobs=n_jobs, method="barnes_hut",
    )
    # scikit-learn's Barnes-Hut gradient runs on all OpenMP threads whatever n_jobs says.
    with limited_threads(n_jobs):
        return np.asarray(tsne.fit_transform(X), dtype=np.float64)
