"""Every setting of the Cluster-and-Linear-Probe test that the paper does not give, in one place.

The paper (Sec. 4.3) says only: per superclass, t-SNE to 2-D, k-means into as many clusters as the
superclass has original classes, a linear probe on the reconstructed labels, best mapping of
clusters to classes. Everything else is chosen here, with the reason, and can be overridden per
call (keyword arguments of the same name) or by passing another ``CLPDefaults`` as ``defaults=``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CLPDefaults:
    """Every setting of CLP and the linear probe that the paper leaves open, with its reason (the
    attribute docstrings below); pass a changed copy as ``defaults=``.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from fgcore.clp import DEFAULTS
    >>> DEFAULTS.perplexity, DEFAULTS.probe_C
    (30.0, 1.0)
    >>> replace(DEFAULTS, embedding="pca").embedding      # e.g. cluster_and_probe(..., defaults=)
    'pca'
    """

    # -- embedding (per superclass, training features, raw: not standardised, as features are) --
    embedding: str = "tsne"
    """"tsne" (the paper's), "pca" (2-D PCA, fast and deterministic: for tests and smoke runs) or
    "none" (k-means on the raw d-dimensional features)."""
    perplexity: float = 30.0
    """The common default of openTSNE, scikit-learn and van der Maaten's reference code. Lowered to
    (n - 1) / 3 for a superclass with fewer samples (t-SNE needs 3 * perplexity < n)."""
    tsne_early_exaggeration_iter: int = 250
    tsne_n_iter: int = 500
    """openTSNE's defaults (250 exaggerated + 500 normal iterations); the sklearn fallback runs the
    same 750 in total so the two backends do the same work."""
    tsne_initialization: str = "pca"
    """PCA initialisation: deterministic and preserves global layout (openTSNE's default)."""
    n_jobs: int | None = None
    """Threads for t-SNE; None = fgcore.clp.embedding.auto_n_jobs: the CPUs of this process that
    are not busy (os.sched_getaffinity, load average), and 1 below 5,000 points. The embedding is
    the same for any thread count (openTSNE is bit-identical for 1 and 2 threads), only speed
    changes."""
    # -- clustering -------------------------------------------------------------------------------
    kmeans_n_init: int = 10
    """k-means restarts (best inertia kept): cheap in 2-D, and removes most bad local optima."""
    # -- probe (same for CLP and LPO) -------------------------------------------------------------
    standardize: bool = True
    """Standardise each feature with the training mean and std before the probe (linear probes on
    unnormalised ReLU features converge slowly; the decision function stays linear in H)."""
    probe_C: float = 1.0
    """Inverse L2 strength of the multinomial logistic regression, scikit-learn's convention
    (objective = sum of cross-entropies + ||W||^2 / (2 C)). 1.0 is scikit-learn's default; with
    n in the thousands it is a weak penalty, so the probe measures linear separability."""
    probe_max_iter: int = 1000
    probe_tol: float = 1e-4
    """L-BFGS iteration cap and tolerance (scikit-learn's tol; enough for accuracy to settle)."""
    torch_probe_min_elements: int = 10_000_000
    """With probe_backend="auto", data of at least this many values (n * d; e.g. 20k x 512) is
    probed with the torch L-BFGS probe on a CUDA GPU when one is available. Tensors already on a
    CUDA device always use the torch probe there; otherwise scikit-learn's lbfgs on the CPU."""


DEFAULTS = CLPDefaults()
