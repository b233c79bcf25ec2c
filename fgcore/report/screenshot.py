"""The claims report in headless Chromium, driven by selenium: what a reader's browser shows.

    .venv/bin/python -m fgcore.report.screenshot (RECORDS.json | --html index.html) [-o DIR]

Builds DIR/index.html from RECORDS.json (a session's claims.json; the checkout has a recorded one,
tests/data/claims_sample.json) or takes an existing page, opens it in Chromium, checks it (check_page: every image decodes, nothing is
fetched from outside, every claim id is on the page, the verdict summary is on the first screen, no
sideways scrolling) and writes DIR/first-screen.png (1440 x 900) and DIR/full-page.png. The browser
test of the report (tests/test_report_browser.py) runs the same check_page.

Needs Debian's chromium and chromium-driver (`apt-get install -y chromium chromium-driver`) and
selenium (a test dependency); the driver path is given to selenium, so Selenium Manager never
downloads anything. Every request goes to a local proxy that records and refuses it,
so nothing the page (or the browser itself) asks for reaches the network.
"""

from __future__ import annotations

import argparse
import base64
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1"]
WIDTH, HEIGHT = 1440, 900
INSTALL_HINT = "apt-get install -y chromium chromium-driver (Debian), and selenium (pip install -e '.[test]')"


class BrowserUnavailable(RuntimeError):
    """No Chromium, chromedriver or selenium here; the message says which and how to install it."""


def find_browser() -> tuple[str, str]:
    """(chromium, chromedriver) executables; BrowserUnavailable says what is missing."""
    chromium = next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    driver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", chromium), ("chromedriver", driver)) if not path]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    if missing:
        raise BrowserUnavailable(f"no {' or '.join(missing)} on this machine: {INSTALL_HINT}")
    return chromium, driver  # type: ignore[return-value]


