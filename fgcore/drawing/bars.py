"""Bars: CLP against LPO and OT with CLP's clusters scored as the coarse-to-fine literature does (paper
Fig. 9, 36, 43), and the distance ratio per kind of superclass (Sec. 5)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .inputs import floats, fmt, need
from .style import MISSED_100, PALETTE


def bar_labels(ax, bars, values) -> None:
    for bar, value in zip(bars, values):
        ax.annotate(fmt(value), xy=(bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 2),
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
    entries = [("CLP\n(clusters from\ncoarse labels)", need(data, "clp", kind)),
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
    bar_labels(ax, bars, [e[1] for e in entries])
    if data.get("chance") is not None:
        chance = float(data["chance"])
        ax.axhline(chance, color=MISSED_100, linestyle="--", linewidth=1)
        ax.annotate(f"chance {fmt(chance)}", xy=(1, chance), xycoords=("axes fraction", "data"), ha="right",
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
        values = floats([need(r, key, kind) for r in rows], f"{kind} discovery {key}")
        ax.bar(x + (i - 1) * width, values, width, color=colour, label=label)
        lowest = min(lowest, float(np.nanmin(values)) if np.isfinite(values).any() else 0.0)
    for i, r in enumerate(rows):
        if r.get("chance") is not None:
            ax.hlines(float(r["chance"]), i - 1.5 * width, i - 0.5 * width, color=MISSED_100, linestyle="--",
                      linewidth=1.4, zorder=3)
    names = [str(need(r, "label", kind)) + (f"\nNMI {fmt(float(r['nmi']))}, ARI {fmt(float(r['ari']))}\nover all samples"
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


def ratio_bars(data: dict) -> Figure:
    """Mean squared distance ratio per kind of superclass (Sec. 5: natural vs random groups).

    data: bars {name: ratio}, per_group {name: {group: ratio}} (optional, drawn as dots on the bar).
    The dotted line at 1 is "no fine structure" (App. B).
    """
    kind = "ratio_bars"
    bars = need(data, "bars", kind)
    if not isinstance(bars, dict) or not bars:
        raise ValueError(f"{kind}: 'bars' must be an object {{name: ratio}}")
    names = list(bars)
    values = floats([bars[k] for k in names], "bars")
    fig = Figure(figsize=(4.2, 2.9))
    ax = fig.subplots()
    drawn = ax.bar(names, values, color=[PALETTE[i % len(PALETTE)] for i in range(len(names))], width=0.55,
                   alpha=0.85)
    bar_labels(ax, drawn, values)
    per_group = data.get("per_group") or {}
    for i, name in enumerate(names):
        groups = per_group.get(name) or {}
        if not isinstance(groups, dict):
            continue
        ys = floats(list(groups.values()), f"per_group[{name!r}]")
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
