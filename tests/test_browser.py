"""The built book as a reader gets it: every page in headless Chromium, network cut.

``make test`` builds the smoke book and then runs this file with ``SEMGAN_BOOK_HTML``
naming the HTML folder (default ``_build/smoke/_build/html``). A local HTTP server on
127.0.0.1 serves it; Chromium resolves no other host, so anything a page would fetch
from the internet fails, and the test fails with it. Each page must load with no failed
request and no console error, its equations must be typeset by MathJax (no ``$$`` or
``\\(`` left in the text, an ``mjx-container`` in every maths element) and every widget
area must hold a rendered widget. The chapter-1 explorer's slider is moved with the
keyboard and must change the frame shown. Screenshots (1280 px wide window) are saved
under ``_build/browser/``.

Chromium comes from the system's packages (Debian: ``apt-get install chromium``; CI
installs it). Without it, or without a built book, the tests are skipped with the reason.
The browser is driven over the DevTools protocol on a pipe, so no extra Python package
is needed.
"""

from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("SEMGAN_BOOK_HTML") or ROOT / "_build" / "smoke" / "_build" / "html")
SHOTS = ROOT / "_build" / "browser"
WIDTH, HEIGHT = 1280, 900
# A matplotlib figure is saved at 100 dpi, so 10-point text is 13.9 px tall at its natural
# size; shown smaller than 65 % of it (a figure much wider than the text column), that text
# falls under 9 px.
MIN_FIGURE_SCALE = 0.65
EXPLORER_CLASS = "semgan-explorer"  # semgan_core.explorer.EXPLORER_CLASS
CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")


def _chromium():
    for name in [os.environ.get("SEMGAN_CHROMIUM"), *CANDIDATES]:
        if name and (shutil.which(name) or Path(name).is_file()):
            return shutil.which(name) or name
    return None


def _pages():
    if not (HTML / "index.html").is_file():
        return []
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).parts[0].startswith("_"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class DevTools:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, binary, profile_dir):
        to_chrome_r, self._write = os.pipe()
        self._read, from_chrome_w = os.pipe()

        def fds():  # the pipe protocol: Chromium reads fd 3 and writes fd 4
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
                "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps",
                "--mute-audio", "--hide-scrollbars", f"--user-data-dir={profile_dir}",
                f"--window-size={WIDTH},{HEIGHT}", "--force-device-scale-factor=1",
                # the network is cut: no host but this machine resolves
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "about:blank"]
        self.process = subprocess.Popen(args, preexec_fn=fds, pass_fds=(3, 4),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._replies: dict[int, queue.Queue] = {}
        self.events: list[dict] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._reader, daemon=True).start()
        self.session = None
        target = self.send("Target.createTarget", url="about:blank", session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True,
                                 session=False)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
                  deviceScaleFactor=1, mobile=False)

    def _reader(self):
        buffer = b""
        while True:
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        box = self._replies.get(message["id"])
                    if box is not None:
                        box.put(message)
                else:
                    with self._lock:
                        self.events.append(message)

    def send(self, method, *, session=True, timeout=60, **params):
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            box = self._replies[ident] = queue.Queue()
        message = {"id": ident, "method": method, "params": params}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        try:
            reply = box.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"DevTools: no reply to {method} in {timeout} s") from None
        if "error" in reply:
            raise RuntimeError(f"DevTools: {method} failed: {reply['error']}")
        return reply.get("result", {})

    def evaluate(self, expression, timeout=60):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True, timeout=timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def take_events(self):
        with self._lock:
            events, self.events = self.events, []
        return events

    def wait_for(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any(e.get("method") == method for e in self.events):
                    return True
            time.sleep(0.05)
        return False

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._write)


