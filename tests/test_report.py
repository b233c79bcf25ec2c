"""The claims report renders from recorded JSON (no training): tests/data/claims_sample.json.

The sample holds a record for every catalog claim id, every figure kind, every verdict and every
control status (written by tests/data/make_claims_sample.py); tests/data/claims_sample_v1.json is a
session recorded before controls were per check (one control object per record), which must still
render. Figures are drawn at a low dpi here to keep the file quick.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import sys
from importlib import resources
from pathlib import Path

import pytest
from markupsafe import escape
from PIL import Image

from fgcore.suite.catalog import CLAIMS
from fgcore.cli import main as fgcore_main
from fgcore.drawing import page as drawing_page
from fgcore.drawing.render import KINDS, render
from fgcore.report import build
from fgcore.report.html import anchor, render_page
from fgcore.vocabulary import CONTROL_STATUSES, VERDICTS
from fgcore.suite.html_columns import HEADERS, add_header, add_row, claim_record

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SAMPLE = Path(__file__).parent / "data" / "claims_sample.json"
SAMPLE_V1 = Path(__file__).parent / "data" / "claims_sample_v1.json"
ROOT = Path(__file__).resolve().parents[1]
# Figure kinds only `fgcore measure` pages draw (tested with them), never a claim's record.
MEASURE_PAGE_KINDS = {"layer_curves"}
DPI = 30   # small images: the tests check structure and determinism, not looks
PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def sample() -> dict:
    return json.loads(SAMPLE.read_text())


def without_figures(payload: dict) -> dict:
    """The page without drawing anything: for tests about text, tables and sections."""
    payload = copy.deepcopy(payload)
    for record in payload["claims"]:
        record["figures"] = []
    return payload


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report")
    index = build(SAMPLE, out, dpi=DPI)
    return index, index.read_text(encoding="utf-8")


def test_sample_covers_every_claim_id_figure_kind_verdict_and_control_status():
    payload = sample()
    assert {r["id"] for r in payload["claims"]} == set(CLAIMS)
    kinds = {f["kind"] for r in payload["claims"] for f in r["figures"]}
    assert kinds == set(KINDS) - MEASURE_PAGE_KINDS
    assert {r["verdict"] for r in payload["claims"]} == set(VERDICTS)
    per_check = {c["status"] for r in payload["claims"] for check in r["checks"] for c in check["controls"]}
    assert per_check == set(CONTROL_STATUSES)


def shown(text: str) -> str:
    """Text as the page writes it (escaped by the template)."""
    return str(escape(text))


def section_of(page: str, record: dict) -> str:
    """The HTML of one record's section."""
    return page.split(f'id="{anchor(record)}"', 1)[1].split("</section>", 1)[0]


def row_of(page: str, record: dict) -> str:
    """The HTML of one record's row in the claims table."""
    table = page.split('<table class="claims">', 1)[1]
    return table.split(f'href="#{anchor(record)}"', 1)[1].split("</tr>", 1)[0]


def record_of(payload: dict, claim_id: str, experiment: str) -> dict:
    return next(r for r in payload["claims"] if (r["id"], r["experiment"]) == (claim_id, experiment))


def test_report_writes_index_and_a_copy_of_the_records(built):
    index, _ = built
    assert index.name == "index.html"
    assert json.loads((index.parent / "claims.json").read_text()) == sample()


def test_every_claim_id_and_record_has_its_row_and_section(built):
    _, page = built
    for record in sample()["claims"]:
        assert f'id="{anchor(record)}"' in page, record["id"]       # its section
        assert f'href="#{anchor(record)}"' in page, record["id"]    # its row in the claims table
        assert shown(record["statement"]) in page
    for claim_id in CLAIMS:
        assert claim_id in page


def test_every_embedded_image_decodes_and_is_not_blank(built):
    _, page = built
    images = PNG.findall(page)
    drawn = [f["kind"] for r in sample()["claims"] for f in r["figures"] if f["kind"] in KINDS]
    # each record's figures, and one "overview" figure again at the top of the page
    assert "overview" in drawn and len(images) == len(drawn) + 1
    for encoded in images:
        raw = base64.b64decode(encoded, validate=True)
        Image.open(io.BytesIO(raw)).verify()          # a well-formed PNG
        image = Image.open(io.BytesIO(raw)).convert("L")
        assert image.width > 50 and image.height > 30
        low, high = image.getextrema()
        assert high - low > 100, "an image with (almost) one colour: nothing was drawn"


