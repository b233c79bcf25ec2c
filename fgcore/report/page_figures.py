"""A record's figures as the page shows them: PNG data URIs with a reading guide, or their data as a table.

`figure_view(entry, cache, label)` turns one figure entry of a record ({"kind", "data"}) into plain
values for the page template: an embedded PNG (drawn by fgcore.report.figures, once per distinct
figure: several records often share one), or, for a kind without a drawing or data that cannot be
drawn, the data itself as rows of text, with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from typing import Any

from .. import machine
from . import figures
from .format import num

# What the paper's figure shows and how to read ours (the claim's own statement sits above it).
FIGURE_GUIDE = {
    "nc_curves": "Paper, Fig. 3: NC1 and NC2 against training epochs fall toward 0 (Neural Collapse on the "
                 "coarse labels). Here: NC1 (log scale), NC2 and the training accuracy; the dashed line is "
                 "where the terminal phase (100% training accuracy) begins.",
    "distance_heatmaps": "Paper, Fig. 5 / 14: the class distance matrix D (eq. 6) at four epochs, darker = closer. "
                         "Neural Collapse alone predicts three equally dark lines, the diagonal and the "
                         "same-superclass pairs (Fig. 4b); the paper finds the diagonal darker throughout. "
                         "Here: each D divided by its mean over pairs in different superclasses (one colour "
                         "scale), same-superclass cells outlined in blue; below, the darkness of the diagonal and "
                         "of the superclass lines at each snapshot.",
    "tsne": "Paper, Fig. 6 / 8: t-SNE of the last-layer features of each superclass, coloured by original "
            "class; the original classes form separate clusters. Here: one panel per superclass with the "
            "purity of k-means clusters on the embedding.",
    "clp_bars": "Paper, Fig. 9: Cluster-and-Linear-Probe (labels rebuilt by clustering within each coarse "
                "class) against a linear probe on the true labels (LPO) and a network trained on the "
                "original labels (OT), on the test set with original labels. Right, where drawn: CLP's clusters "
                "of the training samples against their original classes, on the experiment and its controls, as "
                "the coarse-to-fine literature scores them (FALCON, ICML 2024; GEORGE, NeurIPS 2020): accuracy of "
                "the best one-to-one matching of each superclass's clusters to its classes (red: its chance "
                "level), NMI and ARI within superclasses (0 at chance). Recorded, not checked.",
    "ratio_bars": "Paper, Sec. 5 (Fig. 10-13): superclasses of semantically similar classes keep less fine "
                  "structure than random groupings. Here: the mean squared distance ratio (App. B; 1 = no fine "
                  "structure) over natural and over random superclasses, one dot per superclass.",
    "gmm_curves": "Paper, Fig. 17 / 18: the mean squared distance ratio of an MLP trained on a coarsely labelled "
                  "Gaussian mixture grows with the separation of its subclasses; the paper marks in red the runs "
                  "that did not reach 100% training accuracy. Here: median over seeds (line), each seed (dots), "
                  "red rings where training accuracy stayed below 100%.",
    "theory_ratio": "Paper, Sec. 7, Thm. 7.1: a one-hidden-layer net trained on coarse labels keeps the two "
                    "clusters of a label apart: within-cluster distance is much smaller than across. Here: that "
                    "ratio against the input dimension d, for the trained network, the same network before "
                    "training (what the input alone gives) and the control (both clusters share one mean); the "
                    "claim asks the trained ratio to be at most half the untrained one.",
    "overview": "The paper's starting picture (its Fig. 1): trained on coarse labels, the network collapses the "
                "superclasses (NC1 falls toward 0, right), yet inside each superclass (one colour) its original "
                "classes (markers) still sit apart (left): fine structure under Neural Collapse.",
    "grid_clp_bars": "Paper, Fig. 28: CLP, LPO (and OT) for each learning rate x weight decay of the grid; "
                     "every configuration the claim is about keeps CLP far above its chance level (red), and "
                     "how close CLP comes to LPO, like the darkness of the diagonal (D ratio), depends on the "
                     "configuration.",
    "grid_errors": "Paper, App. C: every run of the 3 x 3 learning-rate x weight-decay grid reaches ~0 training "
                   "error except (0.1, 5e-3).",
}


# Below this many distinct figures a page draws them in its own process: starting a process that imports
# matplotlib costs about a second. The fast tier's page has 14 (9 s of drawing on one core).
PARALLEL_FROM = 6


def _key(kind: str, data: Any) -> str:
    return hashlib.sha256(json.dumps([kind, data], sort_keys=True, default=str).encode()).hexdigest()


def _render_or_none(kind: str, data: Any, dpi: int) -> bytes | None:
    """In a child process: the PNG, or None when it cannot be drawn (the page's own process draws it
    again and shows why)."""
    try:
        return figures.render(kind, data, dpi=dpi)
    except Exception:  # noqa: BLE001 - the error is reported by the serial retry
        return None


class FigureCache:
    """Renders each distinct (kind, data) once per page: several records often share one figure."""

    def __init__(self, dpi: int):
        self.dpi = dpi
        self._done: dict[str, bytes | Exception] = {}

    def prerender(self, entries: list[Any], processes: int | None = None) -> None:
        """Draw the distinct figures among `entries` (a record's figure entries) in parallel, `processes`
        at a time (default: the CPUs this process may use), so that `png` finds them drawn. The figures
        are the same as drawn one by one (figures.render starts every figure from matplotlib's defaults)."""
        todo: dict[str, tuple[str, Any]] = {}
        for entry in entries:
            if isinstance(entry, dict) and str(entry.get("kind")) in figures.KINDS:
                key = _key(str(entry["kind"]), entry.get("data"))
                if key not in self._done:
                    todo[key] = (str(entry["kind"]), entry.get("data"))
        processes = processes or machine.usable_cpus()
        if len(todo) < PARALLEL_FROM or processes < 2:
            return
        import concurrent.futures
        import multiprocessing

        # "spawn": the report is often built in pytest's controller, whose threads (pytest-xdist's, the
        # progress reader) make fork unsafe.
        with concurrent.futures.ProcessPoolExecutor(min(processes, len(todo)),
                                                    mp_context=multiprocessing.get_context("spawn")) as pool:
            drawn = pool.map(_render_or_none, *zip(*[(kind, data, self.dpi) for kind, data in todo.values()]))
            for key, png in zip(todo, drawn):
                if png is not None:
                    self._done[key] = png

    def png(self, kind: str, data: Any) -> bytes:
        key = _key(kind, data)
        if key not in self._done:
            try:
                self._done[key] = figures.render(kind, data, dpi=self.dpi)
            except Exception as exc:  # a broken figure must not take the whole report down
                self._done[key] = exc
        result = self._done[key]
        if isinstance(result, Exception):
            raise result
        return result


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, for the img tag (keeps the page from jumping)."""
    return struct.unpack(">II", data[16:24])


def data_rows(data: Any, limit: int = 24) -> dict[str, Any]:
    """Any figure data as text: {"rows": [{"key", "text", "mono"}]} for an object, else {"text"}.

    The fallback for kinds without a drawing and for figures that could not be drawn.
    """
    def cell(value: Any) -> tuple[str, bool]:
        if isinstance(value, list):
            if value and all(isinstance(v, list) for v in value):
                return f"matrix {len(value)} × {len(value[0])}", False
            shown = ", ".join(num(v) if not isinstance(v, (dict, list)) else json.dumps(v)[:60]
                              for v in value[:limit])
            return shown + (f", … ({len(value)} values)" if len(value) > limit else ""), False
        if isinstance(value, dict):
            text = json.dumps(value, sort_keys=True, default=str)
            return text[:400] + ("…" if len(text) > 400 else ""), True
        return num(value), False

    if not isinstance(data, dict):
        return {"text": json.dumps(data, default=str)[:800]}
    rows = []
    for key, value in data.items():
        text, mono = cell(value)
        rows.append({"key": str(key), "text": text, "mono": mono})
    return {"rows": rows}


def figure_view(entry: Any, cache: FigureCache, label: str) -> dict[str, Any]:
    """One figure entry for the template, by its "state":

    - "drawn": src (a PNG data URI), width, height, alt, caption;
    - "unknown" (a kind without a drawing), "error" (data that could not be drawn; `error` says why) or
      "malformed" (an entry that is not an object): the data as `data_rows`.
    """
    if not isinstance(entry, dict):
        return {"state": "malformed", "kind": None, "data": data_rows(entry)}
    kind = str(entry.get("kind"))
    data = entry.get("data")
    if kind not in figures.KINDS:
        return {"state": "unknown", "kind": kind, "data": data_rows(data)}
    try:
        png = cache.png(kind, data)
    except Exception as exc:
        return {"state": "error", "kind": kind, "error": f"{type(exc).__name__}: {exc}", "data": data_rows(data)}
    width, height = png_size(png)
    return {"state": "drawn", "kind": kind, "width": width, "height": height,
            "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "alt": f"{kind} figure of {label}", "caption": FIGURE_GUIDE.get(kind, "")}
