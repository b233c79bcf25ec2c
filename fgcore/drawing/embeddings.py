"""2-D embeddings of features: t-SNE per superclass (paper Fig. 6, 8) and the report's overview, one
experiment's features with its NC1 curve (the idea of the paper's Fig. 1)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .inputs import floats, fmt, matrix, need, same_length
from .style import PALETTE


def tsne(data: dict) -> Figure:
    """t-SNE of each superclass's features, points coloured by original class (paper Fig. 6, 8).

    data: class_names, superclasses [{superclass, points [[x, y]], labels [class per point], purity}].
    Labels are indices into class_names (or the names themselves). Colours are assigned within each
    panel (the few classes of a superclass get the most distinct colours) and named in its legend.
    """
    kind = "tsne"
    panels = need(data, "superclasses", kind)
    if not isinstance(panels, list) or not panels:
        raise ValueError(f"{kind}: 'superclasses' must be a non-empty list of panels")
    names = [str(c) for c in data.get("class_names") or []]

    def name_of(label: Any) -> str:
        if isinstance(label, (int, float)) and float(label).is_integer() and 0 <= int(label) < len(names):
            return names[int(label)]
        return str(label)

    cols = min(len(panels), 5)
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(1.95 * cols, 2.05 * rows + 0.1))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax, panel in zip(axes, panels):
        where = f"{kind} superclass {panel.get('superclass', '?')}"
        points = matrix(need(panel, "points", where), f"{where} points") if panel.get("points") else np.zeros((0, 2))
        labels = list(panel.get("labels") or [])
        if points.shape[0] and points.shape[1] != 2:
            raise ValueError(f"{where}: points must be [x, y] pairs, got {points.shape[1]} columns")
        if len(labels) != len(points):
            raise ValueError(f"{where}: {len(points)} points but {len(labels)} labels")
        classes = list(dict.fromkeys(name_of(v) for v in labels))
        # Sort the classes of a panel by their position in class_names, so colours follow the class order.
        order = {c: i for i, c in enumerate(names)}
        classes.sort(key=lambda c: (order.get(c, len(order)), c))
        point_names = np.array([name_of(v) for v in labels])
        for j, cls in enumerate(classes):
            mask = point_names == cls
            colour = PALETTE[j % len(PALETTE)]
            ax.scatter(points[mask, 0], points[mask, 1], s=3.5, color=colour, alpha=0.75, linewidths=0,
                       label=cls, rasterized=True)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("0.8")
        title = f"superclass {panel.get('superclass', '?')}"
        if panel.get("purity") is not None:
            title += f" · purity {fmt(float(panel['purity']))}"
        ax.set_title(title, fontsize=8)
        if classes:
            ax.legend(loc="best", markerscale=2.5, fontsize=6.5, handletextpad=0.1, borderaxespad=0.2,
                      labelspacing=0.2)
    return fig


def overview(data: dict) -> Figure:
    """What a reader should see first (the idea of the paper's Fig. 1): a 2-D embedding of one
    experiment's last-layer features, coloured by superclass, the original classes inside each told
    apart by marker, next to its NC1 curve: the coarse classes collapse while the original ones stay
    visible inside them.

    data: experiment, class_names, superclass_of [superclass per original class], points [[x, y]],
    labels [original class per point], epochs, nc1, terminal_epoch (optional).
    """
    kind = "overview"
    points = np.asarray(need(data, "points", kind), dtype=np.float64)
    labels = np.asarray(need(data, "labels", kind), dtype=np.int64)
    superclass_of = np.asarray(need(data, "superclass_of", kind), dtype=np.int64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError(f"{kind}: 'points' must be [[x, y]] with one label per point")
    names = [str(c) for c in data.get("class_names") or range(len(superclass_of))]
    epochs = floats(need(data, "epochs", kind), "epochs")
    nc1 = floats(need(data, "nc1", kind), "nc1")
    same_length(kind, epochs=epochs, nc1=nc1)
    fig = Figure(figsize=(10.4, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
    markers = ["o", "^", "s", "D", "v", "P", "X", "*"]
    for superclass in np.unique(superclass_of):
        members = np.flatnonzero(superclass_of == superclass)
        colour = PALETTE[int(superclass) % len(PALETTE)]
        for rank, cls in enumerate(members):
            chosen = labels == cls
            left.scatter(points[chosen, 0], points[chosen, 1], s=7, color=colour, alpha=0.75, linewidths=0.3,
                         edgecolors="white", marker=markers[rank % len(markers)], label=names[cls])
    left.set_xticks([])
    left.set_yticks([])
    left.set_title(f"last-layer features of {data.get('experiment') or 'the run'} (t-SNE): colour = "
                   f"superclass,\nmarker = original class inside it", fontsize=8.5)
    left.legend(fontsize=6.5, markerscale=1.6, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5),
                frameon=False)
    right.plot(epochs, nc1, color=PALETTE[0], marker=".", markersize=3)
    if np.all(nc1[np.isfinite(nc1)] > 0):
        right.set_yscale("log")
    if data.get("terminal_epoch") is not None:
        right.axvline(float(data["terminal_epoch"]), color="0.4", linestyle="--", linewidth=1,
                      label="terminal phase begins")
        right.legend(fontsize=7, loc="upper right")
    right.set_xlabel("epoch")
    right.set_ylabel("NC1 on the training labels")
    right.set_title("Neural Collapse on the coarse labels (Fig. 3)", fontsize=8.5)
    return fig
