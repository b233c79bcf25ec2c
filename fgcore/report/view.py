"""The report's view model: a claims payload turned into the plain values the page template lays out.

Everything the page decides (order of records, counts, banners, how each number is written, where
the marks of a strip go, which figures could be drawn) is decided here; the template
(templates/report.html.j2) only places these values, escaped. Records are read defensively
(`.get` with defaults, as fgcore.report.payload does): a report about an old or partial session
still renders. Nothing here depends on when or where the page is built, so the same payload gives
the same page.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..suite.catalog import CLAIMS
from . import check_table, controls
from .format import DASH, anchor, num, plural, threshold_text
from .page_figures import FigureCache, figure_view
from .payload import number, ordered, uncovered_ids, uses_jpeg_cifar, verdict
from ..vocabulary import CONTROL_ERROR, NOT_RUN, PASSES_DEFECT, SKIPPED, TIER_ORDER, VERDICTS

VERSION_KEYS = ("python", "platform", "torch", "numpy", "scikit-learn", "openTSNE")


def page(payload: dict[str, Any], cache: FigureCache) -> dict[str, Any]:
    """Everything report.html.j2 shows, for one payload (see fgcore.report.payload.load_payload)."""
    records = ordered(payload["claims"])
    uncovered = uncovered_ids(records)
    return {
        "session": session_line(payload),
        "counts": counts(records, uncovered),
        "overview": overview(records, cache),
        "jpeg_cifar": uses_jpeg_cifar(payload),
        "defects": flagged(records, PASSES_DEFECT),
        "control_errors": flagged(records, CONTROL_ERROR),
        "n_records": plural(len(records), "record"),
        "rows": [claim_row(r) for r in records],
        "skipped": skipped_groups(records),
        "uncovered": [{"id": c, "paper": CLAIMS[c].paper, "statement": CLAIMS[c].statement} for c in uncovered],
        "sections": [section(r, cache) for r in records],
        "environment": environment(payload, records),
    }


def overview(records: list[dict], cache: FigureCache) -> dict[str, Any] | None:
    """The page's first picture: the "overview" figure of the richest tier's record that drew one (gpu,
    then slow, then fast), with a link to its claim."""
    candidates = [(r, f) for r in records for f in r.get("figures") or []
                  if isinstance(f, dict) and f.get("kind") == "overview"]
    if not candidates:
        return None
    record, entry = min(candidates, key=lambda rf: -TIER_ORDER.get(rf[0].get("tier") or "", -1))
    return {"figure": figure_view(entry, cache, f"{record['id']} · {record.get('experiment') or '—'}"),
            "link": link(record), "experiment": record.get("experiment") or "—", "tier": record.get("tier") or "—"}


def link(record: dict) -> dict[str, str]:
    return {"anchor": anchor(record), "id": record["id"], "experiment": record.get("experiment") or DASH}


def seconds_text(record: dict) -> str | None:
    seconds = number(record.get("seconds"))
    return None if seconds is None else f"{seconds:.1f}"


# -- top of the page -------------------------------------------------------------------------------
def session_line(payload: dict) -> list[dict[str, Any]]:
    """Parts of the line under the title: [{"text", "code"}] (code: shown as a command)."""
    options = payload.get("options") or {}
    parts = [{"text": f"session {payload.get('created') or DASH}", "code": False}]
    if payload.get("markexpr"):
        parts.append({"text": f"-m {payload['markexpr']}", "code": True})
    if options.get("profile"):
        parts.append({"text": f"profile {options['profile']}", "code": False})
    if options.get("seeds"):
        parts.append({"text": f"{options['seeds']} seed(s) from base seed {options.get('seed', 0)}", "code": False})
    parts.append({"text": str((payload.get("environment") or {}).get("cuda") or "CPU only"), "code": False})
    return parts


def counts(records: list[dict], uncovered: list[str]) -> list[dict[str, Any]]:
    """The pills at the top: [{"verdict", "label"}], one per verdict (VERDICTS order, then words outside
    it), then the controls that pass (defect) and those in error, counted over records."""
    tally: dict[str, int] = defaultdict(int)
    for record in records:
        tally[verdict(record)] += 1
    tally[NOT_RUN] += len(uncovered)
    order = list(VERDICTS) + sorted(v for v in tally if v not in VERDICTS)
    pills = [{"verdict": v, "label": f"{tally[v]} {v}"} for v in order if tally[v]]
    for status, pill, one, many in ((PASSES_DEFECT, "fails", "passes (defect)", "pass (defect)"),
                                    (CONTROL_ERROR, "error", "in error", "in error")):
        n = sum(1 for r in records for c in controls.record_controls(r) if c["status"] == status)
        if n:
            pills.append({"verdict": pill, "label": f"{plural(n, 'control')} {one if n == 1 else many}"})
    return pills


def flagged(records: list[dict], status: str) -> list[dict[str, str]]:
    """Records with a control in this status (passes (defect), error), each with where: which checks on
    which controls ("gap on digits-coarse-collapsed"), or which controls for records without per-check
    controls."""
    out = []
    for r in records:
        pairs = [(check, key) for check, per in controls.per_check_statuses(r).items()
                 for key, s in per.items() if s == status]
        named = {key for _, key in pairs}
        where = [f"{check} on {key}" for check, key in pairs]
        where += [c["experiment"] or c["description"] or "the control" for c in controls.record_controls(r)
                  if c["status"] == status and c["key"] not in named]   # e.g. a missed precondition
        if where:
            out.append({**link(r), "where": "; ".join(where)})
    return out


def control_cell(record: dict) -> dict[str, str] | None:
    """The claims table's control cell (see controls.summary), or None for a dash."""
    if not controls.checks(record):   # nothing measured: no control either
        return None
    return controls.summary(record) or {"text": "none recorded", "head": None,
                                        "parts": [{"text": "none recorded", "css": "none"}]}


