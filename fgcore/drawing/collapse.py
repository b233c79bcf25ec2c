"""Neural Collapse over training and over depth: the collapse family against epochs (paper Fig. 3; Papyan
et al. 2020, Fig. 2-8), its panels and curves read from fgcore.metrics.METRICS, and NC1 with the distance
ratio layer by layer (fgcore measure --layers)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..metrics import METRICS
from .inputs import floats, fmt, need, same_length
from .style import PALETTE

# A panel: (title, [(series key, legend label, colour, line style)], log scale). The collapse family's
# panels come from the metric table, in its order; the accuracies come last.
ACCURACY_PANEL = ("accuracy", [("train_acc", "training", PALETTE[2], "-"), ("test_acc", "test", PALETTE[0], "--")],
                  False)
# The figure of a record written before the trainer recorded the whole family: Fig. 3's three panels.
_FIG3_TITLES = {"nc1": "NC1 (coarse labels)", "nc2": "NC2 (distance to simplex ETF)", "train_acc": "training accuracy"}


def nc_curves(data: dict) -> Figure:
    """Neural Collapse against epochs: NC1, NC2 and training accuracy (paper Fig. 3), and where the data
    has them NC1-NC4 with CDNV, equinorm, equiangularity and test accuracy (Papyan et al. 2020, Fig. 2-8).

    data: epochs, nc1, nc2, train_acc (optional), terminal_epoch (optional: first epoch at 100%), and
    optionally nc3, nc4, cdnv, equinorm, equiangularity, test_acc and any other metric of
    fgcore.metrics.METRICS that has a curve (lists as long as epochs; null where an epoch has no value).
    NC4 is drawn as the mismatch 1 - NC4, as Papyan et al.'s Fig. 7. NC1 (and CDNV beside it) go on a
    log axis when positive: they fall by orders of magnitude. Data with nc1, nc2 and train_acc only
    (records of runs trained before the trainer recorded the rest) gives Fig. 3's three panels.
    """
    kind = "nc_curves"
    epochs = floats(need(data, "epochs", kind), "epochs")
    series = _series(data, kind)
    same_length(kind, epochs=epochs, **series)
    terminal = data.get("terminal_epoch")
    family = any(key in series for key, metric in METRICS.items() if not metric.required)
    panels = _panels(series)
    cols = len(panels) if len(panels) <= 3 else math.ceil(len(panels) / 2)
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(3.3 * cols, 2.6 * rows + (0.35 if family else 0.0)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax, panel in zip(axes, panels):
        _draw_panel(ax, panel, epochs, series, family, terminal)
    if terminal is not None and not family:
        axes[len(panels) - 1].legend(loc="lower right", handlelength=1.5)
    if terminal is not None and family:
        fig.suptitle(f"dashed grey line: the terminal phase (100% training accuracy) from epoch {terminal}",
                     fontsize=7.5, color="0.3")
    return fig


def _series(data: dict, kind: str) -> dict[str, np.ndarray]:
    """The curves the data holds: the table's required metrics (NC1, NC2), the accuracies, the rest of
    the family; a metric drawn as its complement also as "<key>_complement"."""
    series = {key: floats(need(data, key, kind), key) for key, metric in METRICS.items() if metric.required}
    optional = [key for key, metric in METRICS.items() if not metric.required]
    for key in ("train_acc", "test_acc", *optional):
        if data.get(key) is not None:
            series[key] = floats(data[key], key)
    for key, metric in METRICS.items():
        if key in series and metric.curve is not None and metric.curve.complement:
            series[f"{key}_complement"] = 1.0 - series[key]
    return series


def _panels(series: dict[str, np.ndarray]) -> list[tuple[str, list[tuple[str, str, str, str]], bool]]:
    """The panels to draw (see ACCURACY_PANEL): one per metric whose curve has a panel of its own, with
    the curves that join it, in the table's order; a panel is drawn where the data has its own metric."""
    own = {key: metric for key, metric in METRICS.items() if metric.curve is not None and metric.curve.panel is None}
    lines: dict[str, list[tuple[str, str, str | None, str]]] = {key: [] for key in own}
    for key, metric in METRICS.items():
        curve = metric.curve
        if curve is None:
            continue
        panel = key if curve.panel is None else curve.panel
        if panel not in lines:
            raise ValueError(f"metric {key!r}: its curve joins the panel of {panel!r}, which is no metric's own "
                             f"panel (those are {', '.join(own)})")
        shown = f"{key}_complement" if curve.complement else key
        lines[panel].append((shown, curve.label, curve.colour, curve.style))
    panels = [(metric.curve.title or metric.name, _coloured(lines[key]), metric.curve.log)
              for key, metric in own.items()]
    panels.append(ACCURACY_PANEL)
    return [(title, [line for line in drawn if line[0] in series], log) for title, drawn, log in panels
            if drawn[0][0] in series]


def _coloured(lines: list[tuple[str, str, int | None, str]]) -> list[tuple[str, str, str, str]]:
    """Palette indices as colours; a curve without one gets the first colour its panel does not use."""
    taken = {colour for _, _, colour, _ in lines if colour is not None}
    free = iter([i for i in range(len(PALETTE)) if i not in taken] or range(len(PALETTE)))
    return [(key, label, PALETTE[(colour if colour is not None else next(free)) % len(PALETTE)], style)
            for key, label, colour, style in lines]


def _draw_panel(ax, panel, epochs: np.ndarray, series: dict[str, np.ndarray], family: bool, terminal) -> None:
    title, lines, log = panel
    for key, label, colour, style in lines:
        named = f"{label}: {fmt(series[key][-1])}" if len(epochs) else label
        ax.plot(epochs, series[key], marker="o", color=colour, linestyle=style, label=named if family else None)
    first = series[lines[0][0]]
    if not family:
        title = _FIG3_TITLES.get(lines[0][0], title)
        ax.set_title(f"{title}\nlast: {fmt(first[-1])}" if len(first) else title)
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


def layer_curves(data: dict) -> Figure:
    """NC1 and the mean squared distance ratio of each layer of one network, from input to output: where
    collapse begins in depth, and whether fine structure survives it (fgcore measure --layers).

    data: layers [name per layer, input to output], nc1 [per layer], ratio [per layer] (optional; null
    where the labeling merges no classes), dims [feature dimension per layer] (optional, shown under the
    names). NC1 goes on a log axis when positive; the dotted line at ratio 1 is "no fine structure".
    """
    kind = "layer_curves"
    names = [str(v) for v in need(data, "layers", kind)]
    nc1 = floats(need(data, "nc1", kind), "nc1")
    ratio = floats(data["ratio"], "ratio") if data.get("ratio") is not None else None
    dims = list(data.get("dims") or [])
    same_length(kind, layers=np.array(names), nc1=nc1, **({"ratio": ratio} if ratio is not None else {}))
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
        ax.set_title(f"{title}\nlast layer: {fmt(y[-1])}" if len(y) else title)
        ax.set_xticks(x, ticks, rotation=60, ha="right", fontsize=7)
        ax.set_xlabel("layer (feature dimension)" if dims else "layer")
        if y is nc1 and np.isfinite(y).any() and np.all(y[np.isfinite(y)] > 0):
            ax.set_yscale("log")
        if y is ratio:
            ax.axhline(1.0, color="0.4", linestyle=":", linewidth=1)
            top = np.nanmax(y) if np.isfinite(y).any() else 1.0
            ax.set_ylim(0, max(1.2, float(top) * 1.15))
    return fig