@pytest.fixture(scope="module")
def browser():
    binary = _chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium), so the "
                    "book was not checked in a browser")
    handler = functools.partial(_Quiet, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile_dir:
        tools = DevTools(binary, profile_dir)
        try:
            yield tools, f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            tools.close()
            server.shutdown()


# Run in the page once it has loaded: wait for MathJax and the widget manager, then
# report what a reader would see.
INSPECT = r"""
(async () => {
  const MIN_SCALE = %s;
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const views = () => Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  const empty = () => views().filter(tag => {
      const area = tag.previousElementSibling;
      return !(area && area.classList.contains('widget-subarea')
               && area.getBoundingClientRect().height > 0 && area.children.length > 0);
  }).length;
  for (let i = 0; i < 100 && views().length && empty(); i++) await sleep(200);
  // text outside code: left-over TeX delimiters mean unrendered maths
  const walker = document.createTreeWalker(
      document.querySelector('main') || document.body || document.documentElement,
                                           NodeFilter.SHOW_TEXT);
  let text = '';
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest('pre, code, script, style, mjx-container, .highlight'))
      text += node.textContent + '\n';
  }
  const leftover = ['$$', '\\(', '\\[', '\\frac', '\\sqrt'].filter(s => text.includes(s));
  const maths = Array.from(document.querySelectorAll('.math'));
  // a chapter's figures (matplotlib, 100 dpi) drawn wider than the column are shrunk,
  // and their text with them; widget images and photographs are not checked
  const shrunk = Array.from(document.querySelectorAll('.cell_output img'))
      .filter(img => img.src.includes('/_images/') && img.naturalWidth > 0
                     && img.width / img.naturalWidth < MIN_SCALE)
      .map(img => `${img.naturalWidth} px shown at ${Math.round(img.width)} px`);
  // code and printed output must wrap inside the column, not run past it
  const overflowing = Array.from(document.querySelectorAll('main pre'))
      .filter(pre => pre.scrollWidth > pre.clientWidth + 2)
      .map(pre => pre.textContent.split('\n').reduce((a, b) => a.length > b.length ? a : b)
                     .slice(0, 60));
  return {
    shrunk, overflowing,
    leftover, maths: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).length,
    mjx: document.querySelectorAll('mjx-container').length,
    widgetViews: views().length, emptyWidgets: empty(),
    explorers: document.querySelectorAll('.semgan-explorer').length,
    height: Math.ceil(document.documentElement.scrollHeight),
  };
})()
"""

# The first explorer: where it is on the page (document coordinates) and the frames it
# shows (the src of its visible images).
EXPLORER_STATE = r"""
(() => {
  const box = document.querySelector('.semgan-explorer');
  const rect = box.getBoundingClientRect();
  const shown = Array.from(box.querySelectorAll('img'))
      .filter(img => img.getBoundingClientRect().height > 0).map(img => img.src).join('|');
  return {shown, x: rect.left + window.scrollX, y: rect.top + window.scrollY,
          width: rect.width, height: rect.height};
})()
"""

# Move the first explorer's first slider one step with the keyboard, as a reader would.
EXPLORER_MOVE = r"""
(async () => {
  const box = document.querySelector('.semgan-explorer');
  const handle = box.querySelector('.noUi-handle, [role="slider"], input[type="range"]');
  if (!handle) return false;
  handle.focus();
  for (const type of ['keydown', 'keyup']) {
    handle.dispatchEvent(new KeyboardEvent(type, {key: 'ArrowRight', code: 'ArrowRight',
                                                  keyCode: 39, which: 39, bubbles: true}));
  }
  await new Promise(r => setTimeout(r, 800));
  return true;
})()
"""


def _problems(events, base):
    """Failed requests, HTTP errors and console errors among DevTools events."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"request failed ({params.get('errorText')}, "
                         f"{params.get('type')}): {params.get('requestId')}")
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith((base, "data:", "blob:", "about:")):
                found.append(f"request outside the site: {url}")
        elif method == "Network.responseReceived":
            response = params.get("response", {})
            if response.get("status", 200) >= 400:
                found.append(f"HTTP {response['status']}: {response.get('url')}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append("uncaught exception: "
                         + str(details.get("exception", {}).get("description")
                               or details.get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            found.append("console error: " + " ".join(
                str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            found.append(f"console error ({entry.get('source')}): {entry.get('text')} "
                         f"{entry.get('url', '')}")
    return found


def _screenshot(tools, name, height, selector=None):
    """Save a PNG of the whole page (the window made as tall as the page), or of the first
    element matching the CSS ``selector`` cut out of it."""
    height = min(max(height, HEIGHT), 30000)
    tools.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height,
               deviceScaleFactor=1, mobile=False)
    try:
        time.sleep(0.5)
        tools.evaluate("window.scrollTo(0, 0)")
        box = None if selector is None else tools.evaluate(
            "(() => { const r = document.querySelector(%s).getBoundingClientRect();"
            " return [r.left, r.top, r.right, r.bottom].map(Math.round); })()"
            % json.dumps(selector))
        shot = base64.b64decode(tools.send("Page.captureScreenshot", format="png")["data"])
    finally:
        tools.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
                   deviceScaleFactor=1, mobile=False)
    path = SHOTS / (name.replace("/", "__").removesuffix(".html") + ".png")
    if box is None:
        path.write_bytes(shot)
    else:
        from PIL import Image

        Image.open(io.BytesIO(shot)).crop(box).save(path)
    return path


PAGES = _pages()
_SEEN: dict[str, dict] = {}


@pytest.mark.parametrize("page", PAGES or ["(no book)"])
def test_page_reads_offline(browser, page):
    if not PAGES:
        pytest.skip(f"no built book at {HTML} (make test builds it before this check)")
    tools, base = browser
    tools.take_events()
    tools.send("Page.navigate", url=base + page)
    assert tools.wait_for("Page.loadEventFired", timeout=60), f"{page} did not load"
    for attempt in range(5):  # a redirect page (index.html) may replace the document
        try:
            report = tools.evaluate(INSPECT % MIN_FIGURE_SCALE, timeout=90)
            break
        except RuntimeError:
            if attempt == 4:
                raise
            time.sleep(1)
    time.sleep(0.3)  # late requests (fonts) of the page
    problems = _problems(tools.take_events(), base)
    _SEEN[page] = report
    _screenshot(tools, page, report["height"])
    assert not problems, f"{page}:\n" + "\n".join(problems)
    assert not report["leftover"], f"{page}: TeX left as text: {report['leftover']}"
    assert report["untypeset"] == 0, (
        f"{page}: {report['untypeset']} of {report['maths']} equations not typeset")
    assert not report["shrunk"], (
        f"{page}: figures shrunk to fit the column, their text under 9 px: {report['shrunk']}")
    assert not report["overflowing"], (
        f"{page}: lines run past the column: {report['overflowing']}")
    assert report["emptyWidgets"] == 0, (
        f"{page}: {report['emptyWidgets']} of {report['widgetViews']} widget areas empty")
    if report["explorers"]:
        explorer = "." + EXPLORER_CLASS
        before = tools.evaluate(EXPLORER_STATE)
        _screenshot(tools, page.removesuffix(".html") + "-explorer", report["height"], explorer)
        assert tools.evaluate(EXPLORER_MOVE, timeout=30), f"{page}: the explorer has no slider"
        after = tools.evaluate(EXPLORER_STATE)
        _screenshot(tools, page.removesuffix(".html") + "-explorer-moved", report["height"],
                    explorer)
        assert after["shown"] != before["shown"], (
            f"{page}: moving the explorer's slider did not change the frame")


def test_book_has_equations_and_a_working_explorer(browser):
    if not PAGES:
        pytest.skip(f"no built book at {HTML}")
    missing = [p for p in PAGES if p not in _SEEN]
    if missing:
        pytest.skip(f"pages not checked in this run: {missing[:3]}")
    assert sum(r["mjx"] for r in _SEEN.values()) > 0, "no page typesets an equation"
    assert sum(r["explorers"] for r in _SEEN.values()) > 0, "no page shows the explorer"


def test_search_finds_a_word_offline(browser):
    if not PAGES:
        pytest.skip(f"no built book at {HTML}")
    tools, base = browser
    tools.take_events()
    tools.send("Page.navigate", url=base + "search.html?q=Wiener")
    assert tools.wait_for("Page.loadEventFired", timeout=60)
    hits = tools.evaluate(r"""
    (async () => {
      for (let i = 0; i < 100; i++) {
        const items = document.querySelectorAll('#search-results li');
        if (items.length) return items.length;
        await new Promise(r => setTimeout(r, 200));
      }
      return 0;
    })()""", timeout=60)
    problems = _problems(tools.take_events(), base)
    assert not problems, "search.html:\n" + "\n".join(problems)
    assert hits > 0, "the search page found no page with 'Wiener'"
