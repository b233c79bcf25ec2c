"""How the claims report writes thresholds and anchors; numbers and names as every page writes them
(fgcore.drawing.format). Plain text: the page template escapes it."""

from __future__ import annotations

from typing import Any

from ..drawing.format import DASH, num, plural, slug
from ..vocabulary import OP_SYMBOLS

__all__ = ["DASH", "anchor", "num", "op_symbol", "plural", "slug", "threshold_text"]


def op_symbol(op: Any) -> str:
    return OP_SYMBOLS.get(op, "" if op is None else str(op))


def threshold_text(op: Any, threshold: Any) -> str:
    """"≤ 0.1" for a check's comparison; a dash without a threshold."""
    if threshold is None:
        return DASH
    return f"{op_symbol(op)} {num(threshold)}"


def anchor(record: dict) -> str:
    """The id of a record's section on the page (what the claims table links to)."""
    return f"claim-{slug(record['id'])}--{slug(record.get('experiment') or 'none')}-{slug(record.get('tier') or '')}"
