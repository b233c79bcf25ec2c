"""The report's figures: one matplotlib function per figure kind of a claim record (data -> Figure).

Every function takes the `data` dict of a record's figure (the shapes are listed in KINDS' docstrings),
validates it (ValueError naming the missing or malformed field) and
returns a matplotlib Figure built without pyplot, so no global backend or figure registry is touched.
`render(kind, data)` turns it into PNG (or SVG) bytes on the Agg canvas under a fixed style: matplotlib's
built-in defaults plus STYLE, a fixed dpi, the bundled DejaVu font, a fixed SVG hash salt and no date
or software metadata, so the same data gives the same bytes on every run (and machine with the same
matplotlib and freetype).
"""

from __future__ import annotations

import io
import math
from typing import Any, Callable

import matplotlib
import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

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


# -- input helpers -------------------------------------------------------------------------------
def _need(data: dict, key: str, kind: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{kind}: figure data must be a JSON object, got {type(data).__name__}")
    if data.get(key) is None:
        raise ValueError(f"{kind}: figure data has no {key!r} (keys present: {', '.join(map(str, data)) or 'none'})")
    return data[key]


def _floats(values: Any, what: str) -> np.ndarray:
    """Numbers as float64; JSON strings "nan"/"inf" (how records store non-finite values) and None -> nan."""
    try:
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a list of numbers ({exc})") from None


def _matrix(values: Any, what: str) -> np.ndarray:
    try:
        rows = [[math.nan if v is None else float(v) for v in row] for row in values]
        M = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a list of equal-length lists of numbers ({exc})") from None
    if M.ndim != 2:
        raise ValueError(f"{what} must be a 2-D matrix, got shape {M.shape}")
    return M


def _same_length(kind: str, **arrays: np.ndarray) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{kind}: these lists must have the same length: "
                         + ", ".join(f"{k} has {n}" for k, n in lengths.items()))


def _axis_label(name: str) -> str:
    return {"sigma^2": r"$\sigma^2$", "tau^2": r"$\tau^2$", "d": "$d$"}.get(name, name)


def _fmt(x: float) -> str:
    return "nan" if not math.isfinite(x) else f"{x:.3g}"


# -- Fig. 3; Papyan et al. 2020, Fig. 2-8 ------------------------------------------------------------
# Panels of the collapse figure: (title, [(data key, legend label, colour, line style)], log scale).
# A panel is drawn when the data has its first series; the first three are Fig. 3's.
_COLLAPSE_PANELS = (
    ("NC1: within-class variability", [("nc1", "NC1 = Tr(Σ_W Σ_B⁺)/C", PALETTE[0], "-"),
                                       ("cdnv", "CDNV (Galanti et al.)", PALETTE[5], "--")], True),
    ("NC2: means vs simplex ETF", [("nc2", "NC2 (eq. 3)", PALETTE[1], "-"),
                                         ("equinorm", "equinorm", PALETTE[4], "--"),
                                         ("equiangularity", "equiangularity", PALETTE[3], ":")], False),
    ("NC3: classifier vs means", [("nc3", "‖W/‖W‖ − M/‖M‖‖", PALETTE[3], "-")], False),
    ("NC4: classifier ≠ nearest centre", [("nc4_mismatch", "1 − NC4 (share of samples)", PALETTE[6], "-")],
     False),
    ("accuracy", [("train_acc", "training", PALETTE[2], "-"), ("test_acc", "test", PALETTE[0], "--")], False),
)
# The figure of a record written before the trainer recorded the whole family: Fig. 3's three panels.
_FIG3_TITLES = {"nc1": "NC1 (coarse labels)", "nc2": "NC2 (distance to simplex ETF)", "train_acc": "training accuracy"}


