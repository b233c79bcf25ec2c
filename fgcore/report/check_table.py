"""A record's checks as the page's small table: one row per check; columns for its threshold (with
where the number comes from), the experiment's untrained network, the experiment (its value, whether
the check holds, its interval over seeds) and each negative control; the per-seed strip and the reason
for each threshold below each row.

A claim holds when every check holds on its experiment and fails on each of its controls, so each
control cell says what the check did there: "fails as expected" (at k/k seeds), "passes (defect)" (the
check held at some seed: it cannot tell), or "error" (the control gave no usable value). The untrained
network has its own column whether or not a check names it as a control: its value, whether it already
meets the threshold, or why it is absent; where a check names it (the `untrained` role), the cell also
carries that control's status. Older records (one control object whose checks share the claim's check
names) get one "control" column whose cells say whether the check held on it: their verdict was taken
over all the control's checks together and is shown below the table.
"""

from __future__ import annotations

import statistics
from typing import Any

from . import controls
from .format import DASH, num, op_symbol, threshold_text
from .payload import is_finite, number
from ..vocabulary import CONTROL_ERROR, FAILS_AS_EXPECTED, PASSES_DEFECT, UNTRAINED

CONTROL_COLOUR = "#D55E00"   # the controls' marks on a strip (the figures' second colour)
UNTRAINED_COLOUR = "#0072B2"   # the untrained network's mark (the figures' first colour)


def _finite(values: Any) -> list[float]:
    return [v for v in (number(x) for x in (values or {}).values()) if is_finite(v)]


def seeds_text(values: dict | None) -> str:
    """"seeds 0: 0.018, 1: 0.021" (empty without values)."""
    values = values or {}
    if not values:
        return ""
    return f"seed{'s' if len(values) > 1 else ''} " + ", ".join(f"{s}: {num(number(v))}" for s, v in values.items())


def seed_count(series: dict, status: str | None) -> str:
    """"fails at 5/5 seeds", "passes at 1/5 seeds (3)" for a check on a control ("" without values)."""
    values = series.get("values") or {}
    if not values or status not in (FAILS_AS_EXPECTED, PASSES_DEFECT):
        return ""
    passing = [str(s) for s in series.get("passing_seeds") or []]
    if status == FAILS_AS_EXPECTED:
        return f"fails at {len(values) - len(passing)}/{len(values)} seed{'s' if len(values) > 1 else ''}"
    where = f" ({', '.join(passing)})" if passing and len(passing) < len(values) else ""
    return f"passes at {len(passing)}/{len(values)} seed{'s' if len(values) > 1 else ''}{where}"


def interval(check: dict) -> dict[str, str] | None:
    """{"text": "95% interval 0.028 to 0.035 (5 seeds)", "title": how it was computed}, or the reason there
    is none ({"text": "no interval: one seed ..."}); None for records written without intervals."""
    found = check.get("interval")
    if not isinstance(found, dict):
        return None
    low, high = number(found.get("low")), number(found.get("high"))
    if low is None or high is None:
        why = str(found.get("why") or "not recorded")
        return {"text": f"no interval: {why.split(' (')[0]}", "title": why}
    level = number(found.get("confidence"))
    seeds = len(check.get("values") or {})
    return {"text": f"{'' if level is None else f'{level:.0%} '}interval {num(low)} to {num(high)} ({seeds} seeds)",
            "title": str(found.get("method") or "")}


def untrained_cell(check: dict, control: dict | None) -> dict[str, Any]:
    """The check on the experiment's untrained network: its value and whether it already meets the
    threshold there (a warning where it does and the check does not name it as a control), or why it is
    absent; with the control's status where the check names the untrained role."""
    series = check.get("untrained")
    if control is not None:
        status = controls.check_control_status(control)
        return {"value": num(number(control.get("value"))), "text": status, "css": controls.status_class(status),
                "note": control.get("note"), "seeds": seeds_text(control.get("values")),
                "count": seed_count(control, status)}
    if not isinstance(series, dict):
        return {"value": DASH, "text": "not recorded", "css": "none", "note": None, "seeds": "", "count": ""}
    value = number(series.get("value"))
    if value is None:
        return {"value": DASH, "text": "not measured", "css": "none", "note": series.get("note"), "seeds": "",
                "count": ""}
    values = series.get("values") or {}
    passing = series.get("passing_seeds") or []
    meets = bool(series.get("passed"))
    text = "meets the threshold" if meets else "does not meet it"
    count = f"at {len(passing)}/{len(values)} seeds" if meets and len(values) > 1 else ""
    return {"value": num(value), "text": text, "css": "defect" if meets else "none", "note": series.get("note"),
            "seeds": seeds_text(values), "count": count}


