"""The Jinja2 environment of a page: its package's templates first, then the kit's (figure.html.j2: the
`figure` macro; page.css: the look every page shares)."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from .format import slug

__all__ = ["environment"]


@lru_cache(maxsize=None)
def environment(package: str) -> jinja2.Environment:
    """The environment of the templates in `package`'s templates/ folder (package data), with the kit's
    beside them; autoescaping, and a misspelt field is an error rather than an empty cell."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader(package, "templates"),
                                    jinja2.PackageLoader(__package__, "templates")]),
        autoescape=True,                # every value is text from a record or a measurement: escape it all
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["slug"] = slug
    return env
