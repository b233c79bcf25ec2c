"""A record's negative controls, read the same way by the page, `fgcore compare` and the baselines.

Records written since controls became per check carry, for each check, the controls on which that
check must fail ("checks"[i]["controls"]: role, experiment, description, values, value, spread,
passed, status, note) and, for the record, one entry per control ("controls": role, experiment,
description, status, message). Older records carry a single control object ("control": description,
checks, verdict) whose verdict was taken over all its checks; they still read: `record_controls`
turns it into one control, and `per_check_statuses` is empty for them (nothing per check to compare).
Statuses are matched exactly against fgcore.vocabulary, never by substring.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .format import plural
from .payload import is_finite, number
from ..vocabulary import CONTROL_ERROR, CONTROL_STATUSES, FAILS_AS_EXPECTED, PASSES_DEFECT

# How a status reads after a count of more than one ("2 fail as expected").
PLURAL_STATUS = {FAILS_AS_EXPECTED: "fail as expected", PASSES_DEFECT: "pass (defect)", CONTROL_ERROR: "errors"}
# The worst status first: what a control, or a record's controls together, amount to.
SEVERITY = (CONTROL_ERROR, PASSES_DEFECT, FAILS_AS_EXPECTED)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def checks(record: dict[str, Any]) -> list[dict[str, Any]]:
    return _dicts(record.get("checks"))


def per_check(record: dict[str, Any]) -> bool:
    """Whether the record has controls per check (the current shape) rather than one control object."""
    return "controls" in record or any("controls" in c for c in checks(record))


def check_controls(check: dict[str, Any]) -> list[dict[str, Any]]:
    """The controls measured for one check (current shape; [] for older records)."""
    return _dicts(check.get("controls"))


def control_key(control: dict[str, Any]) -> str:
    """How a control is named in a baseline and in `fgcore compare`: its experiment (else its role)."""
    return str(control.get("experiment") or control.get("role") or control.get("description") or "control")


def check_control_status(control: dict[str, Any]) -> str:
    """The status of one check on one control: as recorded, or (when a record lacks it) derived from
    the value: a value that is not a finite number is an error, a check that holds is a defect."""
    status = control.get("status")
    if isinstance(status, str) and status:
        return status
    values = [number(v) for v in (control.get("values") or {}).values()]
    if any(v is not None and not is_finite(v) for v in values) or not is_finite(number(control.get("value"))):
        return CONTROL_ERROR
    return PASSES_DEFECT if control.get("passed") else FAILS_AS_EXPECTED


def worst(statuses: list[str]) -> str | None:
    """error before passes (defect) before fails as expected; an unknown status counts as an error."""
    if not statuses:
        return None
    if any(s not in CONTROL_STATUSES for s in statuses):
        return CONTROL_ERROR
    return next(s for s in SEVERITY if s in statuses)


def record_controls(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's controls, each {"key", "role", "experiment", "description", "status", "message"}.

    From the record's "controls" list when present; else gathered from its checks' controls (each
    control's status the worst over its checks); else the older single "control" object (its verdict
    as the status; None when no control was recorded); else [].
    """
    if per_check(record):
        listed = _dicts(record.get("controls"))
        gathered: dict[str, dict[str, Any]] = {}
        for check in checks(record):
            for control in check_controls(check):
                entry = gathered.setdefault(control_key(control), {**control, "statuses": []})
                entry["statuses"].append(check_control_status(control))
        out = []
        for control in listed or list(gathered.values()):
            key = control_key(control)
            status = control.get("status") if listed else worst(control["statuses"])
            out.append({"key": key, "role": control.get("role"), "experiment": control.get("experiment"),
                        "description": control.get("description"), "status": status or None,
                        "message": control.get("message")})
        # a control that a check names but the record's list forgot still gets its column
        known = {c["key"] for c in out}
        for key, control in gathered.items():
            if key not in known:
                out.append({"key": key, "role": control.get("role"), "experiment": control.get("experiment"),
                            "description": control.get("description"), "status": worst(control["statuses"]),
                            "message": None})
        return out
    control = record.get("control")
    if isinstance(control, dict) and (control.get("verdict") or _dicts(control.get("checks"))):
        return [{"key": "control", "role": None, "experiment": None, "description": control.get("description"),
                 "status": control.get("verdict"), "message": None}]
    return []


def overall_status(record: dict[str, Any]) -> str | None:
    """What the record's controls amount to (worst first), or None when it has none.

    A record's own "control"/"verdict" is used when present (it is what the claim test concluded)."""
    control = record.get("control")
    if isinstance(control, dict) and isinstance(control.get("verdict"), str) and control["verdict"]:
        return control["verdict"]
    return worst([c["status"] for c in record_controls(record) if c["status"]])


def summary(record: dict[str, Any]) -> dict[str, Any] | None:
    """The claims table's control cell, or None when the record has no control:
    {"text": "2 controls: all fail as expected", "head": "2 controls", "parts": [{"text", "css"}]}
    (css: ok, defect, error or none, one part per status, the worst first)."""
    found = record_controls(record)
    if not found:
        return None
    statuses = [c["status"] or "not recorded" for c in found]
    counts = Counter(statuses)
    if len(found) == 1:
        parts = [(statuses[0], statuses[0])]
    elif set(counts) == {FAILS_AS_EXPECTED}:
        parts = [(f"all {PLURAL_STATUS[FAILS_AS_EXPECTED]}", FAILS_AS_EXPECTED)]
    else:
        order = [s for s in SEVERITY if s in counts] + sorted(s for s in counts if s not in SEVERITY)
        parts = [(f"{counts[s]} {s if counts[s] == 1 else PLURAL_STATUS.get(s, s)}", s) for s in order]
    head = plural(len(found), "control")
    return {"text": f"{head}: " + ", ".join(text for text, _ in parts), "head": head,
            "parts": [{"text": text, "css": status_class(None if s == "not recorded" else s)} for text, s in parts]}


def status_class(status: str | None) -> str:
    """A CSS hint for a control status: ok, defect, error (an unknown word too), or none (not recorded)."""
    if status is None:
        return "none"
    return {FAILS_AS_EXPECTED: "ok", PASSES_DEFECT: "defect"}.get(status, "error")


def per_check_statuses(record: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{check name: {control key: status}} of a record with per-check controls ({} for older records)."""
    out: dict[str, dict[str, str]] = {}
    if not per_check(record):
        return out
    for check in checks(record):
        statuses = {control_key(c): check_control_status(c) for c in check_controls(check)}
        out[str(check.get("name"))] = statuses
    return out
