"""`roadmap ui`: start the Streamlit app (bound to localhost unless told otherwise)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer


def app_path() -> Path:
    """Where the app's script is. Found, not imported: the engine sits below the
    UI (an import-linter contract), and Streamlit runs the script in its own process."""
    import importlib.util

    spec = importlib.util.find_spec("ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("the ui package is not installed")
    return Path(spec.origin).resolve().parent / "app.py"


def streamlit_command(port: int, host: str, headless: bool) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.port", str(port),
        "--server.address", host,
        "--server.headless", "true" if headless else "false",
        # Never stop at Streamlit's first-run "Email:" question (a script has no one to answer).
        "--server.showEmailPrompt", "false",
        "--server.maxUploadSize", "2",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]


def register(app: typer.Typer) -> None:
    @app.command("ui")
    def ui_command(
        port: Annotated[int, typer.Option(help="Port to serve on.", min=1, max=65535)] = 8501,
        host: Annotated[str, typer.Option(
            help="Address to bind; the default keeps the app on this machine.")] = "127.0.0.1",
        headless: Annotated[bool, typer.Option(
            help="Do not open a browser window.")] = False,
    ) -> None:
        """Start the Streamlit app: pick, tune, solve, explain and compare roadmaps."""
        typer.echo(f"Roadmap Optimizer UI on http://{host}:{port}  (Ctrl-C to stop)", err=True)
        raise typer.Exit(serve(streamlit_command(port, host, headless)))


def serve(command: list[str]) -> int:
    """Run the server as a child and pass Ctrl-C and SIGTERM on to it.

    The child's stdin is closed (nothing may prompt), and on SIGINT/SIGTERM the
    child is asked to stop, then killed after a grace period, so no server is
    left serving when ``roadmap ui`` ends.
    """
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    grace = 0.0
    try:
        while True:
            try:
                code = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopping:
                    grace += 0.5
                    if grace >= 10:
                        child.kill()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if child.poll() is None:
            child.kill()
            child.wait()
    if stopping:
        return 130 if stopping[0] == signal.SIGINT else 143
    return code
