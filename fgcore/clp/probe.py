"""Linear probe: multinomial logistic regression on (standardised) features.

One objective, two solvers behind `linear_probe` / `fit_probe`: scikit-learn's lbfgs on the CPU, and
a full-batch torch L-BFGS for large data on a CUDA GPU (or tensors already there). Both minimise

    sum_i cross_entropy(W h_i + b, y_i) + ||W||^2 / (2 C)        (b not penalised)

on features standardised with the training mean and standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fgcore.machine import single_threaded_blas
from fgcore.metrics.validation import as_numpy, check_features, check_labels, to_tensor

from .defaults import DEFAULTS, CLPDefaults

BACKENDS = ("auto", "sklearn", "torch")


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """Outcome of `linear_probe`.

    Attributes
    ----------
    accuracy : float
        Test accuracy.
    train_accuracy : float
        Accuracy on the probe's own training data.
    predictions : numpy.ndarray of shape (n_test,)
        Predicted label values on the test set.
    classes : numpy.ndarray
        The label values the probe knows.
    backend : str
        "sklearn" or "torch:<device>".
    converged : bool
        Whether the solver met its tolerance.
    """

    accuracy: float
    train_accuracy: float
    predictions: np.ndarray
    classes: np.ndarray
    backend: str
    converged: bool


def check_probe_inputs(H_tr: Any, y_tr: Any, H_te: Any, y_te: Any,
                       names=("H_tr", "y_tr", "H_te", "y_te")):
    """Validate the four probe arrays (features finite and 2-D with equal d, integer labels)."""
    ftr = check_features(H_tr, names[0], keep_tensor=True)
    fte = check_features(H_te, names[2], keep_tensor=True)
    if ftr.shape[1] != fte.shape[1]:
        raise ValueError(
            f"{names[0]} has {ftr.shape[1]} features but {names[2]} has {fte.shape[1]}; they must "
            "come from the same representation."
        )
    ltr = check_labels(y_tr, ftr.shape[0], names[1], names[0])
    lte = check_labels(y_te, fte.shape[0], names[3], names[2])
    return ftr.data, fte.data, ltr, lte


def linear_probe(H_tr: Any, y_tr: Any, H_te: Any, y_te: Any, *, random_state: int = 0,
                 C: float | None = None, standardize: bool | None = None,
                 backend: str = "auto", max_iter: int | None = None,
                 defaults: CLPDefaults = DEFAULTS) -> ProbeResult:
    """LPO of Sec. 4.3: a linear probe trained on (H_tr, y_tr), scored on (H_te, y_te).

    Multinomial logistic regression on standardised features (see the module's docstring for the
    objective).

    Parameters
    ----------
    H_tr, H_te : array-like or torch.Tensor of shape (n, n_features)
        Training and test features (numpy arrays or torch tensors), the same representation.
    y_tr, y_te : array-like of shape (n,)
        Integer labels of any values (two or more classes in training).
    random_state : int, default=0
        Seed of the scikit-learn solver.
    C : float, default=None
        Inverse L2 strength (scikit-learn's convention); None: ``defaults.probe_C`` (1.0).
    standardize : bool, default=None
        Standardise with the training mean and std; None: ``defaults.standardize`` (True).
    backend : {"auto", "sklearn", "torch"}, default="auto"
        "auto": torch L-BFGS on CUDA for tensors on a CUDA device, or for data of at least
        ``defaults.torch_probe_min_elements`` values when a GPU is available; else scikit-learn.
    max_iter : int, default=None
        L-BFGS iteration cap; None: ``defaults.probe_max_iter`` (1000).
    defaults : CLPDefaults, default=DEFAULTS
        Every setting the paper leaves open (fgcore.clp.CLPDefaults).

    Returns
    -------
    ProbeResult
        ``.accuracy`` on the test set, ``.train_accuracy``, ``.predictions`` (label values).

    Raises
    ------
    ValueError
        On malformed features or labels, feature dimensions that differ, one training class, a
        non-positive ``C`` or an unknown ``backend``.

    Examples
    --------
    >>> import numpy as np
    >>> from fgcore.clp import linear_probe
    >>> rng = np.random.default_rng(0)
    >>> y_tr, y_te = np.repeat([3, 8], 30), np.repeat([3, 8], 10)
    >>> H_tr = rng.normal(size=(60, 5)) + 4 * (y_tr == 8)[:, None]
    >>> H_te = rng.normal(size=(20, 5)) + 4 * (y_te == 8)[:, None]
    >>> result = linear_probe(H_tr, y_tr, H_te, y_te)
    >>> result.accuracy, result.classes, result.backend
    (1.0, array([3, 8]), 'sklearn')
    """
    Htr, Hte, ltr, lte = check_probe_inputs(H_tr, y_tr, H_te, y_te)
    require_two_classes(ltr.classes, "y_tr")
    pred, train_pred, backend_used, converged = fit_probe(
        Htr, as_numpy(ltr.codes), Hte, random_state=random_state, C=C, standardize=standardize,
        backend=backend, max_iter=max_iter, defaults=defaults,
    )
    pred_values = ltr.classes[pred]
    y_te_values = lte.classes[as_numpy(lte.codes)]
    y_tr_values = ltr.classes[as_numpy(ltr.codes)]
    return ProbeResult(
        accuracy=float(np.mean(pred_values == y_te_values)),
        train_accuracy=float(np.mean(ltr.classes[train_pred] == y_tr_values)),
        predictions=pred_values, classes=ltr.classes, backend=backend_used, converged=converged,
    )


def require_two_classes(classes: np.ndarray, name: str) -> None:
    if len(classes) < 2:
        raise ValueError(f"{name} has one class only ({classes.tolist()}); a probe needs two.")


def choose_backend(Htr, Hte, backend: str, defaults: CLPDefaults) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"probe backend must be one of {BACKENDS}; got {backend!r}.")
    if backend != "auto":
        return backend
    on_cuda = any(isinstance(h, torch.Tensor) and h.device.type == "cuda" for h in (Htr, Hte))
    large = Htr.shape[0] * Htr.shape[1] >= defaults.torch_probe_min_elements
    return "torch" if on_cuda or (large and torch.cuda.is_available()) else "sklearn"


def fit_probe(Htr, codes_tr: np.ndarray, Hte, *, random_state: int = 0, C: float | None = None,
              standardize: bool | None = None, backend: str = "auto",
              max_iter: int | None = None, defaults: CLPDefaults = DEFAULTS):
    """Train on (Htr, codes 0..K-1), predict Hte. Returns (test codes, train codes, backend,
    converged). Inputs already validated."""
    C = defaults.probe_C if C is None else float(C)
    if not C > 0:
        raise ValueError(f"C must be a positive number (inverse regularisation); got {C!r}.")
    standardize = defaults.standardize if standardize is None else bool(standardize)
    max_iter = defaults.probe_max_iter if max_iter is None else int(max_iter)
    backend = choose_backend(Htr, Hte, backend, defaults)
    if backend == "sklearn":
        return _sklearn_probe(_as_numpy_features(Htr), codes_tr, _as_numpy_features(Hte), C,
                              standardize, max_iter, random_state, defaults)
    return _torch_probe(Htr, codes_tr, Hte, C, standardize, max_iter, defaults)


def _as_numpy_features(H) -> np.ndarray:
    if isinstance(H, torch.Tensor):
        H = H.detach().cpu()
        return (H.float() if H.dtype == torch.bfloat16 else H).numpy()
    return np.asarray(H)


def _standardiser(Htr: np.ndarray):
    mean = Htr.mean(axis=0, dtype=np.float64)
    std = Htr.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0  # constant features carry no information; leave them centred at 0
    return mean, std


def _sklearn_probe(Htr, codes_tr, Hte, C, standardize, max_iter, random_state, defaults):
    import warnings
    from contextlib import nullcontext

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    Xtr, Xte = Htr.astype(np.float64), Hte.astype(np.float64)
    if standardize:
        mean, std = _standardiser(Xtr)
        Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    clf = LogisticRegression(C=C, max_iter=max_iter, tol=defaults.probe_tol,
                             random_state=random_state)
    # Small problems on one BLAS thread (thread start-up and spinning cost more than they save).
    small = Xtr.size < 1_000_000
    with warnings.catch_warnings(record=True) as caught, \
            (single_threaded_blas() if small else nullcontext()):
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(Xtr, codes_tr)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return (clf.predict(Xte).astype(np.int64), clf.predict(Xtr).astype(np.int64), "sklearn",
            converged)


def _torch_probe(Htr, codes_tr, Hte, C, standardize, max_iter, defaults):
    device = next((h.device for h in (Htr, Hte)
                   if isinstance(h, torch.Tensor) and h.device.type != "cpu"), None)
    if device is None:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    Xtr = to_tensor(Htr).to(device=device, dtype=torch.float32)
    Xte = to_tensor(Hte).to(device=device, dtype=torch.float32)
    if standardize:
        mean = Xtr.mean(0, dtype=torch.float64)
        std = Xtr.to(torch.float64).std(0, unbiased=False)
        std[std == 0] = 1.0
        Xtr = ((Xtr - mean) / std).float()
        Xte = ((Xte - mean) / std).float()
    y = torch.as_tensor(codes_tr, device=device, dtype=torch.long)
    n, d = Xtr.shape
    K = int(codes_tr.max()) + 1
    # Zero start: the problem is strictly convex, so no random initialisation is needed.
    W = torch.zeros(d, K, device=device, requires_grad=True)
    b = torch.zeros(K, device=device, requires_grad=True)
    # scikit-learn's lbfgs minimises this same mean-normalised objective with gtol = tol.
    penalty = 1.0 / (2.0 * C * n)
    opt = torch.optim.LBFGS([W, b], lr=1.0, max_iter=max_iter, history_size=20,
                            tolerance_grad=defaults.probe_tol, tolerance_change=1e-12,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(Xtr @ W + b, y) + penalty * (W * W).sum()
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[opt._params[0]]
    converged = int(state.get("n_iter", 0)) < max_iter
    with torch.no_grad():
        pred_te = torch.argmax(Xte @ W + b, 1).cpu().numpy()
        pred_tr = torch.argmax(Xtr @ W + b, 1).cpu().numpy()
    return pred_te, pred_tr, f"torch:{device}", converged