def strip(check: dict, control_values: list[list[float]], width: int = 180, height: int = 22) -> dict | None:
    """Where the marks of a check's strip go: the experiment's seeds as grey dots and their median as a
    black tick, each control's seeds as rings and its median as a tick in CONTROL_COLOUR, the untrained
    network's median as a square in UNTRAINED_COLOUR, the threshold as a red line, the side where the check
    holds shaded. None when there is nothing finite to place."""
    values = _finite(check.get("values"))
    threshold = number(check.get("threshold"))
    others = [v for series in control_values for v in series]
    untrained = _finite((check.get("untrained") or {}).get("values"))
    if not (values or others) or not is_finite(threshold):
        return None
    everything = values + others + untrained + [threshold]
    lo, hi = min(everything), max(everything)
    pad = (hi - lo) * 0.15 or (abs(hi) * 0.15 or 1.0)
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return round(4 + (width - 8) * (v - lo) / (hi - lo), 1)

    op = check.get("op")
    passing = (x(threshold), width - 4) if op in (">=", ">") else (4, x(threshold))
    title = [f"threshold {op_symbol(op)} {threshold:.4g}"]
    if values:
        title.insert(0, f"experiment: {', '.join(f'{v:.4g}' for v in values)} (median "
                        f"{statistics.median(values):.4g})")
    title += [f"control: {', '.join(f'{v:.4g}' for v in series)}" for series in control_values if series]
    if untrained:
        title.append(f"untrained network: {', '.join(f'{v:.4g}' for v in untrained)}")
    return {"width": width, "height": height, "mid": height / 2, "top": 3, "band": height - 6,
            "line_end": width - 4, "threshold_x": x(threshold), "threshold_bottom": height - 2,
            "tick_top": 4, "tick_bottom": height - 4,
            "pass_x": passing[0], "pass_width": round(passing[1] - passing[0], 1),
            "dots": [x(v) for v in values], "median_x": x(statistics.median(values)) if values else None,
            "control_dots": [x(v) for v in others],
            "control_medians": [x(statistics.median(series)) for series in control_values if series],
            "untrained_x": x(statistics.median(untrained)) if untrained else None,
            "control_colour": CONTROL_COLOUR, "untrained_colour": UNTRAINED_COLOUR, "title": "; ".join(title)}


def control_cell(control: dict | None, column: dict) -> dict[str, Any]:
    """One check on one control (current shape): {"value", "text", "css", "note", "seeds"}."""
    if control is None:
        if column["status"] == CONTROL_ERROR:
            return {"value": DASH, "text": CONTROL_ERROR, "css": "error",
                    "note": "not measured: see the control below", "seeds": "", "count": ""}
        return {"value": DASH, "text": "not used", "css": "none", "note": None, "seeds": "", "count": ""}
    status = controls.check_control_status(control)
    return {"value": num(number(control.get("value"))), "text": status, "css": controls.status_class(status),
            "note": control.get("note"), "seeds": seeds_text(control.get("values")),
            "count": seed_count(control, status)}


def legacy_cell(control_check: dict | None) -> dict[str, Any]:
    """One check on the single control of an older record: whether the check held there."""
    if control_check is None:
        return {"value": DASH, "text": "not measured", "css": "none", "note": None, "seeds": "", "count": ""}
    passed = control_check.get("passed")
    text = DASH if passed is None else ("holds" if passed else "does not hold")
    return {"value": num(number(control_check.get("value"))), "text": text, "css": "none", "note": None,
            "seeds": seeds_text(control_check.get("values")), "count": ""}


def row(check: dict, cells: list[dict], control_values: list[list[float]], *, missing_control: bool,
        untrained: dict | None = None) -> dict:
    values = check.get("values") or {}
    rule = " (every seed)" if check.get("rule") == "all" else (" (median)" if len(values) > 1 else "")
    passed = check.get("passed")
    return {"name": str(check.get("name") or DASH),
            "threshold": threshold_text(check.get("op"), check.get("threshold")) + rule,
            "value": num(number(check.get("value"))), "passed": passed if isinstance(passed, bool) else None,
            "interval": interval(check), "untrained": untrained,
            "note": check.get("note"), "cells": cells, "strip": strip(check, control_values),
            "seeds": seeds_text(values), "why": check.get("why"), "source": check.get("source"),
            "tolerance": num(number(check.get("tolerance"))) if number(check.get("tolerance")) is not None else None,
            "missing_control": missing_control}


def column(control: dict) -> dict[str, Any]:
    role = control.get("role")
    return {"title": control.get("experiment") or "control",
            "role": str(role).replace("_", " ") if role else None, "description": control.get("description") or "",
            "status": control.get("status"), "css": controls.status_class(control.get("status")),
            "message": control.get("message"), "key": control["key"]}


def table(record: dict) -> dict[str, Any]:
    """The checks table of a record: {"experiment", "untrained" (whether the record has the untrained
    column), "columns" (one per control but the untrained role, which has its own column), "rows" (one per
    check), "span" (the number of columns)}."""
    columns = [column(c) for c in controls.record_controls(record) if c.get("role") != UNTRAINED]
    untrained_refs = [column(c) for c in controls.record_controls(record) if c.get("role") == UNTRAINED]
    legacy = not controls.per_check(record)
    with_untrained = bool(untrained_refs) or any("untrained" in c for c in controls.checks(record))
    rows = []
    if legacy:
        old = record.get("control") if isinstance(record.get("control"), dict) else {}
        by_name = {str(c.get("name")): c for c in old.get("checks") or [] if isinstance(c, dict)}
        for check in controls.checks(record):
            match = by_name.pop(str(check.get("name")), None)
            rows.append(row(check, [legacy_cell(match)] if columns else [],
                            [_finite(match.get("values"))] if match else [], missing_control=False))
        for name, match in by_name.items():   # a control check with no check of that name on the experiment
            shown = {k: match.get(k) for k in ("name", "op", "threshold", "rule")}
            rows.append(row(shown, [legacy_cell(match)], [_finite(match.get("values"))], missing_control=False))
    else:
        for check in controls.checks(record):
            by_key = {controls.control_key(c): c for c in controls.check_controls(check)}
            named = next((c for c in controls.check_controls(check) if c.get("role") == UNTRAINED), None)
            rows.append(row(check, [control_cell(by_key.get(col["key"]), col) for col in columns],
                            [_finite(c.get("values")) for c in by_key.values()], missing_control=not by_key,
                            untrained=untrained_cell(check, named) if with_untrained else None))
    return {"experiment": record.get("experiment") or "experiment", "untrained": with_untrained,
            "untrained_controls": untrained_refs, "columns": columns, "rows": rows,
            "span": 2 + int(with_untrained) + len(columns)}
