"""The drawing kit (fgcore.drawing): the collapse figure reads the metric table, and drawing imports no torch
(the claims report is built in pytest's controller, which never imports it). Every figure kind is drawn
and checked for determinism in tests/test_report.py and tests/test_measure.py."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fgcore import metrics
from fgcore.drawing.collapse import nc_curves
from fgcore.drawing.style import PALETTE

REPO = Path(__file__).resolve().parents[1]
FAMILY = {"epochs": [0, 1, 2], "nc1": [1.0, 0.5, 0.1], "nc2": [0.9, 0.6, 0.3], "train_acc": [0.1, 0.8, 1.0],
          "nc3": [1.0, 0.6, 0.2], "nc4": [0.5, 0.9, 1.0], "cdnv": [2.0, 1.0, 0.5], "equinorm": [0.3, 0.2, 0.1],
          "equiangularity": [0.4, 0.2, 0.1], "test_acc": [0.1, 0.7, 0.8], "terminal_epoch": 2}


def legends(figure) -> list[list[str]]:
    return [[text.get_text() for text in ax.get_legend().get_texts()] for ax in figure.axes if ax.get_legend()]


def test_the_collapse_figure_has_a_panel_per_metric_with_its_own_and_the_curves_that_join_it():
    figure = nc_curves(FAMILY)
    assert [ax.get_title() for ax in figure.axes if ax.get_visible()] == [
        "NC1: within-class variability", "NC2: means vs simplex ETF", "NC3: classifier vs means",
        "NC4: classifier ≠ nearest centre", "accuracy"]
    nc1_panel, nc2_panel, _, nc4_panel, _ = legends(figure)
    assert nc1_panel == ["NC1 = Tr(Σ_W Σ_B⁺)/C: 0.1", "CDNV (Galanti et al.): 0.5"]
    assert [label.split(":")[0] for label in nc2_panel] == ["NC2 (eq. 3)", "equinorm", "equiangularity"]
    assert nc4_panel == ["1 − NC4 (share of samples): 0"]    # drawn as the mismatch 1 - NC4
    assert figure.axes[0].get_yscale() == "log"


def test_a_registered_metric_joins_its_panel_in_a_free_colour(monkeypatch):
    spread = metrics.Metric("spread", "spread", "mean within-class variance", "falls", 0.0,
                            streaming=lambda stats: float(stats.traces.mean()),
                            curve=metrics.Curve("spread", panel="nc2"))
    monkeypatch.setitem(metrics.METRICS, "spread", spread)
    figure = nc_curves({**FAMILY, "spread": [3.0, 2.0, 1.0]})
    nc2_axes = figure.axes[1]
    assert legends(figure)[1][-1] == "spread: 1"
    used = [line.get_color() for line in nc2_axes.get_lines()[:3]]     # NC2, equinorm, equiangularity
    assert nc2_axes.get_lines()[3].get_color() == next(c for c in PALETTE if c not in used)


def test_a_curve_that_joins_no_panel_is_a_clear_error(monkeypatch):
    lost = dataclasses.replace(metrics.METRICS["cdnv"], curve=metrics.Curve("CDNV", panel="nc9"))
    monkeypatch.setitem(metrics.METRICS, "cdnv", lost)
    with pytest.raises(ValueError, match="'cdnv': its curve joins the panel of 'nc9', which is no metric's own"):
        nc_curves(FAMILY)


def test_a_record_from_before_the_family_gives_fig_3s_three_panels():
    old = {key: FAMILY[key] for key in ("epochs", "nc1", "nc2", "train_acc", "terminal_epoch")}
    figure = nc_curves(old)
    assert [ax.get_title().split("\n")[0] for ax in figure.axes if ax.get_visible()] == [
        "NC1 (coarse labels)", "NC2 (distance to simplex ETF)", "training accuracy"]


def test_drawing_the_collapse_figure_imports_no_torch():
    script = ("import sys; sys.modules['torch'] = None\n"   # `import torch` now raises ImportError
              "from fgcore.drawing.render import render\n"
              f"png = render('nc_curves', {FAMILY!r}, dpi=30)\n"
              "print(png[:4] == b'\\x89PNG')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]
