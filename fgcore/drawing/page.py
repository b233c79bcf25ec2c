"""Figures as a page shows them: PNG data URIs with a caption, or their data as a table.

`figure_view(entry, cache, label, captions)` turns one figure entry ({"kind", "data"}: a claim
record's, or one `fgcore measure` page builds) into plain values for the `figure` macro of
templates/figure.html.j2: an embedded PNG (drawn by fgcore.drawing.render, once per distinct figure:
several records often share one), or, for a kind without a drawing or data that cannot be drawn, the
data itself as rows of text, with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from typing import Any, Mapping

from .. import machine
from .format import num
from .render import KINDS, render

__all__ = ["FigureCache", "data_rows", "figure_view", "png_size"]


# Below this many distinct figures a page draws them in its own process: starting a process that imports
# matplotlib costs about a second. The fast tier's page has 14 (9 s of drawing on one core).
PARALLEL_FROM = 6


def figure_key(kind: str, data: Any) -> str:
    """The figure's identity: the same kind and data are drawn once."""
    return hashlib.sha256(json.dumps([kind, data], sort_keys=True, default=str).encode()).hexdigest()


def _render_or_none(kind: str, data: Any, dpi: int) -> bytes | None:
    """In a child process: the PNG, or None when it cannot be drawn (the page's own process draws it
    again and shows why)."""
    try:
        return render(kind, data, dpi=dpi)
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
        are the same as drawn one by one (render starts every figure from matplotlib's defaults)."""
        todo: dict[str, tuple[str, Any]] = {}
        for entry in entries:
            if isinstance(entry, dict) and str(entry.get("kind")) in KINDS:
                key = figure_key(str(entry["kind"]), entry.get("data"))
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
        key = figure_key(kind, data)
        if key not in self._done:
            try:
                self._done[key] = render(kind, data, dpi=self.dpi)
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


def figure_view(entry: Any, cache: FigureCache, label: str, captions: Mapping[str, str]) -> dict[str, Any]:
    """One figure entry for the template, by its "state":

    - "drawn": src (a PNG data URI), width, height, alt, caption (`captions` by kind, else none);
    - "unknown" (a kind without a drawing), "error" (data that could not be drawn; `error` says why) or
      "malformed" (an entry that is not an object): the data as `data_rows`.
    """
    if not isinstance(entry, dict):
        return {"state": "malformed", "kind": None, "data": data_rows(entry)}
    kind = str(entry.get("kind"))
    data = entry.get("data")
    if kind not in KINDS:
        return {"state": "unknown", "kind": kind, "data": data_rows(data)}
    try:
        png = cache.png(kind, data)
    except Exception as exc:
        return {"state": "error", "kind": kind, "error": f"{type(exc).__name__}: {exc}", "data": data_rows(data)}
    width, height = png_size(png)
    return {"state": "drawn", "kind": kind, "width": width, "height": height,
            "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "alt": f"{kind} figure of {label}", "caption": captions.get(kind, "")}