def test_each_check_shows_its_value_and_status_on_each_of_its_controls(built):
    _, page = built
    tables = 0
    for record in sample()["claims"]:
        if not record["checks"]:
            continue
        part = section_of(page, record)
        assert '<table class="checks">' in part
        tables += 1
        names = {c["experiment"] for c in record["controls"]}
        for name in names:   # a column per control, named by its experiment
            assert f">{name}<" in part, (record["id"], name)
        for check in record["checks"]:
            assert shown(check["name"]) in part
            assert shown(check["why"]) in part and shown(check["source"]) in part
            rows = part.split(shown(check["name"]), 1)[1].split('class="check-name"', 1)[0]
            for control in check["controls"]:
                assert control["status"] in rows, (record["id"], check["name"], control["experiment"])
            assert ("holds" if check["passed"] else "does not hold") in rows
    assert tables == sum(1 for r in sample()["claims"] if r["checks"])


def test_each_check_shows_threshold_source_untrained_value_interval_and_seed_counts_on_its_controls(built):
    """For every check: its threshold with its source, its value on the untrained network (or why there is
    none), the experiment's value with its interval over seeds (or why there is none), and on each control
    its value with "fails at k/k seeds" (or where it passes)."""
    _, page = built
    for record in sample()["claims"]:
        if not record["checks"]:
            continue
        part = section_of(page, record)
        for check in record["checks"]:
            rows = part.split(shown(check["name"]), 1)[1].split('class="check-name"', 1)[0]
            assert f'<div class="why source">{shown(check["source"])}</div>' in rows
            interval = check["interval"]
            if interval["low"] is None:
                assert f"no interval: {shown(interval['why'].split(' (')[0])}" in rows
            else:
                seeds = len(check["values"])
                assert f"95% interval {interval['low']:.4g} to {interval['high']:.4g} ({seeds} seeds)" in rows
            untrained = check["untrained"]
            if any(c["role"] == "untrained" for c in check["controls"]):
                pass   # its cell carries the control's status (below)
            elif untrained is None:
                assert "not recorded" in rows
            elif untrained["value"] is None:
                assert "not measured" in rows and shown(untrained["note"]) in rows
            else:
                assert ("meets the threshold" if untrained["passed"] else "does not meet it") in rows
            for control in check["controls"]:
                n = len(control["values"])
                failing = n - len(control["passing_seeds"])
                if control["status"] == "fails as expected":
                    assert f"fails at {failing}/{n} seed" in rows
                elif control["status"] == "passes (defect)":
                    assert f"passes at {len(control['passing_seeds'])}/{n} seed" in rows
    payload = sample()
    part = section_of(page, record_of(payload, "gmm-sigma", "gmm-sigma"))
    assert "passes at 1/3 seeds (1)" in part and "fails at 3/3 seeds" in part
    part = section_of(page, record_of(payload, "diag-darker-final", "digits-coarse"))
    assert "1.547<br><span class=\"control-defect\">meets the threshold</span>" in part
    # a check that names the untrained role: its status sits in the untrained column
    part = section_of(page, record_of(payload, "tsne-subclusters", "digits-coarse"))
    assert "0.62<br><span class=\"control-ok\">fails as expected</span>" in part and ">digits-coarse@epoch0<" in part


def test_the_claims_table_summarises_the_controls_of_each_record(built):
    _, page = built
    payload = sample()
    two = row_of(page, record_of(payload, "diag-darker-final", "digits-coarse"))
    assert "2 controls:" in two and "all fail as expected" in two
    one = row_of(page, record_of(payload, "nc2-etf", "digits-coarse"))
    assert "1 control:" in one and "fails as expected" in one
    defect = row_of(page, record_of(payload, "fine-labels", "digits-fine"))
    assert '<span class="control-defect">1 passes (defect)</span>' in defect
    error = row_of(page, record_of(payload, "diag-first", "fmnist-coarse"))
    assert '<span class="control-error">1 error</span>' in error and "1 fails as expected" in error


