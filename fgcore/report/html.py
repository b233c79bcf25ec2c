"""The report page: fgcore.report.view's values laid out by the Jinja2 template templates/report.html.j2.

Layout, top to bottom: a summary of verdicts; the claims table (one row per record, coloured by
verdict); skipped claims grouped by reason and catalog ids no record covers; a section per record
with its statement, paper location, checks and controls, and figure(s) side by side; the environment
(versions, device, data sources, run cache keys, time per claim). The page is one self-contained file
(the template inlines the drawing kit's page.css and templates/report.css; figures are PNG data URIs;
no scripts, fonts or links).
The markup and the style live in the template files shipped inside the package; the data is
prepared in Python (fgcore.report.view). Nothing on the page depends on when or where it was built,
so the same payload gives the same bytes.
"""

from __future__ import annotations

from typing import Any

import jinja2

from ..drawing.html import environment
from ..drawing.style import DEFAULT_DPI
from .format import anchor
from .page_figures import FigureCache
from .view import page

__all__ = ["anchor", "jinja_environment", "render_page"]

TEMPLATE = "report.html.j2"


def jinja_environment() -> jinja2.Environment:
    """The Jinja2 environment of the report's templates (package data of fgcore.report) and the drawing
    kit's (fgcore.drawing.html)."""
    return environment("fgcore.report")


def render_page(payload: dict[str, Any], *, dpi: int = DEFAULT_DPI) -> str:
    """The whole page as a string, from a loaded payload (see the module docstring for its layout)."""
    cache = FigureCache(dpi)
    cache.prerender([entry for record in payload["claims"] for entry in record.get("figures") or []])
    return jinja_environment().get_template(TEMPLATE).render(page(payload, cache))
