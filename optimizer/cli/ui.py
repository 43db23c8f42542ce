"""`roadmap ui`: start the Streamlit app (bound to localhost unless told otherwise)."""

from __future__ import annotations

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
        try:
            code = subprocess.call(streamlit_command(port, host, headless))
        except KeyboardInterrupt:
            code = 130
        raise typer.Exit(code)
