"""Progress reporting that library code can accept without knowing about terminals.

Long-running functions take a ``Progress`` and ask it for tasks; the CLI passes :class:`RichProgress`, tests and
scripts the silent :class:`NullProgress`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as _RichProgress

Advance = Callable[[float], None]


class Progress(Protocol):
    def task(self, description: str, total: float | None = None) -> Advance: ...

    def note(self, text: str) -> None: ...


class NullProgress:
    def task(self, description: str, total: float | None = None) -> Advance:
        return lambda n=1, info=None: None

    def note(self, text: str) -> None:
        pass


class RichProgress:
    """A rich progress display on stderr (stdout stays free for tables and JSON).

    ``enabled`` shows the bars; notes are printed unless ``quiet``.
    """

    def __init__(self, console: Console | None = None, *, enabled: bool = True, quiet: bool = False):
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self._p = _RichProgress(
            TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), TextColumn("{task.fields[info]}"), console=self.console, disable=not enabled,
        )

    def __enter__(self) -> RichProgress:
        self._p.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._p.__exit__(*exc)

    def task(self, description: str, total: float | None = None) -> Advance:
        tid = self._p.add_task(description, total=total, info="")

        def advance(n: float = 1, info: str | None = None) -> None:
            self._p.update(tid, advance=n, **({"info": info} if info is not None else {}))

        return advance

    def note(self, text: str) -> None:
        if not self.quiet:
            self._p.console.print(text, highlight=False, soft_wrap=True)
