"""Formulas of the rest of the Neural-Collapse family on class statistics (numpy float64), shared
by the array functions and their ``*_from_stats`` forms: NC3, CDNV, equinorm, equiangularity, and
the nearest-class-centre rule of NC4 (numpy or torch, on the features' device)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..machine import single_threaded_blas
from . import _core
from .validation import EPS64

REFERENCES = {"etf": "mean |cos + 1/(C-1)| over class pairs (Papyan et al. Fig. 4)",
              "mean": "standard deviation of the cosines over class pairs (Fig. 3)"}
AVERAGES = {"samples": "share of all samples (Papyan et al.)",
            "classes": "mean over classes of each class's share"}


def mean_rounding(means: np.ndarray, eps_in: float, n_samples: int) -> float:
    """How far rounding can move one class mean: the features' rounding (eps_in relative to the
    largest class-mean norm) plus the float64 sums over n samples. A centred class mean shorter
    than twice this has no reliable direction."""
    scale = float(np.sqrt(np.max(np.einsum("cd,cd->c", means, means))))
    return scale * (eps_in + math.sqrt(n_samples) * EPS64)


def centred_norms(means, counts, center, eps_in, n_samples, classes, what):
    """(M, ||M_c||) for the centred class means; ValueError naming the classes whose centred mean
    is zero within rounding (their direction, hence any cosine with them, is undefined)."""
    M = _core.centred_means(means, counts, center)
    norms = np.sqrt(np.einsum("cd,cd->c", M, M))
    tol = 2.0 * mean_rounding(means, eps_in, n_samples)
    small = np.flatnonzero(norms <= tol)
    if small.size:
        listed = [classes[i].item() for i in small[:10]]
        raise ValueError(
            f"the mean of class(es) {listed} coincides with the centre of the class means "
            f"({center}) within rounding, so {what} is undefined for it; check that the features "
            "depend on the labels."
        )
    return M, norms


def equinorm(means, counts, center, ddof, eps_in, n_samples, classes) -> float:
    """Std_c ||M_c|| / Avg_c ||M_c|| (Papyan et al. 2020, Fig. 2)."""
    C = means.shape[0]
    if ddof >= C:
        raise ValueError(f"ddof={ddof} needs more than {ddof} classes; y has {C}.")
    M = _core.centred_means(means, counts, center)
    norms = np.sqrt(np.einsum("cd,cd->c", M, M))
    _core.require_spread(float(norms @ norms), means, "the norm of the centred class means")
    return float(np.std(norms, ddof=ddof) / np.mean(norms))


def cosines(M: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """(C, C) cosines between the rows of M (of norms ``norms``)."""
    U = M / norms[:, None]
    with single_threaded_blas():
        G = U @ U.T
    return np.clip(G, -1.0, 1.0)


def equiangularity(means, counts, center, reference, eps_in, n_samples, classes) -> float:
    """reference "etf": Avg_{c != c'} |cos(M_c, M_c') + 1/(C - 1)| (Papyan et al. 2020, Fig. 4);
    "mean": Std_{c != c'} cos(M_c, M_c') (Fig. 3)."""
    C = means.shape[0]
    M, norms = centred_norms(means, counts, center, eps_in, n_samples, classes,
                             "the cosine between centred class means")
    off = ~np.eye(C, dtype=bool)
    cos = cosines(M, norms)[off]
    if reference == "etf":
        return float(np.mean(np.abs(cos + 1.0 / (C - 1))))
    return float(np.std(cos))


def cdnv(means, traces, counts, ddof, eps_in, n_samples, classes) -> float:
    """Mean over class pairs i < j of (Var_i + Var_j) / (2 ||mu_i - mu_j||^2) (Galanti et al.)."""
    C = means.shape[0]
    n = counts.astype(np.float64)
    var = traces * n / (n - ddof)
    dist = _core.mean_distances(means)
    i, j = np.triu_indices(C, k=1)
    tol = 2.0 * _core.feature_scale(means, traces) * (eps_in + math.sqrt(n_samples) * EPS64)
    close = np.flatnonzero(dist[i, j] <= tol * tol)
    if close.size:
        a, b = i[close[0]], j[close[0]]
        raise ValueError(
            f"the means of classes {classes[a].item()!r} and {classes[b].item()!r} coincide within "
            "rounding, so their class-distance normalised variance (a variance over their squared "
            "distance) is undefined; check that the features depend on the labels."
        )
    return float(np.mean((var[i] + var[j]) / (2.0 * dist[i, j])))


def nc3(W: np.ndarray, means, counts, center, squared: bool) -> float:
    """|| W / ||W||_F - M / ||M||_F ||_F (Papyan et al. 2020, NC3), rows of W in class order."""
    M = _core.centred_means(means, counts, center)
    m_norm = float(np.sqrt(np.einsum("cd,cd->", M, M)))
    _core.require_spread(m_norm * m_norm, means, "the normalised centred class means of NC3 are")
    w_norm = float(np.sqrt(np.einsum("cd,cd->", W, W)))
    if not w_norm > 0.0:
        raise ValueError("W is zero, so its normalised rows (NC3) are undefined.")
    diff = W / w_norm - M / m_norm
    dist2 = float(np.einsum("cd,cd->", diff, diff))
    return dist2 if squared else math.sqrt(dist2)


class NearestCentre:
    """Nearest-class-centre decisions argmin_c ||h - mu_c||, as argmax_c of
    (h - r).(mu_c - r) - ||mu_c - r||^2 / 2 with r the mean of the class means: the same order,
    but every product is at the scale of the spread of the means rather than of their distance
    from the origin, so features far from the origin keep their precision. float64, on the
    features' device."""

    def __init__(self, means: np.ndarray):
        self.ref = means.mean(axis=0)
        self.M = means - self.ref
        self.half_sq = 0.5 * np.einsum("cd,cd->c", self.M, self.M)
        self._torch = {}

    def __call__(self, X, overwrite: bool = False):
        """Class codes (0..C-1) of the rows of X (numpy or torch; any float dtype).

        overwrite: X is a float64 scratch copy that may be shifted in place (saves a copy)."""
        if isinstance(X, torch.Tensor):
            ref, M, half = self._on(X.device)
            X = X.to(torch.float64)
            X = X.sub_(ref) if overwrite else X - ref
            return torch.argmax(torch.addmm(-half, X, M.T), dim=1)
        X = np.asarray(X, dtype=np.float64)
        if overwrite:
            X -= self.ref
        else:
            X = X - self.ref
        with single_threaded_blas():  # small products: threads cost more than they save
            scores = X @ self.M.T
        scores -= self.half_sq
        return np.argmax(scores, axis=1)

    def _on(self, device):
        if device not in self._torch:
            self._torch[device] = tuple(torch.as_tensor(a, dtype=torch.float64, device=device)
                                        for a in (self.ref, self.M, self.half_sq))
        return self._torch[device]