def test_defects_and_control_errors_are_named_at_the_top(built):
    _, page = built
    top = page.split('<h2 id="claims">', 1)[0]
    assert "2 controls pass (defect)" in top and "2 controls in error" in top
    defects = top.split("cannot tell the claim from its", 1)[1].split("</div>", 1)[0]
    assert "fine-labels" in defects and "gmm-fine-no-structure" in defects and "gmm-tau" not in defects
    # a check that holds on its control at one seed of three (its median fails there) is a defect too
    assert "gmm-sigma" in defects and "Spearman(sigma^2, ratio) at wd 5e-5 on gmm-sigma-shared-means" in defects
    errors = top.split("gave no usable value", 1)[1].split("</div>", 1)[0]
    assert "gmm-tau-control" in errors and "fmnist-coarse-collapsed" in errors


def test_the_error_banner_names_controls_that_err_on_a_check_and_those_never_measured():
    payload = without_figures(sample())
    record = record_of(payload, "gmm-tau", "gmm-tau")   # a NaN on one check's control
    record["controls"].append({"role": "no_subclusters", "experiment": "gmm-hyperplane", "description": "x",
                               "status": "error", "message": "precondition not met"})
    page = render_page(payload, dpi=DPI)
    banner = page.split("gave no usable value", 1)[1].split("</div>", 1)[0]
    assert "on gmm-tau-control" in banner and "gmm-hyperplane" in banner


def test_a_control_in_error_shows_why(built):
    _, page = built
    payload = sample()
    part = section_of(page, record_of(payload, "diag-first", "fmnist-coarse"))
    assert "precondition not met: run fashion_mnist/coarse:5/mlp_bn lr=0.1 wd=0.005" in part
    assert "not measured: see the control below" in part   # no value on any check
    part = section_of(page, record_of(payload, "gmm-tau", "gmm-tau"))
    assert ">nan<" in part and "a seed gave a non-finite value" in part


def test_a_session_recorded_with_one_control_object_per_record_still_renders():
    old = json.loads(SAMPLE_V1.read_text())
    assert all("controls" not in r and "controls" not in c for r in old["claims"] for c in r["checks"])
    page = render_page(old, dpi=DPI)
    for record in old["claims"]:
        part = section_of(page, record)
        control = record["control"]
        if record["checks"]:
            assert shown(control["description"]) in part
            assert control["verdict"] in part
            assert control["verdict"] in row_of(page, record)
            for check in control["checks"]:   # the control's value beside the experiment's, check by check
                assert shown(check["name"]) in part
                assert f'{check["value"]:.4g}' in part
    assert 'class="control-defect"' not in page   # none in that session


def test_verdicts_and_statuses_are_matched_exactly_not_by_substring():
    payload = without_figures(json.loads(SAMPLE_V1.read_text()))
    payload["claims"][0]["control"]["verdict"] = "no defect found"
    page = render_page(payload, dpi=DPI)
    top = page.split('<h2 id="claims">', 1)[0]
    assert "passes (defect)" not in top and "cannot tell the claim" not in top
    assert 'class="control-defect"' not in page
    assert "no defect found" in row_of(page, payload["claims"][0])   # an unknown word is shown as it is


def test_record_text_is_escaped():
    payload = without_figures(sample())
    record = payload["claims"][0]
    record["checks"][0]["name"] = "<script>alert(1)</script>"
    record["controls"][0]["description"] = 'a "quoted" <i>control</i>'
    page = render_page(payload, dpi=DPI)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<i>control</i>" not in page


def test_the_templates_ship_as_package_data():
    templates = resources.files("fgcore.report") / "templates"
    shipped = sorted(p.name for p in templates.iterdir() if p.is_file())
    assert "report.html.j2" in shipped and "report.css" in shipped
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["fgcore.report"]
    for name in shipped:   # every template file is declared, so `pip install` ships it
        assert any(Path("templates", name).match(glob) for glob in globs), name
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(r.lower().startswith("jinja2") for r in requirements)


