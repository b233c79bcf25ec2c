"""pytest-html: Claim, Measured, Threshold and Claim-verdict columns in pytest-html's results table.

The cells; the plugin's pytest-html hooks (optional: harmless when pytest-html is not installed) put
them in. The claims report (fgcore.report) never depends on them.
The values come from the claim record the fgcore plugin attaches to the test's report as the
user property "fg_claim" (JSON): user properties survive pytest-xdist's report serialisation, while
ad-hoc attributes set on a report on a worker do not reach the controller.
"""

from __future__ import annotations

import html
import json
from typing import Any

from ..vocabulary import OP_SYMBOLS

RECORD_PROPERTY = "fg_claim"   # the key the claims session uses in report.user_properties
HEADERS = ['<th class="sortable" data-column-type="claim">Claim</th>', "<th>Measured</th>", "<th>Threshold</th>",
           '<th class="sortable" data-column-type="claimVerdict">Claim verdict</th>']
POSITION = 2   # after pytest-html's Result and Test columns


def claim_record(report: Any) -> dict[str, Any] | None:
    """The claim record attached to a test report, or None for a report of a non-claim test."""
    for key, value in getattr(report, "user_properties", None) or ():
        if key == RECORD_PROPERTY:
            try:
                return json.loads(value)
            except (TypeError, ValueError):
                return None
    return None


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else html.escape(str(value))


def row_cells(record: dict[str, Any] | None) -> list[str]:
    """The four cells for one results row (empty cells for tests that are not claims)."""
    if record is None:
        return ['<td class="col-claim"></td>', "<td></td>", "<td></td>", '<td class="col-claimVerdict"></td>']
    claim = html.escape(f"{record.get('id')} [{record.get('experiment') or '-'}]")
    op = OP_SYMBOLS.get(record.get("op"), html.escape(str(record.get("op") or "")))
    threshold = f"{op} {_num(record.get('threshold'))}" if record.get("threshold") is not None else ""
    return [f'<td class="col-claim">{claim}</td>', f"<td>{_num(record.get('value'))}</td>", f"<td>{threshold}</td>",
            f'<td class="col-claimVerdict">{html.escape(str(record.get("verdict") or ""))}</td>']


def add_header(cells: list[str]) -> None:
    cells[POSITION:POSITION] = HEADERS


def add_row(report: Any, cells: list[str]) -> None:
    if cells:  # another plugin may empty the list to drop the row: keep it dropped
        cells[POSITION:POSITION] = row_cells(claim_record(report))
