"""The learning-rate x weight-decay grid: each configuration's final training error (App. C) and its CLP,
LPO and OT (Fig. 28)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .inputs import floats, fmt, matrix, need
from .style import MISSED_100, PALETTE


def grid_clp_bars(data: dict) -> Figure:
    """CLP, LPO (and OT where given) per configuration of the learning-rate x weight-decay grid (paper
    Fig. 28), each configuration's chance level marked and its same-superclass D / diagonal D written
    under its name: how much fine structure each configuration keeps.

    data: configurations [{label, clp, lpo, ot (optional), chance (optional), diag_ratio (optional),
    left_out (optional: true for a point the claim leaves out, drawn hatched)}].
    """
    kind = "grid_clp_bars"
    configurations = need(data, "configurations", kind)
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
    names = [str(need(c, "label", kind)) + (f"\nD ratio {fmt(float(c['diag_ratio']))}"
                                              if c.get("diag_ratio") is not None else "")
             for c in configurations]
    ax.set_xticks(x, names, fontsize=7)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("test accuracy (original classes)")
    ax.grid(axis="x", visible=False)
    ax.legend(fontsize=7, ncol=len(bars), loc="lower right", title="red dashes: chance; hatched: left out",
              title_fontsize=6.5)
    return fig


def grid_errors(data: dict) -> Figure:
    """Final training error of each (learning rate, weight decay) of the grid (App. C).

    data: lr, weight_decay, train_error [[per lr][per wd]], excluded [[lr, wd]] (cells the claim leaves out).
    """
    kind = "grid_errors"
    lrs = floats(need(data, "lr", kind), "lr")
    wds = floats(need(data, "weight_decay", kind), "weight_decay")
    err = matrix(need(data, "train_error", kind), "train_error")
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
