"""The report page: fgcore.report.view's values laid out by the Jinja2 template templates/report.html.j2.

Layout, top to bottom: a summary of verdicts; the claims table (one row per record, coloured by
verdict); skipped claims grouped by reason and catalog ids no record covers; a section per record
with its statement, paper location, checks and controls, and figure(s) side by side; the environment
(versions, device, data sources, run cache keys, time per claim). The page is one self-contained file
(the template inlines templates/report.css; figures are PNG data URIs; no scripts, fonts or links).
The markup and the style live in the template files shipped inside the package; the data is
prepared in Python (fgcore.report.view). Nothing on the page depends on when or where it was built,
so the same payload gives the same bytes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from . import figures
from .format import anchor, slug
from .page_figures import FigureCache
from .view import page

__all__ = ["anchor", "jinja_environment", "render_page"]

TEMPLATE = "report.html.j2"


@lru_cache(maxsize=1)
def jinja_environment() -> jinja2.Environment:
    """The Jinja2 environment of the report's templates (package data of fgcore.report), autoescaping."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fgcore.report", "templates"),
        autoescape=True,                # every value is text from a record: escape it all
        undefined=jinja2.StrictUndefined,   # a misspelt field is an error, not an empty cell
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["slug"] = slug
    return env


def render_page(payload: dict[str, Any], *, dpi: int = figures.DEFAULT_DPI) -> str:
    """The whole page as a string, from a loaded payload (see the module docstring for its layout)."""
    cache = FigureCache(dpi)
    cache.prerender([entry for record in payload["claims"] for entry in record.get("figures") or []])
    return jinja_environment().get_template(TEMPLATE).render(page(payload, cache))
