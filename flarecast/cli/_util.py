"""What every command shares: the typer app, the consoles, common options, one-line user errors, output.

User errors (:class:`~flarecast.errors.FlarecastError`) print one line on stderr and exit non-zero; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from flarecast import __version__, config
from flarecast.errors import FlarecastError

app = typer.Typer(
    name="flarecast",
    help="Solar flare forecasting from GOES XRS and SHARP series: ingest, samples, train, evaluate, forecast.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Piped output keeps whole table rows on one line (rich would otherwise wrap them at 80 columns).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

StoreOpt = Annotated[Path, typer.Option("--store", "-s", help="Zarr store to read and write.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")]
TrustOpt = Annotated[bool, typer.Option(
    "--trust-modified", help="Use a model whose weights differ from the sha256 in its card (refused otherwise); "
                             "the outputs then say weights_modified: true.")]
DEFAULT_STORE = Path(config.DEFAULT_STORE)


def user_errors(fn):
    """Turn library errors into one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FlarecastError as exc:
            # One line whatever the message holds (a library's text, a file's bytes), and no markup from it.
            text = re.sub(r"\s*[\r\n]+\s*", " ", str(exc)).strip()
            err.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[bold red]interrupted[/]: finished files and models are left as they were")
            raise typer.Exit(130) from None

    return wrapper


def progress_bar(enabled: bool = True):
    from flarecast.progress import RichProgress

    return RichProgress(enabled=enabled and sys.stderr.isatty())


def emit(data, as_json: bool, render=None) -> None:
    """The one way a command prints its result: JSON on stdout with ``--json``, else what ``render(data)``
    returns (a rich renderable, a string, or a list of them; :mod:`flarecast.report.tables`)."""
    if as_json:
        print_json(data)
        return
    shown = render(data) if render is not None else data
    for item in shown if isinstance(shown, list) else [shown]:
        out.print(item, highlight=False) if isinstance(item, str) else out.print(item)


def print_json(data) -> None:
    from flarecast.jsonio import dumps

    sys.stdout.write(dumps(data) + "\n")


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False):
    if version:
        out.print(f"flarecast {__version__}")
        raise typer.Exit()


