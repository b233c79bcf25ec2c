"""The claims report in a real browser: headless Chromium driven by selenium (fgcore.report.screenshot).

The page checked is $FGCORE_REPORT_PAGE when set (CI sets it to reports/fast/index.html right after the
fast claims wrote it), else a report built here from tests/data/claims_sample.json (a recorded session
with every claim id and every figure kind), so the test is the same on every machine. It checks what
a reader sees: every image decodes, nothing is fetched from outside, every claim id is on the page and
the verdict summary is on the first screen; the other tests show that each check fails on a page with
that defect. Skipped with the reason where Chromium, chromedriver or selenium is missing, unless
FGCORE_REQUIRE_BROWSER=1 (CI, which installs them), where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from fgcore.report import build
from fgcore.report.screenshot import BrowserUnavailable, check_page, chromium, find_browser, report_claim_ids

SAMPLE = Path(__file__).parent / "data" / "claims_sample.json"
PNG = re.compile(r'(src="data:image/png;base64,)([A-Za-z0-9+/=]+)(")')


@pytest.fixture(scope="module")
def browser():
    try:
        find_browser()
    except BrowserUnavailable as exc:
        if os.environ.get("FGCORE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"FGCORE_REQUIRE_BROWSER=1 but {exc}", pytrace=False)
        pytest.skip(str(exc))
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    page = os.environ.get("FGCORE_REPORT_PAGE")
    if page:
        path = Path(page).resolve()
        if not path.is_file():
            pytest.fail(f"FGCORE_REPORT_PAGE={page}: no such file (run the fast claims with --fg-report first)",
                        pytrace=False)
        return path
    return build(SAMPLE, tmp_path_factory.mktemp("browser-report"), dpi=40).resolve()


def variant(report: Path, folder: Path, change) -> Path:
    """A copy of the report page with one defect (change: html -> html)."""
    html = report.read_text(encoding="utf-8")
    changed = change(html)
    assert changed != html, "the defect was not applied"
    (folder / "claims.json").write_bytes((report.parent / "claims.json").read_bytes())
    page = folder / "index.html"
    page.write_text(changed, encoding="utf-8")
    return page


def test_the_report_reads_right_in_chromium(browser, report):
    ids = report_claim_ids(report)
    check = check_page(browser, report.as_uri(), claim_ids=ids)
    assert check.problems == [], check.problems
    assert check.images >= 5 and len(ids) >= 16
    # the summary counts every record and every catalog id no record covers
    records = len(json.loads((report.parent / "claims.json").read_text())["claims"])
    shown = sum(int(n) for n in re.findall(r"(\d+) (?:holds|fails|precondition failed|error|skipped|not run)",
                                           check.summary))
    assert shown >= records, check.summary


def test_a_broken_image_is_caught(browser, report, tmp_path):
    # the second embedded PNG, truncated: its data no longer decodes
    count = iter(range(10**6))
    broken = variant(report, tmp_path, lambda html: PNG.sub(
        lambda m: m.group(1) + m.group(2)[:40] + m.group(3) if next(count) == 1 else m.group(0), html))
    check = check_page(browser, broken.as_uri(), claim_ids=report_claim_ids(report))
    assert len(check.broken_images) == 1 and check.images >= 5, check
    assert any("did not decode" in p for p in check.problems)


def test_a_fetch_from_outside_is_caught(browser, report, tmp_path):
    outside = ['<link rel="stylesheet" href="https://fonts.example.invalid/css?family=Roboto">',
               '<img src="http://images.example.invalid/pixel.png" alt="outside">']
    page = variant(report, tmp_path, lambda html: html.replace("</main>", "".join(outside) + "</main>", 1))
    check = check_page(browser, page.as_uri(), claim_ids=report_claim_ids(report))
    assert "https://fonts.example.invalid/css?family=Roboto" in check.outside_requests, check.outside_requests
    assert "http://images.example.invalid/pixel.png" in check.outside_requests, check.outside_requests
    assert any("fetched from outside" in p for p in check.problems)


def test_a_missing_claim_id_and_a_summary_below_the_first_screen_are_caught(browser, report, tmp_path):
    def defect(html: str) -> str:
        html = html.replace("nc2-etf", "nc2-xxx")
        return html.replace('<div class="counts">', '<div style="height:2000px"></div><div class="counts">', 1)

    check = check_page(browser, variant(report, tmp_path, defect).as_uri(), claim_ids=report_claim_ids(report))
    assert check.missing_ids == ["nc2-etf"] and check.summary and not check.summary_on_first_screen
    assert "the verdict summary is not on the first screen" in check.problems
