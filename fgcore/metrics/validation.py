"""Input validation shared by fgcore.metrics and fgcore.clp.

Every public function validates up front and raises ``ValueError`` with a sentence that says which
argument was wrong, what was wrong and what to do.

Features stay where they are: numpy arrays and CPU tensors come back as numpy arrays (a CPU tensor
is viewed, not copied; bf16, which numpy lacks, is widened to float32 exactly), tensors on an
accelerator come back as tensors on that device, so the passes over the data run where it lives.
Labels come back as dense codes 0..C-1 (same kind of array, same device) plus the sorted label
values and the class sizes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

CENTERS = ("class_means", "global_mean")
INTEGER_TORCH_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
EPS64 = float(np.finfo(np.float64).eps)


def to_tensor(x: Any) -> torch.Tensor:
    """Wrap numpy data as a torch tensor without copying; leave torch tensors as they are."""
    if isinstance(x, torch.Tensor):
        return x.detach()
    arr = _as_numeric_numpy(x)
    if arr.dtype.byteorder == ">":  # torch reads native byte order only
        arr = arr.astype(arr.dtype.newbyteorder("="))
    with warnings.catch_warnings():
        # Read-only arrays (memory maps, cached features) are never written to here.
        warnings.simplefilter("ignore", UserWarning)
        return torch.as_tensor(arr)


def _as_numeric_numpy(x: Any) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind in "USVMm":
        raise TypeError(f"dtype {arr.dtype}")
    return arr


def _eps_of(dtype) -> float:
    """Machine epsilon of the precision the features are stored in (1 ulp at 1.0); integer
    features are exact, so their rounding is that of the float64 arithmetic."""
    if isinstance(dtype, torch.dtype):
        return float(torch.finfo(dtype).eps) if dtype.is_floating_point else EPS64
    return float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else EPS64


@dataclass(frozen=True)
class Features:
    """Validated (n, d) features: ``data`` is a numpy array (CPU) or a tensor (accelerator)."""

    data: Any
    eps: float

    @property
    def is_tensor(self) -> bool:
        return isinstance(self.data, torch.Tensor)

    @property
    def shape(self):
        return tuple(self.data.shape)


def check_features(H: Any, name: str = "H", keep_tensor: bool = False) -> Features:
    """Validate ``H`` as 2-D, real, non-empty and finite.

    keep_tensor: return a torch tensor even on the CPU (the streaming accumulator works in torch)."""
    if isinstance(H, torch.Tensor):
        F = H.detach()
        if F.is_complex() or F.dtype == torch.bool:
            raise ValueError(f"{name} must be real-valued numeric features; got dtype {F.dtype}.")
        eps = _eps_of(F.dtype)
        if F.device.type == "cpu" and not keep_tensor:
            F = (F.float() if F.dtype in (torch.bfloat16,) else F).numpy()
    else:
        try:
            F = _as_numeric_numpy(H)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must be a numeric (n, d) array or torch tensor; could not read it as "
                f"numbers ({exc})."
            ) from None
        if F.dtype.kind == "c" or F.dtype == bool:
            raise ValueError(f"{name} must be real-valued numeric features; got dtype {F.dtype}.")
        eps = _eps_of(F.dtype)
        if keep_tensor:
            F = to_tensor(F)
    if F.ndim != 2:
        hint = " Reshape it to (n, 1) for one-dimensional features." if F.ndim == 1 else ""
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got {F.ndim} "
            f"dimension(s) with shape {tuple(F.shape)}.{hint}"
        )
    if F.shape[0] == 0 or F.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(F.shape)}); it needs samples and features.")
    _check_finite(F, name)
    return Features(F, eps)


def _check_finite(F: Any, name: str) -> None:
    if isinstance(F, torch.Tensor) and F.device.type == "cpu" and F.dtype != torch.bfloat16:
        F = F.numpy()  # numpy's isfinite is ~10x faster than torch's on the CPU
    if isinstance(F, torch.Tensor):
        if not F.dtype.is_floating_point or bool(torch.isfinite(F).all()):
            return
        bad = ~torch.isfinite(F)
    else:
        if not np.issubdtype(F.dtype, np.floating) or np.isfinite(F).all():
            return
        bad = ~np.isfinite(F)
    n_bad = int(bad.sum())
    row = int(bad.any(1).nonzero()[0][0])
    raise ValueError(
        f"{name} contains {n_bad} NaN or infinite value(s) (first in row {row}); remove or fix "
        "those samples before computing metrics."
    )


@dataclass(frozen=True)
class Labels:
    """Validated labels: codes[i] = position of y[i] in ``classes`` (sorted unique values)."""

    codes: Any  # numpy int64 (CPU) or torch long (on the features' device)
    classes: np.ndarray
    counts: np.ndarray  # int64, samples per class

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def check_labels(y: Any, feats: Features | int, name: str = "y",
                 features: str = "H") -> Labels:
    """Validate integer labels of any values for the rows of ``feats`` (or for ``n`` rows)."""
    n = feats if isinstance(feats, int) else feats.shape[0]
    device = feats.data.device if isinstance(feats, Features) and feats.is_tensor else None
    if isinstance(y, torch.Tensor):
        dtype_ok = y.dtype in INTEGER_TORCH_DTYPES
        dtype = y.dtype
    else:
        try:
            y = _as_numeric_numpy(y)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must hold integer class labels; got non-numeric values "
                f"(dtype {np.asarray(y).dtype})."
            ) from None
        dtype_ok = np.issubdtype(y.dtype, np.integer)
        dtype = y.dtype
    if not dtype_ok:
        raise ValueError(
            f"{name} must hold integer class labels; got dtype {dtype}. If the values are whole "
            "numbers stored as floats or booleans, convert them with .astype(int) / .long()."
        )
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of labels; got shape {tuple(y.shape)}. Flatten it first."
        )
    if y.shape[0] != n:
        raise ValueError(
            f"{name} has {y.shape[0]} labels but {features} has {n} rows; they must describe the "
            "same samples in the same order."
        )
    if n == 0:
        raise ValueError(f"{name} is empty; it needs at least one label per class.")
    if device is not None:
        yt = (y if isinstance(y, torch.Tensor) else to_tensor(y)).to(device)
        classes, codes, counts = torch.unique(yt, sorted=True, return_inverse=True,
                                              return_counts=True)
        return Labels(codes, classes.cpu().numpy(), counts.cpu().numpy().astype(np.int64))
    yn = y.cpu().numpy() if isinstance(y, torch.Tensor) else y
    classes, codes, counts = np.unique(yn, return_inverse=True, return_counts=True)
    return Labels(codes.reshape(-1).astype(np.int64, copy=False), classes,
                  counts.astype(np.int64))


def require_classes(classes: np.ndarray, name: str = "y", minimum: int = 2) -> None:
    if len(classes) < minimum:
        raise ValueError(
            f"{name} has {len(classes)} distinct class(es) ({classes.tolist()}); this metric needs "
            f"at least {minimum}."
        )


def require_samples(counts: np.ndarray, classes: np.ndarray, minimum: int, why: str,
                    name: str = "y") -> None:
    small = np.flatnonzero(counts < minimum)
    if small.size:
        listed = ", ".join(f"{classes[i].item()!r} ({counts[i]})" for i in small[:10])
        more = "" if small.size <= 10 else f" and {small.size - 10} more"
        raise ValueError(
            f"{name}: every class needs at least {minimum} sample(s) because {why}; these classes "
            f"have fewer: {listed}{more}."
        )


def check_center(center: Any, name: str = "center") -> str:
    """One of the two points the class means can be centred at (see fgcore.metrics.nc2)."""
    if center not in CENTERS:
        raise ValueError(
            f"{name} must be 'class_means' (the mean of the class means, the centre of a simplex "
            f"ETF) or 'global_mean' (the mean of all samples, mu_G of eq. 2); got {center!r}."
        )
    return center


def check_choice(value: Any, name: str, choices: dict) -> Any:
    """``value`` must be one of ``choices`` (a mapping value -> what it means)."""
    try:
        known = value in choices and not isinstance(value, bool)
    except TypeError:  # unhashable: a list, an array
        known = False
    if known:
        return value
    listed = "; ".join(f"{k!r}: {v}" for k, v in choices.items())
    raise ValueError(f"{name} must be one of {listed}; got {value!r}.")


def check_ddof(ddof: Any) -> int:
    """Delta degrees of freedom of a variance: 0 (biased, divide by n) or 1 (unbiased, n - 1)."""
    return check_choice(ddof, "ddof", {0: "biased variance (divide by n)",
                                       1: "unbiased variance (divide by n - 1)"})


def to_float64_numpy(a: Any) -> np.ndarray:
    """A float64 numpy copy of a small validated array (a classifier's weights, say); tensors on
    any device and in any float dtype, bf16 included."""
    if isinstance(a, torch.Tensor):
        return a.detach().to(torch.float64).cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def check_weights(W: Any, n_features: int, name: str = "W") -> Features:
    """A classifier's (n_outputs, n_features) weight matrix, as torch.nn.Linear stores it."""
    w = check_features(W, name)
    if w.shape[1] != n_features:
        hint = (" It looks transposed: pass W.T." if w.shape[0] == n_features else "")
        raise ValueError(
            f"{name} has {w.shape[1]} columns but H has {n_features} features; {name} must be "
            f"the (n_classes, n_features) weight of the last linear layer (torch.nn.Linear's "
            f".weight).{hint}"
        )
    return w


def output_codes(classes: Any, n_outputs: int, labels: Labels, outputs: str) -> np.ndarray:
    """Class code (position in ``labels.classes``) scored by each of a classifier's ``n_outputs``
    outputs, -1 for an output whose class does not occur in the labels.

    classes: the label value of each output (rows of W, columns of the logits), or None for "the
    sorted unique label values, one output each"."""
    if classes is None:
        if n_outputs != labels.n_classes:
            raise ValueError(
                f"{outputs} has {n_outputs} entries but y has {labels.n_classes} classes; pass "
                f"classes= (the label value each of the {n_outputs} entries scores) when they "
                "are not the sorted label values of y, one each."
            )
        return np.arange(n_outputs, dtype=np.int64)
    values = check_integer_vector(classes, "classes", n_outputs, outputs)
    if np.unique(values).size != values.size:
        raise ValueError(f"classes holds the same label value twice ({values.tolist()[:20]}).")
    missing = np.setdiff1d(labels.classes, values)
    if missing.size:
        raise ValueError(
            f"y has classes {missing[:10].tolist()} that no entry of {outputs} scores (classes "
            f"= {values.tolist()[:20]}); the classifier could never choose them."
        )
    pos = np.searchsorted(labels.classes, values)
    pos = np.minimum(pos, labels.n_classes - 1)
    return np.where(labels.classes[pos] == values, pos, -1).astype(np.int64)


def as_numpy(a: Any) -> np.ndarray:
    """A numpy view of codes or features (torch tensors are moved to the CPU first)."""
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def superclass_of_subclass(fine_codes, coarse_codes, fine_classes, coarse_classes,
                           names=("fine", "coarse")) -> np.ndarray:
    """Coarse code of each fine code (numpy codes); ValueError when a subclass spans several
    superclasses."""
    Cf = len(fine_classes)
    first = np.full(Cf, -1, dtype=np.int64)
    first[fine_codes[::-1]] = coarse_codes[::-1]  # any representative coarse code per subclass
    clash = np.flatnonzero(first[fine_codes] != coarse_codes)
    if clash.size:
        i = clash[0]
        raise ValueError(
            f"{names[0]} must be nested in {names[1]}: class {fine_classes[fine_codes[i]].item()!r} "
            f"of {names[0]} occurs with {names[1]} values "
            f"{coarse_classes[first[fine_codes[i]]].item()!r} and "
            f"{coarse_classes[coarse_codes[i]].item()!r}. Are they swapped?"
        )
    return first


def check_integer_vector(v: Any, name: str, length: int | None = None,
                         length_of: str = "") -> np.ndarray:
    """A 1-D numpy int64 vector (for example a class -> superclass map)."""
    try:
        arr = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else _as_numeric_numpy(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-D array of integers.") from None
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must hold integers; got dtype {arr.dtype}. Convert whole numbers with "
            ".astype(int)."
        )
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {tuple(arr.shape)}.")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} has length {arr.shape[0]} but {length_of} needs {length}.")
    return arr.astype(np.int64)
