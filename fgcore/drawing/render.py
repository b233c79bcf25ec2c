"""`render(kind, data)`: one figure as PNG or SVG bytes, the same bytes for the same data.

Every figure function (KINDS: one per kind of figure a claim record or `fgcore measure`'s page holds)
takes the figure's `data` dict (its shape is in the function's docstring), validates it (ValueError
naming the missing or malformed field) and returns a matplotlib Figure built without pyplot, so no
global backend or figure registry is touched. `render` draws it on the Agg canvas under a fixed style:
matplotlib's built-in defaults plus STYLE, a fixed dpi, the bundled DejaVu font, a fixed SVG hash salt
and no date or software metadata, so the same data gives the same bytes on every run (and machine with
the same matplotlib and freetype). A new kind of figure is one function and one entry of KINDS.
"""

from __future__ import annotations

import io
from typing import Callable

import matplotlib
from matplotlib.figure import Figure

from .bars import clp_bars, ratio_bars
from .collapse import layer_curves, nc_curves
from .distances import distance_heatmaps
from .embeddings import overview, tsne
from .grids import grid_clp_bars, grid_errors
from .ratios import gmm_curves, theory_ratio
from .style import DEFAULT_DPI, STYLE

__all__ = ["KINDS", "render"]

KINDS: dict[str, Callable[[dict], Figure]] = {
    "nc_curves": nc_curves, "distance_heatmaps": distance_heatmaps, "tsne": tsne, "clp_bars": clp_bars,
    "ratio_bars": ratio_bars, "gmm_curves": gmm_curves, "theory_ratio": theory_ratio,
    "grid_errors": grid_errors, "grid_clp_bars": grid_clp_bars, "layer_curves": layer_curves,
    "overview": overview,
}


def render(kind: str, data: dict, *, dpi: int = DEFAULT_DPI, fmt: str = "png") -> bytes:
    """The figure of one record's figure entry as PNG or SVG bytes (deterministic: see module docstring).

    Raises KeyError for a kind without a figure function (the page shows its data as a table instead)
    and ValueError for malformed data.
    """
    if kind not in KINDS:
        raise KeyError(kind)
    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt must be 'png' or 'svg', got {fmt!r}")
    if not isinstance(dpi, int) or dpi < 20:
        raise ValueError(f"dpi must be an integer >= 20, got {dpi!r}")
    with matplotlib.rc_context():
        # Start from matplotlib's own defaults, not the user's matplotlibrc, so output is the same anywhere.
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        fig = KINDS[kind](data)
        buffer = io.BytesIO()
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return buffer.getvalue()
