"""`fgcore compare BASELINE CURRENT`: did a change flip a claim, move one of its numbers beyond its
tolerance, or lose it?

Records are keyed by (claim id, experiment). For each key:
- in both, both measured: FLIPPED when the verdict changed; CONTROL when the status of a check on one
  of its negative controls changed (a check that starts passing on a control can no longer fail; one
  that errs there gives no evidence), reported per check and control; for baselines written before
  controls were per check, when the verdict of the controls taken together changed; DRIFT when a
  check's value moved by more than its tolerance (its seed spread, fgcore.suite.catalog
  CHECK_TOLERANCES, as the current record states it, else the baseline; a check without one gets the
  claim's tolerance, and the message says so) or a check of the baseline is no longer recorded. Against a
  baseline that holds only the primary value, that value and the claim's tolerance (the record's
  "tolerance", else the baseline's, else the catalog's; an id outside the catalog without one gets 0:
  any change is reported). All fail.
- measured in the baseline, skipped or not run in the current run: MISSING, which fails: a claim that
  held must not leave CI because its data or device went away, or because an error became a skip.
- only in the baseline: REMOVED, which fails: a claim that silently stops running is a regression of
  coverage.
- skipped or not run in the baseline: "skipped", reported and not compared (a tier without its data or
  device never measured it; the skip reason is in the report).
- only in the current run: "new", reported, does not fail: adding a claim or an experiment is progress;
  `--update` records it.

A MISSING or REMOVED claim can be accepted on purpose (`--accept-missing ID[,ID...]`, a claim id or
ID:EXPERIMENT; `compare(..., accept_missing=...)`): it is then reported as "accepted", with the reason,
and does not fail. Accepting it for good is an `--update` of the baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from ..errors import UsageError
from ..suite.catalog import CLAIMS
from .baseline import check_values, control_statuses, control_verdict
from .payload import load_payload, number, record_key, select_tiers, verdict
from ..vocabulary import NOT_COMPARED

FAILING = ("FLIPPED", "CONTROL", "DRIFT", "MISSING", "REMOVED")
LOST = ("MISSING", "REMOVED")   # what --accept-missing can accept


@dataclass(frozen=True)
class ControlChange:
    """One check whose status on one negative control changed (check None: the controls taken together)."""

    check: str | None
    control: str
    baseline: str | None
    current: str | None

    @property
    def text(self) -> str:
        where = f"check {self.check!r} on control {self.control}" if self.check is not None else "control"
        return f"{where}: {self.baseline or 'not recorded'} -> {self.current or 'not recorded'}"


@dataclass(frozen=True)
class Row:
    id: str
    experiment: str | None
    status: str                    # ok, new, skipped, accepted, or one of FAILING
    baseline_verdict: str | None
    baseline_value: float | None
    current_verdict: str | None
    current_value: float | None
    delta: float | None
    tolerance: float | None
    reason: str = ""
    control_changes: tuple[ControlChange, ...] = ()   # also named in `reason`
    other_reason: str = ""                             # `reason` without the control changes

    @property
    def failed(self) -> bool:
        return self.status in FAILING


@dataclass
class CompareResult:
    rows: list[Row] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(row.failed for row in self.rows)

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)


def _index(payload: dict[str, Any], side: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    out: dict[tuple[str, str | None], dict[str, Any]] = {}
    for record in payload["claims"]:
        key = record_key(record)
        if key in out:
            raise ValueError(
                f"the {side} has two records for claim {key[0]!r} on experiment {key[1]!r} "
                f"({out[key].get('test')} and {record.get('test')}); compare keys records on (id, experiment), "
                f"so give the tests distinct experiments")
        out[key] = record
    return out


def _tolerance(claim_id: str, current: dict | None, baseline: dict | None) -> float:
    for record in (current, baseline):
        value = number((record or {}).get("tolerance"))
        if value is not None:
            return value
    return CLAIMS[claim_id].tolerance if claim_id in CLAIMS else 0.0


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b


def _compare_pair(key: tuple[str, str | None], base: dict, cur: dict) -> Row:
    claim_id, experiment = key
    bv, cv = verdict(base), verdict(cur)
    bx, cx = number(base.get("value")), number(cur.get("value"))
    tolerance = _tolerance(claim_id, cur, base)
    delta = cx - bx if bx is not None and cx is not None else None
    common = dict(id=claim_id, experiment=experiment, baseline_verdict=bv, baseline_value=bx, current_verdict=cv,
                  current_value=cx, delta=delta, tolerance=tolerance)
    if bv in NOT_COMPARED:
        sides = [f"{v} in the {side}" for v, side in ((bv, "baseline"), (cv, "current run")) if v in NOT_COMPARED]
        return Row(status="skipped", reason=" and ".join(sides) + ": not compared", **common)
    if cv in NOT_COMPARED:
        why = f": {cur['message']}" if cur.get("message") else ""
        return Row(status="MISSING", reason=f"{bv} in the baseline, {cv} in the current run{why}", **common)
    problems = []
    status = "ok"
    if bv != cv:
        status = "FLIPPED"
        problems.append(f"verdict {bv} -> {cv}")
    changes = _control_changes(base, cur)
    if status == "FLIPPED" and not control_statuses(cur):
        changes = ()   # nothing measured now (an error, a missed precondition): the flip says it all
    if changes:
        status = "CONTROL" if status == "ok" else status
    if check_values(base):   # every check against its own tolerance
        drifts = [] if status == "FLIPPED" and not check_values(cur) else _check_drifts(base, cur, tolerance)
    else:                    # a baseline with the primary value only
        moved = _drift(bx, cx, tolerance, "the claim's tolerance")
        drifts = [f"value {moved}"] if moved else []
    if drifts:
        problems += drifts
        status = "DRIFT" if status == "ok" else status
    return Row(status=status, reason="; ".join(problems + [c.text for c in changes]), control_changes=changes,
               other_reason="; ".join(problems), **common)


def _drift(before: float | None, after: float | None, tolerance: float, limit: str) -> str | None:
    """How a value moved, when it moved beyond `tolerance` (`limit` names it) or to or from no number;
    else None."""
    if _same_number(before, after):
        return None
    if before is None or after is None or math.isnan(after - before):
        return f"{before} -> {after}"
    if abs(after - before) > tolerance:
        return f"moved by {after - before:+.4g} ({before:.4g} -> {after:.4g}), beyond {limit} {tolerance:g}"
    return None


def _check_drifts(base: dict, cur: dict, fallback: float) -> list[str]:
    """Each check of the baseline whose value moved beyond its tolerance (the current record's, else the
    baseline's, else the claim's `fallback`) or is no longer recorded."""
    before, after = check_values(base), check_values(cur)
    out = []
    for name, entry in before.items():
        now = after.get(name)
        if now is None:
            out.append(f"check {name!r}: in the baseline, not recorded in the current run")
            continue
        own = next((t for t in (number(now.get("tolerance")), number(entry.get("tolerance"))) if t is not None), None)
        limit = "its tolerance" if own is not None else "the claim's tolerance (no measured spread for this check)"
        moved = _drift(number(entry.get("value")), number(now.get("value")), fallback if own is None else own, limit)
        if moved:
            out.append(f"check {name!r}: {moved}")
    return out


def _control_changes(base: dict, cur: dict) -> tuple[ControlChange, ...]:
    """What changed on the controls: per check and control when the baseline has statuses per check,
    else the verdict of the controls taken together (older baselines and payloads)."""
    before, after = control_statuses(base), control_statuses(cur)
    if before:
        return tuple(ControlChange(check, control, status, after.get(check, {}).get(control))
                     for check, per in before.items() for control, status in per.items()
                     if after.get(check, {}).get(control) != status)
    bc, cc = control_verdict(base), control_verdict(cur)
    if bc is not None and bc != cc:
        return (ControlChange(None, "control", bc, cc),)
    return ()


def accepted_keys(accept: Iterable[str]) -> list[tuple[str, str | None]]:
    """(claim id, experiment or None for all of the claim's) from --accept-missing values: "ID", "ID:EXPERIMENT",
    several separated by commas."""
    out = []
    for value in accept:
        for item in filter(None, (part.strip() for part in value.split(","))):
            claim_id, _, experiment = item.partition(":")
            out.append((claim_id, experiment or None))
    return out


def _accept(result: CompareResult, accept: Iterable[str]) -> None:
    """Turn the MISSING and REMOVED rows named by `accept` into "accepted"; a name that matches no such
    row is a usage error (a typo must not look like an accepted loss)."""
    wanted = accepted_keys(accept)
    for claim_id, experiment in wanted:
        matches = [r for r in result.rows if r.id == claim_id and experiment in (None, r.experiment)]
        if not any(r.status in LOST for r in matches):
            lost = ", ".join(f"{r.id}:{r.experiment}" for r in result.rows if r.status in LOST) or "none"
            raise UsageError(f"--accept-missing {claim_id}{':' + experiment if experiment else ''}: no claim of "
                             f"that name is missing or removed in this comparison (missing or removed: {lost})")
    for i, row in enumerate(result.rows):
        if row.status in LOST and any(row.id == c and e in (None, row.experiment) for c, e in wanted):
            result.rows[i] = replace(row, status="accepted",
                                     reason=f"{row.status.lower()}, accepted with --accept-missing: {row.reason}")


def compare(baseline: dict[str, Any] | str | Path, current: dict[str, Any] | str | Path, *,
            tiers: list[str] | None = None, accept_missing: Iterable[str] = ()) -> CompareResult:
    """Compare two claims payloads (or baselines); see the module docstring for the rules.

    tiers: compare only records of these tiers on both sides (e.g. the fast records of a full run
    against reports/baseline/fast.json); None compares everything.
    accept_missing: claim ids ("ID" or "ID:EXPERIMENT", comma-separated allowed) whose loss (MISSING,
    REMOVED) is accepted on purpose.
    """
    base_index = _index(select_tiers(load_payload(baseline), tiers), "baseline")
    cur_index = _index(select_tiers(load_payload(current), tiers), "current run")
    result = CompareResult()
    for key in sorted(set(base_index) | set(cur_index), key=lambda k: (k[0], k[1] or "")):
        base, cur = base_index.get(key), cur_index.get(key)
        if base is not None and cur is not None:
            result.rows.append(_compare_pair(key, base, cur))
            continue
        record = cur if cur is not None else base
        assert record is not None
        value = number(record.get("value"))
        common = dict(id=key[0], experiment=key[1], delta=None, tolerance=_tolerance(key[0], cur, base))
        if cur is None:
            measured = verdict(base) not in NOT_COMPARED
            result.rows.append(Row(status="REMOVED" if measured else "skipped", baseline_verdict=verdict(base),
                                   baseline_value=value, current_verdict=None, current_value=None,
                                   reason="in the baseline but not in the current run" if measured else
                                   f"{verdict(base)} in the baseline and not in the current run", **common))
        else:
            result.rows.append(Row(status="new", baseline_verdict=None, baseline_value=None,
                                   current_verdict=verdict(cur), current_value=value,
                                   reason="not in the baseline (record it with --update)", **common))
    _accept(result, accept_missing)
    return result


# -- printing --------------------------------------------------------------------------------------
def _side(verdict_: str | None, value: float | None) -> str:
    if verdict_ is None:
        return "—"
    return verdict_ if value is None else f"{verdict_} {value:.4g}"


def format_table(result: CompareResult) -> str:
    """A plain-text table (one row per (id, experiment)), the failures explained, and a summary line."""
    header = ("claim", "experiment", "baseline", "current", "delta", "tolerance", "status")
    rows = [(r.id, r.experiment or "—", _side(r.baseline_verdict, r.baseline_value),
             _side(r.current_verdict, r.current_value), "—" if r.delta is None else f"{r.delta:+.3g}",
             "—" if r.tolerance is None else f"±{r.tolerance:g}", r.status) for r in result.rows]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    right = {4, 5}   # numbers right-aligned

    def line(cells) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(header), line("-" * w for w in widths)] + [line(r) for r in rows]
    explained = [r for r in result.rows if r.status not in ("ok",) and r.reason]
    if explained:
        out.append("")
        for r in explained:
            where = f"{r.id} [{r.experiment or '—'}]"
            hint = (f" (to accept this on purpose: --accept-missing {r.id}{':' + r.experiment if r.experiment else ''})"
                    if r.status in LOST else "")
            if r.other_reason or not r.control_changes:
                out.append(f"{r.status:8s} {where}: {r.other_reason or r.reason}{hint}")
            out += [f"{'CONTROL':8s} {where}: {change.text}" for change in r.control_changes]
    compared = sum(r.status not in ("new", "skipped", "accepted") + LOST for r in result.rows)
    summary = (f"{compared} compared: {result.count('ok')} ok, {result.count('FLIPPED')} flipped, "
               f"{result.count('DRIFT')} drifted, {result.count('CONTROL')} control changed; "
               f"{result.count('new')} new, {result.count('MISSING')} missing, {result.count('REMOVED')} removed, "
               f"{result.count('accepted')} accepted, {result.count('skipped')} skipped")
    out += ["", summary + (" -> REGRESSION" if result.failed else " -> no regression")]
    return "\n".join(out)
