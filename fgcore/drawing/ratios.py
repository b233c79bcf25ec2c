"""Distance ratios against a parameter: the mean squared distance ratio against sigma^2 or tau^2 (App. B,
Fig. 17, 18) and the within- over across-cluster distance against the input dimension (Sec. 7)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .inputs import axis_label, floats, fmt, need, same_length
from .style import MISSED_100, PALETTE


def gmm_curves(data: dict) -> Figure:
    """Mean squared distance ratio against sigma^2 or tau^2, one curve per setting (paper Fig. 17, 18).

    data: x_name, log_x, curves [{label, x, y (median over seeds), y_seeds [[per seed at x_i]],
    reached_100 [bool per x]}]. Seeds are small dots beside the median; points where a seed did not
    reach 100% training accuracy get a red ring (the paper draws them in red).
    """
    kind = "gmm_curves"
    curves = need(data, "curves", kind)
    if not isinstance(curves, list) or not curves:
        raise ValueError(f"{kind}: 'curves' must be a non-empty list")
    fig = Figure(figsize=(6.0, 3.3))
    ax = fig.subplots()
    missed_any = False
    for i, curve in enumerate(curves):
        where = f"{kind} curve {curve.get('label', i)!r}"
        x = floats(need(curve, "x", where), f"{where} x")
        y = floats(need(curve, "y", where), f"{where} y")
        same_length(where, x=x, y=y)
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(x, y, marker="o", color=colour, label=str(curve.get("label", f"curve {i + 1}")), zorder=2)
        for xi, seeds in zip(x, curve.get("y_seeds") or []):
            seeds = floats(seeds if isinstance(seeds, list) else [seeds], f"{where} y_seeds")
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
    ax.set_xlabel(axis_label(str(data.get("x_name", "x"))))
    ax.set_ylabel("mean squared distance ratio")
    handles, labels = ax.get_legend_handles_labels()
    if missed_any:
        handles.append(Line2D([], [], marker="o", linestyle="none", markerfacecolor="none",
                                               markeredgecolor=MISSED_100, markersize=8, markeredgewidth=1.5))
        labels.append("< 100% training accuracy")
    ax.legend(handles, labels, loc="upper left")
    return fig


def theory_ratio(data: dict) -> Figure:
    """Within- over across-cluster squared distance of the hidden layer against d (Sec. 7, Thm. 7.1).

    data: d, ratio, control (optional, C1 and C2 with one mean), untrained (optional, the same network
    before training), threshold (optional), ratio_seeds (optional, [[per seed at d_i]]).
    """
    kind = "theory_ratio"
    d = floats(need(data, "d", kind), "d")
    ratio = floats(need(data, "ratio", kind), "ratio")
    same_length(kind, d=d, ratio=ratio)
    fig = Figure(figsize=(5.2, 3.1))
    ax = fig.subplots()
    ax.plot(d, ratio, marker="o", color=PALETTE[0], label="trained net: C1 vs C2 (same label)")
    for di, seeds in zip(d, data.get("ratio_seeds") or []):
        seeds = floats(seeds if isinstance(seeds, list) else [seeds], "ratio_seeds")
        ax.scatter(np.full(len(seeds), di), seeds, s=7, color=PALETTE[0], alpha=0.45, linewidths=0)
    top = np.nanmax(ratio) if np.isfinite(ratio).any() else 1.0
    if data.get("control") is not None:
        control = floats(data["control"], "control")
        same_length(kind, d=d, control=control)
        ax.plot(d, control, marker="s", color="0.5", linestyle="--", label="control: C1, C2 share one mean")
        if np.isfinite(control).any():
            top = max(top, np.nanmax(control))
    if data.get("untrained") is not None:
        untrained = floats(data["untrained"], "untrained")
        same_length(kind, d=d, untrained=untrained)
        ax.plot(d, untrained, marker="^", color=PALETTE[1], linestyle=":", label="untrained net (the input alone)")
        if np.isfinite(untrained).any():
            top = max(top, np.nanmax(untrained))
    if data.get("threshold") is not None:
        threshold = float(data["threshold"])
        ax.axhline(threshold, color=MISSED_100, linestyle=":", linewidth=1.2,
                   label=f"threshold {fmt(threshold)}")
        top = max(top, threshold)
    ax.set_xscale("log")
    ax.set_ylim(0, max(1.1, top * 1.15))
    ax.set_xlabel("input dimension $d$")
    ax.set_ylabel("within / across cluster\nsquared distance")
    ax.legend(loc="lower left", fontsize=7)
    return fig