def claim_row(r: dict) -> dict[str, Any]:
    checks = r.get("checks") or []
    extra = []
    if len(r.get("seeds") or []) > 1 and r.get("value") is not None:
        extra.append(f"median of {len(r['seeds'])} seeds")
        spread = check_table.interval({"interval": r.get("interval"), "values": dict.fromkeys(r["seeds"])})
        if spread is not None and not spread["text"].startswith("no interval"):
            extra.append(spread["text"])
    if len(checks) > 1:
        extra.append(f"+{len(checks) - 1} more check{'s' if len(checks) > 2 else ''}")
    return {**link(r), "verdict": verdict(r), "paper": r.get("paper"), "statement": r.get("statement"),
            "tier": r.get("tier") or DASH, "measured": num(number(r.get("value"))), "measured_note": "; ".join(extra),
            "threshold": threshold_text(r.get("op"), r.get("threshold")), "control": control_cell(r),
            "seconds": num(round(number(r["seconds"]), 1)) if number(r.get("seconds")) is not None else DASH}


def skipped_groups(records: list[dict]) -> dict[str, Any]:
    """Skipped records grouped by their reason: {"count", "groups": [{"reason", "records"}]}."""
    skipped = [r for r in records if verdict(r) == SKIPPED]
    by_reason: dict[str, list[dict]] = defaultdict(list)
    for r in skipped:
        by_reason[str(r.get("message") or "no reason given")].append(link(r))
    return {"count": len(skipped), "groups": [{"reason": reason, "records": links}
                                               for reason, links in sorted(by_reason.items())]}


# -- a record's section ----------------------------------------------------------------------------
def meta_line(r: dict) -> list[str]:
    seeds = r.get("seeds") or []
    meta = [f"tier: {r.get('tier') or DASH}"]
    if seeds:
        meta.append(f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
                    + (f" (verdict rule: {r.get('seed_rule')})" if len(seeds) > 1 else ""))
    if seconds_text(r) is not None:
        meta.append(f"{seconds_text(r)} s")
    if r.get("tolerance") is not None:
        meta.append(f"CI tolerance ±{num(r['tolerance'])}")
    return meta


