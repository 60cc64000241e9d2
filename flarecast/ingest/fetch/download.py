"""Download mechanics every source shares: directory listings, small documents, and file downloads that a
user can trust.

* **Parallel.** Files come through parfive (as sunpy's Fido downloads them), several at a time.
* **Never a half file under the real name.** A download lands as ``NAME.part`` and is renamed to ``NAME``
  only when complete (the server's Content-Length reached), so a killed or dropped fetch leaves at most a
  ``.part`` file, which the next run replaces.
* **Skip what is there.** A file present under its final name is skipped when the server's size for it
  (HEAD Content-Length) matches, or when the server gives none; a file of another size is fetched again.
* **Retries with backoff.** A failed download is retried ``retries`` times after ``backoff * 2**attempt``
  seconds; a 4xx answer other than 408/429 is final and not retried.
* **One line per failure** names the URL and the HTTP status, ``timeout`` or the dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import aiohttp
import parfive
from parfive.utils import FailedDownload

from flarecast import __version__
from flarecast.errors import FetchError

USER_AGENT = f"flarecast/{__version__}"
RETRIES = 3
TIMEOUT = 60.0
BACKOFF = 1.0
MAX_CONN = 4
PART = ".part"


@dataclass(frozen=True)
class Target:
    """One file to fetch: its URL and the path it must end up at."""

    url: str
    path: Path


@dataclass
class FetchReport:
    """What one fetch did: files fetched, skipped (present and complete, or unchanged), failed (with why).

    ``failed`` holds ``{"url": ..., "error": ...}``; ``planned`` lists every URL (all a ``dry_run`` does);
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

    def fail(self, url: str, error: str) -> None:
        self.failed.append({"url": url, "error": error})

    @property
    def failure_lines(self) -> list[str]:
        """One line per failure: ``URL: reason``."""
        return [f"{f['url']}: {f['error']}" for f in self.failed]

    @property
    def summary(self) -> str:
        """``fetched 3, skipped 2, failed 1`` (or the planned count of a dry run)."""
        if self.dry_run:
            return f"{self.source}: dry run, {len(self.planned)} URLs planned, {len(self.failed)} failed to list"
        return (f"{self.source}: fetched {len(self.fetched)}, skipped {len(self.skipped)}, failed {len(self.failed)}"
                f" into {self.out}")

    def to_dict(self) -> dict:
        """JSON-ready, for ``--json`` and the batch log."""
        return asdict(self) | {"summary": self.summary}


def _request(url: str, method: str = "GET") -> urllib.request.Request:
    return urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})


def reason(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed request: ``HTTP 404``, ``timeout after 60 s``, ``connection dropped``."""
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    if isinstance(status, int):
        return f"HTTP {status}"
    name = type(exc).__name__
    if isinstance(exc, TimeoutError | asyncio.TimeoutError) or "Timeout" in name or "timed out" in str(exc):
        return f"timeout after {timeout:g} s"
    if "Payload" in name or "Disconnected" in name or isinstance(exc, ConnectionError):
        return f"connection dropped before the end of the file ({name})"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot connect ({exc.reason})"
    if "Connector" in name:  # aiohttp's ClientConnectorError and its DNS/SSL kinds
        return f"cannot connect ({exc})"
    return f"{name}: {exc}"


def _final(exc: BaseException) -> bool:
    # A 4xx answer will not change on retry (but for request timeout and rate limiting).
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    return isinstance(status, int) and 400 <= status < 500 and status not in (408, 429)


def get_bytes(url: str, *, timeout: float = TIMEOUT, retries: int = RETRIES, backoff: float = BACKOFF) -> bytes:
    """A small document (a directory listing, a JSON product), with retries and backoff.

    Raises
    ------
    FetchError
        Naming the URL and the HTTP status or timeout of the last attempt.
    """
    attempt = 0
    while True:
        try:
            with urllib.request.urlopen(_request(url), timeout=timeout) as resp:
                return resp.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if _final(exc) or attempt >= retries:
                raise FetchError(url, reason(exc, timeout)) from None
        time.sleep(backoff * 2**attempt)
        attempt += 1


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


def remote_size(url: str, *, timeout: float = TIMEOUT) -> int | None:
    """The server's Content-Length for a URL (HEAD), None when it gives none or cannot be asked."""
    try:
        with urllib.request.urlopen(_request(url, "HEAD"), timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            return int(length) if length and length.isdigit() else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def download(targets: Iterable[Target], report: FetchReport, *, retries: int = RETRIES, timeout: float = TIMEOUT,
             backoff: float = BACKOFF, max_conn: int = MAX_CONN, progress: bool = False) -> None:
    """Fetch every target not already present and complete; record each in ``report``.

    A target whose file exists is checked against the server's size and skipped when it matches; the rest
    download in parallel to ``NAME.part``, renamed to ``NAME`` once complete. Failures are retried (see the
    module notes) and what still fails goes to ``report.failed`` with its reason.
    """
    targets = list(targets)
    report.planned += [t.url for t in targets]
    if report.dry_run:
        return
    pending = []
    for t in targets:
        if t.path.is_file():
            size = remote_size(t.url, timeout=timeout)
            if size is None or size == t.path.stat().st_size:
                report.skipped.append(str(t.path))
                continue
        pending.append(t)
    if not pending:
        return
    for attempt in range(retries + 1):
        errors = _parfive(pending, timeout=timeout, max_conn=max_conn, progress=progress)
        for t in pending:
            part = t.path.with_name(t.path.name + PART)
            if t.url not in errors and part.is_file():
                os.replace(part, t.path)
                report.fetched.append(str(t.path))
        pending = [t for t in pending if t.url in errors]
        for t in pending:
            if _final(errors[t.url]) or attempt == retries:
                t.path.with_name(t.path.name + PART).unlink(missing_ok=True)
                report.fail(t.url, reason(errors[t.url], timeout))
        pending = [t for t in pending if not (_final(errors[t.url]) or attempt == retries)]
        if not pending:
            return
        time.sleep(backoff * 2**attempt)


@contextlib.contextmanager
def socket_timeout(seconds: float):
    """Set the default socket timeout for clients that take none of their own (drms, sunpy's HEKClient)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _parfive(targets: list[Target], *, timeout: float, max_conn: int, progress: bool) -> dict[str, BaseException]:
    """Download ``targets`` to their ``.part`` names with parfive; the error of each URL that failed."""
    config = parfive.SessionConfig(
        timeouts=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
        headers={"User-Agent": f"{USER_AGENT} parfive/{parfive.__version__}"},
        file_progress=progress,
    )
    # max_splits=1: one connection per file, so a dropped connection fails the file instead of leaving a
    # range-stitched file whose parts came from different attempts.
    dl = parfive.Downloader(max_conn=max_conn, max_splits=1, progress=progress, overwrite=True, config=config)
    for t in targets:
        t.path.parent.mkdir(parents=True, exist_ok=True)
        dl.enqueue_file(t.url, path=t.path.parent, filename=t.path.name + PART)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # asyncio.run closes its loop; parfive's own download() leaves one behind with signal handlers on it.
        results = asyncio.run(dl.run_download())
    else:  # inside a running loop (a notebook): parfive runs it in a thread of its own
        results = dl.download()
    return {e.url: _cause(e.exception) for e in results.errors}


def _cause(exc):
    # parfive wraps what went wrong (an HTTP response, a timeout) in FailedDownload, sometimes twice.
    while isinstance(exc, FailedDownload):
        exc = exc.exception
    return exc