def test_page_is_self_contained(built):
    _, page = built
    lowered = page.lower()
    for forbidden in ("<script", "<link", "@import", "url(", "http://", "https://", "<iframe", "<object"):
        assert forbidden not in lowered, forbidden
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', page))


def test_rows_are_coloured_by_verdict_and_skips_give_their_reason(built):
    _, page = built
    assert ('<tr class="record v-fails"><td class="nowrap"><a href="#claim-diag-darker-final--fmnist-coarse-slow">'
            in page)
    assert 'class="record v-precondition-failed"' in page and 'class="record v-skipped"' in page
    for record in sample()["claims"]:
        if record["verdict"] == "skipped":
            assert record["message"] in page
    assert "Not run</h3><p>none" in page   # the sample covers the whole catalog


def test_environment_names_versions_device_data_source_runs_and_times(built):
    _, page = built
    payload = sample()
    env = payload["environment"]
    for key in ("torch", "numpy", "scikit-learn", "openTSNE", "cuda", "FGCORE_CIFAR10"):
        assert str(env[key]) in page
    assert "JPEG copy" in page
    for record in payload["claims"]:
        for key in record["runs"]:
            assert key in page
    assert "2950.0" in page   # the time of the slowest claim


def test_catalog_ids_without_a_record_are_listed_as_not_run():
    payload = without_figures(sample())
    payload["claims"] = [r for r in payload["claims"] if r["id"] not in ("densenet", "gmm-tau")]
    page = render_page(payload, dpi=DPI)
    listed = page.split("Not run (2)", 1)[1].split("</ul>", 1)[0]
    assert "densenet" in listed and "gmm-tau" in listed and "nc1-collapse" not in listed


def test_no_jpeg_banner_without_the_jpeg_copy():
    payload = without_figures(sample())
    payload["claims"] = [r for r in payload["claims"] if r["tier"] == "fast"]
    payload["environment"]["FGCORE_CIFAR10"] = None
    page = render_page(payload, dpi=DPI)
    assert "JPEG copy" not in page and "CIFAR-10: not used in this session" in page


def test_an_unknown_figure_kind_renders_as_a_table_of_its_data():
    payload = without_figures(sample())
    payload["claims"][0]["figures"] = [{"kind": "my_new_plot", "data": {"alpha": [0.25, 0.5], "M": [[1, 2], [3, 4]],
                                                                       "label": "<b>x</b>"}}]
    page = render_page(payload, dpi=DPI)
    assert "No drawing for figure kind <code>my_new_plot</code>" in page
    assert "0.25, 0.5" in page and "matrix 2 × 2" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page   # data is escaped


def test_a_malformed_figure_shows_its_error_and_the_page_still_renders():
    payload = without_figures(sample())
    payload["claims"][0]["figures"] = [{"kind": "nc_curves", "data": {"epochs": [0, 1], "nc1": [1.0, 0.5]}}]
    page = render_page(payload, dpi=DPI)
    assert "could not be drawn" in page and "no &#39;nc2&#39;" in page


def test_the_same_input_gives_the_same_bytes(tmp_path):
    # One record per figure kind (every drawing code path), built twice into two directories.
    payload = sample()
    first_with_kind: dict[str, dict] = {}
    for record in payload["claims"]:
        for figure in record["figures"]:
            first_with_kind.setdefault(figure["kind"], record)
    assert set(first_with_kind) == set(KINDS) - MEASURE_PAGE_KINDS
    payload["claims"] = list({r["test"]: r for r in first_with_kind.values()}.values())
    first = build(payload, tmp_path / "a", dpi=DPI).read_bytes()
    assert build(copy.deepcopy(payload), tmp_path / "b", dpi=DPI).read_bytes() == first


