"""Browser fixtures shared by every tests/ui/test_browser*.py module."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.browser_kit import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, wait_healthy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ)
    env.pop("ROADMAP_UI_SCENARIO", None)
    # Saved runs go to a fresh store, never into the repository.
    env["ROADMAP_STORE"] = str(tmp_path_factory.mktemp("store") / "runs.sqlite")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "streamlit.log", "wb")  # noqa: SIM115 -- closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
        log.close()


@pytest.fixture(autouse=True, scope="module")
def no_traceback_in_server_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """At the end of every browser module: no flow of it logged a traceback.

    Each browser module gets its own server (a flow's leftover background
    work must not slow the next module's), and its log is checked while the
    server still runs: requesting ``server`` here makes it outlive this check,
    because the server's own shutdown once logged a Starlette websocket
    traceback that no planner's action causes.
    """
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    request.getfixturevalue("server")
    yield
    text = (ARTIFACTS / "streamlit.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text, text[text.index("Traceback"):][:2000]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
