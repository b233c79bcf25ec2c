"""The page of a measurement: one self-contained HTML file, drawn with the claims report's kit.

The figures come from the drawing kit the claims report uses too (fgcore.drawing: the class distance
matrices with their lines, the t-SNE panels, CLP against LPO, and NC1 with the distance ratio layer by
layer), the markup is templates/measure.html.j2 (with the kit's figure macro and page.css), and the
values are prepared here.
"""

from __future__ import annotations

import dataclasses
import platform
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..drawing.format import DASH, num
from ..drawing.html import environment
from ..drawing.page import FigureCache, figure_view
from ..drawing.style import DEFAULT_DPI
from .numbers import NUMBERS, plain

if TYPE_CHECKING:   # the page reads a Measurement; measurement.py imports this module to write it
    from .measurement import Measurement

TEMPLATE = "measure.html.j2"

CAPTIONS = {
    "distance_heatmaps": "The class distance matrix D (paper eq. 6) of the original classes on the training and "
                         "the test split, darker = closer, each divided by its mean over pairs in different "
                         "superclasses. Neural Collapse alone predicts the diagonal and the same-superclass "
                         "cells (outlined) equally dark (the paper's Fig. 4b); fine structure keeps the diagonal "
                         "darker (Fig. 5). Below: the darkness of the two kinds of line.",
    "tsne": "t-SNE of the training features of each superclass, coloured by original class (the paper's "
            "Fig. 6): separate clusters are fine structure a clustering can find; purity is that of k-means "
            "clusters on the embedding.",
    "clp_bars": "Cluster-and-Linear-Probe (labels rebuilt by clustering within each superclass, Sec. 4.3) "
                "against a linear probe on the true labels (LPO), on the test split's original classes. Right: "
                "CLP's clusters of the training samples against their original classes, overall and per "
                "superclass, as the coarse-to-fine literature scores them (FALCON, GEORGE): accuracy of the "
                "best one-to-one matching of each superclass's clusters to its classes (red: its chance "
                "level), NMI and ARI within superclasses (0 at chance).",
    "layer_curves": "NC1 and the mean squared distance ratio (App. B) at each layer, input to output: where the "
                    "training labels' classes collapse, and whether the classes inside a superclass stay apart.",
}


def render_page(m: Measurement, *, dpi: int | None = None) -> str:
    """The page of `m` as a string."""
    cache = FigureCache(dpi or DEFAULT_DPI)
    return environment("fgcore.measure").get_template(TEMPLATE).render(view(m, cache))


def view(m: Measurement, cache: FigureCache) -> dict[str, Any]:
    """Everything measure.html.j2 shows, as plain values."""
    meta = m.meta
    label = f"{meta['model']} on {meta['data']} ({meta['labeling']})"
    family = list(metrics.METRICS)
    fine = [k for k in NUMBERS if k not in family and m.numbers.get(k) is not None]
    return {
        "title": f"fgcore measure: {label}",
        "what": _what(m),
        "collapse": [_row(k, m.numbers.get(k)) for k in family],
        "others": [_row(k, m.numbers[k]) for k in fine],
        "notes": list(m.notes),
        "figures": [_figure(kind, data, cache, label) for kind, data in _figure_data(m)],
        "layers": None if m.layers is None else {
            "figure": _figure("layer_curves", _layer_data(m.layers), cache, label),
            "rows": [{"layer": r["layer"], "dim": num(r["dim"]), "nc1": num(r["nc1"]), "ratio": num(r["ratio"]),
                      "note": r.get("note") or ""} for r in m.layers]},
        "environment": [("python", platform.python_version()), ("torch", str(meta.get("torch") or DASH)),
                        ("device", str(meta.get("device") or DASH)),
                        ("feature extraction", f"{num(meta.get('extract_seconds'))} s, batch {meta.get('batch_size')}"
                                               + (" (read from the cache)" if meta.get("from_cache") else "")),
                        ("cache entry", str(meta.get("cache") or DASH)), ("key", m.key)],
    }


def _what(m: Measurement) -> list[tuple[str, str]]:
    meta = m.meta
    superclasses = m.superclass_of
    return [
        ("model", str(meta["model"]) + (f" {meta['model_args']}" if meta.get("model_args") else "")),
        ("weights", str(meta.get("checkpoint") or "the module as given")),
        ("weights sha256", str(meta.get("weights_sha256") or DASH)),
        ("representation", f"{meta['representation']}: {meta['feature_dim']} features"),
        ("data", f"{meta['data']} ({meta.get('data_source') or DASH}): {meta['n_train']} training and "
                 f"{meta['n_test']} test samples, {len(meta['class_names'])} classes"),
        ("labeling", f"{meta['labeling']}: {meta['n_train_classes']} labels"
                     + ("" if superclasses is None else f", superclasses of the original classes "
                                                      f"{superclasses.tolist()}")),
    ]


def _row(key: str, value: float | None) -> dict[str, str]:
    name, meaning, target = NUMBERS[key]
    return {"name": name, "value": num(value), "meaning": meaning, "target": target}


def _figure(kind: str, data: dict, cache: FigureCache, label: str) -> dict[str, Any]:
    return figure_view({"kind": kind, "data": plain(data)}, cache, label, CAPTIONS)


def _figure_data(m: Measurement) -> list[tuple[str, dict]]:
    out = []
    superclasses = m.superclass_of
    snapshots, lines = [], []
    for split, title in (("train", "training split"), ("test", "test split")):
        D = m.distance_matrix("last", "original", split)
        snapshots.append({"epoch": split, "title": title, "D": D})
        if superclasses is not None:
            try:
                line = _lines(D, superclasses)
            except ValueError:
                continue
            lines.append({"epoch": split, **line})
    heatmap = {"class_names": m.class_names, "superclass_of": superclasses, "snapshots": snapshots,
               "x_label": "split"}
    if lines:
        heatmap["lines"] = lines
    out.append(("distance_heatmaps", heatmap))
    if m.tsne_panels:
        out.append(("tsne", {"class_names": m.class_names, "superclasses": m.tsne_panels}))
    if m.numbers.get("clp") is not None:
        rows = None if m.discovery is None else (
            [{"label": "overall", **m.discovery["overall"]}]
            + [{"label": f"superclass {s}", **scores} for s, scores in m.discovery["per_superclass"].items()])
        out.append(("clp_bars", {"clp": m.numbers["clp"], "lpo": m.numbers["lpo"], "ot": None,
                                 "chance": m.numbers["clp_chance"], "discovery": rows}))
    return out


def _lines(D, superclasses) -> dict[str, float]:
    return dataclasses.asdict(metrics.structure_lines(D, superclasses))


def _layer_data(layers: list[dict]) -> dict[str, Any]:
    ratios = [r["ratio"] for r in layers]
    data = {"layers": [r["layer"] for r in layers], "nc1": [r["nc1"] for r in layers],
            "dims": [r["dim"] for r in layers]}
    if any(v is not None for v in ratios):
        data["ratio"] = ratios
    return data
