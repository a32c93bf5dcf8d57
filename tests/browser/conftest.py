"""Browser fixtures: the real app on a free 127.0.0.1 port, Debian's headless Chromium driven by Playwright.

Install the browser first with ``scripts/install_browser.sh`` (``make test`` does). Every request the
page makes is recorded; any that would leave 127.0.0.1 is aborted and fails the test.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask, abort
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright
from werkzeug.serving import make_server

from webmap import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
HOST = "127.0.0.1"
LOCAL_SCHEMES = {"data", "blob", "about"}  # never reach the network


def _is_local(url: str) -> bool:
    """Whether a request for ``url`` stays on this machine (127.0.0.1, or no network at all)."""
    parts = urlsplit(url)
    return parts.hostname == HOST or parts.scheme in LOCAL_SCHEMES


@dataclass
class LiveServer:
    """The app served on ``url``; tests add HTML pages of their own under ``/_test/<name>``."""

    app: Flask
    url: str
    pages: dict[str, Callable[[], str]] = field(default_factory=dict)

    def add_page(self, name: str, render: Callable[[], str]) -> str:
        """Serve ``render()`` at ``/_test/<name>`` and return its full URL."""
        self.pages[name] = render
        return f"{self.url}/_test/{name}"


@dataclass
class PageLog:
    """What a page did: console errors (and uncaught exceptions), failed responses, every request URL."""

    console_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_console(self, kind: str, text: str) -> None:
        """Keep console messages of type error."""
        if kind == "error":
            self.console_errors.append(text)

    def on_response(self, status: int, url: str) -> None:
        """Keep responses with an error status."""
        if status >= 400:
            self.failed_responses.append(f"{status} {url}")

    def offsite_requests(self) -> list[str]:
        """Requests to anywhere but 127.0.0.1."""
        return [u for u in self.requests if not _is_local(u)]

    def assert_clean(self) -> None:
        """Fail unless the page stayed on 127.0.0.1 without console errors or failed responses."""
        assert self.offsite_requests() == [], "requests left 127.0.0.1"
        assert self.console_errors == [], "console errors"
        assert self.failed_responses == [], "failed responses"


@pytest.fixture(scope="session")
def live_server(store_path: Path) -> Iterator[LiveServer]:
    """The real app over the session's store, served by werkzeug in a background thread."""
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)})
    server_pages: dict[str, Callable[[], str]] = {}

    @app.get("/_test/<name>")
    def _test_page(name: str) -> str:
        return server_pages[name]() if name in server_pages else abort(404)

    server = make_server(HOST, 0, app, threaded=True)  # port 0: the OS picks a free port
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://{HOST}:{server.server_port}", server_pages)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (Playwright's own browser download does not work offline)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_browser.sh")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page_log() -> PageLog:
    """The record of the test's page."""
    return PageLog()


@contextlib.contextmanager
def watched_page(browser: Browser, page_log: PageLog, **context_options: object) -> Iterator[Page]:
    """A page of a new context (``context_options``: viewport, is_mobile …) whose requests off 127.0.0.1 are
    aborted, its console errors, failed responses and requests kept in ``page_log``; fails if it went off-site."""
    context = browser.new_context(**context_options)

    def _route(route: Route, request: Request) -> None:
        if _is_local(request.url):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    context.route("**/*", _route)
    context.on("request", lambda r: page_log.requests.append(r.url))
    p = context.new_page()
    p.on("console", lambda msg: page_log.on_console(msg.type, msg.text))
    p.on("pageerror", lambda exc: page_log.console_errors.append(f"uncaught: {exc}"))
    p.on("response", lambda resp: page_log.on_response(resp.status, resp.url))
    yield p
    context.close()
    assert page_log.offsite_requests() == [], "requests left 127.0.0.1"


#: A phone's screen (CSS px), as the phone fixture shows pages.
PHONE_WIDTH, PHONE_HEIGHT = 390, 844


@pytest.fixture()
def page(browser: Browser, page_log: PageLog) -> Iterator[Page]:
    """A fresh page whose requests off 127.0.0.1 are aborted; fails the test if it made any."""
    with watched_page(browser, page_log, viewport={"width": 1024, "height": 768}) as p:
        yield p


@pytest.fixture()
def phone(browser: Browser, page_log: PageLog) -> Iterator[Page]:
    """A page of a phone (390 × 844 CSS px, touch), requests off 127.0.0.1 aborted as for ``page``."""
    with watched_page(browser, page_log, viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, is_mobile=True,
                      has_touch=True) as p:
        yield p
