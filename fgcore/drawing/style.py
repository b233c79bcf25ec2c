"""The kit's fixed look: every figure starts from matplotlib's built-in defaults plus STYLE, at a fixed
dpi, in colour-blind-safe colours (fgcore.drawing.render applies it)."""

from __future__ import annotations

from typing import Any

DEFAULT_DPI = 100

STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",   # bundled with matplotlib: the same glyphs everywhere
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.5,
    "legend.frameon": False,
    "image.interpolation": "nearest",
    "svg.hashsalt": "fgcore-report",   # SVG element ids from a fixed salt, not a random uuid
    "svg.fonttype": "path",
    "figure.constrained_layout.use": True,
}

# Colours: colour-blind-safe (Okabe-Ito); the first for the claim's own quantity.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
MISSED_100 = "#D62728"   # the paper's red for runs that did not reach 100% training accuracy
HEATMAP_CMAP = "magma"   # darker = smaller distance, as in the paper's heatmaps
