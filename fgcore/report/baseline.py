"""Committed baselines for CI (reports/baseline/fast.json, slow.json): a compact form of a claims payload.

A baseline keeps, per record, only what `fgcore compare` looks at: id, experiment, tier, verdict,
value (rounded to 6 significant digits: far below any claim's tolerance, and stable in git diffs),
tolerance, the verdict of its controls taken together, for records with controls per check the
status of each check on each control ({check name: {control experiment: status}}), and each check's
value with its tolerance ({check name: {"value", "tolerance"}}). One record per line, sorted by (id,
experiment), so a change of one claim is a one-line diff. It keeps the payload's "claims" list shape,
so `fgcore compare` and `load_payload` read baselines and full payloads alike. Baselines written before
controls were per check have no "controls" field, those written before every check had a tolerance no
"checks" field; they still read (compare then looks at what they have).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import controls
from ..fileio import atomic_write_text
from .payload import load_payload, number, select_tiers, verdict

FORMAT = "fgcore-claims-baseline/1"
FIELDS = ("id", "experiment", "tier", "verdict", "value", "tolerance", "control_verdict", "controls", "checks")


def control_verdict(record: dict[str, Any]) -> str | None:
    """The verdict of a record's controls taken together, from a full record or a compact one."""
    if "control_verdict" in record:
        return record["control_verdict"]
    return controls.overall_status(record)


def control_statuses(record: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{check name: {control: status}} from a full record or a compact one ({} when not per check)."""
    if "control_verdict" in record:   # a compact record: what it stored (nothing in older baselines)
        stored = record.get("controls")
        return {str(name): dict(per) for name, per in stored.items() if isinstance(per, dict)} \
            if isinstance(stored, dict) else {}
    return controls.per_check_statuses(record)


def check_values(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{check name: {"value", "tolerance"}} from a full record or a compact one ({} for older baselines
    and records without checks). Values are rounded as the baseline stores them."""
    if "control_verdict" in record:   # a compact record
        stored = record.get("checks")
        return {str(name): dict(entry) for name, entry in stored.items() if isinstance(entry, dict)} \
            if isinstance(stored, dict) else {}
    return {str(check.get("name")): {"value": _rounded(check.get("value")), "tolerance": number(check.get("tolerance"))}
            for check in controls.checks(record)}


def _rounded(value: Any) -> float | str | None:
    x = number(value)
    if x is None:
        return None
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)   # JSON has no nan/inf; records store them as strings too
    return float(f"{x:.6g}")


def compact_record(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "experiment": record.get("experiment"), "tier": record.get("tier"),
            "verdict": verdict(record), "value": _rounded(record.get("value")),
            "tolerance": number(record.get("tolerance")), "control_verdict": control_verdict(record),
            "controls": control_statuses(record) or None, "checks": check_values(record) or None}


def from_payload(payload: dict[str, Any] | str | Path, tiers: list[str] | None = None) -> dict[str, Any]:
    """The compact baseline of a claims payload (or of a baseline: compacting twice changes nothing).

    tiers: keep only records of these tiers (e.g. ["fast"] for reports/baseline/fast.json from a full run).
    """
    payload = select_tiers(load_payload(payload), tiers)
    records = sorted((compact_record(r) for r in payload["claims"]),
                     key=lambda r: (r["id"], r["experiment"] or "", r["tier"] or ""))
    source = payload.get("source") if payload.get("format") == FORMAT else None
    if source is None:
        source = {"created": payload.get("created"), "markexpr": payload.get("markexpr"),
                  "profile": (payload.get("options") or {}).get("profile")}
    return {"format": FORMAT, "source": source, "claims": records}


def dumps(baseline: dict[str, Any]) -> str:
    """JSON text with one record per line (readable diffs), fields in a fixed order."""
    head = {k: v for k, v in baseline.items() if k != "claims"}
    lines = [json.dumps({field: record.get(field) for field in FIELDS}) for record in baseline["claims"]]
    body = ",\n  ".join(lines)
    head_text = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items())
    return "{\n" + head_text + ',\n"claims": [\n  ' + body + ("\n]" if lines else "]") + "\n}\n"


def write(path: str | Path, payload: dict[str, Any] | str | Path, tiers: list[str] | None = None) -> Path:
    """Write the baseline of `payload` to `path` atomically (a reader never sees half a file)."""
    return atomic_write_text(Path(path), dumps(from_payload(payload, tiers)))
