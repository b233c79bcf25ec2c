"""Numerics shared by the array metrics and the streaming accumulator.

Two kinds of helpers live here:

* passes over features (numpy on the CPU, torch on an accelerator; float64 arithmetic in row chunks
  so that a 50k x 512 float32 matrix never needs a full float64 copy): class means, then centred
  (two-pass) traces and projections;
* formulas on the small per-class statistics (numpy float64): NC1 from the spectrum of the centred
  class means, NC2 and the class distance matrix D.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .validation import EPS64

from ..machine import single_threaded_blas

F64 = torch.float64

def passes(X, labels):
    """Two-pass per-class statistics of X (n, d) under ``labels`` (a validated `Labels`).

    numpy X: rows are grouped by class once (a stable sort, skipped when already grouped), then
    every class is a contiguous block, summed in float64 without a float64 copy of X.
    torch X (any device): chunked float64 conversion, class sums as one-hot matrix products, no
    sort."""
    if isinstance(X, torch.Tensor):
        return _TorchPasses(X, labels)
    return _NumpyPasses(X, labels)


class _NumpyPasses:
    def __init__(self, X: np.ndarray, labels):
        codes = labels.codes
        if codes.shape[0] > 1 and np.any(codes[1:] < codes[:-1]):
            X = np.take(X, np.argsort(codes, kind="stable"), axis=0)
        self.X = X
        self.counts = labels.counts
        self.offsets = np.concatenate([[0], np.cumsum(labels.counts)])
        self.step = max(1, (1 << 17) // X.shape[1])  # ~1 MB of float64 per chunk

    def _blocks(self, c):
        a, b = self.offsets[c], self.offsets[c + 1]
        for s in range(a, b, self.step):
            yield self.X[s:min(s + self.step, b)]

    def means(self) -> np.ndarray:
        C, d = len(self.counts), self.X.shape[1]
        sums = np.zeros((C, d))
        for c in range(C):
            for block in self._blocks(c):
                sums[c] += block.sum(axis=0, dtype=np.float64)
        return sums / self.counts[:, None]

    def centred(self, means: np.ndarray, V: np.ndarray | None = None):
        """Per class: sum of squared distances to the class mean (C,); with V (d, r) also the
        sums of squared projections of the centred rows on V's columns (C, r)."""
        C = len(self.counts)
        sq = np.zeros(C)
        proj = None if V is None else np.zeros((C, V.shape[1]))
        with single_threaded_blas():
            for c in range(C):
                for block in self._blocks(c):
                    Xc = block - means[c]  # float64, a new array: the caller's X is untouched
                    flat = Xc.reshape(-1)
                    sq[c] += flat @ flat
                    if V is not None:
                        Z = Xc @ V
                        proj[c] += np.einsum("ij,ij->j", Z, Z)
        return sq, proj


