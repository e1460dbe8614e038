"""Browser tests: Debian's Chromium driven by Playwright against Linewatch as a real HTTP server.

Skipped, with the reason printed, when /usr/bin/chromium is absent — unless
``LINEWATCH_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which turns that into a failure.
Never ``playwright install``: the browser is the distribution's.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from linewatch.app import create_app
from linewatch.context import Context
from tests.conftest import ADMIN

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse"
# Screenshots go to a scratch folder unless asked for: refresh the committed ones with
# LINEWATCH_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser
SCREENSHOTS = Path(
    os.environ.get("LINEWATCH_SCREENSHOTS") or Path(tempfile.gettempdir()) / "linewatch-screenshots"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
# Records what the page asks the speech engine to say; the real engine is not needed (or present).
SPEECH_STUB = """
window.__spoken = [];
class FakeUtterance { constructor(text) { this.text = text; this.lang = ""; this.volume = 1; } }
window.SpeechSynthesisUtterance = FakeUtterance;
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  speak(u) { window.__spoken.push(u.text); }, cancel() {}, speaking: false,
}});
"""


def _chromium_or_skip() -> None:
    if os.path.exists(CHROMIUM):
        return
    reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("LINEWATCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"LINEWATCH_REQUIRE_BROWSER=1 but {reason}")
    print(f"\nBrowser tests skipped: {reason}")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the screens read through the API, which the API tests cover on both databases."""
    import shutil

    path = tmp_path / "linewatch.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Live:
    url: str
    ctx: Context
    http: httpx.Client
    app: Any

    def user(self, username: str, role: str | None = None, staff: str | None = None) -> str:
        body: dict[str, Any] = {"password": PASSWORD}
        body.update({"staff": staff} if staff else {"username": username, "role": role})
        response = self.http.post("/api/v1/admin/users", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["username"])

    def alarms(self, *items: dict[str, Any]) -> list[int]:
        response = self.http.post("/api/v1/alarms", json=list(items))
        assert response.status_code == 202, response.text
        return list(response.json()["ids"])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free local port, in a thread; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="linewatch-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the Linewatch test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def running(ctx: Context) -> Iterator[Live]:
    """Linewatch on ``ctx`` as a real HTTP server, with an admin API client."""
    _chromium_or_skip()
    app = create_app(ctx)
    with serve(app) as url, httpx.Client(base_url=url, headers=ADMIN, timeout=10) as http:
        yield Live(url, ctx, http, app)


@pytest.fixture
def live(small: Context) -> Iterator[Live]:
    with running(small) as instance:
        yield instance


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser: Any, live: Live) -> Iterator[Callable[..., Any]]:
    """Pages in fresh contexts (separate cookies), with speech recorded and dialogs counted."""
    contexts: list[Any] = []

    def make(viewport: tuple[int, int] = (1920, 1080), lang: str = "zh", url: str | None = None) -> Any:
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, base_url=url or live.url, locale="zh-CN"
        )
        context.add_cookies([{"name": "linewatch_lang", "value": lang, "url": live.url}])
        context.add_init_script(SPEECH_STUB)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []  # type: ignore[attr-defined]
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.set_default_timeout(5000)
        return page

    yield make
    for context in contexts:
        context.close()


def login(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    # argon2 is slow by design and the CI box is shared: the login alone may exceed the default 5 s
    page.click("button[type=submit]", timeout=20000)
    page.wait_for_url("**/", timeout=20000)
