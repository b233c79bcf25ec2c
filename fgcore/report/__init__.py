"""The claims report: `build(claims_json, out_dir)` writes out_dir/index.html (and out_dir/claims.json).

index.html is one self-contained page (figures embedded as base64 PNG, inline CSS, no scripts, fonts
or links to other files) that a researcher reads instead of the paper's figures; see fgcore.report.html
for its layout (Jinja2 templates in fgcore/report/templates, fed by fgcore.report.view) and the drawing
kit fgcore.drawing for the figures. `fgcore compare` (fgcore.report.compare) checks a session
against a committed baseline (fgcore.report.baseline) for CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text
from .payload import load_payload

__all__ = ["build"]


def build(claims_json: str | Path | dict[str, Any], out_dir: str | Path, *, dpi: int | None = None) -> Path:
    """Write out_dir/index.html from a claims payload (a path to its JSON, or the dict); return its path.

    out_dir/claims.json is written too (a copy of the input) unless the input is that very file, so a
    report directory always holds the records it was drawn from. Both files are written atomically.
    dpi: resolution of the figures (default fgcore.drawing.style.DEFAULT_DPI; tests use less).
    """
    from ..drawing.style import DEFAULT_DPI
    from .html import render_page  # matplotlib is imported only when a report is built

    payload = load_payload(claims_json)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records_copy = out / "claims.json"
    if isinstance(claims_json, dict):
        atomic_write_text(records_copy, json.dumps(payload, indent=1) + "\n")
    else:
        source = Path(claims_json)
        source = source / "claims.json" if source.is_dir() else source
        if not (records_copy.exists() and records_copy.resolve() == source.resolve()):
            atomic_write_text(records_copy, source.read_text(encoding="utf-8"))
    index = out / "index.html"
    atomic_write_text(index, render_page(payload, dpi=dpi or DEFAULT_DPI))
    return index
