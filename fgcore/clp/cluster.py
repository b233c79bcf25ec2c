"""Cluster-and-Linear-Probe (Sec. 4.3): recover the original classes from coarse labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from fgcore.machine import limited_threads
from fgcore.metrics.discovery import DiscoveryScores, discovery_scores
from fgcore.metrics.validation import as_numpy, check_labels, superclass_of_subclass

from .defaults import DEFAULTS, CLPDefaults
from .embedding import METHODS, effective_perplexity, embed, tsne_backend
from .probe import ProbeResult, _as_numpy_features, check_probe_inputs, fit_probe


@dataclass(frozen=True, eq=False)
class SuperclassEmbedding:
    """The 2-D points of one superclass's training features (for the t-SNE figures).

    Attributes
    ----------
    points : numpy.ndarray of shape (m, 2)
        The embedded training features of the superclass.
    labels : numpy.ndarray of shape (m,)
        Original class of each point.
    clusters : numpy.ndarray of shape (m,)
        k-means cluster (0..k-1) of each point.
    indices : numpy.ndarray of shape (m,)
        Rows of H_tr.
    """

    points: np.ndarray
    labels: np.ndarray
    clusters: np.ndarray
    indices: np.ndarray


@dataclass(frozen=True, eq=False)
class CLPResult:
    """Outcome of `cluster_and_probe` (label values are the original ones throughout).

    Attributes
    ----------
    accuracy : float
        Test accuracy of the probe with clusters mapped to classes (the CLP number).
    coarse_accuracy : float
        Test accuracy at the superclass level (cluster's superclass vs the truth).
    chance : float
        Accuracy of a random class within the predicted superclass, sample-weighted: mean over
        test samples of [superclass right] / (classes in that superclass).
    mapping : dict
        Cluster id -> original class (None for a cluster left unmatched, which can happen only
        with more clusters than classes in its superclass).
    superclass_of_cluster : dict
        Cluster id -> superclass.
    purity, ari : dict
        Per superclass, of the clusters against the original training labels.
    mean_purity : float
        Unweighted mean of ``purity`` over superclasses.
    discovery : DiscoveryScores or None
        The clusters of the training samples (``reconstructed_labels``) against their original classes,
        scored as the coarse-to-fine literature does (fgcore.metrics.discovery_scores): in each
        superclass its clusters are matched one to one to its original classes (Hungarian), with that
        accuracy's chance level, NMI and ARI, per superclass and overall. A matching of its own,
        independent of ``mapping`` (which maps clusters to classes by the probe's test predictions).
        None when every superclass holds a single original class.
    embeddings : dict or None
        Superclass -> SuperclassEmbedding (None with embedding="none").
    reconstructed_labels : numpy.ndarray of shape (n_tr,)
        Cluster id of every training sample (the labels the probe saw).
    reconstructed_classes : numpy.ndarray of shape (n_tr,)
        Those mapped to original classes (-1 where unmatched).
    predictions : numpy.ndarray of shape (n_te,)
        Predicted original class of every test sample (-1 where unmatched).
    probe : ProbeResult
        The probe on cluster ids: predictions are cluster ids, train_accuracy is against the
        reconstructed labels, accuracy equals ``accuracy`` above.
    settings : dict
        Every setting used (including perplexities after the small-group rule).
    """

    accuracy: float
    coarse_accuracy: float
    chance: float
    mapping: dict
    superclass_of_cluster: dict
    purity: dict
    mean_purity: float
    ari: dict
    discovery: DiscoveryScores | None
    embeddings: dict | None
    reconstructed_labels: np.ndarray
    reconstructed_classes: np.ndarray
    predictions: np.ndarray
    probe: ProbeResult
    settings: dict


def cluster_and_probe(H_tr: Any, coarse_tr: Any, H_te: Any, y_te: Any, *, y_tr: Any,
                      clusters_per_superclass: int | Mapping | None = None,
                      embedding: str | None = None, random_state: int = 0,
                      perplexity: float | None = None, kmeans_n_init: int | None = None,
                      probe_C: float | None = None, standardize: bool | None = None,
                      probe_backend: str = "auto", n_jobs: int | None = None,
                      tsne_backend_name: str | None = None,
                      defaults: CLPDefaults = DEFAULTS) -> CLPResult:
    """Cluster-and-Linear-Probe of Sec. 4.3: recover the original classes from coarse labels.

    For every superclass (value of ``coarse_tr``): embed its training features (t-SNE to 2-D by
    default), k-means them into ``clusters_per_superclass`` clusters; the clusters are the
    reconstructed labels. A multinomial linear probe (same as `linear_probe`) is trained on all of
    H_tr with those labels and predicts a cluster for every test sample; clusters are mapped to
    original classes *within each superclass* by the assignment that maximises the number of
    correct test predictions (scipy's linear_sum_assignment: the best of all permutations, as the
    paper's "permute each possible mapping and report the highest").

    Parameters
    ----------
    H_tr : array-like or torch.Tensor of shape (n_train, n_features)
        Training features (numpy or torch).
    coarse_tr : array-like of shape (n_train,)
        Superclass of each training sample: the only labels the method uses.
    H_te : array-like or torch.Tensor of shape (n_test, n_features)
        Test features, the same representation.
    y_te : array-like of shape (n_test,)
        Original test labels (to score); their classes must occur in training.
    y_tr : array-like of shape (n_train,)
        Original training labels, used ONLY for evaluation: to know which original classes make
        up each superclass (mapping candidates and the default number of clusters) and for the
        per-superclass purity and adjusted Rand index of the clusters. Every original class must
        lie in one superclass.
    clusters_per_superclass : int or mapping, default=None
        An int for all superclasses, or a mapping superclass -> int; default: the number of
        original classes in that superclass.
    embedding : {"tsne", "pca", "none"}, default=None
        "tsne" (the default, ``defaults.embedding``: openTSNE, or scikit-learn's TSNE when
        openTSNE is missing), "pca", or "none" (k-means on the raw features).
    random_state : int, default=0
        Seeds the embedding, k-means (one derived seed per superclass) and the probe.
    perplexity, kmeans_n_init, probe_C, standardize : optional
        Override the setting of the same name in ``defaults``.
    probe_backend : {"auto", "sklearn", "torch"}, default="auto"
        As in `linear_probe`.
    n_jobs : int, default=None
        Threads for t-SNE (None: `fgcore.clp.embedding.auto_n_jobs`).
    tsne_backend_name : {"openTSNE", "sklearn"}, default=None
        Force a t-SNE implementation (None: openTSNE when importable).
    defaults : CLPDefaults, default=DEFAULTS
        Every setting the paper leaves open (fgcore.clp.CLPDefaults).

    Returns
    -------
    CLPResult
        ``.accuracy`` (the CLP number), ``.chance``, ``.mapping``, ``.purity``, ``.discovery``
        (Hungarian-matched cluster accuracy, NMI and ARI of the clusters), the embeddings and every
        setting used.

    Raises
    ------
    ValueError
        On malformed features or labels, an original class in two superclasses, test classes
        unseen in training, a bad ``clusters_per_superclass`` (or more clusters than samples),
        an unknown ``embedding`` or a non-positive ``perplexity``.

    See Also
    --------
    linear_probe : LPO, the same probe on the true labels.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.clp import cluster_and_probe
    >>> rng = np.random.default_rng(0)
    >>> centres = np.array([[0., 0.], [0., 20.], [40., 0.], [40., 20.]])  # 4 classes
    >>> y_tr, y_te = np.repeat(np.arange(4), 20), np.repeat(np.arange(4), 10)
    >>> H_tr = centres[y_tr] + rng.normal(size=(80, 2))
    >>> H_te = centres[y_te] + rng.normal(size=(40, 2))
    >>> result = cluster_and_probe(H_tr, y_tr // 2, H_te, y_te, y_tr=y_tr, embedding="pca")
    >>> result.accuracy, result.chance        # classes 0-1 and 2-3 merged, then recovered
    (1.0, 0.5)
    >>> result.discovery.cluster_accuracy, result.discovery.nmi_within, result.discovery.ari_within
    (1.0, 1.0, 1.0)
    """
    embedding, kmeans_n_init, perplexity = _settings(embedding, kmeans_n_init, perplexity, defaults)
    labels = _check_inputs(H_tr, coarse_tr, H_te, y_te, y_tr)
    k_of = _clusters_per_superclass(clusters_per_superclass, labels.superclasses, labels.sup_of_class,
                                    np.bincount(labels.sup_codes, minlength=len(labels.superclasses)))
    found = _cluster_superclasses(labels, k_of, embedding=embedding, random_state=random_state,
                                  perplexity=perplexity, kmeans_n_init=kmeans_n_init, n_jobs=n_jobs,
                                  defaults=defaults, tsne_backend_name=tsne_backend_name)
    pred_clusters, train_clusters, backend_used, converged = fit_probe(
        labels.Htr, found.reconstructed, labels.Hte, random_state=random_state, C=probe_C,
        standardize=standardize, backend=probe_backend, defaults=defaults,
    )
    cluster_to_class = _best_mapping(pred_clusters, labels.te_codes, found.sup_of_cluster, labels.sup_of_class,
                                     found.n_clusters)
    probe = ProbeResult(
        accuracy=float(np.mean(cluster_to_class[pred_clusters] == labels.te_codes)),
        train_accuracy=float(np.mean(train_clusters == found.reconstructed)),
        predictions=pred_clusters, classes=np.arange(found.n_clusters), backend=backend_used,
        converged=converged,
    )
    settings = {
        "embedding": embedding,
        "tsne_backend": (tsne_backend_name or tsne_backend()) if embedding == "tsne" else None,
        "perplexity": perplexity,
        "effective_perplexity": found.perplexities,
        "clusters_per_superclass": {labels.superclasses[i].item(): int(k_of[i])
                                    for i in range(len(labels.superclasses))},
        "kmeans_n_init": kmeans_n_init,
        "probe_C": defaults.probe_C if probe_C is None else probe_C,
        "standardize": defaults.standardize if standardize is None else standardize,
        "probe_backend": backend_used,
        "random_state": random_state,
        "defaults": defaults,
    }
    return _result(labels, found, cluster_to_class, probe, settings)


def _settings(embedding: str | None, kmeans_n_init: int | None, perplexity: float | None,
              defaults: CLPDefaults) -> tuple[str, int, float]:
    """The embedding, k-means restarts and perplexity: given, else the defaults; checked."""
    embedding = defaults.embedding if embedding is None else embedding
    if embedding not in METHODS:
        raise ValueError(f"embedding must be one of {METHODS}; got {embedding!r}.")
    kmeans_n_init = defaults.kmeans_n_init if kmeans_n_init is None else int(kmeans_n_init)
    perplexity = defaults.perplexity if perplexity is None else float(perplexity)
    if not perplexity > 0:
        raise ValueError(f"perplexity must be positive; got {perplexity!r}.")
    return embedding, kmeans_n_init, perplexity


@dataclass(frozen=True, eq=False)
class _Labels:
    """The validated inputs as codes: original classes (sorted) and superclasses (sorted), each training
    sample's class and superclass code, each class's superclass code, each test sample's class code."""

    Htr: Any
    Hte: Any
    classes: np.ndarray
    superclasses: np.ndarray
    codes_tr: np.ndarray
    sup_codes: np.ndarray
    sup_of_class: np.ndarray
    te_codes: np.ndarray


def _check_inputs(H_tr: Any, coarse_tr: Any, H_te: Any, y_te: Any, y_tr: Any) -> _Labels:
    Htr, Hte, lcoarse, lte = check_probe_inputs(H_tr, coarse_tr, H_te, y_te,
                                                ("H_tr", "coarse_tr", "H_te", "y_te"))
    ltr = check_labels(y_tr, Htr.shape[0], "y_tr", "H_tr")
    classes = ltr.classes  # original classes, sorted
    codes_tr = as_numpy(ltr.codes)
    sup_codes = as_numpy(lcoarse.codes)
    superclasses = lcoarse.classes
    sup_of_class = superclass_of_subclass(codes_tr, sup_codes, classes, superclasses,
                                           ("y_tr", "coarse_tr"))
    y_te_values = lte.classes[as_numpy(lte.codes)]
    unknown = np.setdiff1d(lte.classes, classes)
    if unknown.size:
        raise ValueError(
            f"y_te has classes {unknown[:10].tolist()} that never occur in y_tr; CLP can only map "
            "clusters to classes seen in training."
        )
    return _Labels(Htr=Htr, Hte=Hte, classes=classes, superclasses=superclasses, codes_tr=codes_tr,
                   sup_codes=sup_codes, sup_of_class=sup_of_class,
                   te_codes=np.searchsorted(classes, y_te_values))


@dataclass(frozen=True, eq=False)
class _Clusters:
    """The clusters of every superclass: each training sample's cluster id (numbered across
    superclasses), each cluster's superclass code, and per superclass the embedding, the purity and
    ARI of its clusters against the original classes, and the perplexity t-SNE used."""

    reconstructed: np.ndarray
    sup_of_cluster: np.ndarray
    embeddings: dict
    purity: dict
    ari: dict
    perplexities: dict

    @property
    def n_clusters(self) -> int:
        return int(self.sup_of_cluster.size)


def _cluster_superclasses(labels: _Labels, k_of: np.ndarray, *, embedding: str, random_state: int,
                          perplexity: float, kmeans_n_init: int, n_jobs: int | None, defaults: CLPDefaults,
                          tsne_backend_name: str | None) -> _Clusters:
    """Embed each superclass's training features and k-means them into its clusters."""
    X_tr = _as_numpy_features(labels.Htr)
    reconstructed = np.empty(labels.Htr.shape[0], dtype=np.int64)
    sup_of_cluster, embeddings, purity, ari, perplexities = [], {}, {}, {}, {}
    offset = 0
    for s_code, s_value in enumerate(labels.superclasses.tolist()):
        rows = np.flatnonzero(labels.sup_codes == s_code)
        seed = _seed(random_state, s_code)
        k = k_of[s_code]
        if embedding == "tsne":
            perplexities[s_value] = effective_perplexity(perplexity, rows.size)
        points = embed(X_tr[rows], embedding, random_state=seed, perplexity=perplexity,
                       n_jobs=n_jobs, defaults=defaults, backend=tsne_backend_name)
        local = _kmeans(points, k, kmeans_n_init, seed)
        reconstructed[rows] = offset + local
        sup_of_cluster += [s_code] * k
        offset += k
        purity[s_value], ari[s_value] = _purity_ari(labels.codes_tr[rows], local)
        if embedding != "none":
            embeddings[s_value] = SuperclassEmbedding(points=points, labels=labels.classes[labels.codes_tr[rows]],
                                                      clusters=local, indices=rows)
    return _Clusters(reconstructed=reconstructed, sup_of_cluster=np.asarray(sup_of_cluster, dtype=np.int64),
                     embeddings=embeddings, purity=purity, ari=ari, perplexities=perplexities)


def _result(labels: _Labels, found: _Clusters, cluster_to_class: np.ndarray, probe: ProbeResult,
            settings: dict) -> CLPResult:
    """The CLPResult: the probe's test predictions mapped to classes, scored, with the clusters."""
    classes, superclasses, sup_of_cluster = labels.classes, labels.superclasses, found.sup_of_cluster
    pred_clusters = probe.predictions
    correct = cluster_to_class[pred_clusters] == labels.te_codes
    coarse_right = sup_of_cluster[pred_clusters] == labels.sup_of_class[labels.te_codes]
    classes_in = np.bincount(labels.sup_of_class, minlength=len(superclasses))
    chance = float(np.mean(coarse_right / classes_in[sup_of_cluster[pred_clusters]]))
    discovery = (discovery_scores(classes[labels.codes_tr], found.reconstructed, superclasses[labels.sup_codes])
                 if np.bincount(labels.sup_of_class).max() > 1 else None)

    def value(code):
        return None if code < 0 else classes[code].item()

    to_values = np.where(cluster_to_class >= 0, classes[np.maximum(cluster_to_class, 0)], -1)
    return CLPResult(
        accuracy=float(np.mean(correct)),
        coarse_accuracy=float(np.mean(coarse_right)),
        chance=chance,
        mapping={j: value(cluster_to_class[j]) for j in range(found.n_clusters)},
        superclass_of_cluster={j: superclasses[sup_of_cluster[j]].item() for j in range(found.n_clusters)},
        purity=found.purity,
        mean_purity=float(np.mean(list(found.purity.values()))),
        ari=found.ari,
        discovery=discovery,
        embeddings=found.embeddings if settings["embedding"] != "none" else None,
        reconstructed_labels=found.reconstructed,
        reconstructed_classes=to_values[found.reconstructed],
        predictions=to_values[pred_clusters],
        probe=probe,
        settings=settings,
    )


def _seed(random_state: int, index: int) -> int:
    """An independent, reproducible seed per superclass."""
    return int(np.random.SeedSequence([int(random_state), int(index)]).generate_state(1)[0])


def _clusters_per_superclass(spec, superclasses, sup_of_class, sizes) -> np.ndarray:
    n_sup = len(superclasses)
    default = np.bincount(sup_of_class, minlength=n_sup)
    if spec is None:
        k = default
    elif isinstance(spec, Mapping):
        missing = [s for s in superclasses.tolist() if s not in spec]
        if missing:
            raise ValueError(
                f"clusters_per_superclass has no entry for superclasses {missing[:10]}; give one "
                "for every value of coarse_tr, or an int for all."
            )
        k = np.array([spec[s] for s in superclasses.tolist()])
    else:
        k = np.full(n_sup, spec)
    try:
        k_int = k.astype(np.int64)
    except (TypeError, ValueError):
        raise ValueError(f"clusters_per_superclass must be integers; got {spec!r}.") from None
    if np.any(k_int != k) or np.any(k_int < 1):
        raise ValueError(f"clusters_per_superclass must be positive integers; got {spec!r}.")
    too_many = np.flatnonzero(k_int > sizes)
    if too_many.size:
        i = too_many[0]
        raise ValueError(
            f"superclass {superclasses[i]!r} has {sizes[i]} training samples, fewer than the "
            f"{k_int[i]} clusters asked for."
        )
    return k_int


def _kmeans(points: np.ndarray, k: int, n_init: int, seed: int) -> np.ndarray:
    if k == 1:
        return np.zeros(points.shape[0], dtype=np.int64)
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
    # One thread: k-means on 2-D points is tiny, and idle OpenMP threads spinning on a busy
    # machine made it ~20x slower.
    with limited_threads(1):
        return km.fit_predict(points).astype(np.int64)


def _purity_ari(true_codes: np.ndarray, clusters: np.ndarray):
    """Purity (share of samples in their cluster's majority class) and adjusted Rand index."""
    from sklearn.metrics import adjusted_rand_score

    _, t = np.unique(true_codes, return_inverse=True)
    table = np.zeros((clusters.max() + 1, t.max() + 1), dtype=np.int64)
    np.add.at(table, (clusters, t), 1)
    purity = float(table.max(axis=1).sum() / clusters.size)
    return purity, float(adjusted_rand_score(true_codes, clusters))


def _best_mapping(pred_clusters, te_codes, sup_of_cluster, sup_of_class, n_clusters):
    """cluster -> original class code, within each superclass, maximising correct test
    predictions (linear_sum_assignment = best permutation); -1 for unmatched clusters."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    for s in np.unique(sup_of_cluster):
        cl = np.flatnonzero(sup_of_cluster == s)
        cls = np.flatnonzero(sup_of_class == s)
        table = np.zeros((cl.size, cls.size), dtype=np.int64)
        in_s = np.isin(pred_clusters, cl) & np.isin(te_codes, cls)
        np.add.at(table, (np.searchsorted(cl, pred_clusters[in_s]),
                          np.searchsorted(cls, te_codes[in_s])), 1)
        rows, cols = linear_sum_assignment(table, maximize=True)
        mapping[cl[rows]] = cls[cols]
    return mapping
