"""The report page: one self-contained HTML file (inline CSS, figures as base64 PNG, no scripts or fonts).

Layout, top to bottom: a summary of verdicts; the claims table (one row per record, coloured by
verdict); skipped claims grouped by reason and catalog ids no record covers; a section per record
with its statement, paper location, checks (value per seed, median, threshold, why), control and
figure(s) side by side; the environment (versions, device, data sources, run cache keys, time per
claim). Nothing on the page depends on when or where it was built, so the same payload gives the
same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import statistics
import struct
from collections import defaultdict
from typing import Any

from ..catalog import CLAIMS
from . import figures
from .payload import TIER_ORDER, is_finite, number, ordered, uncovered_ids, uses_jpeg_cifar, verdict

OPS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}

# What the paper's figure shows and how to read ours (the claim's own statement sits above it).
FIGURE_GUIDE = {
    "nc_curves": "Paper, Fig. 3: NC1 and NC2 against training epochs fall toward 0 (Neural Collapse on the "
                 "coarse labels). Here: NC1 (log scale), NC2 and the training accuracy; the dashed line is "
                 "where the terminal phase (100% training accuracy) begins.",
    "distance_heatmaps": "Paper, Fig. 5 / 14: the class distance matrix D (eq. 6) at four epochs, darker = closer. "
                         "Neural Collapse alone predicts three equally dark lines, the diagonal and the "
                         "same-superclass pairs (Fig. 4b); the paper finds the diagonal darker throughout. "
                         "Here: each D divided by its mean over pairs in different superclasses (one colour "
                         "scale), same-superclass cells outlined in blue; below, the darkness of the diagonal and "
                         "of the superclass lines at each snapshot.",
    "tsne": "Paper, Fig. 6 / 8: t-SNE of the last-layer features of each superclass, coloured by original "
            "class; the original classes form separate clusters. Here: one panel per superclass with the "
            "purity of k-means clusters on the embedding.",
    "clp_bars": "Paper, Fig. 9: Cluster-and-Linear-Probe (labels rebuilt by clustering within each coarse "
                "class) against a linear probe on the true labels (LPO) and a network trained on the "
                "original labels (OT), on the test set with original labels.",
    "ratio_bars": "Paper, Sec. 5 (Fig. 10-13): superclasses of semantically similar classes keep less fine "
                  "structure than random groupings. Here: the mean squared distance ratio (App. B; 1 = no fine "
                  "structure) over natural and over random superclasses, one dot per superclass.",
    "gmm_curves": "Paper, Fig. 17 / 18: the mean squared distance ratio of an MLP trained on a coarsely labelled "
                  "Gaussian mixture grows with the separation of its subclasses; the paper marks in red the runs "
                  "that did not reach 100% training accuracy. Here: median over seeds (line), each seed (dots), "
                  "red rings where training accuracy stayed below 100%.",
    "theory_ratio": "Paper, Sec. 7, Thm. 7.1: a one-hidden-layer net trained on coarse labels keeps the two "
                    "clusters of a label apart: within-cluster distance is much smaller than across. Here: that "
                    "ratio against the input dimension d, its control (both clusters share one mean) and the "
                    "claim's threshold.",
    "grid_errors": "Paper, App. C: every run of the 3 x 3 learning-rate x weight-decay grid reaches ~0 training "
                   "error except (0.1, 5e-3).",
}

CSS = """
:root { --holds:#1e7b34; --holds-bg:#e7f4ea; --fails:#b3261e; --fails-bg:#fdeceb;
  --precondition-failed:#8a5300; --precondition-failed-bg:#fff3e0; --error:#6b2fa3; --error-bg:#f3e8fd;
  --skipped:#5f6368; --skipped-bg:#f1f3f4; --not-run:#5f6368; --not-run-bg:#f1f3f4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f1f1f; margin: 0; background: #fafafa; }
main { max-width: 1560px; margin: 0 auto; padding: 20px 28px 60px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #ddd; }
h3 { font-size: 16px; margin: 18px 0 8px; }
section.claim h3 { margin-top: 0; }
.sub { color: #555; margin: 0 0 12px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 4px; }
.pill { border-radius: 14px; padding: 3px 12px; font-weight: 600; font-size: 13.5px; }
.badge { display: inline-block; border-radius: 10px; padding: 1px 9px; font-weight: 600; font-size: 12.5px;
  white-space: nowrap; }
.banner { border-left: 5px solid var(--precondition-failed); background: var(--precondition-failed-bg);
  padding: 8px 12px; margin: 12px 0; }
table { border-collapse: collapse; background: #fff; }
th, td { padding: 5px 8px; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; font-size: 13px; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.claims { width: 100%; }
table.claims td.statement { min-width: 260px; }
table.claims a { color: inherit; font-weight: 600; }
table.claims td.nowrap { white-space: nowrap; }
table.claims td.num .why { white-space: normal; display: inline-block; min-width: 110px; }
""" + "".join(
    f"tr.v-{v} td {{ background: var(--{v}-bg); }}\n"
    f".v-{v} .badge, .badge.v-{v}, .pill.v-{v} {{ background: var(--{v}); color: #fff; }}\n"
    f"section.claim.v-{v} {{ border-left: 6px solid var(--{v}); }}\n"
    for v in ("holds", "fails", "precondition-failed", "error", "skipped", "not-run")) + """
.control-defect { color: var(--fails); font-weight: 600; }
.control-ok { color: var(--holds); }
section.claim { background: #fff; margin: 18px 0; padding: 14px 16px; border-radius: 4px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.claim-body { display: grid; grid-template-columns: minmax(380px, 1fr) minmax(0, 1.9fr); gap: 22px;
  align-items: start; }
.claim-body > div { min-width: 0; overflow-wrap: anywhere; }
.claim-body.no-figure { grid-template-columns: 1fr; }
@media (max-width: 1100px) { .claim-body { grid-template-columns: 1fr; } }
.statement { font-size: 15px; font-style: italic; margin: 0 0 6px; }
.meta { color: #555; font-size: 12.5px; margin: 0 0 8px; }
.guide { background: #f6f8fa; border-radius: 4px; padding: 6px 10px; font-size: 13px; color: #333; }
.checks { margin: 6px 0 10px; }
.check { border-top: 1px solid #e6e6e6; padding: 5px 0; font-size: 13px; }
.check-head { display: flex; justify-content: space-between; gap: 10px; }
.check-nums { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; margin: 2px 0;
  font-variant-numeric: tabular-nums; }
.why { color: #555; font-size: 12px; }
.pass { color: var(--holds); font-weight: 600; } .nopass { color: var(--fails); font-weight: 600; }
pre.message { white-space: pre-wrap; background: #fff6f5; border: 1px solid #f1c6c2; padding: 6px 8px;
  font-size: 12px; max-height: 220px; overflow: auto; }
.skipped-msg { background: var(--skipped-bg); border-color: #ddd; }
figure { margin: 0 0 14px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; background: #fff; }
figcaption { font-size: 12px; color: #555; }
.figure-error { border: 1px dashed var(--fails); padding: 8px; }
table.data { font-size: 12px; }
ul.compact { margin: 4px 0; padding-left: 20px; }
details summary { cursor: pointer; color: #444; font-size: 13px; }
.strip { vertical-align: middle; }
"""


# -- small formatting helpers --------------------------------------------------------------------
def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def num(value: Any) -> str:
    """A number for people: 4 significant digits; recorded strings ("nan") as they are; None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return esc(value)


def slug(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def anchor(record: dict) -> str:
    return f"claim-{slug(record['id'])}--{slug(record.get('experiment') or 'none')}-{slug(record.get('tier') or '')}"


def badge(text: str) -> str:
    return f'<span class="badge v-{slug(text)}">{esc(text)}</span>'


def threshold_text(op: Any, threshold: Any) -> str:
    if threshold is None:
        return "—"
    return f"{OPS.get(op, esc(op))} {num(threshold)}"


def control_text(control: dict | None) -> str:
    verdict_ = (control or {}).get("verdict")
    if verdict_ is None:
        return '<span class="why">none recorded</span>' if control is not None else "—"
    css = "control-defect" if "defect" in verdict_ else "control-ok"
    return f'<span class="{css}">{esc(verdict_)}</span>'


# -- per-check strip: seeds as dots, the median as a tick, the threshold as a red line -------------
def strip_svg(check: dict, width: int = 150, height: int = 22) -> str:
    values = [v for v in (number(x) for x in (check.get("values") or {}).values()) if is_finite(v)]
    threshold = number(check.get("threshold"))
    if not values or not is_finite(threshold):
        return ""
    median = statistics.median(values)
    lo, hi = min(values + [threshold]), max(values + [threshold])
    pad = (hi - lo) * 0.15 or (abs(hi) * 0.15 or 1.0)
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return round(4 + (width - 8) * (v - lo) / (hi - lo), 1)

    op = check.get("op")
    passing = (x(threshold), width - 4) if op in (">=", ">") else (4, x(threshold))
    parts = [f'<svg class="strip" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="values per seed against the threshold">',
             f'<title>seeds: {", ".join(f"{v:.4g}" for v in values)}; median {median:.4g}; '
             f'threshold {esc(OPS.get(op, op))} {threshold:.4g}</title>',
             f'<rect x="{passing[0]}" y="3" width="{round(passing[1] - passing[0], 1)}" height="{height - 6}" '
             f'fill="#e7f4ea"/>',
             f'<line x1="4" y1="{height / 2}" x2="{width - 4}" y2="{height / 2}" stroke="#bbb"/>',
             f'<line x1="{x(threshold)}" y1="2" x2="{x(threshold)}" y2="{height - 2}" stroke="#d62728" '
             f'stroke-width="2"/>']
    parts += [f'<circle cx="{x(v)}" cy="{height / 2}" r="3" fill="#777" fill-opacity="0.7"/>' for v in values]
    parts.append(f'<line x1="{x(median)}" y1="4" x2="{x(median)}" y2="{height - 4}" stroke="#111" '
                 f'stroke-width="2.5"/>')
    parts.append("</svg>")
    return "".join(parts)


# -- figures ---------------------------------------------------------------------------------------
class FigureCache:
    """Renders each distinct (kind, data) once per page: several records often share one figure."""

    def __init__(self, dpi: int):
        self.dpi = dpi
        self._done: dict[str, bytes | Exception] = {}

    def png(self, kind: str, data: Any) -> bytes:
        key = hashlib.sha256(json.dumps([kind, data], sort_keys=True, default=str).encode()).hexdigest()
        if key not in self._done:
            try:
                self._done[key] = figures.render(kind, data, dpi=self.dpi)
            except Exception as exc:  # a broken figure must not take the whole report down
                self._done[key] = exc
        result = self._done[key]
        if isinstance(result, Exception):
            raise result
        return result


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, for the img tag (keeps the page from jumping)."""
    return struct.unpack(">II", data[16:24])


def data_table(data: Any, limit: int = 24) -> str:
    """Any figure data as a table: the fallback for kinds without a drawing (and for broken figures)."""
    def cell(value: Any) -> str:
        if isinstance(value, list):
            if value and all(isinstance(v, list) for v in value):
                inner = len(value[0]) if value and isinstance(value[0], list) else 0
                return f"matrix {len(value)} × {inner}"
            shown = ", ".join(num(v) if not isinstance(v, (dict, list)) else esc(json.dumps(v))[:60]
                              for v in value[:limit])
            return shown + (f", … ({len(value)} values)" if len(value) > limit else "")
        if isinstance(value, dict):
            text = json.dumps(value, sort_keys=True, default=str)
            return f'<span class="mono">{esc(text[:400])}{"…" if len(text) > 400 else ""}</span>'
        return num(value)

    if not isinstance(data, dict):
        return f'<p class="mono">{esc(json.dumps(data, default=str)[:800])}</p>'
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{cell(v)}</td></tr>" for k, v in data.items())
    return f'<table class="data">{rows}</table>'


def figure_html(entry: Any, cache: FigureCache, label: str) -> str:
    if not isinstance(entry, dict):
        return f'<div class="figure-error"><p>A figure entry that is not an object:</p>{data_table(entry)}</div>'
    kind = str(entry.get("kind"))
    data = entry.get("data")
    if kind not in figures.KINDS:
        return (f'<figure><figcaption>No drawing for figure kind <code>{esc(kind)}</code>; '
                f'its data:</figcaption>{data_table(data)}</figure>')
    try:
        png = cache.png(kind, data)
    except Exception as exc:
        return (f'<div class="figure-error"><p>The <code>{esc(kind)}</code> figure could not be drawn: '
                f'{esc(type(exc).__name__)}: {esc(exc)}</p>{data_table(data)}</div>')
    width, height = png_size(png)
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    guide = FIGURE_GUIDE.get(kind, "")
    return (f'<figure><img src="{src}" width="{width}" height="{height}" alt="{esc(kind)} figure of {esc(label)}">'
            f'<figcaption>{esc(guide)}</figcaption></figure>')


# -- sections --------------------------------------------------------------------------------------
def summary_counts(records: list[dict], uncovered: list[str]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for record in records:
        counts[verdict(record)] += 1
    counts["not run"] += len(uncovered)
    order = ["holds", "fails", "precondition failed", "error", "skipped", "not run"]
    pills = [f'<span class="pill v-{slug(v)}">{counts[v]} {esc(v)}</span>' for v in order if counts[v]]
    defects = sum(1 for r in records if "defect" in str((r.get("control") or {}).get("verdict")))
    if defects:
        pills.append(f'<span class="pill v-fails">{defects} control passes (defect)</span>')
    return '<div class="counts">' + "".join(pills) + "</div>"


def claims_table(records: list[dict]) -> str:
    head = ("<tr><th>Claim</th><th>Paper</th><th>Statement</th><th>Tier</th><th>Experiment</th>"
            '<th class="num">Measured</th><th class="num">Threshold</th><th>Verdict</th><th>Control</th>'
            '<th class="num">Seconds</th></tr>')
    rows = []
    for r in records:
        v = verdict(r)
        checks = r.get("checks") or []
        measured = num(number(r.get("value")))
        extra = []
        if len(r.get("seeds") or []) > 1 and r.get("value") is not None:
            extra.append(f"median of {len(r['seeds'])} seeds")
        if len(checks) > 1:
            extra.append(f"+{len(checks) - 1} more check{'s' if len(checks) > 2 else ''}")
        if extra:
            measured += f'<br><span class="why">{esc("; ".join(extra))}</span>'
        control = r.get("control") if checks else None   # nothing measured: no control either
        rows.append(
            f'<tr class="v-{slug(v)}"><td class="nowrap"><a href="#{anchor(r)}">{esc(r["id"])}</a></td>'
            f'<td>{esc(r.get("paper"))}</td><td class="statement">{esc(r.get("statement"))}</td>'
            f'<td>{esc(r.get("tier") or "—")}</td><td class="nowrap">{esc(r.get("experiment") or "—")}</td>'
            f'<td class="num">{measured}</td><td class="num">{threshold_text(r.get("op"), r.get("threshold"))}</td>'
            f'<td>{badge(v)}</td><td class="nowrap">{control_text(control)}</td>'
            f'<td class="num">{num(round(float(r["seconds"]), 1)) if number(r.get("seconds")) is not None else "—"}</td></tr>')
    return f'<table class="claims">{head}{"".join(rows)}</table>'


def skipped_and_uncovered(records: list[dict], uncovered: list[str]) -> str:
    parts = []
    skipped = [r for r in records if verdict(r) == "skipped"]
    by_reason: dict[str, list[dict]] = defaultdict(list)
    for r in skipped:
        by_reason[str(r.get("message") or "no reason given")].append(r)
    if by_reason:
        items = "".join(
            f'<li>{esc(reason)}<br><span class="why">'
            + ", ".join(f'<a href="#{anchor(r)}">{esc(r["id"])}</a> ({esc(r.get("experiment") or "—")})' for r in rs)
            + "</span></li>" for reason, rs in sorted(by_reason.items()))
        parts.append(f"<h3>Skipped ({len(skipped)})</h3><ul class=\"compact\">{items}</ul>")
    else:
        parts.append("<h3>Skipped</h3><p>none</p>")
    if uncovered:
        items = "".join(f"<li><b>{esc(c)}</b> ({esc(CLAIMS[c].paper)}): {esc(CLAIMS[c].statement)}</li>"
                        for c in uncovered)
        parts.append(f"<h3>Not run ({len(uncovered)}): catalog claims without a record in this session</h3>"
                     f'<ul class="compact">{items}</ul>')
    else:
        parts.append("<h3>Not run</h3><p>none: every claim of the catalog has a record</p>")
    return "".join(parts)


def checks_table(checks: list[dict], *, with_why: bool = True) -> str:
    """Each check as a small block: name and verdict; median, threshold and the seeds; why that threshold.

    Blocks rather than a wide table: the description column sits beside the figure and is narrow.
    """
    if not checks:
        return '<p class="why">no check recorded</p>'
    blocks = []
    for c in checks:
        values = c.get("values") or {}
        per_seed = ", ".join(f"{esc(s)}: {num(number(v))}" for s, v in values.items())
        passed = c.get("passed")
        mark = ('<span class="pass">holds</span>' if passed else '<span class="nopass">does not hold</span>') \
            if passed is not None else ""
        rule = " (every seed)" if c.get("rule") == "all" else (" (median)" if len(values) > 1 else "")
        seeds = f'<span class="why">seed{"s" if len(values) > 1 else ""} {per_seed}</span>' if per_seed else ""
        why = f'<div class="why">why: {esc(c.get("why"))}</div>' if with_why and c.get("why") else ""
        blocks.append(
            f'<div class="check"><div class="check-head"><b>{esc(c.get("name"))}</b>{mark}</div>'
            f'<div class="check-nums"><span><b>{num(number(c.get("value")))}</b> '
            f'{threshold_text(c.get("op"), c.get("threshold"))}{esc(rule)}</span>{strip_svg(c)}{seeds}</div>'
            f"{why}</div>")
    return '<div class="checks">' + "".join(blocks) + "</div>"


def record_section(r: dict, cache: FigureCache) -> str:
    v = verdict(r)
    label = f"{r['id']} · {r.get('experiment') or '—'}"
    seeds = r.get("seeds") or []
    meta = [f"paper: <b>{esc(r.get('paper') or '—')}</b>", f"tier: {esc(r.get('tier') or '—')}"]
    if seeds:
        meta.append(f"seed{'s' if len(seeds) > 1 else ''} {esc(', '.join(map(str, seeds)))}"
                    + (f" (verdict rule: {esc(r.get('seed_rule'))})" if len(seeds) > 1 else ""))
    if number(r.get("seconds")) is not None:
        meta.append(f"{float(r['seconds']):.1f} s")
    if r.get("tolerance") is not None:
        meta.append(f"CI tolerance ±{num(r['tolerance'])}")
    left = [f'<p class="statement">“{esc(r.get("statement"))}”</p>',
            f'<p class="meta">{" · ".join(meta)}<br>test <code>{esc(r.get("test") or "—")}</code></p>']
    if v in ("skipped", "not run"):
        left.append(f'<pre class="message skipped-msg">{esc(r.get("message") or "no reason given")}</pre>')
    else:
        left.append(checks_table(r.get("checks") or []))
        control = r.get("control") or {}
        if control.get("checks") or control.get("verdict"):
            left.append(f'<p><b>Negative control</b>: {esc(control.get("description") or "—")} → '
                        f'{control_text(control)}</p>')
            left.append(checks_table(control.get("checks") or [], with_why=False))
        elif r.get("checks"):
            left.append('<p class="why">No negative control was recorded.</p>')
        if r.get("message") and (v != "holds" or r.get("outcome") not in (None, "passed")):
            left.append(f'<pre class="message">{esc(r["message"])}</pre>')
    notes = r.get("notes") or []
    if notes:
        left.append('<ul class="compact">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    runs = r.get("runs") or {}
    sources = r.get("data_sources") or []
    if runs or sources:
        items = "".join(f'<li><code>{esc(k)}</code> {esc(d)}</li>' for k, d in runs.items())
        count = f'{len(runs)} cached run{"s" if len(runs) != 1 else ""}' if runs else "no cached run"
        left.append(f'<details><summary>data: {esc(", ".join(map(str, sources)) or "—")}; {count}</summary>'
                    f'<ul class="compact">{items}</ul></details>')
    figs = r.get("figures") or []
    right = "".join(figure_html(f, cache, label) for f in figs)
    body_class = "claim-body" if right else "claim-body no-figure"
    return (f'<section class="claim v-{slug(v)}" id="{anchor(r)}">'
            f'<h3>{badge(v)} {esc(r["id"])} <span class="why">· {esc(r.get("experiment") or "—")}</span></h3>'
            f'<div class="{body_class}"><div>{"".join(left)}</div>'
            + (f"<div>{right}</div>" if right else "") + "</div></section>")


def environment_section(payload: dict, records: list[dict]) -> str:
    env = payload.get("environment") or {}
    options = payload.get("options") or {}
    device = env.get("cuda") or "CPU only (no CUDA device)"
    if options.get("device"):
        device += f" (--fg-device {options['device']})"
    version_keys = ["python", "platform", "torch", "numpy", "scikit-learn", "openTSNE"]
    rows = [("device", esc(device)), ("CPU cores", num(env.get("cpu_count")))]
    rows += [(k, esc(env.get(k) if env.get(k) is not None else "—")) for k in version_keys if k in env]
    rows += [(k, esc(v)) for k, v in env.items() if k not in version_keys + ["cuda", "cpu_count"]]
    versions = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    opts = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v if v is not None else '—')}</td></tr>"
                   for k, v in options.items())

    sources: dict[str, list[str]] = defaultdict(list)
    for r in records:
        for s in r.get("data_sources") or []:
            sources[str(s)].append(f"{r['id']} ({r.get('experiment') or '—'})")
    cifar_env = env.get("FGCORE_CIFAR10")
    if uses_jpeg_cifar(payload):
        cifar = ("<b>the JPEG copy</b> (quality 75, not bit-exact to the official archive; numbers can differ "
                 "slightly from a run on the official data)")
    elif any("cifar" in s.lower() for s in sources):
        cifar = "the official archive"
    else:
        cifar = "not used in this session"
    data_rows = "".join(f"<tr><td>{esc(s)}</td><td>{esc(', '.join(sorted(set(u))))}</td></tr>"
                        for s, u in sorted(sources.items()))
    data_html = (f"<p>CIFAR-10: {cifar}. <code>FGCORE_CIFAR10</code> = {esc(cifar_env or 'unset')}</p>"
                 + (f"<table><tr><th>data source</th><th>used by</th></tr>{data_rows}</table>" if data_rows else ""))

    runs: dict[str, dict] = {}
    for r in records:
        for key, description in (r.get("runs") or {}).items():
            entry = runs.setdefault(key, {"description": description, "used": []})
            entry["used"].append(r["id"])
    run_rows = "".join(
        f'<tr><td><code>{esc(k)}</code></td><td>{esc(e["description"])}</td>'
        f'<td>{esc(", ".join(sorted(set(e["used"]))))}</td></tr>'
        for k, e in sorted(runs.items(), key=lambda kv: kv[1]["description"]))
    runs_html = (f"<table><tr><th>cache key</th><th>run</th><th>used by</th></tr>{run_rows}</table>"
                 if run_rows else "<p>no cached run was used</p>")

    timed = [r for r in records if number(r.get("seconds")) is not None]
    timed.sort(key=lambda r: (-float(r["seconds"]), r["id"], r.get("experiment") or ""))
    per_tier: dict[str, float] = defaultdict(float)
    for r in timed:
        per_tier[r.get("tier") or "—"] += float(r["seconds"])
    time_rows = "".join(
        f'<tr><td>{esc(r["id"])}</td><td>{esc(r.get("experiment") or "—")}</td><td>{esc(r.get("tier") or "—")}</td>'
        f'<td class="num">{float(r["seconds"]):.1f}</td></tr>' for r in timed)
    totals = ", ".join(f"{esc(t)} {s:.0f} s" for t, s in sorted(per_tier.items(),
                                                               key=lambda ts: (TIER_ORDER.get(ts[0], 3), ts[0])))
    return (f"<h2 id=\"environment\">Environment</h2>"
            f'<div style="display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start">'
            f"<div><h3>Versions and device</h3><table>{versions}</table></div>"
            f"<div><h3>Session options</h3><table>{opts}</table></div></div>"
            f"<h3>Data</h3>{data_html}"
            f"<h3>Runs used (cache keys)</h3>{runs_html}"
            f"<h3>Time per claim</h3><p>total per tier: {totals or '—'} (a run's training time goes to the first "
            f"claim that asked for it; later claims read the cache)</p>"
            f'<table><tr><th>claim</th><th>experiment</th><th>tier</th><th class="num">seconds</th></tr>'
            f"{time_rows}</table>")


def render_page(payload: dict, *, dpi: int = figures.DEFAULT_DPI) -> str:
    """The whole page as a string (see the module docstring for its layout)."""
    records = ordered(payload["claims"])
    uncovered = uncovered_ids(records)
    cache = FigureCache(dpi)
    options = payload.get("options") or {}
    session = [f"session {esc(payload.get('created') or '—')}"]
    if payload.get("markexpr"):
        session.append(f"<code>-m {esc(payload['markexpr'])}</code>")
    if options.get("profile"):
        session.append(f"profile {esc(options['profile'])}")
    if options.get("seeds"):
        session.append(f"{esc(options['seeds'])} seed(s) from base seed {esc(options.get('seed', 0))}")
    env = payload.get("environment") or {}
    session.append(esc(env.get("cuda") or "CPU only"))
    banner = ""
    if uses_jpeg_cifar(payload):
        banner = ('<div class="banner">CIFAR-10 in this session is the <b>JPEG copy</b> (quality 75, not '
                  "bit-exact): the gpu-tier numbers may differ slightly from a run on the official archive.</div>")
    defects = [r for r in records if "defect" in str((r.get("control") or {}).get("verdict"))]
    if defects:
        banner += ('<div class="banner">A negative control passes the claim\'s own checks (so the check cannot '
                   "tell): " + ", ".join(f'<a href="#{anchor(r)}">{esc(r["id"])}</a>' for r in defects) + "</div>")
    sections = "".join(record_section(r, cache) for r in records)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Claims report: Are Neurons Actually Collapsed?</title>"
        f"<style>{CSS}</style></head><body><main>"
        "<h1>Are Neurons Actually Collapsed? Claims report</h1>"
        '<p class="sub">Yang, Steinhardt &amp; Hu, ICML 2023, replicated claim by claim: each claim of the paper '
        "is a test with a threshold and a negative control. " + " · ".join(session) + "</p>"
        + summary_counts(records, uncovered) + banner
        + f"<h2 id=\"claims\">Claims ({len(records)} record{'s' if len(records) != 1 else ''})</h2>"
        + claims_table(records)
        + skipped_and_uncovered(records, uncovered)
        + "<h2 id=\"details\">Claims in detail</h2>"
        + '<p class="why">Each check shows its median over seeds against the threshold, and a strip: grey dots '
          "are the seeds, the black tick the median, the red line the threshold; the green side is where the "
          "check holds. The negative control runs the same check where the claim must not hold.</p>"
        + sections
        + environment_section(payload, records)
        + "</main></body></html>\n")
