"""What every command shares: the typer app, :func:`command` to register one, one-line user errors, the progress
display and :func:`emit`, the one way a command prints its result. The options several commands take are in
:mod:`flarecast.cli.options`.

User errors (:class:`~flarecast.errors.FlarecastError`) and faults of the machine (every :class:`OSError`: a full
disk, a read-only file system, a path that is a file where a folder must go, the reverse, or not writable) print
one line on stderr and exit non-zero (2, or 74 for a fault of the machine: :class:`~flarecast.errors.MachineError`);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperOption

from flarecast.errors import FlarecastError, MachineError

app = typer.Typer(
    name="flarecast",
    help="Solar flare forecasting from GOES XRS and SHARP series: ingest, samples, train, evaluate, forecast.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command's context
)


def _flag_type(self: TyperOption, ctx) -> str | None:
    """The value hint ``--help`` shows after an option; none for an on/off flag (typer shows ``--json <bool>``,
    as if the flag took a value)."""
    return None if self.is_bool_flag else _typer_type(self, ctx)


_typer_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type
# Piped output keeps whole table rows on one line (rich would otherwise wrap them at 80 columns).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def command(name: str, group: typer.Typer = app):
    """Register the decorated function as the command ``name`` of ``group`` (``flarecast NAME``), with library
    errors printed as one line (:func:`user_errors`)."""

    def register(fn):
        group.command(name, help=markup_safe(reflow(fn.__doc__)))(user_errors(fn))
        return fn

    return register


def reflow(doc: str | None) -> str:
    """A docstring as ``--help`` shows it: each prose paragraph on one line, so the terminal wraps it once at its
    own width (rich keeps a docstring's line breaks and then wraps again: ragged lines at 80 columns); paragraphs
    with indented lines, list items or a closing colon (examples) keep their lines.

    >>> print(reflow("Score it.\\n\\n    Long prose\\n    goes on.\\n\\n    Examples:\\n      flarecast cv m\\n"))
    Score it.
    <BLANKLINE>
    Long prose goes on.
    <BLANKLINE>
    Examples:
      flarecast cv m
    """
    out = []
    for para in inspect.cleandoc(doc or "").split("\n\n"):
        lines = para.splitlines()
        keep = (lines[0].rstrip().endswith(":") or any(ln.startswith((" ", "\t", "- ", "* ")) for ln in lines[1:])
                or lines[0].startswith(("- ", "* ")))
        out.append(para if keep else " ".join(ln.strip() for ln in lines))
    return "\n\n".join(out)


STYLE_TAGS = ("bold", "/")
"""The rich markup tags a command's docstring may use (``[bold]Examples[/]:``)."""


def markup_safe(text: str) -> str:
    """``text`` with every ``[`` that does not open one of :data:`STYLE_TAGS` escaped, so rich prints it:
    otherwise ``"train.cv.pool=[train,val,test]"`` in an example would show as ``"train.cv.pool="``.

    >>> markup_safe('[bold]Example[/]: flarecast train c.yaml "train.cv.pool=[train,val,test]"')
    '[bold]Example[/]: flarecast train c.yaml "train.cv.pool=\\\\[train,val,test]"'
    """
    tags = "|".join(re.escape(t) for t in STYLE_TAGS)
    return re.sub(rf"(?<!\\)\[(?!(?:{tags})\])", r"\\[", text)


def user_errors(fn):
    """Turn library errors and OS errors into one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FlarecastError as exc:
            _error_line(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            # the machine refused a file operation (a full disk, a read-only file system, no permission, a file
            # in the way of a folder): one line naming the path, the errno and the fix, never a traceback
            fault = MachineError(exc)
            _error_line(str(fault))
            raise typer.Exit(fault.exit_code) from None
        except KeyboardInterrupt:
            _show(err, "[bold red]interrupted[/]: finished files and models are left as they were")
            raise typer.Exit(130) from None

    return wrapper


def _error_line(text: str) -> None:
    """One line whatever the message holds (a library's text, a file's bytes), and no markup from it."""
    line = re.sub(r"\s*[\r\n]+\s*", " ", text).strip()
    _show(err, f"[bold red]error:[/] {escape(line)}")


def progress_bar(enabled: bool = True):
    """Progress on stderr: bars where stderr is a terminal, notes (a line per finished step) wherever it goes;
    nothing at all when not ``enabled`` (``--json``)."""
    from flarecast.progress import RichProgress

    return RichProgress(err, enabled=enabled and sys.stderr.isatty(), quiet=not enabled)


def emit(data: Any, as_json: bool, render: Callable[[Any], Any] | None = None, *,
         wrote: Sequence[str | Path | None] = (), stderr: Callable[[Any], Any] | None = None) -> None:
    """The one way a command prints its result.

    With ``--json`` (``as_json``): ``data`` as JSON on stdout and nothing else. Otherwise, for a reader:
    ``stderr(data)`` on stderr (failures), then ``render(data)`` on stdout, then one line ``wrote A, B and C``
    naming the files the command wrote (``wrote``; None entries are left out). ``render`` and ``stderr`` return
    a rich renderable, a string (rich markup allowed) or a list of them: :mod:`flarecast.report.tables`.
    """
    if as_json:
        from flarecast.jsonio import dumps

        sys.stdout.write(dumps(data) + "\n")
        return
    for item in _items(stderr(data) if stderr is not None else None):
        _show(err, item)
    for item in _items(render(data) if render is not None else None):
        _show(out, item)
    files = [escape(str(p)) for p in wrote if p is not None]
    if files:
        _show(out, "wrote " + (", ".join(files[:-1]) + " and " if len(files) > 1 else "") + files[-1])


def _items(shown) -> list:
    return [] if shown is None else shown if isinstance(shown, list) else [shown]


def _show(console: Console, item) -> None:
    if isinstance(item, str):  # a line stays one line when piped; no colours guessed from numbers and paths
        console.print(item, highlight=False, soft_wrap=True)
    else:
        console.print(item)


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False):
    if version:
        from flarecast import __version__

        emit(__version__, False, lambda v: f"flarecast {v}")
        raise typer.Exit()