def nc_curves(data: dict) -> Figure:
    """Neural Collapse against epochs: NC1, NC2 and training accuracy (paper Fig. 3), and where the data
    has them NC1-NC4 with CDNV, equinorm, equiangularity and test accuracy (Papyan et al. 2020, Fig. 2-8).

    data: epochs, nc1, nc2, train_acc (optional), terminal_epoch (optional: first epoch at 100%), and
    optionally nc3, nc4, cdnv, equinorm, equiangularity, test_acc (lists as long as epochs; null where an
    epoch has no value). NC4 is drawn as the mismatch 1 - NC4, as Papyan et al.'s Fig. 7. NC1 (and CDNV
    beside it) go on a log axis when positive: they fall by orders of magnitude. Data with nc1, nc2 and
    train_acc only (records of runs trained before the trainer recorded the rest) gives Fig. 3's three
    panels.
    """
    kind = "nc_curves"
    epochs = _floats(_need(data, "epochs", kind), "epochs")
    series = {"nc1": _floats(_need(data, "nc1", kind), "nc1"), "nc2": _floats(_need(data, "nc2", kind), "nc2")}
    for key in ("train_acc", "test_acc", "nc3", "nc4", "cdnv", "equinorm", "equiangularity"):
        if data.get(key) is not None:
            series[key] = _floats(data[key], key)
    _same_length(kind, epochs=epochs, **series)
    if "nc4" in series:
        series["nc4_mismatch"] = 1.0 - series["nc4"]
    terminal = data.get("terminal_epoch")
    family = any(key in series for key in ("nc3", "nc4", "cdnv", "equinorm", "equiangularity"))

    panels = [(title, [s for s in lines if s[0] in series], log) for title, lines, log in _COLLAPSE_PANELS
              if lines[0][0] in series]
    cols = len(panels) if len(panels) <= 3 else math.ceil(len(panels) / 2)
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(3.3 * cols, 2.6 * rows + (0.35 if family else 0.0)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax, (title, lines, log) in zip(axes, panels):
        for key, label, colour, style in lines:
            named = f"{label}: {_fmt(series[key][-1])}" if len(epochs) else label
            ax.plot(epochs, series[key], marker="o", color=colour, linestyle=style, label=named if family else None)
        first = series[lines[0][0]]
        if not family:
            title = _FIG3_TITLES[lines[0][0]]
            ax.set_title(f"{title}\nlast: {_fmt(first[-1])}" if len(first) else title)
        else:
            ax.set_title(title, fontsize=9)
            ax.legend(loc="best", fontsize=6.5, handlelength=2.2)
        ax.set_xlabel("epoch")
        values = np.concatenate([series[key] for key, *_ in lines])
        if log and np.all(np.isfinite(first)) and np.all(first > 0) and np.all(values[np.isfinite(values)] > 0):
            ax.set_yscale("log")
        if lines[0][0] == "train_acc":
            low = np.nanmin(values) if np.isfinite(values).any() else 0.0
            ax.set_ylim(min(0.0, low), 1.02)
        if terminal is not None:
            ax.axvline(float(terminal), color="0.35", linestyle="--", linewidth=1,
                       label=None if family else f"terminal phase from epoch {terminal}")
    if terminal is not None and not family:
        axes[len(panels) - 1].legend(loc="lower right", handlelength=1.5)
    if terminal is not None and family:
        fig.suptitle(f"dashed grey line: the terminal phase (100% training accuracy) from epoch {terminal}",
                     fontsize=7.5, color="0.3")
    return fig


# -- Fig. 5, 14 ----------------------------------------------------------------------------------
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
    snapshots = _need(data, "snapshots", kind)
    if not isinstance(snapshots, list) or not snapshots:
        raise ValueError(f"{kind}: 'snapshots' must be a non-empty list of {{epoch, D}}")
    mats = []
    for i, snap in enumerate(snapshots):
        D = _matrix(_need(snap, "D", f"{kind} snapshot {i}"), f"snapshot {i} D")
        if D.shape[0] != D.shape[1]:
            raise ValueError(f"{kind}: snapshot {i} D must be square, got {D.shape}")
        mats.append((snap.get("epoch"), D, snap.get("title")))
    n = mats[0][1].shape[0]
    if any(D.shape != (n, n) for _, D, _ in mats):
        raise ValueError(f"{kind}: every snapshot's D must have the same shape ({n} x {n})")
    names = [str(c) for c in data.get("class_names") or range(n)]
    if len(names) != n:
        raise ValueError(f"{kind}: {len(names)} class_names for a {n} x {n} D")
    groups = None
    if data.get("superclass_of") is not None:
        groups = np.array([str(g) for g in data["superclass_of"]])
        if len(groups) != n:
            raise ValueError(f"{kind}: superclass_of has {len(groups)} entries for {n} classes")
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
    same = None
    if groups is not None:
        same = (groups[:, None] == groups[None, :]) & ~np.eye(n, dtype=bool)
    blocks = groups is not None and _contiguous(groups)
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
            title += f"\ndiag {_fmt(float(line['diagonal']))} · same-sc {_fmt(float(line['same_superclass']))}"
        ax.set_title(title, fontsize=8.5)
        if n <= 20:
            ax.set_xticks(range(n), names, rotation=90, fontsize=6.5)
            ax.set_yticks(range(n), names if i % cols == 0 else [""] * n, fontsize=6.5)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        ax.tick_params(length=0)
        if same is not None and same.any():
            if blocks:
                starts = [0] + [j for j in range(1, n) if groups[j] != groups[j - 1]] + [n]
                squares = [Rectangle((a - 0.5, a - 0.5), b - a, b - a) for a, b in zip(starts, starts[1:])]
                ax.add_collection(PatchCollection(squares, facecolors="none", edgecolors="#56B4E9",
                                                  linewidths=1.0))
            else:
                cells = [Rectangle((c - 0.5, r - 0.5), 1, 1) for r, c in zip(*np.nonzero(same))]
                ax.add_collection(PatchCollection(cells, facecolors="none", edgecolors="#56B4E9",
                                                  linewidths=0.9 if n <= 20 else 0.4))
    cax = fig.add_subplot(grid[:rows, cols])
    fig.colorbar(image, cax=cax, label="D / mean D across superclasses")

    if with_lines:
        ax = fig.add_subplot(grid[rows, :cols])
        ordered = [lines[_epoch_key(epoch)] for epoch, _ in normed if _epoch_key(epoch) in lines]
        xs = [_epoch_key(line.get("epoch")) for line in ordered]

        def darkness(line: dict, which: str) -> float:
            value = line.get(f"darkness_{which}")
            if value is None and line.get(which) is not None:
                value = 1.0 - float(line[which])
            return math.nan if value is None else float(value)

        ax.plot(xs, [darkness(line, "diagonal") for line in ordered], marker="o", color=PALETTE[0],
                label="diagonal (same original class)")
        ax.plot(xs, [darkness(line, "same_superclass") for line in ordered], marker="s", color=PALETTE[1],
                label="superclass lines (same superclass, other class)")
        ax.set_xlabel(str(data.get("x_label") or "snapshot epoch"))
        ax.set_ylabel("darkness")
        ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.0)
        ax.set_title("darkness = 1 - D / mean D across superclasses  (0: no line, 1: collapsed)", fontsize=8)
        ax.legend(loc="lower right", ncols=2)
    return fig


