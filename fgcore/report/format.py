"""How the report writes numbers, thresholds and names (plain text: the page template escapes it)."""

from __future__ import annotations

import math
import re
from typing import Any

from ..vocabulary import OP_SYMBOLS

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


def op_symbol(op: Any) -> str:
    return OP_SYMBOLS.get(op, "" if op is None else str(op))


def threshold_text(op: Any, threshold: Any) -> str:
    """"≤ 0.1" for a check's comparison; a dash without a threshold."""
    if threshold is None:
        return DASH
    return f"{op_symbol(op)} {num(threshold)}"


def slug(text: Any) -> str:
    """Lower-case letters, digits and dashes: for CSS classes and anchors."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def anchor(record: dict) -> str:
    """The id of a record's section on the page (what the claims table links to)."""
    return f"claim-{slug(record['id'])}--{slug(record.get('experiment') or 'none')}-{slug(record.get('tier') or '')}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """"1 control", "2 controls"."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
