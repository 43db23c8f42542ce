"""`roadmap ui` from a script: no first-run prompt, and no server left behind.

Runs the real command with stdin closed (as from cron or a test harness),
waits until the server answers, sends SIGTERM (or SIGINT, as Ctrl-C) to the
command only — not its process group — and checks that the Streamlit child
is gone too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    try:
        with open(path) as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_ui_serves_without_prompt_and_stops_its_server(tmp_path, sig) -> None:  # type: ignore[no-untyped-def]
    port = _port()
    env = dict(os.environ, HOME=str(tmp_path))   # a first run: no ~/.streamlit credentials
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimizer.cli", "ui", "--port", str(port), "--headless"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        healthy = False
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                healthy = r.status == 200
            if healthy:
                break
            time.sleep(0.3)
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        assert healthy
        children = _children(proc.pid)
        assert children, "the server runs as a child of `roadmap ui`"
        proc.send_signal(sig)
        code = proc.wait(timeout=30)
        assert code == (130 if sig == signal.SIGINT else 143)
        out = proc.stdout.read().decode() if proc.stdout else ""
        assert "Email" not in out
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        assert not any(_alive(c) for c in children), "the Streamlit server outlived the command"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