# -- Fig. 6 --------------------------------------------------------------------------------------
def tsne(data: dict) -> Figure:
    """t-SNE of each superclass's features, points coloured by original class (paper Fig. 6, 8).

    data: class_names, superclasses [{superclass, points [[x, y]], labels [class per point], purity}].
    Labels are indices into class_names (or the names themselves). Colours are assigned within each
    panel (the few classes of a superclass get the most distinct colours) and named in its legend.
    """
    kind = "tsne"
    panels = _need(data, "superclasses", kind)
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
        points = _matrix(_need(panel, "points", where), f"{where} points") if panel.get("points") else np.zeros((0, 2))
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
            title += f" · purity {_fmt(float(panel['purity']))}"
        ax.set_title(title, fontsize=8)
        if classes:
            ax.legend(loc="best", markerscale=2.5, fontsize=6.5, handletextpad=0.1, borderaxespad=0.2,
                      labelspacing=0.2)
    return fig


# -- Fig. 9 --------------------------------------------------------------------------------------
def _bar_labels(ax, bars, values) -> None:
    for bar, value in zip(bars, values):
        ax.annotate(_fmt(value), xy=(bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8)


def clp_bars(data: dict) -> Figure:
    """Test accuracy of CLP, LPO and OT (paper Fig. 9), with the chance level of the CPU thresholds; with
    `discovery`, a second panel scores CLP's clusters as the coarse-to-fine literature does.

    data: clp, lpo, ot (or null when no original-label run exists), chance (or null); discovery
    (optional): rows [{label, cluster_accuracy, chance, nmi_within, ari_within, nmi and ari (optional)}],
    one per run (the experiment and its controls) or per superclass, drawn as grouped bars
    (Hungarian-matched cluster accuracy with its chance level, NMI and ARI within superclasses), the NMI
    and ARI over all samples written under each row's name.
    """
    kind = "clp_bars"
    entries = [("CLP\n(clusters from\ncoarse labels)", _need(data, "clp", kind)),
               ("LPO\n(probe on\ntrue labels)", data.get("lpo")),
               ("OT\n(trained on\noriginal labels)", data.get("ot"))]
    entries = [(label, float(v)) for label, v in entries if v is not None]
    rows = data.get("discovery") or []
    if not isinstance(rows, list):
        raise ValueError(f"{kind}: 'discovery' must be a list of rows")
    fig = Figure(figsize=(4.2 + (1.2 + 1.15 * len(rows) if rows else 0.0), 2.9))
    ax, *right = fig.subplots(1, 2 if rows else 1, squeeze=False,
                              width_ratios=[4.2, 1.2 + 1.15 * len(rows)] if rows else None)[0]
    colours = [PALETTE[0], "0.55", "0.75"][:len(entries)]
    bars = ax.bar([e[0] for e in entries], [e[1] for e in entries], color=colours, width=0.6)
    _bar_labels(ax, bars, [e[1] for e in entries])
    if data.get("chance") is not None:
        chance = float(data["chance"])
        ax.axhline(chance, color=MISSED_100, linestyle="--", linewidth=1)
        ax.annotate(f"chance {_fmt(chance)}", xy=(1, chance), xycoords=("axes fraction", "data"), ha="right",
                    va="bottom", fontsize=7.5, color=MISSED_100)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("test accuracy (original classes)")
    ax.grid(axis="x", visible=False)
    if rows:
        _discovery_bars(right[0], rows, kind)
    return fig


# Bars of the discovery panel: (key in a row, legend label, colour).
DISCOVERY_BARS = (("cluster_accuracy", "cluster acc.", PALETTE[0]), ("nmi_within", "NMI within", PALETTE[2]),
                  ("ari_within", "ARI within", PALETTE[4]))


def _discovery_bars(ax, rows: list, kind: str) -> None:
    """CLP's clusters against the original classes (FALCON, GEORGE): per row, Hungarian-matched cluster
    accuracy (its chance level dashed), NMI and ARI within superclasses (0 at chance)."""
    width = 0.8 / len(DISCOVERY_BARS)
    x = np.arange(len(rows))
    lowest = 0.0
    for i, (key, label, colour) in enumerate(DISCOVERY_BARS):
        values = _floats([_need(r, key, kind) for r in rows], f"{kind} discovery {key}")
        ax.bar(x + (i - 1) * width, values, width, color=colour, label=label)
        lowest = min(lowest, float(np.nanmin(values)) if np.isfinite(values).any() else 0.0)
    for i, r in enumerate(rows):
        if r.get("chance") is not None:
            ax.hlines(float(r["chance"]), i - 1.5 * width, i - 0.5 * width, color=MISSED_100, linestyle="--",
                      linewidth=1.4, zorder=3)
    names = [str(_need(r, "label", kind)) + (f"\nNMI {_fmt(float(r['nmi']))}, ARI {_fmt(float(r['ari']))}\nover all samples"
                                              if r.get("nmi") is not None and r.get("ari") is not None else "")
             for r in rows]
    ax.set_xticks(x, names, fontsize=6.5, rotation=20 if len(rows) > 3 else 0)
    ax.set_ylim(lowest - 0.02, 1.3)      # room for the legend above the bars
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.axhline(0, color="0.3", linewidth=0.6)
    ax.set_ylabel("CLP's clusters vs original classes")
    ax.set_title("clusters scored as FALCON / GEORGE", fontsize=8.5)
    ax.grid(axis="x", visible=False)
    ax.legend(fontsize=6.5, ncol=3, loc="upper right", title="red dashes: chance of the accuracy",
              title_fontsize=6)


def grid_clp_bars(data: dict) -> Figure:
    """CLP, LPO (and OT where given) per configuration of the learning-rate x weight-decay grid (paper
    Fig. 28), each configuration's chance level marked and its same-superclass D / diagonal D written
    under its name: how much fine structure each configuration keeps.

    data: configurations [{label, clp, lpo, ot (optional), chance (optional), diag_ratio (optional),
    left_out (optional: true for a point the claim leaves out, drawn hatched)}].
    """
    kind = "grid_clp_bars"
    configurations = _need(data, "configurations", kind)
    if not isinstance(configurations, list) or not configurations:
        raise ValueError(f"{kind}: 'configurations' must be a non-empty list")
    bars = [("CLP", "clp", PALETTE[0]), ("LPO", "lpo", "0.55"), ("OT", "ot", "0.78")]
    bars = [b for b in bars if any(c.get(b[1]) is not None for c in configurations)]
    width = 0.8 / len(bars)
    fig = Figure(figsize=(max(4.5, 1.05 * len(configurations) + 1.0), 3.2))
    ax = fig.subplots()
    x = np.arange(len(configurations))
    for i, (label, key, colour) in enumerate(bars):
        values = [c.get(key) for c in configurations]
        heights = [float(v) if v is not None else 0.0 for v in values]
        drawn = ax.bar(x + (i - (len(bars) - 1) / 2) * width, heights, width, color=colour, label=label)
        for bar, c in zip(drawn, configurations):
            if c.get("left_out"):
                bar.set_hatch("///")
                bar.set_edgecolor("white")
    for i, c in enumerate(configurations):
        if c.get("chance") is not None:
            ax.hlines(float(c["chance"]), i - 0.45, i + 0.45, color=MISSED_100, linestyle="--", linewidth=1)
    names = [str(_need(c, "label", kind)) + (f"\nD ratio {_fmt(float(c['diag_ratio']))}"
                                              if c.get("diag_ratio") is not None else "")
             for c in configurations]
    ax.set_xticks(x, names, fontsize=7)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("test accuracy (original classes)")
    ax.grid(axis="x", visible=False)
    ax.legend(fontsize=7, ncol=len(bars), loc="lower right", title="red dashes: chance; hatched: left out",
              title_fontsize=6.5)
    return fig


# -- Sec. 5 ----------------------------------------------------------------------------------------
def ratio_bars(data: dict) -> Figure:
    """Mean squared distance ratio per kind of superclass (Sec. 5: natural vs random groups).

    data: bars {name: ratio}, per_group {name: {group: ratio}} (optional, drawn as dots on the bar).
    The dotted line at 1 is "no fine structure" (App. B).
    """
    kind = "ratio_bars"
    bars = _need(data, "bars", kind)
    if not isinstance(bars, dict) or not bars:
        raise ValueError(f"{kind}: 'bars' must be an object {{name: ratio}}")
    names = list(bars)
    values = _floats([bars[k] for k in names], "bars")
    fig = Figure(figsize=(4.2, 2.9))
    ax = fig.subplots()
    drawn = ax.bar(names, values, color=[PALETTE[i % len(PALETTE)] for i in range(len(names))], width=0.55,
                   alpha=0.85)
    _bar_labels(ax, drawn, values)
    per_group = data.get("per_group") or {}
    for i, name in enumerate(names):
        groups = per_group.get(name) or {}
        if not isinstance(groups, dict):
            continue
        ys = _floats(list(groups.values()), f"per_group[{name!r}]")
        xs = i + (np.linspace(-0.15, 0.15, len(ys)) if len(ys) > 1 else np.zeros(len(ys)))
        ax.scatter(xs, ys, s=14, color="black", zorder=3)
        if len(ys) <= 6:
            for x, y, g in zip(xs, ys, groups):
                ax.annotate(str(g), xy=(x, y), xytext=(4, 0), textcoords="offset points", fontsize=6.5,
                            va="center", color="0.25")
    ax.axhline(1.0, color="0.4", linestyle=":", linewidth=1)
    ax.set_ylabel("mean squared distance ratio")
    ax.set_ylim(0, max(1.2, float(np.nanmax(values)) * 1.25 if np.isfinite(values).any() else 1.2))
    ax.grid(axis="x", visible=False)
    ax.set_title("dots: single superclasses · dotted: 1 = no fine structure", fontsize=7.5, color="0.3")
    return fig


# -- Fig. 17, 18 ---------------------------------------------------------------------------------
def gmm_curves(data: dict) -> Figure:
    """Mean squared distance ratio against sigma^2 or tau^2, one curve per setting (paper Fig. 17, 18).

    data: x_name, log_x, curves [{label, x, y (median over seeds), y_seeds [[per seed at x_i]],
    reached_100 [bool per x]}]. Seeds are small dots beside the median; points where a seed did not
    reach 100% training accuracy get a red ring (the paper draws them in red).
    """
    kind = "gmm_curves"
    curves = _need(data, "curves", kind)
    if not isinstance(curves, list) or not curves:
        raise ValueError(f"{kind}: 'curves' must be a non-empty list")
    fig = Figure(figsize=(6.0, 3.3))
    ax = fig.subplots()
    missed_any = False
    for i, curve in enumerate(curves):
        where = f"{kind} curve {curve.get('label', i)!r}"
        x = _floats(_need(curve, "x", where), f"{where} x")
        y = _floats(_need(curve, "y", where), f"{where} y")
        _same_length(where, x=x, y=y)
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(x, y, marker="o", color=colour, label=str(curve.get("label", f"curve {i + 1}")), zorder=2)
        for xi, seeds in zip(x, curve.get("y_seeds") or []):
            seeds = _floats(seeds if isinstance(seeds, list) else [seeds], f"{where} y_seeds")
            ax.scatter(np.full(len(seeds), xi), seeds, s=11, color=colour, alpha=0.55, linewidths=0, zorder=1)
        reached = curve.get("reached_100")
        if reached is not None:
            if len(reached) != len(x):
                raise ValueError(f"{where}: reached_100 has {len(reached)} entries for {len(x)} points")
            missed = ~np.array([bool(v) for v in reached])
            if missed.any():
                missed_any = True
                ax.scatter(x[missed], y[missed], s=70, facecolors="none", edgecolors=MISSED_100, linewidths=1.5,
                           zorder=3)
    if data.get("log_x"):
        ax.set_xscale("log")
    ax.axhline(1.0, color="0.4", linestyle=":", linewidth=1)
    ax.set_xlabel(_axis_label(str(data.get("x_name", "x"))))
    ax.set_ylabel("mean squared distance ratio")
    handles, labels = ax.get_legend_handles_labels()
    if missed_any:
        handles.append(Line2D([], [], marker="o", linestyle="none", markerfacecolor="none",
                                               markeredgecolor=MISSED_100, markersize=8, markeredgewidth=1.5))
        labels.append("< 100% training accuracy")
    ax.legend(handles, labels, loc="upper left")
    return fig


# -- Sec. 7 --------------------------------------------------------------------------------------
def theory_ratio(data: dict) -> Figure:
    """Within- over across-cluster squared distance of the hidden layer against d (Sec. 7, Thm. 7.1).

    data: d, ratio, control (optional, C1 and C2 with one mean), untrained (optional, the same network
    before training), threshold (optional), ratio_seeds (optional, [[per seed at d_i]]).
    """
    kind = "theory_ratio"
    d = _floats(_need(data, "d", kind), "d")
    ratio = _floats(_need(data, "ratio", kind), "ratio")
    _same_length(kind, d=d, ratio=ratio)
    fig = Figure(figsize=(5.2, 3.1))
    ax = fig.subplots()
    ax.plot(d, ratio, marker="o", color=PALETTE[0], label="trained net: C1 vs C2 (same label)")
    for di, seeds in zip(d, data.get("ratio_seeds") or []):
        seeds = _floats(seeds if isinstance(seeds, list) else [seeds], "ratio_seeds")
        ax.scatter(np.full(len(seeds), di), seeds, s=7, color=PALETTE[0], alpha=0.45, linewidths=0)
    top = np.nanmax(ratio) if np.isfinite(ratio).any() else 1.0
    if data.get("control") is not None:
        control = _floats(data["control"], "control")
        _same_length(kind, d=d, control=control)
        ax.plot(d, control, marker="s", color="0.5", linestyle="--", label="control: C1, C2 share one mean")
        if np.isfinite(control).any():
            top = max(top, np.nanmax(control))
    if data.get("untrained") is not None:
        untrained = _floats(data["untrained"], "untrained")
        _same_length(kind, d=d, untrained=untrained)
        ax.plot(d, untrained, marker="^", color=PALETTE[1], linestyle=":", label="untrained net (the input alone)")
        if np.isfinite(untrained).any():
            top = max(top, np.nanmax(untrained))
    if data.get("threshold") is not None:
        threshold = float(data["threshold"])
        ax.axhline(threshold, color=MISSED_100, linestyle=":", linewidth=1.2,
                   label=f"threshold {_fmt(threshold)}")
        top = max(top, threshold)
    ax.set_xscale("log")
    ax.set_ylim(0, max(1.1, top * 1.15))
    ax.set_xlabel("input dimension $d$")
    ax.set_ylabel("within / across cluster\nsquared distance")
    ax.legend(loc="lower left", fontsize=7)
    return fig


# -- App. C --------------------------------------------------------------------------------------
def grid_errors(data: dict) -> Figure:
    """Final training error of each (learning rate, weight decay) of the grid (App. C).

    data: lr, weight_decay, train_error [[per lr][per wd]], excluded [[lr, wd]] (cells the claim leaves out).
    """
    kind = "grid_errors"
    lrs = _floats(_need(data, "lr", kind), "lr")
    wds = _floats(_need(data, "weight_decay", kind), "weight_decay")
    err = _matrix(_need(data, "train_error", kind), "train_error")
    if err.shape != (len(lrs), len(wds)):
        raise ValueError(f"{kind}: train_error is {err.shape[0]} x {err.shape[1]}, expected lr x weight_decay = "
                         f"{len(lrs)} x {len(wds)}")
    excluded = {(float(a), float(b)) for a, b in (data.get("excluded") or [])}
    fig = Figure(figsize=(1.15 * len(wds) + 1.6, 0.62 * len(lrs) + 1.0))
    ax = fig.subplots()
    shown = np.clip(np.nan_to_num(err, nan=1.0), 0, 0.02)
    ax.imshow(shown, cmap="Reds", vmin=0, vmax=0.03, aspect="auto")
    ax.grid(False)
    for i, lr in enumerate(lrs):
        for j, wd in enumerate(wds):
            text = f"{100 * err[i, j]:.2f}%" if math.isfinite(err[i, j]) else "n/a"
            if (lr, wd) in excluded:
                text += "\n(excluded)"
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                                          edgecolor=to_rgba("0.5", 0.6), linewidth=0))
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(wds)), [f"{w:g}" for w in wds])
    ax.set_yticks(range(len(lrs)), [f"{v:g}" for v in lrs])
    ax.set_xlabel("weight decay")
    ax.set_ylabel("learning rate")
    ax.set_title("final training error", fontsize=8.5)
    return fig