class _RefusingProxy(http.server.BaseHTTPRequestHandler):
    """Records the target of every request and refuses it (502): nothing reaches the network."""

    def _refuse(self) -> None:
        self.server.requests.append(self.path if self.command != "CONNECT" else f"https://{self.path}")
        self.send_error(502, "fgcore report check: the page must not fetch anything")

    do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = do_CONNECT = _refuse

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@contextmanager
def refusing_proxy() -> Iterator[http.server.ThreadingHTTPServer]:
    """A local HTTP proxy on a free port; `.requests` lists what went through it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingProxy)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="fgcore-refusing-proxy", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Browser:
    """A selenium WebDriver on headless Chromium, and the proxy every request of the page goes to."""

    driver: Any
    proxy: Any


@contextmanager
def chromium(width: int = WIDTH, height: int = HEIGHT) -> Iterator[Browser]:
    """Headless Chromium with a fresh profile and a width x height viewport, its requests through a
    refusing proxy; closed on exit."""
    chromium_bin, driver_bin = find_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="fgcore-chromium-") as profile, refusing_proxy() as proxy:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium_bin
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                     f"--proxy-server=http://127.0.0.1:{proxy.server_address[1]}"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # every network request
        # An explicit driver path: selenium does not start Selenium Manager (which would download).
        service = Service(executable_path=driver_bin, log_output=subprocess.DEVNULL)
        driver = webdriver.Chrome(service=service, options=options)
        # The window's size includes what headless Chromium keeps for its UI: fix the page's viewport.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        try:
            yield Browser(driver=driver, proxy=proxy)
        finally:
            driver.quit()


@dataclass
class PageCheck:
    """What the browser saw on one page; `problems` lists what a reader would see wrong."""

    url: str
    images: int
    broken_images: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    missing_ids: list[str] = field(default_factory=list)
    summary: str | None = None              # the verdict summary's text (None: not on the page)
    summary_on_first_screen: bool = False   # entirely inside the first window, without scrolling
    too_wide: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = []
        if self.images == 0:
            out.append("the page shows no images")
        if self.broken_images:
            out.append(f"{len(self.broken_images)} of {self.images} images did not decode: {self.broken_images}")
        if self.outside_requests:
            out.append(f"the page fetched from outside: {self.outside_requests}")
        if self.missing_ids:
            out.append(f"claim ids not on the page: {self.missing_ids}")
        if self.summary is None:
            out.append("no verdict summary on the page")
        elif not self.summary_on_first_screen:
            out.append("the verdict summary is not on the first screen")
        if self.too_wide:
            out.append(f"the page is wider than the window (a reader scrolls sideways): {self.too_wide}")
        return out


_IMAGES = "return Array.from(document.images).map((i, n) => [i.complete && i.naturalWidth > 0, i.alt || ('image ' + n)]);"
_SUMMARY = """
const e = document.querySelector('.counts');
if (!e) return null;
const r = e.getBoundingClientRect();
return [e.innerText, r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight];
"""
_TOO_WIDE = """
const w = document.documentElement.clientWidth;
return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60));
"""
_RESOURCES = "return performance.getEntriesByType('resource').map(e => e.name);"


def _requested_urls(browser: Browser, page: str) -> list[str]:
    """Every URL `page` asked for since the last call (Chromium's network log). Requests of the browser
    itself (its new-tab page, update and time checks) name another document and are left out."""
    urls = []
    for entry in browser.driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        params = message["params"]
        if page in (params.get("documentURL"), (params.get("initiator") or {}).get("url")):
            urls.append(params["request"]["url"])
    return urls


def check_page(browser: Browser, url: str, *, claim_ids: Iterable[str] = ()) -> PageCheck:
    """Open `url` (a file:// report) and check it as a reader's browser shows it.

    Outside requests are seen in Chromium's network log (requests made for this document) and in the
    page's resource timing entries; anything other than the page itself and data: URLs counts. (The
    refusing proxy keeps them from leaving the machine; it also sees the browser's own background
    requests, so it is not what decides.)
    """
    driver = browser.driver
    _requested_urls(browser, url)  # drop what was logged before this page
    driver.get(url)  # returns after the load event: images have been decoded or have failed
    images = driver.execute_script(_IMAGES)
    requested = _requested_urls(browser, url) + driver.execute_script(_RESOURCES)
    outside = sorted({u for u in requested if u != url and not u.startswith(("data:", "about:"))})
    text = driver.execute_script("return document.body.innerText;")
    summary = driver.execute_script(_SUMMARY)
    return PageCheck(
        url=url, images=len(images), broken_images=[alt for ok, alt in images if not ok], outside_requests=outside,
        missing_ids=[cid for cid in claim_ids if cid not in text],
        summary=None if summary is None else summary[0], summary_on_first_screen=bool(summary and summary[1]),
        too_wide=driver.execute_script(_TOO_WIDE))


def screenshots(browser: Browser, out: Path) -> tuple[Path, Path]:
    """out/first-screen.png (the window) and out/full-page.png (the whole page) of the open page."""
    driver = browser.driver
    first = out / "first-screen.png"
    first.write_bytes(driver.get_screenshot_as_png())
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    full = out / "full-page.png"
    full.write_bytes(base64.b64decode(shot["data"]))
    return first, full


def report_claim_ids(index: Path) -> list[str]:
    """The claim ids a report page must show: every catalog id and every id of its claims.json."""
    from ..suite.catalog import CLAIMS

    ids = set(CLAIMS)
    records = index.parent / "claims.json"
    if records.exists():
        ids |= {r["id"] for r in json.loads(records.read_text(encoding="utf-8")).get("claims", [])}
    return sorted(ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="?", help="a claims.json to build the page from (e.g. the recorded "
                                                   "session tests/data/claims_sample.json of the checkout)")
    parser.add_argument("--html", help="check and screenshot this index.html instead of building one")
    parser.add_argument("-o", "--out", default="reports/screenshot",
                        help="where the page (when built) and the screenshots go (default: reports/screenshot)")
    args = parser.parse_args(argv)
    if (args.records is None) == (args.html is None):
        parser.error("give either RECORDS.json (a claims.json to build the page from) or --html index.html")
    try:
        find_browser()
    except BrowserUnavailable as exc:
        print(f"skipped: {exc}")
        return 0

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.html:
        index = Path(args.html).resolve()
    else:
        from . import build

        index = build(args.records, out).resolve()
    print(f"page: {index} ({index.stat().st_size / 1024:.0f} KiB)")
    with chromium() as browser:
        check = check_page(browser, index.as_uri(), claim_ids=report_claim_ids(index))
        print(f"{check.images} images, {len(check.broken_images)} broken; outside requests: "
              f"{len(check.outside_requests)}; verdict summary on the first screen: {check.summary_on_first_screen}")
        first, full = screenshots(browser, out)
    print(f"screenshots: {first} ({WIDTH} x {HEIGHT}), {full}")
    for problem in check.problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if check.problems else 0


if __name__ == "__main__":
    sys.exit(main())
