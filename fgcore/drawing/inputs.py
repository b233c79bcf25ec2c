"""Reading a figure's data: every figure function validates its `data` dict with these, so malformed data
is a ValueError that names the missing or malformed field (the page then shows the data as a table and
says why), and formats its numbers with `fmt`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def need(data: dict, key: str, kind: str) -> Any:
    """data[key]; a ValueError naming the figure `kind`, the key and the keys present where it is absent."""
    if not isinstance(data, dict):
        raise ValueError(f"{kind}: figure data must be a JSON object, got {type(data).__name__}")
    if data.get(key) is None:
        raise ValueError(f"{kind}: figure data has no {key!r} (keys present: {', '.join(map(str, data)) or 'none'})")
    return data[key]


def floats(values: Any, what: str) -> np.ndarray:
    """Numbers as float64; JSON strings "nan"/"inf" (how records store non-finite values) and None -> nan."""
    try:
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a list of numbers ({exc})") from None


def matrix(values: Any, what: str) -> np.ndarray:
    """A list of equal-length lists of numbers as a float64 matrix (None -> nan)."""
    try:
        rows = [[math.nan if v is None else float(v) for v in row] for row in values]
        M = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a list of equal-length lists of numbers ({exc})") from None
    if M.ndim != 2:
        raise ValueError(f"{what} must be a 2-D matrix, got shape {M.shape}")
    return M


def same_length(kind: str, **arrays: np.ndarray) -> None:
    """A ValueError listing each length unless every array has the same."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{kind}: these lists must have the same length: "
                         + ", ".join(f"{k} has {n}" for k, n in lengths.items()))


def axis_label(name: str) -> str:
    """A grid parameter's name as an axis label (sigma^2 as $\\sigma^2$)."""
    return {"sigma^2": r"$\sigma^2$", "tau^2": r"$\tau^2$", "d": "$d$"}.get(name, name)


def fmt(x: float) -> str:
    """A number in a title or label: 3 significant digits, "nan" where not finite."""
    return "nan" if not math.isfinite(x) else f"{x:.3g}"