# -- fgcore measure --layers ----------------------------------------------------------------------
def layer_curves(data: dict) -> Figure:
    """NC1 and the mean squared distance ratio of each layer of one network, from input to output: where
    collapse begins in depth, and whether fine structure survives it (fgcore measure --layers).

    data: layers [name per layer, input to output], nc1 [per layer], ratio [per layer] (optional; null
    where the labeling merges no classes), dims [feature dimension per layer] (optional, shown under the
    names). NC1 goes on a log axis when positive; the dotted line at ratio 1 is "no fine structure".
    """
    kind = "layer_curves"
    names = [str(v) for v in _need(data, "layers", kind)]
    nc1 = _floats(_need(data, "nc1", kind), "nc1")
    ratio = _floats(data["ratio"], "ratio") if data.get("ratio") is not None else None
    dims = list(data.get("dims") or [])
    _same_length(kind, layers=np.array(names), nc1=nc1, **({"ratio": ratio} if ratio is not None else {}))
    if dims and len(dims) != len(names):
        raise ValueError(f"{kind}: dims has {len(dims)} entries for {len(names)} layers")
    ticks = [f"{name} ({dims[i]})" if dims else name for i, name in enumerate(names)]
    panels = [("NC1 = Tr(Σ_W Σ_B⁺)/C (training labels)", nc1, PALETTE[0])]
    if ratio is not None and np.isfinite(ratio).any():
        panels.append(("mean squared distance ratio (App. B)", ratio, PALETTE[1]))
    width = max(3.2, 0.42 * len(names) + 1.2)
    fig = Figure(figsize=(width * len(panels), 3.3))
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    x = np.arange(len(names))
    for ax, (title, y, colour) in zip(axes, panels):
        ax.plot(x, y, marker="o", color=colour)
        ax.set_title(f"{title}\nlast layer: {_fmt(y[-1])}" if len(y) else title)
        ax.set_xticks(x, ticks, rotation=60, ha="right", fontsize=7)
        ax.set_xlabel("layer (feature dimension)" if dims else "layer")
        if y is nc1 and np.isfinite(y).any() and np.all(y[np.isfinite(y)] > 0):
            ax.set_yscale("log")
        if y is ratio:
            ax.axhline(1.0, color="0.4", linestyle=":", linewidth=1)
            top = np.nanmax(y) if np.isfinite(y).any() else 1.0
            ax.set_ylim(0, max(1.2, float(top) * 1.15))
    return fig


# -- Fig. 1's idea: the report's first picture ------------------------------------------------------
def overview(data: dict) -> Figure:
    """What a reader should see first (the idea of the paper's Fig. 1): a 2-D embedding of one
    experiment's last-layer features, coloured by superclass, the original classes inside each told
    apart by marker, next to its NC1 curve: the coarse classes collapse while the original ones stay
    visible inside them.

    data: experiment, class_names, superclass_of [superclass per original class], points [[x, y]],
    labels [original class per point], epochs, nc1, terminal_epoch (optional).
    """
    kind = "overview"
    points = np.asarray(_need(data, "points", kind), dtype=np.float64)
    labels = np.asarray(_need(data, "labels", kind), dtype=np.int64)
    superclass_of = np.asarray(_need(data, "superclass_of", kind), dtype=np.int64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError(f"{kind}: 'points' must be [[x, y]] with one label per point")
    names = [str(c) for c in data.get("class_names") or range(len(superclass_of))]
    epochs = _floats(_need(data, "epochs", kind), "epochs")
    nc1 = _floats(_need(data, "nc1", kind), "nc1")
    _same_length(kind, epochs=epochs, nc1=nc1)
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