def section(r: dict, cache: FigureCache) -> dict[str, Any]:
    v = verdict(r)
    measured = v not in (SKIPPED, NOT_RUN)
    runs = r.get("runs") or {}
    sources = r.get("data_sources") or []
    data = None
    if runs or sources:
        data = {"summary": f"data: {', '.join(map(str, sources)) or DASH}; "
                           + (plural(len(runs), "cached run") if runs else "no cached run"),
                "runs": [{"key": k, "description": d} for k, d in runs.items()]}
    label = f"{r['id']} · {r.get('experiment') or DASH}"
    return {
        **link(r), "verdict": v, "paper": r.get("paper") or DASH, "statement": r.get("statement"),
        "meta": meta_line(r), "test": r.get("test") or DASH,
        "skip_message": None if measured else str(r.get("message") or (
            "no reason given" if v == SKIPPED else "nothing was recorded: the test did not run to its end")),
        "table": check_table.table(r) if measured else None,
        "message": (r["message"] if measured and r.get("message") and (v != "holds" or r.get("outcome")
                                                                       not in (None, "passed")) else None),
        "notes": [str(n) for n in r.get("notes") or []],
        "data": data,
        "figures": [figure_view(f, cache, label) for f in r.get("figures") or []],
    }


# -- environment -----------------------------------------------------------------------------------
def environment(payload: dict, records: list[dict]) -> dict[str, Any]:
    env = payload.get("environment") or {}
    options = payload.get("options") or {}
    device = env.get("cuda") or "CPU only (no CUDA device)"
    if options.get("device"):
        device += f" (--fg-device {options['device']})"
    versions = [("device", device), ("CPU cores", num(env.get("cpu_count")))]
    versions += [(k, DASH if env.get(k) is None else str(env[k])) for k in VERSION_KEYS if k in env]
    versions += [(k, str(v)) for k, v in env.items() if k not in VERSION_KEYS + ("cuda", "cpu_count")]

    sources: dict[str, set[str]] = defaultdict(set)
    for r in records:
        for s in r.get("data_sources") or []:
            sources[str(s)].add(f"{r['id']} ({r.get('experiment') or DASH})")
    if uses_jpeg_cifar(payload):
        cifar = "jpeg"
    elif any("cifar" in s.lower() for s in sources):
        cifar = "official"
    else:
        cifar = "unused"

    runs: dict[str, dict] = {}
    for r in records:
        for key, description in (r.get("runs") or {}).items():
            runs.setdefault(key, {"key": key, "description": description, "used": set()})["used"].add(r["id"])

    timed = [r for r in records if number(r.get("seconds")) is not None]
    timed.sort(key=lambda r: (-float(r["seconds"]), r["id"], r.get("experiment") or ""))
    per_tier: dict[str, float] = defaultdict(float)
    for r in timed:
        per_tier[r.get("tier") or DASH] += float(r["seconds"])
    totals = ", ".join(f"{t} {s:.0f} s" for t, s in sorted(per_tier.items(),
                                                         key=lambda ts: (TIER_ORDER.get(ts[0], 3), ts[0])))
    return {
        "versions": versions,
        "options": [(str(k), DASH if v is None else str(v)) for k, v in options.items()],
        "cifar": cifar, "cifar_env": str(env.get("FGCORE_CIFAR10") or "unset"),
        "sources": [{"source": s, "used": ", ".join(sorted(u))} for s, u in sorted(sources.items())],
        "runs": [{**e, "used": ", ".join(sorted(e["used"]))}
                 for e in sorted(runs.values(), key=lambda e: e["description"])],
        "totals": totals or DASH,
        "times": [{"id": r["id"], "experiment": r.get("experiment") or DASH, "tier": r.get("tier") or DASH,
                   "seconds": seconds_text(r)} for r in timed],
    }
