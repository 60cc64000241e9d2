"""Download mechanics every source shares: directory listings, small documents, and file downloads that a
user can trust, each bounded in time and size.

* **Parallel.** Files come ``max_conn`` at a time, each through one bounded request
  (:mod:`~flarecast.ingest.fetch.transfer`: total deadline, size cap, redirects kept in the mirror).
* **Bounded time.** Every request has a total deadline, the sooner of ``file_deadline`` seconds from its start
  and the command's ``deadline`` (:mod:`~flarecast.ingest.fetch.deadline`), besides the per-read ``timeout``;
  no retry starts once the command's deadline has passed.
* **Never a half file under the real name.** A download lands as ``NAME.part`` and is renamed to ``NAME``
  only when complete (the server's Content-Length reached, a compressed stream ended) and recognisably of its
  format (:func:`~flarecast.ingest.fetch.verify.problem`: an HTML error page answered with 200 is not a
  netCDF, JSON or text file), so a killed, dropped or refused fetch leaves at most a ``.part`` file, which
  the next run replaces.
* **Skip what is there, if it is whole.** A file present under its final name is first checked for its
  format: a bad copy is moved to ``quarantine/`` and fetched again. A good one is skipped when the server's
  size for it (HEAD Content-Length) matches, or when the server gives none; a file of another size is fetched
  again.
* **Retries with backoff.** A failed download is retried ``retries`` times after ``backoff * 2**attempt``
  seconds; a 4xx answer other than 408/429, an answer over its cap and a redirect out of the mirror are final.
* **One line per failure** names the URL and the HTTP status, ``timeout``, the deadline, the cap or the
  dropped connection.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import time
import urllib.error
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from flarecast.errors import FetchError
from flarecast.ingest.fetch.deadline import FILE_DEADLINE, Deadline, DeadlinePassed
from flarecast.ingest.fetch.transfer import USER_AGENT, HTTPStatusError, Refused, Truncated, open_url, stream
from flarecast.ingest.fetch.verify import LISTING_CAP, cap_for, problem, quarantine

__all__ = ["USER_AGENT", "FetchReport", "Target", "download", "get_bytes", "index_names", "list_directory",
           "reason", "remote_size", "socket_timeout"]

RETRIES = 3
TIMEOUT = 60.0
BACKOFF = 1.0
MAX_CONN = 4
PART = ".part"


class BadFile(Exception):
    """A complete answer that is not a whole file of its format (an HTML page answered with 200, a cut file)."""


TRANSFER_ERRORS = (OSError, http.client.HTTPException, HTTPStatusError, Refused, DeadlinePassed, BadFile, ValueError)
"""What one request can fail with; each becomes one failure line through :func:`reason`."""


@dataclass(frozen=True)
class Target:
    """One file to fetch: its URL and the path it must end up at."""

    url: str
    path: Path


@dataclass
class FetchReport:
    """What one fetch did: files fetched, skipped (present and complete, or unchanged), failed (with why).

    ``failed`` holds ``{"url": ..., "error": ...}``; ``planned`` lists every URL (all a ``dry_run`` does);
    ``quarantined`` holds ``{"path": ..., "to": ..., "error": ...}`` for each bad copy moved aside;
    ``ingested`` holds the ingest reports by store group when the fetch was asked to ingest.
    """

    source: str
    out: str
    planned: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    dry_run: bool = False
    ingested: dict[str, dict] = field(default_factory=dict)
    quarantined: list[dict[str, str]] = field(default_factory=list)

    def fail(self, url: str, error: str) -> None:
        self.failed.append({"url": url, "error": error})

    def quarantine(self, path: Path, error: str) -> None:
        """Move a bad copy found under its final name to ``quarantine/`` beside it, and record why."""
        dest = quarantine(path)
        self.quarantined.append({"path": str(path), "to": str(dest), "error": error})

    @property
    def failure_lines(self) -> list[str]:
        """One line per failure: ``URL: reason``."""
        return [f"{f['url']}: {f['error']}" for f in self.failed]

    @property
    def summary(self) -> str:
        """``fetched 3, skipped 2, failed 1`` (and ``quarantined N`` when bad copies were moved aside; or the
        planned count of a dry run)."""
        if self.dry_run:
            return f"{self.source}: dry run, {len(self.planned)} URLs planned, {len(self.failed)} failed to list"
        moved = f", quarantined {len(self.quarantined)}" if self.quarantined else ""
        return (f"{self.source}: fetched {len(self.fetched)}, skipped {len(self.skipped)}, failed {len(self.failed)}"
                f"{moved} into {self.out}")

    def to_dict(self) -> dict:
        """JSON-ready, for ``--json`` and the batch log."""
        return asdict(self) | {"summary": self.summary}


def reason(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed request: ``HTTP 404``, ``timeout after 60 s``, the deadline that passed,
    the cap, ``connection dropped``."""
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    if isinstance(status, int):
        return f"HTTP {status}"
    if isinstance(exc, DeadlinePassed | Refused | BadFile):
        return str(exc)
    name = type(exc).__name__
    if isinstance(exc, TimeoutError) or "Timeout" in name or "timed out" in str(exc):
        return f"timeout after {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError | socket.gaierror):
        return f"cannot connect ({exc})"
    if isinstance(exc, Truncated):
        return f"connection dropped before the end of the file ({exc})"
    if isinstance(exc, ConnectionError | http.client.IncompleteRead | http.client.RemoteDisconnected):
        return f"connection dropped before the end of the file ({name})"
    if isinstance(exc, urllib.error.URLError):  # HEK's and JSOC's urllib
        return f"cannot connect ({exc.reason})"
    return f"{name}: {exc}"


def _final(exc: BaseException) -> bool:
    # A 4xx answer will not change on retry (but for request timeout and rate limiting); nor will a refusal.
    if isinstance(exc, Refused):
        return True
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    return isinstance(status, int) and 400 <= status < 500 and status not in (408, 429)


def _attempts(url: str, action: Callable[[Deadline], object], clock: Deadline, *, what: str, retries: int,
              timeout: float, backoff: float, file_deadline: float | None) -> None:
    """Run ``action`` with a deadline of its own until it succeeds, retrying with backoff.

    Raises
    ------
    FetchError
        Naming the URL and the reason of the last attempt; no retry when it was final, when the backoff would
        outlast the command's deadline, or after ``retries``.
    """
    attempt = 0
    while True:
        try:
            action(clock.within(file_deadline, what))
            return
        except TRANSFER_ERRORS as exc:
            pause = backoff * 2**attempt
            if _final(exc) or attempt >= retries or pause >= clock.remaining():
                raise FetchError(url, reason(exc, timeout)) from None
        time.sleep(pause)
        attempt += 1


def get_bytes(url: str, *, timeout: float = TIMEOUT, retries: int = RETRIES, backoff: float = BACKOFF,
              deadline: Deadline | float | None = None, file_deadline: float | None = FILE_DEADLINE,
              cap: int = LISTING_CAP) -> bytes:
    """A small document (a directory listing), with retries and backoff, at most ``cap`` bytes, each attempt
    ending by ``file_deadline`` seconds and all by the command's ``deadline``.

    Raises
    ------
    FetchError
        Naming the URL and the HTTP status, timeout, deadline or cap of the last attempt.
    """
    body = bytearray()

    def get(limit: Deadline) -> None:
        body.clear()
        stream(url, body.extend, cap=cap, deadline=limit, timeout=timeout)

    _attempts(url, get, Deadline.start(deadline), what="one listing", retries=retries, timeout=timeout,
              backoff=backoff, file_deadline=file_deadline)
    return bytes(body)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def list_directory(url: str, **kwargs) -> list[str]:
    """File names an Apache-style index page at ``url`` links to (see :func:`index_names`).

    Raises
    ------
    FetchError
        When the page cannot be read (a month not yet published answers 404).
    """
    url = url.rstrip("/") + "/"
    return index_names(get_bytes(url, **kwargs).decode("utf-8", "replace"), url)


def index_names(html: str, url: str) -> list[str]:
    """File names linked from an index page of folder ``url``, in page order, each once; the parent folder,
    sub-folders and column-sort links (``?C=N;O=D``) are not files and are left out."""
    parser = _Links()
    parser.feed(html)
    names = []
    for href in parser.hrefs:
        full = urljoin(url, href)
        if not full.startswith(url) or full.endswith("/") or "?" in href:
            continue
        names.append(unquote(urlparse(full).path.rsplit("/", 1)[-1]))
    return list(dict.fromkeys(names))


def remote_size(url: str, *, timeout: float = TIMEOUT, deadline: Deadline | float | None = None) -> int | None:
    """The server's Content-Length for a URL (HEAD), None when it gives none or cannot be asked in time."""
    limit = Deadline.start(deadline, "a size check").within(timeout, "a size check")
    try:
        resp, close = open_url(url, method="HEAD", deadline=limit, timeout=timeout)
    except TRANSFER_ERRORS:
        return None
    try:
        length = resp.getheader("Content-Length")
        return int(length) if length and length.strip().isdigit() else None
    finally:
        close()


def download(targets: Iterable[Target], report: FetchReport, *, retries: int = RETRIES, timeout: float = TIMEOUT,
             backoff: float = BACKOFF, max_conn: int = MAX_CONN, progress: bool = False,
             deadline: Deadline | float | None = None, file_deadline: float | None = FILE_DEADLINE) -> None:
    """Fetch every target not already present and whole; record each in ``report``.

    A target whose file exists is checked for its format (a bad copy is quarantined and fetched again) and
    then against the server's size, and skipped when it matches; the rest download ``max_conn`` at a time to
    ``NAME.part``, renamed to ``NAME`` once complete and of its format. Failures are retried (see the module
    notes) and what still fails goes to ``report.failed`` with its reason.
    """
    targets = list(targets)
    report.planned += [t.url for t in targets]
    if report.dry_run:
        return
    clock = Deadline.start(deadline)
    pending = [t for t in targets if not _present(t, report, clock, timeout=timeout)]
    if not pending:
        return
    from flarecast.progress import RichProgress

    def one(t: Target) -> str | None:
        try:
            _attempts(t.url, lambda limit: _get_file(t, limit, timeout), clock, what="one file", retries=retries,
                      timeout=timeout, backoff=backoff, file_deadline=file_deadline)
        except FetchError as exc:
            return exc.reason
        finally:
            advance(1)
        return None

    with RichProgress(enabled=progress, quiet=True) as bars, ThreadPoolExecutor(max_workers=max(max_conn, 1)) as pool:
        advance = bars.task(f"{report.source}: files", total=len(pending))
        errors = list(pool.map(one, pending))
    for t, error in zip(pending, errors, strict=True):
        if error is None:
            report.fetched.append(str(t.path))
        else:
            report.fail(t.url, error)


def _present(t: Target, report: FetchReport, clock: Deadline, *, timeout: float) -> bool:
    """True when the target's file is there, whole, and of the server's size (or the server gives none)."""
    if not t.path.is_file():
        return False
    why = problem(t.path, thorough=False)
    if why:
        report.quarantine(t.path, why)
        return False
    size = remote_size(t.url, timeout=timeout, deadline=clock)
    if size is None or size == t.path.stat().st_size:
        report.skipped.append(str(t.path))
        return True
    return False


def _get_file(t: Target, limit: Deadline, timeout: float) -> None:
    """One attempt: stream ``t.url`` to ``NAME.part``, check it, rename it to ``NAME``; no ``.part`` is left."""
    part = t.path.with_name(t.path.name + PART)
    t.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with part.open("wb") as fh:
            stream(t.url, fh.write, cap=cap_for(t.path), deadline=limit, timeout=timeout)
        why = problem(part)
        if why:
            raise BadFile(f"not a whole {t.path.suffix or 'data'} file: {why}; nothing kept")
        os.replace(part, t.path)
    finally:
        part.unlink(missing_ok=True)


@contextlib.contextmanager
def socket_timeout(seconds: float):
    """Set the default socket timeout for clients that take none of their own (drms, sunpy's HEKClient)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)
