"""A hostile HTTP server for the fetch tests: it trickles, cuts, lies about its encoding, answers HTML with 200 and
redirects elsewhere, several connections at once (pytest-httpserver answers one request at a time, so a
trickling answer would stall every other request of the test).

Routes map a path (query string ignored) to an answer function of the request handler; :func:`serve`,
:func:`trickle`, :func:`gzip_bomb`, :func:`cut`, :func:`redirect` and :func:`listing` make them.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.archive import apache_index

Answer = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        route = self.server.routes.get(urlsplit(self.path).path)
        self.server.requests.append((self.command, self.path))
        self.server.first_request = self.server.first_request or time.monotonic()
        with self.server.lock:
            self.server.open += 1
        try:
            if route is None:
                serve(b"Not Found", status=404)(self)
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: what a deadline does
        finally:
            with self.server.lock:
                self.server.open -= 1

    do_GET = do_HEAD = _answer

    def log_message(self, *args) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Answer] = {}
        self.requests: list[tuple[str, str]] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.open = 0
        self.first_request = 0.0


class Hostile:
    """The server, started in a thread; ``routes[path] = answer``; :meth:`close` stops every trickle."""

    def __init__(self):
        self.server = _Server()
        self.routes = self.server.routes
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}".rstrip("/")

    @property
    def open_connections(self) -> int:
        """Answers still being sent (a trickle a client gave up on ends at its next byte)."""
        return self.server.open

    def close(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def _head(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.flush()


def serve(body: bytes, *, status: int = 200, content_type: str = "application/octet-stream",
          length: bool = True) -> Answer:
    """Answer ``body`` (with its Content-Length unless ``length`` is False)."""

    def answer(h):
        _head(h, status, {"Content-Type": content_type} | ({"Content-Length": str(len(body))} if length else {}))
        if h.command != "HEAD":
            h.wfile.write(body)

    return answer


def listing(path: str, names: list[str]) -> Answer:
    """An Apache index page of folder ``path`` listing ``names``."""
    return serve(apache_index(path, names).encode(), content_type="text/html")


def trickle(first: bytes = b"[", *, every: float = 1.5, length: int | None = 10_000_000) -> Answer:
    """Headers at once (a Content-Length of ``length`` when given), then ``first``, then one byte every
    ``every`` seconds, until the client hangs up or the server stops."""

    def answer(h):
        _head(h, 200, {"Content-Type": "application/json"} | ({"Content-Length": str(length)} if length else {}))
        if h.command == "HEAD":
            return
        h.wfile.write(first)
        h.wfile.flush()
        while not h.server.stopping.is_set():
            if _hung_up(h.connection, every):
                return
            h.wfile.write(b" ")
            h.wfile.flush()

    return answer


def _hung_up(conn: socket.socket, wait: float) -> bool:
    """Whether the client closed its end within ``wait`` seconds (so the trickle can stop at once)."""
    readable, _, _ = select.select([conn], [], [], wait)
    try:
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


@cache
def bomb_bytes(decoded: int) -> bytes:
    """gzip of ``decoded`` zero bytes (a whole number of MB; 200 MB -> 200 kB), built without compressing them
    all: after a full flush each megabyte of zeros compresses to the same bytes, so one is repeated."""
    gz = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    first = gz.compress(block) + gz.flush(zlib.Z_FULL_FLUSH)
    again = gz.compress(block) + gz.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(decoded >> 20):
        crc = zlib.crc32(block, crc)
    # b"\x03\x00": an empty final block; then the gzip trailer (CRC-32 and length of the decoded bytes).
    return first + again * ((decoded >> 20) - 1) + b"\x03\x00" + struct.pack("<II", crc, decoded & 0xFFFFFFFF)


def gzip_bomb(decoded: int = 200 << 20) -> Answer:
    """A gzip-encoded answer (whatever Accept-Encoding said) that inflates to ``decoded`` bytes."""
    body = bomb_bytes(decoded)

    def answer(h):
        _head(h, 200, {"Content-Type": "application/json", "Content-Encoding": "gzip",
                       "Content-Length": str(len(body))})
        if h.command != "HEAD":
            h.wfile.write(body)

    return answer


def cut(body: bytes, at: int) -> Answer:
    """The first ``at`` bytes of ``body`` without a Content-Length, then the connection closes (HTTP/1.0)."""

    def answer(h):
        _head(h, 200, {"Content-Type": "application/octet-stream", "Connection": "close"})
        if h.command != "HEAD":
            h.wfile.write(body[:at])

    return answer


def redirect(location: str, status: int = 302) -> Answer:
    """A redirect to ``location``."""

    def answer(h):
        _head(h, status, {"Location": location, "Content-Length": "0"})

    return answer
