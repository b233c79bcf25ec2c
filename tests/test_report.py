"""The claims report renders from recorded JSON (no training): tests/data/claims_sample.json.

The sample holds a record for every catalog claim id and every figure kind (written by
tests/data/make_claims_sample.py). Figures are drawn at a low dpi here to keep the file quick.
"""

from __future__ import annotations

import base64
import copy
import html
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from fgcore.catalog import CLAIMS
from fgcore.cli import main as fgcore_main
from fgcore.report import build, figures
from fgcore.report.html import anchor, render_page
from fgcore.report.pytest_html_columns import (HEADERS, claim_record, pytest_html_results_table_header,
                                               pytest_html_results_table_row)

SAMPLE = Path(__file__).parent / "data" / "claims_sample.json"
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


def test_sample_covers_every_claim_id_and_figure_kind():
    payload = sample()
    assert {r["id"] for r in payload["claims"]} == set(CLAIMS)
    kinds = {f["kind"] for r in payload["claims"] for f in r["figures"]}
    assert kinds == set(figures.KINDS)


def test_report_writes_index_and_a_copy_of_the_records(built):
    index, _ = built
    assert index.name == "index.html"
    assert json.loads((index.parent / "claims.json").read_text()) == sample()


def test_every_claim_id_and_record_has_its_row_and_section(built):
    _, page = built
    for record in sample()["claims"]:
        assert f'id="{anchor(record)}"' in page, record["id"]       # its section
        assert f'href="#{anchor(record)}"' in page, record["id"]    # its row in the claims table
    for claim_id, info in CLAIMS.items():
        assert claim_id in page and html.escape(info.statement) in page


def test_every_embedded_image_decodes_and_is_not_blank(built):
    _, page = built
    images = PNG.findall(page)
    expected = sum(1 for r in sample()["claims"] for f in r["figures"] if f["kind"] in figures.KINDS)
    assert len(images) == expected
    for encoded in images:
        raw = base64.b64decode(encoded, validate=True)
        Image.open(io.BytesIO(raw)).verify()          # a well-formed PNG
        image = Image.open(io.BytesIO(raw)).convert("L")
        assert image.width > 50 and image.height > 30
        low, high = image.getextrema()
        assert high - low > 100, "an image with (almost) one colour: nothing was drawn"


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
    assert set(first_with_kind) == set(figures.KINDS)
    payload["claims"] = list({r["test"]: r for r in first_with_kind.values()}.values())
    first = build(payload, tmp_path / "a", dpi=DPI).read_bytes()
    assert build(copy.deepcopy(payload), tmp_path / "b", dpi=DPI).read_bytes() == first


def test_svg_output_is_deterministic_too():
    data = next(f["data"] for r in sample()["claims"] for f in r["figures"] if f["kind"] == "clp_bars")
    first = figures.render("clp_bars", data, fmt="svg", dpi=DPI)
    assert first == figures.render("clp_bars", data, fmt="svg", dpi=DPI)
    assert b"<dc:date>" not in first


@pytest.mark.parametrize("kind, data, message", [
    ("nc_curves", {"epochs": [0, 1, 2], "nc1": [1, 0.5], "nc2": [1, 0.5, 0.2]}, "same length"),
    ("distance_heatmaps", {"snapshots": [{"epoch": 1, "D": [[0, 1, 2], [1, 0, 1]]}]}, "square"),
    ("gmm_curves", {"curves": [{"label": "a", "x": [1, 2], "y": [1, 2], "reached_100": [True]}]}, "reached_100"),
    ("grid_errors", {"lr": [0.1], "weight_decay": [1e-3, 1e-4], "train_error": [[0.0]]}, "expected lr x"),
])
def test_figure_functions_reject_malformed_data_with_a_clear_message(kind, data, message):
    with pytest.raises(ValueError, match=message):
        figures.render(kind, data, dpi=DPI)


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
    pytest_html_results_table_header(header)
    assert header[2:6] == HEADERS and len(header) == 8
    record = next(r for r in sample()["claims"] if r["op"] == "<=")
    claim_row = ["<td>r</td>", "<td>t</td>", "<td>d</td>", "<td>l</td>"]
    pytest_html_results_table_row(FakeReport([("fg_claim", json.dumps(record))]), claim_row)
    assert len(claim_row) == 8 and record["verdict"] in claim_row[5] and "≤" in claim_row[4]
    plain_row = ["<td>r</td>", "<td>t</td>", "<td>d</td>", "<td>l</td>"]
    pytest_html_results_table_row(FakeReport([]), plain_row)
    assert len(plain_row) == 8 and claim_record(FakeReport([])) is None