class _TorchPasses:
    """Per-class sums as one-hot matrix products (C x chunk @ chunk x d) rather than index_add_:
    deterministic on CUDA (atomic adds are not) and free of contention on C hot rows."""

    def __init__(self, X: torch.Tensor, labels):
        self.X = X
        self.codes = labels.codes
        self.counts = labels.counts
        budget = 1 << 21 if X.device.type == "cpu" else 1 << 25
        self.step = max(1, budget // X.shape[1])

    def _chunks(self):
        n, C = self.X.shape[0], len(self.counts)
        for a in range(0, n, self.step):
            codes = self.codes[a:a + self.step]
            onehot = torch.zeros(C, codes.shape[0], dtype=F64, device=self.X.device)
            onehot.scatter_(0, codes[None, :], 1.0)
            yield codes, onehot, self.X[a:a + self.step].to(F64)

    def means(self) -> np.ndarray:
        C, d = len(self.counts), self.X.shape[1]
        sums = torch.zeros(C, d, dtype=F64, device=self.X.device)
        for _, onehot, X in self._chunks():
            sums.addmm_(onehot, X)
        return sums.cpu().numpy() / self.counts[:, None]

    def centred(self, means: np.ndarray, V: np.ndarray | None = None):
        dev = self.X.device
        C = len(self.counts)
        mu = torch.as_tensor(means, dtype=F64, device=dev)
        Vt = None if V is None else torch.as_tensor(V, dtype=F64, device=dev)
        sq = torch.zeros(C, dtype=F64, device=dev)
        proj = None if V is None else torch.zeros(C, V.shape[1], dtype=F64, device=dev)
        for codes, onehot, X in self._chunks():
            X = X - mu.index_select(0, codes)  # new tensor: never modify the caller's features
            sq.addmv_(onehot, torch.einsum("ij,ij->i", X, X))
            if Vt is not None:
                proj.addmm_(onehot, (X @ Vt).square_())
        return sq.cpu().numpy(), None if proj is None else proj.cpu().numpy()


# ---------------------------------------------------------------- formulas on class statistics


def global_mean(means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """mu_G of eq. (2): the mean over all samples (count-weighted mean of the class means)."""
    w = counts.astype(np.float64) / counts.sum()
    return w @ means


def centre(means: np.ndarray, counts: np.ndarray, center: str) -> np.ndarray:
    """The point the class means are centred at: "class_means" = their unweighted mean (the
    centre of a simplex ETF), "global_mean" = mu_G of eq. (2)."""
    if center == "class_means":
        return means.mean(axis=0)
    return global_mean(means, counts)


def centred_means(means: np.ndarray, counts: np.ndarray, center: str) -> np.ndarray:
    """M, the (C, d) class means minus `centre`."""
    return means - centre(means, counts, center)


def mean_spectrum(means: np.ndarray, counts: np.ndarray, center: str = "global_mean"):
    """SVD of M (rows mu_c - centre). Returns (s, V) limited to min(C - 1, d) directions.

    With either centre a weighted sum of the rows of M is zero (weights n_c, or all 1), so
    rank(M) <= C - 1 in exact arithmetic: the C-th singular value is rounding noise by
    construction and is never kept."""
    C, d = means.shape
    M = centred_means(means, counts, center)
    with single_threaded_blas():  # a small SVD; threads only add overhead (seconds when busy)
        _, s, Vt = np.linalg.svd(M, full_matrices=False)
    k = min(C - 1, d)
    return s[:k], Vt[:k].T.copy()


def rank_tolerance(s: np.ndarray, feature_scale: float, eps_in: float, n_classes: int, d: int,
                   n_samples: int) -> float:
    """Singular values of M at or below this are treated as zero (see nc1's docstring)."""
    s1 = float(s[0]) if s.size else 0.0
    rounding = math.sqrt(n_classes) * feature_scale * (eps_in + math.sqrt(n_samples) * EPS64)
    svd = max(n_classes, d) * EPS64 * s1
    return max(rounding, svd)


def feature_scale(means: np.ndarray, traces: np.ndarray) -> float:
    """Largest per-class root-mean-square feature norm, sqrt(||mu_c||^2 + tr S_c)."""
    return float(np.sqrt(np.max(np.einsum("cd,cd->c", means, means) + traces)))


def nc1_from_parts(s: np.ndarray, within: np.ndarray, tol: float):
    """NC1 = (1/C) Tr(Sigma_W Sigma_B^+) = sum_k v_k' Sigma_W v_k / s_k^2 over kept directions.

    With M = U S V' the centred class means, Sigma_B = V S^2 V' / C, so Sigma_B^+ = C V S^-2 V' on
    the range of Sigma_B and the 1/C of eq. (1) cancels the C. ``within[k]`` = v_k' Sigma_W v_k."""
    keep = s > tol
    rank = int(keep.sum())
    if rank == 0:
        raise ValueError(
            "the class means coincide (Sigma_B is zero within rounding), so NC1 = Tr(Sigma_W "
            "Sigma_B^+)/C is undefined; check that the features depend on the labels."
        )
    w = np.clip(within[keep], 0.0, None)
    return float(np.sum(w / s[keep] ** 2)), rank


def require_spread(gram_norm: float, means: np.ndarray, what: str) -> None:
    """ValueError when the centred class means are zero within float64 rounding: ``gram_norm``
    is ||M M'||_F (or ||M||_F^2), compared with C * eps64 * max_c ||mu_c||^2."""
    C = means.shape[0]
    if not np.isfinite(gram_norm) or gram_norm <= 0.0 or gram_norm <= (C * EPS64) * np.max(
            np.einsum("cd,cd->c", means, means)):
        raise ValueError(
            f"the class means coincide, so {what} is undefined; check that the features depend "
            "on the labels."
        )


def nc2_from_means(means: np.ndarray, counts: np.ndarray, center: str = "class_means") -> float:
    """Eq. (3): || M M'/||M M'||_F - (I - 11'/C)/sqrt(C-1) ||_F on the centred class means."""
    C = means.shape[0]
    M = centred_means(means, counts, center)
    with single_threaded_blas():
        G = M @ M.T
    norm = np.linalg.norm(G)
    require_spread(norm, means, "M M' is zero and NC2 (eq. 3)")
    etf = (np.eye(C) - np.full((C, C), 1.0 / C)) / math.sqrt(C - 1)
    return float(np.linalg.norm(G / norm - etf))


def mean_distances(means: np.ndarray) -> np.ndarray:
    """(C, C) squared distances ||mu_i - mu_j||^2, from the differences themselves (not through a
    Gram matrix) so that nearby, large means keep their relative precision; in row blocks to
    bound memory at large C."""
    C, d = means.shape
    D = np.empty((C, C), dtype=np.float64)
    block = max(1, (1 << 22) // max(C * d, 1))
    for a in range(0, C, block):
        diff = means[a:a + block, None, :] - means[None, :, :]
        D[a:a + block] = np.einsum("ijk,ijk->ij", diff, diff)
    return D


def distance_from_parts(means: np.ndarray, traces: np.ndarray) -> np.ndarray:
    """Eq. (6) in closed form: D_ij = ||mu_i - mu_j||^2 + tr S_i + tr S_j (S biased covariance)."""
    D = mean_distances(means)
    D += np.add.outer(traces, traces)  # t_i + t_j == t_j + t_i exactly: D stays symmetric
    np.fill_diagonal(D, 2.0 * traces)
    return D
