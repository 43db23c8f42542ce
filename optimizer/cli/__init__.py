"""The ``roadmap`` command line (SPEC §4).

One module per command group registers its commands here; ``common`` holds
what they share. Heavy modules (OR-Tools, pandas, the models) are imported
inside commands so ``roadmap --help`` answers instantly. No input ever
produces a traceback: invalid input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import sys

import typer

from optimizer.cli import backtest, batch, explain, replan, report, solve, stress, ui
from optimizer.cli.common import EXIT_INTERNAL, EXIT_INTERRUPTED, err

app = typer.Typer(
    name="roadmap",
    help="Plan phased, reciprocal agreements with constraint programming.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

for _group in (solve, explain, batch, ui, backtest, replan, stress, report):
    _group.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # last line of defence: never a traceback
        if os.environ.get("ROADMAP_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} "
                  "(set ROADMAP_DEBUG=1 for details)", markup=False)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
