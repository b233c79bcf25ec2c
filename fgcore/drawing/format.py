"""How pages write numbers and names (plain text: the page templates escape it)."""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["DASH", "num", "plural", "slug"]

DASH = "—"   # an absent value


def num(value: Any) -> str:
    """A number for people: 4 significant digits; recorded strings ("nan") as they are; None as a dash."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def slug(text: Any) -> str:
    """Lower-case letters, digits and dashes: for CSS classes and anchors."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def plural(count: int, word: str, many: str | None = None) -> str:
    """"1 control", "2 controls"."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
