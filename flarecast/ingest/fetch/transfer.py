"""One bounded HTTP request: a total deadline, a size cap on what it decodes to, redirects kept in the mirror.

* **Deadline.** The socket is shut down when the request's :class:`~flarecast.ingest.fetch.deadline.Deadline`
  passes (headers, body, every redirect hop); each read also waits at most ``timeout`` seconds.
* **Size cap.** ``Accept-Encoding: identity`` is asked for; a server that compresses anyway (gzip, deflate)
  is decoded while streaming and refused as soon as the decoded bytes pass the cap, so a 200 kB gzip bomb
  never becomes 200 MB; other encodings are refused. A Content-Length above the cap is refused before reading.
* **Complete.** A body shorter than its Content-Length, or a compressed stream that stops before its end,
  is a dropped connection, never a file.
* **Redirects within the mirror.** A redirect is followed (5 hops at most) only to the same scheme, host and
  port as the URL asked for; anything else (another host, ``file://``) is refused.

Third-party clients that open their URLs with urllib (drms, sunpy's ``HEKClient``) get the same redirect rule
and a cap through :func:`urllib_guarded`; their deadline is :func:`~flarecast.ingest.fetch.deadline.call_within`'s.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import urllib.request
import zlib
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from flarecast import __version__
from flarecast.ingest.fetch.deadline import Deadline, DeadlinePassed, call_within, shut_at

USER_AGENT = f"flarecast/{__version__}"
HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
CHUNK = 1 << 16
MAX_REDIRECTS = 5
MB = 1 << 20


class HTTPStatusError(Exception):
    """An answer other than 200; ``status`` is the HTTP code (what :func:`download.reason` reports)."""

    def __init__(self, status: int):
        self.status = status
        super().__init__(f"HTTP {status}")


class Refused(Exception):
    """An answer that must not be kept and will not change on retry: over the cap, redirected out, encoded."""


class Truncated(ConnectionError):
    """The connection ended before the whole body came."""


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a URL, the default port filled in."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def _connect(url: str, *, method: str, deadline: Deadline, timeout: float):
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=max(min(timeout, deadline.remaining()), 0.001))
    timer, held = None, []  # the socket the timer shuts: conn.sock is dropped once a response owns it
    try:
        # TCP only (the deadline then covers the TLS handshake too), in a bounded call: the host name's lookup
        # (getaddrinfo) waits on the system resolver, which no socket timeout bounds
        call_within(lambda: http.client.HTTPConnection.connect(conn), deadline)
        held.append(conn.sock)
        timer = shut_at(lambda: held[-1], deadline)
        conn.sock.settimeout(timeout)  # per read from here on; the timer holds the deadline
        if isinstance(conn, http.client.HTTPSConnection):
            conn.sock = conn._context.wrap_socket(conn.sock, server_hostname=parts.hostname)
            held.append(conn.sock)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, headers=HEADERS)
        return conn, conn.getresponse(), timer
    except BaseException:
        if timer is not None:
            timer.cancel()
        conn.close()
        raise


def open_url(url: str, *, method: str = "GET", deadline: Deadline, timeout: float):
    """``(response, close)`` of a 200 answer to ``url``, redirects within its origin followed.

    Raises HTTPStatusError for another status, Refused for a redirect out of the mirror, DeadlinePassed, or
    the OSError / HTTPException of a failed connection.
    """
    home = origin(url)
    for _hop in range(MAX_REDIRECTS + 1):
        if urlsplit(url).scheme not in ("http", "https"):
            raise Refused(f"redirect to {url} refused: only http(s) within {home[0]}://{home[1]}:{home[2]}")
        if origin(url) != home:
            raise Refused(f"redirect to {url} refused: outside the mirror {home[0]}://{home[1]}:{home[2]}")
        if deadline.passed:
            raise DeadlinePassed(deadline)
        try:
            conn, resp, timer = _connect(url, method=method, deadline=deadline, timeout=timeout)
        except (OSError, http.client.HTTPException):
            if deadline.passed:
                raise DeadlinePassed(deadline) from None
            raise

        def close(conn=conn, timer=timer) -> None:
            timer.cancel()
            conn.close()

        if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
            url = urljoin(url, resp.getheader("Location"))
            close()
            continue
        if resp.status != 200:
            close()
            raise HTTPStatusError(resp.status)
        return resp, close
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


def _decoder(encoding: str):
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise Refused(f"Content-Encoding {encoding!r} refused (flarecast asks for identity; gzip is decoded)")


def stream(url: str, write: Callable[[bytes], object], *, cap: int, deadline: Deadline, timeout: float) -> int:
    """GET ``url`` and hand its decoded body to ``write`` chunk by chunk; the number of decoded bytes.

    Raises Refused past ``cap`` decoded bytes, Truncated for a body cut short, DeadlinePassed, or what
    :func:`open_url` raises.
    """
    resp, close = open_url(url, deadline=deadline, timeout=timeout)
    try:
        return _read(resp, write, cap=cap, deadline=deadline)
    except (OSError, http.client.HTTPException):
        if deadline.passed:
            raise DeadlinePassed(deadline) from None
        raise
    finally:
        close()


def _over(cap: int) -> Refused:
    return Refused(f"refused: larger than its cap of {cap / MB:g} MB (decoded); nothing kept")


def _read(resp, write, *, cap: int, deadline: Deadline) -> int:
    decoder = _decoder(resp.getheader("Content-Encoding") or "")
    length = resp.getheader("Content-Length")
    length = int(length) if length and length.strip().isdigit() else None
    if decoder is None and length is not None and length > cap:
        raise _over(cap)
    raw = decoded = 0
    while True:
        chunk = resp.read1(CHUNK)
        if deadline.passed:
            raise DeadlinePassed(deadline)
        if not chunk:
            break
        raw += len(chunk)
        if raw > cap:
            raise _over(cap)
        if decoder is None:
            decoded += len(chunk)
            write(chunk)
            continue
        data = chunk
        while data:
            piece = decoder.decompress(data, cap + 1 - decoded)
            decoded += len(piece)
            if decoded > cap:
                raise _over(cap)
            write(piece)
            data = decoder.unconsumed_tail
    if length is not None and raw != length:
        raise Truncated(f"got {raw} of {length} bytes")
    if decoder is not None and not decoder.eof:
        raise Truncated(f"the compressed stream stops after {raw} bytes")
    return decoded


class _MirrorRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirects, refused out of the origin of the first request (and to any non-http scheme)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        home = getattr(req, "flarecast_home", None) or origin(req.full_url)
        if urlsplit(newurl).scheme not in ("http", "https") or origin(newurl) != home:
            raise Refused(f"redirect to {newurl} refused: outside the mirror {home[0]}://{home[1]}:{home[2]}")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.flarecast_home = home
        return new


class _Capped(urllib.request.BaseHandler):
    """Every answer read in chunks and refused past ``cap`` bytes (``read()`` with no size reads it all)."""

    handler_order = 1000

    def __init__(self, cap: int):
        self.cap = cap

    def http_response(self, req, response):
        read, cap, seen = response.read, self.cap, [0]

        def capped(amt=None):
            if amt is not None and amt >= 0:
                data = read(amt)
                seen[0] += len(data)
            else:
                parts = []
                while chunk := read(CHUNK):
                    parts.append(chunk)
                    seen[0] += len(chunk)
                    if seen[0] > cap:
                        break
                data = b"".join(parts)
            if seen[0] > cap:
                raise _over(cap)
            return data

        response.read = capped
        return response

    https_response = http_response


_OPENER = threading.Lock()


@contextlib.contextmanager
def urllib_guarded(cap: int):
    """For third-party clients that call ``urllib.request.urlopen`` (drms, sunpy's HEKClient): while inside,
    urllib follows redirects only within the first request's origin and refuses an answer past ``cap`` bytes.
    The process-wide opener is swapped for the time of the call and put back after."""
    with _OPENER:
        previous = urllib.request._opener
        urllib.request.install_opener(urllib.request.build_opener(_MirrorRedirects, _Capped(cap)))
        try:
            yield
        finally:
            urllib.request.install_opener(previous)


def cause(exc: BaseException) -> BaseException:
    """The Refused or DeadlinePassed a client wrapped in an error of its own (sunpy's OSError), else ``exc``."""
    seen = exc
    while seen is not None:
        if isinstance(seen, Refused | DeadlinePassed):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc
