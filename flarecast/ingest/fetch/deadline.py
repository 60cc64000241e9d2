"""Deadlines: a total time limit on a network operation, however slowly its bytes come.

A per-read timeout (``--timeout``) only bounds the silence between two bytes: a server that sends one byte
every 1.5 s never trips a 3 s timeout. A :class:`Deadline` bounds the whole operation: the fetch command
(``--deadline``) and each listing, document or file within it (``--file-deadline``), whichever ends first.

Two ways to hold one:

* **Our own requests** (:mod:`~flarecast.ingest.fetch.transfer`): :func:`shut_at` shuts the request's socket
  down when the deadline passes, which ends any read blocked on it at once.
* **Third-party clients** (drms for JSOC, sunpy's ``HEKClient``), whose sockets we never see:
  :func:`call_within` runs the call in a daemon thread and waits at most until the deadline. The sockets that
  thread connects are recorded (a ``socket.connect`` audit hook) and shut down at the deadline, so the
  abandoned call ends too instead of trickling on in the background.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE = 3600.0
"""Default seconds one fetch command may take in all (``--deadline``)."""
FILE_DEADLINE = 900.0
"""Default seconds one listing, document or file may take in all (``--file-deadline``)."""


class Deadline:
    """A point in time (monotonic clock) by which an operation must end, and what it bounds (for messages)."""

    def __init__(self, seconds: float, what: str):
        self.seconds, self.what = float(seconds), what
        self.at = time.monotonic() + self.seconds

    @classmethod
    def start(cls, value: Deadline | float | None, what: str = "the whole fetch") -> Deadline:
        """``value`` when it is already a running Deadline, else a new one of ``value`` seconds (default
        :data:`DEADLINE`): a command starts its clock once and hands it down."""
        return value if isinstance(value, Deadline) else cls(DEADLINE if value is None else value, what)

    def within(self, seconds: float | None, what: str) -> Deadline:
        """The sooner of this deadline and a new one of ``seconds`` from now (None: this one)."""
        if seconds is None:
            return self
        other = Deadline(seconds, what)
        return other if other.at < self.at else self

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    @property
    def reason(self) -> str:
        """``deadline of 3 s for the whole fetch passed``: the failure line's reason."""
        return f"deadline of {self.seconds:g} s for {self.what} passed"


class DeadlinePassed(Exception):
    """An operation outlived its deadline; ``str()`` is the deadline's reason."""

    def __init__(self, deadline: Deadline):
        self.deadline = deadline
        super().__init__(deadline.reason)


def _shutdown(current: Callable[[], socket.socket | None]) -> None:
    # socket.socket.shutdown, not SSLSocket's (which would unwrap the TLS layer from another thread).
    sock = current()
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def shut_at(current: Callable[[], socket.socket | None], deadline: Deadline) -> threading.Timer:
    """A started timer that shuts down the socket ``current()`` gives (a TLS layer may replace the first one)
    when ``deadline`` passes; cancel it when the request is done."""
    # A hundredth of a second late, so that whoever sees the socket close also sees the deadline passed.
    timer = threading.Timer(max(deadline.remaining(), 0.0) + 0.01, _shutdown, (current,))
    timer.daemon = True
    timer.start()
    return timer


_WATCHED: dict[int, list[tuple[int, tuple]]] = {}
_HOOK = threading.Lock()
_hooked = False


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect" and _WATCHED:
        sockets = _WATCHED.get(threading.get_ident())
        if sockets is not None:
            sock, address = args
            sockets.append((sock.fileno(), tuple(address) if isinstance(address, tuple) else (address,)))


def _watch() -> None:
    global _hooked
    with _HOOK:
        if not _hooked:
            sys.addaudithook(_audit)  # once per process; a dict lookup per audited event while nothing is watched
            _hooked = True


def _shut_recorded(sockets: list[tuple[int, tuple]]) -> None:
    """Shut down the recorded sockets still connected where they were (a reused descriptor is left alone)."""
    for fd, address in sockets:
        try:
            dup = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if dup.getpeername()[:2] == address[:2]:
                dup.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            dup.close()


def call_within(fn: Callable[[], T], deadline: Deadline) -> T:
    """``fn()``'s result (or its exception), or DeadlinePassed once ``deadline`` passes.

    ``fn`` runs in a daemon thread, so a call that never ends cannot keep the process alive; at the deadline
    the sockets it connected are shut down so that it ends soon after.
    """
    _watch()
    outcome: dict[str, object] = {}
    sockets: list[tuple[int, tuple]] = []
    started = threading.Event()

    def run() -> None:
        _WATCHED[threading.get_ident()] = sockets
        started.set()
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            _WATCHED.pop(threading.get_ident(), None)

    worker = threading.Thread(target=run, name="flarecast-bounded-call", daemon=True)
    worker.start()
    started.wait()
    worker.join(max(deadline.remaining(), 0.0))
    if worker.is_alive():
        _shut_recorded(list(sockets))
        worker.join(1.0)
        raise DeadlinePassed(deadline)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
