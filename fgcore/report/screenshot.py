"""Open the claims report in headless Chromium and take screenshots (what a reader sees first, and all of it).

    .venv/bin/python -m fgcore.report.screenshot [RECORDS.json | --html index.html] [-o DIR]

Builds DIR/index.html from RECORDS.json (default: tests/data/claims_sample.json, a recorded session),
opens it in Chromium through chromedriver (the W3C WebDriver protocol over HTTP, spoken here with the
standard library: no selenium), checks in the browser that every image decoded and that the page
fetched nothing from outside, and writes DIR/first-screen.png (1440 x 900) and DIR/full-page.png.
Needs the Debian packages chromium and chromium-driver (`apt-get install -y chromium chromium-driver`);
without them it prints why and exits 0 (it is a manual check, not part of `make test`).
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: fgcore/report/screenshot.py
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1"]
WIDTH, HEIGHT = 1440, 900


def find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    """The few W3C WebDriver commands this check needs, over HTTP to a local chromedriver."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.session: str | None = None

    def call(self, method: str, path: str, body: dict | None = None, timeout: float = 120) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"WebDriver {method} {path} failed: {exc.read().decode(errors='replace')}") from None

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.call("GET", "/status", timeout=2)["value"].get("ready"):
                    return
            except (OSError, RuntimeError, ValueError):
                pass
            time.sleep(0.2)
        raise RuntimeError("chromedriver did not become ready within 30 s")

    def start(self, chromium: str, profile_dir: str) -> None:
        options = {"binary": chromium, "args": CHROMIUM_FLAGS + [f"--user-data-dir={profile_dir}",
                                                                 f"--window-size={WIDTH},{HEIGHT}"]}
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}}
        self.session = self.call("POST", "/session", caps)["value"]["sessionId"]

    def s(self, method: str, path: str, body: dict | None = None) -> object:
        return self.call(method, f"/session/{self.session}{path}", body)["value"]

    def cdp(self, cmd: str, params: dict | None = None) -> dict:
        return self.s("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params or {}})  # type: ignore[return-value]

    def script(self, source: str) -> object:
        return self.s("POST", "/execute/sync", {"script": source, "args": []})

    def quit(self) -> None:
        if self.session:
            try:
                self.call("DELETE", f"/session/{self.session}", timeout=20)
            except (OSError, RuntimeError):
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="?", default=str(ROOT / "tests" / "data" / "claims_sample.json"))
    parser.add_argument("--html", help="screenshot this index.html instead of building one")
    parser.add_argument("-o", "--out", default=str(ROOT / "reports" / "screenshot"))
    args = parser.parse_args(argv)

    chromium = find("chromium", "chromium-browser", "google-chrome")
    driver_bin = find("chromedriver")
    if not chromium or not driver_bin:
        print("skipped: needs chromium and chromedriver (apt-get install -y chromium chromium-driver)")
        return 0

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.html:
        index = Path(args.html).resolve()
    else:
        from fgcore.report import build

        index = build(args.records, out).resolve()
    print(f"page: {index} ({index.stat().st_size / 1024:.0f} KiB)")

    port = free_port()
    driver_proc = subprocess.Popen([driver_bin, f"--port={port}"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
    driver = WebDriver(port)
    problems = []
    try:
        with tempfile.TemporaryDirectory(prefix="fgcore-chromium-") as profile:
            driver.wait_ready()
            driver.start(chromium, profile)
            driver.s("POST", "/url", {"url": index.as_uri()})
            images = driver.script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")
            broken = [i for i, (complete, width) in enumerate(images) if not complete or width == 0]
            if broken:
                problems.append(f"{len(broken)} of {len(images)} images did not decode: {broken}")
            fetched = driver.script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
                ".filter(n => !n.startsWith('data:'));")
            if fetched:
                problems.append(f"the page fetched other files: {fetched}")
            print(f"{len(images)} images, all decoded: {not broken}; outside resources fetched: {len(fetched)}")
            wide = driver.script(
                "const w = document.documentElement.clientWidth; return Array.from(document.querySelectorAll("
                "'body *')).filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 5)"
                ".map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60));")
            if wide:
                problems.append(f"the page is wider than the {WIDTH} px window (a reader scrolls sideways): {wide}")

            first = driver.s("GET", "/screenshot")
            (out / "first-screen.png").write_bytes(base64.b64decode(first))
            metrics = driver.cdp("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            shot = driver.cdp("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
            (out / "full-page.png").write_bytes(base64.b64decode(shot["data"]))
            print(f"screenshots: {out / 'first-screen.png'} ({WIDTH} x {HEIGHT}), {out / 'full-page.png'} "
                  f"({int(size['width'])} x {int(size['height'])})")
    finally:
        driver.quit()
        driver_proc.terminate()
        try:
            driver_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            driver_proc.kill()
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