def test_figures_drawn_in_parallel_are_those_drawn_one_by_one(monkeypatch):
    """A page with many figures draws them in child processes first; the PNGs are byte for byte the
    ones its own process draws, and a figure a child cannot draw is left to the page's process, which
    shows why."""
    from fgcore.report.page_figures import figure_view

    entries = [f for r in sample()["claims"] for f in r["figures"] if f["kind"] in KINDS]
    broken = {"kind": "nc_curves", "data": {"epochs": [0, 1], "nc1": [1.0, 0.5]}}
    monkeypatch.setattr(drawing_page, "PARALLEL_FROM", 2)
    parallel = drawing_page.FigureCache(DPI)
    parallel.prerender(entries + [broken], processes=2)
    assert len(parallel._done) == len({drawing_page.figure_key(e["kind"], e["data"]) for e in entries})
    serial = drawing_page.FigureCache(DPI)
    for entry in entries:
        assert parallel.png(entry["kind"], entry["data"]) == serial.png(entry["kind"], entry["data"])
    view = figure_view(broken, parallel, "a record")
    assert view["state"] == "error" and "no 'nc2'" in view["error"]


def test_svg_output_is_deterministic_too():
    data = next(f["data"] for r in sample()["claims"] for f in r["figures"] if f["kind"] == "clp_bars")
    first = render("clp_bars", data, fmt="svg", dpi=DPI)
    assert first == render("clp_bars", data, fmt="svg", dpi=DPI)
    assert b"<dc:date>" not in first


@pytest.mark.parametrize("kind, data, message", [
    ("nc_curves", {"epochs": [0, 1, 2], "nc1": [1, 0.5], "nc2": [1, 0.5, 0.2]}, "same length"),
    ("distance_heatmaps", {"snapshots": [{"epoch": 1, "D": [[0, 1, 2], [1, 0, 1]]}]}, "square"),
    ("gmm_curves", {"curves": [{"label": "a", "x": [1, 2], "y": [1, 2], "reached_100": [True]}]}, "reached_100"),
    ("grid_errors", {"lr": [0.1], "weight_decay": [1e-3, 1e-4], "train_error": [[0.0]]}, "expected lr x"),
])
def test_figure_functions_reject_malformed_data_with_a_clear_message(kind, data, message):
    with pytest.raises(ValueError, match=message):
        render(kind, data, dpi=DPI)


def test_fgcore_report_command(tmp_path, capsys):
    payload = without_figures(sample())
    records = tmp_path / "session.json"
    records.write_text(json.dumps(payload))
    assert fgcore_main(["report", str(records), "-o", str(tmp_path / "out"), "--dpi", str(DPI)]) == 0
    index = tmp_path / "out" / "index.html"
    assert f"report: {index.resolve()}" in capsys.readouterr().out
    assert index.is_file() and (tmp_path / "out" / "claims.json").is_file()
    # a broken input is a one-line error (exit 2), not a traceback
    (tmp_path / "bad.json").write_text('{"claims": 3}')
    assert fgcore_main(["report", str(tmp_path / "bad.json"), "-o", str(tmp_path / "out2")]) == 2
    assert "not a claims payload" in capsys.readouterr().err


class FakeReport:
    def __init__(self, user_properties):
        self.user_properties = user_properties


def test_pytest_html_columns_show_measured_threshold_and_verdict():
    header = ["<th>Result</th>", "<th>Test</th>", "<th>Duration</th>", "<th>Links</th>"]
    add_header(header)
    assert header[2:6] == HEADERS and len(header) == 8
    record = next(r for r in sample()["claims"] if r["op"] == "<=")
    claim_row = ["<td>r</td>", "<td>t</td>", "<td>d</td>", "<td>l</td>"]
    add_row(FakeReport([("fg_claim", json.dumps(record))]), claim_row)
    assert len(claim_row) == 8 and record["verdict"] in claim_row[5] and "≤" in claim_row[4]
    plain_row = ["<td>r</td>", "<td>t</td>", "<td>d</td>", "<td>l</td>"]
    add_row(FakeReport([]), plain_row)
    assert len(plain_row) == 8 and claim_record(FakeReport([])) is None


def test_the_overview_comes_first_from_the_richest_tier(built):
    _, page = built
    records = [r for r in sample()["claims"] if any(f["kind"] == "overview" for f in r["figures"])]
    richest = max(records, key=lambda r: ["fast", "slow", "gpu"].index(r["tier"]))
    top = page[page.index('<h2 id="overview">'):page.index('<h2 id="claims">')]
    assert PNG.search(top) and f'href="#{anchor(richest)}"' in top and f"({richest['tier']} tier)" in top
