"""Cluster-and-Linear-Probe (Sec. 4.3) and the linear probe (LPO).

    cluster_and_probe(H_tr, coarse_tr, H_te, y_te, *, y_tr, clusters_per_superclass=None, ...)
        -> CLPResult (.accuracy, .coarse_accuracy, .chance, .mapping, .purity, .ari, .discovery,
           .embeddings)
    linear_probe(H_tr, y_tr, H_te, y_te, *, random_state=0, ...) -> ProbeResult (.accuracy)
    embed(X, method="tsne", random_state=0) -> (n, 2) points (t-SNE figures)
    CLPDefaults / DEFAULTS: every setting the paper leaves open, in one place (defaults.py).
"""

from .cluster import CLPResult, SuperclassEmbedding, cluster_and_probe
from .defaults import DEFAULTS, CLPDefaults
from .embedding import effective_perplexity, embed, tsne_backend
from .probe import ProbeResult, linear_probe

__all__ = [
    "cluster_and_probe",
    "CLPResult",
    "SuperclassEmbedding",
    "linear_probe",
    "ProbeResult",
    "embed",
    "effective_perplexity",
    "tsne_backend",
    "CLPDefaults",
    "DEFAULTS",
]
