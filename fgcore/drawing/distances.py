"""The class distance matrix D (paper eq. 6) at each snapshot and the darkness of its lines (Fig. 5, 14,
and the grids' Fig. 21-46)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .inputs import fmt, matrix, need
from .style import HEATMAP_CMAP, PALETTE


def _contiguous(groups: np.ndarray) -> bool:
    """Whether every superclass occupies one contiguous block of rows (then block boundaries read well)."""
    seen: set = set()
    previous = object()
    for g in groups.tolist():
        if g != previous:
            if g in seen:
                return False
            seen.add(g)
            previous = g
    return True


def _epoch_key(epoch: Any) -> str:
    """Epochs as text keys, so 20 and 20.0 (JSON written by different code) name the same snapshot."""
    if isinstance(epoch, float) and epoch.is_integer():
        epoch = int(epoch)
    return str(epoch)


def _normalised(D: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """D divided by its mean over pairs in different superclasses (the paper's Fig. 4 normalisation).

    Without superclasses (or without pairs across them) the mean over off-diagonal pairs is used.
    """
    n = D.shape[0]
    mask = ~np.eye(n, dtype=bool)
    if groups is not None:
        across = groups[:, None] != groups[None, :]
        if across.any():
            mask = across
    reference = np.nanmean(D[mask]) if mask.any() else np.nanmean(D)
    return D / reference if np.isfinite(reference) and reference > 0 else D


def distance_heatmaps(data: dict) -> Figure:
    """Class distance matrix D (eq. 6) at each snapshot (paper Fig. 5, 14) and the darkness of its lines.

    data: snapshots [{epoch, D, title (optional, instead of "epoch N")}], class_names, superclass_of
    (row -> superclass), lines [{epoch, diagonal, same_superclass, darkness_diagonal,
    darkness_same_superclass}] (optional), x_label (optional: the lines panel's axis, default
    "snapshot epoch"), columns (optional, default 4), lines_panel (optional, default true: false keeps
    the lines in the panels' titles only, e.g. for panels that are not epochs).
    Each D is divided by its mean over pairs in different superclasses, so one colour scale serves all
    snapshots and the "three lines" of the paper read as darkness. Same-superclass cells off the
    diagonal are outlined (or, when superclasses are contiguous blocks of rows, the blocks are drawn).
    """
    kind = "distance_heatmaps"
    mats = _snapshots(data, kind)
    n = mats[0][1].shape[0]
    names, groups = _rows(data, n, kind)
    lines = {_epoch_key(line.get("epoch")): line for line in data.get("lines") or [] if isinstance(line, dict)}

    normed = [(epoch, _normalised(D, groups)) for epoch, D, _ in mats]
    finite = np.concatenate([N[np.isfinite(N)] for _, N in normed])
    vmax = float(np.quantile(finite, 0.99)) if finite.size else 1.0
    vmax = max(vmax, 1.0)

    k = len(normed)
    cols = min(k, int(data.get("columns") or 4))
    rows = math.ceil(k / cols)
    panel = 2.25
    with_lines = bool(lines) and data.get("lines_panel", True)
    # room above each row for its panels' titles (a custom title may hold several lines, plus the lines')
    title_lines = max((mats[i][2] or "").count("\n") + 1 + bool(lines) for i in range(k))
    fig = Figure(figsize=(panel * cols + 0.9,
                          (panel + 0.15 * title_lines) * rows + 0.35 + (2.0 if with_lines else 0)))
    grid = fig.add_gridspec(rows + int(with_lines), cols + 1, width_ratios=[1] * cols + [0.06],
                            height_ratios=[1] * rows + ([0.75] if with_lines else []))
    image = None
    for i, (epoch, N) in enumerate(normed):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        image = ax.imshow(N, cmap=HEATMAP_CMAP, vmin=0.0, vmax=vmax)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(True)
        line = lines.get(_epoch_key(epoch))
        title = mats[i][2] or (f"epoch {epoch}" if epoch is not None else f"snapshot {i + 1}")
        if line and line.get("diagonal") is not None and line.get("same_superclass") is not None:
            title += f"\ndiag {fmt(float(line['diagonal']))} · same-sc {fmt(float(line['same_superclass']))}"
        ax.set_title(title, fontsize=8.5)
        if n <= 20:
            ax.set_xticks(range(n), names, rotation=90, fontsize=6.5)
            ax.set_yticks(range(n), names if i % cols == 0 else [""] * n, fontsize=6.5)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        ax.tick_params(length=0)
        _outline_superclasses(ax, groups)
    cax = fig.add_subplot(grid[:rows, cols])
    fig.colorbar(image, cax=cax, label="D / mean D across superclasses")
    if with_lines:
        ordered = [lines[_epoch_key(epoch)] for epoch, _ in normed if _epoch_key(epoch) in lines]
        _darkness_panel(fig.add_subplot(grid[rows, :cols]), ordered, str(data.get("x_label") or "snapshot epoch"))
    return fig


def _snapshots(data: dict, kind: str) -> list[tuple]:
    """(epoch, D, title) of every snapshot; each D square, all of one shape."""
    snapshots = need(data, "snapshots", kind)
    if not isinstance(snapshots, list) or not snapshots:
        raise ValueError(f"{kind}: 'snapshots' must be a non-empty list of {{epoch, D}}")
    mats = []
    for i, snap in enumerate(snapshots):
        D = matrix(need(snap, "D", f"{kind} snapshot {i}"), f"snapshot {i} D")
        if D.shape[0] != D.shape[1]:
            raise ValueError(f"{kind}: snapshot {i} D must be square, got {D.shape}")
        mats.append((snap.get("epoch"), D, snap.get("title")))
    n = mats[0][1].shape[0]
    if any(D.shape != (n, n) for _, D, _ in mats):
        raise ValueError(f"{kind}: every snapshot's D must have the same shape ({n} x {n})")
    return mats


def _rows(data: dict, n: int, kind: str) -> tuple[list[str], np.ndarray | None]:
    """The name of every row of D and its superclass (None without superclass_of)."""
    names = [str(c) for c in data.get("class_names") or range(n)]
    if len(names) != n:
        raise ValueError(f"{kind}: {len(names)} class_names for a {n} x {n} D")
    groups = None
    if data.get("superclass_of") is not None:
        groups = np.array([str(g) for g in data["superclass_of"]])
        if len(groups) != n:
            raise ValueError(f"{kind}: superclass_of has {len(groups)} entries for {n} classes")
    return names, groups


def _outline_superclasses(ax, groups: np.ndarray | None) -> None:
    """Outline the same-superclass cells off the diagonal: each superclass's block where superclasses
    are contiguous blocks of rows, else each cell."""
    if groups is None:
        return
    n = len(groups)
    same = (groups[:, None] == groups[None, :]) & ~np.eye(n, dtype=bool)
    if not same.any():
        return
    if _contiguous(groups):
        starts = [0] + [j for j in range(1, n) if groups[j] != groups[j - 1]] + [n]
        squares = [Rectangle((a - 0.5, a - 0.5), b - a, b - a) for a, b in zip(starts, starts[1:])]
        ax.add_collection(PatchCollection(squares, facecolors="none", edgecolors="#56B4E9", linewidths=1.0))
    else:
        cells = [Rectangle((c - 0.5, r - 0.5), 1, 1) for r, c in zip(*np.nonzero(same))]
        ax.add_collection(PatchCollection(cells, facecolors="none", edgecolors="#56B4E9",
                                          linewidths=0.9 if n <= 20 else 0.4))


def _darkness(line: dict, which: str) -> float:
    """darkness_<which> of a lines entry, else 1 - <which> (D over its mean across superclasses)."""
    value = line.get(f"darkness_{which}")
    if value is None and line.get(which) is not None:
        value = 1.0 - float(line[which])
    return math.nan if value is None else float(value)


def _darkness_panel(ax, ordered: list[dict], x_label: str) -> None:
    """The darkness of the diagonal and of the superclass lines at each snapshot."""
    xs = [_epoch_key(line.get("epoch")) for line in ordered]
    ax.plot(xs, [_darkness(line, "diagonal") for line in ordered], marker="o", color=PALETTE[0],
            label="diagonal (same original class)")
    ax.plot(xs, [_darkness(line, "same_superclass") for line in ordered], marker="s", color=PALETTE[1],
            label="superclass lines (same superclass, other class)")
    ax.set_xlabel(x_label)
    ax.set_ylabel("darkness")
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.0)
    ax.set_title("darkness = 1 - D / mean D across superclasses  (0: no line, 1: collapsed)", fontsize=8)
    ax.legend(loc="lower right", ncols=2)
