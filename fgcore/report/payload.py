"""Reading a claims payload (the JSON the claims plugin writes) and the small facts the report needs.

The payload shape is documented in fgcore/suite/session.py (ClaimsSession.finish) and
fgcore/suite/record.py (ClaimRecord.to_dict). Records are read defensively (`.get` with defaults):
a report about an old or partial session should still render.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable

from ..suite.catalog import CLAIMS
from ..vocabulary import NOT_RUN, TIER_ORDER


def load_payload(source: str | Path | dict) -> dict[str, Any]:
    """The payload as a dict: from a path to a JSON file, or a dict already loaded.

    Raises FileNotFoundError for a missing file and ValueError for anything that is not a payload.
    """
    if isinstance(source, dict):
        payload = source
        where = "the payload"
    else:
        path = Path(source)
        if path.is_dir() and (path / "claims.json").is_file():  # a report directory
            path = path / "claims.json"
        if not path.is_file():
            raise FileNotFoundError(f"no claims JSON at {path}: give the file the claims suite wrote "
                                    f"(reports/sessions/*.json or <report dir>/claims.json)")
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc}); was it cut short while being written?") from None
        where = str(path)
    if not isinstance(payload, dict) or not isinstance(payload.get("claims"), list):
        raise ValueError(f"{where} is not a claims payload: expected a JSON object with a 'claims' list "
                         f"(as written by the fgcore pytest plugin, or a baseline written by `fgcore compare --update`)")
    for i, record in enumerate(payload["claims"]):
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise ValueError(f"{where}: claims[{i}] is not a claim record (an object with a string 'id')")
    return payload


def record_key(record: dict[str, Any]) -> tuple[str, str | None]:
    """What the comparison keys on: (claim id, experiment)."""
    return record["id"], record.get("experiment")


def sort_key(record: dict[str, Any]) -> tuple:
    """Catalog order, then tier (fast, slow, gpu), then experiment: the paper's order, not alphabetical."""
    order = list(CLAIMS)
    position = order.index(record["id"]) if record["id"] in CLAIMS else len(order)
    return (position, record["id"], TIER_ORDER.get(record.get("tier") or "", 3),
            record.get("experiment") or "", record.get("test") or "")


def ordered(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=sort_key)


def verdict(record: dict[str, Any]) -> str:
    value = record.get("verdict")
    return value if isinstance(value, str) and value else NOT_RUN


def number(value: Any) -> float | None:
    """A recorded number as float (records store non-finite values as "nan"/"inf" strings); None if absent."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def uncovered_ids(records: Iterable[dict[str, Any]]) -> list[str]:
    """Catalog ids that no record covers (listed in the report as "not run")."""
    seen = {r["id"] for r in records}
    return [claim_id for claim_id in CLAIMS if claim_id not in seen]


def uses_jpeg_cifar(payload: dict[str, Any]) -> bool:
    """Whether any record read the JPEG copy of CIFAR-10 (lossy: numbers may differ from the official data)."""
    for record in payload["claims"]:
        for source in record.get("data_sources") or []:
            if "jpeg" in str(source).lower():
                return True
    return False


def is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def select_tiers(payload: dict[str, Any], tiers: Iterable[str] | None) -> dict[str, Any]:
    """The payload with only the records of these tiers (None: all), e.g. the fast records of a full run."""
    if not tiers:
        return payload
    wanted = set(tiers)
    return {**payload, "claims": [r for r in payload["claims"] if r.get("tier") in wanted]}
