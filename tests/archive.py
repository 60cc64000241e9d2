"""A local stand-in for NOAA's archives: real files served by pytest-httpserver under NCEI's layout, with
Apache-style index pages, and handlers that misbehave on purpose (404, 500, dropped connection, slow answer)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from werkzeug import Request, Response

NCEI_ROOT = "/platforms/solar-space-observing-satellites/goes"
GOES16_AVG1M = f"{NCEI_ROOT}/goes16/l2/data/xrsf-l2-avg1m_science/2017/09"
SHARED_DAYS = [f"201709{d:02d}" for d in range(4, 9)]


def avg1m_name(day: str, version: str = "2-2-0") -> str:
    return f"sci_xrsf-l2-avg1m_g16_d{day}_v{version}.nc"


def apache_index(path: str, names: list[str]) -> str:
    """An index page laid out as Apache's mod_autoindex writes NCEI's (sort links, parent, one row per file)."""
    rows = "\n".join(f'<tr><td valign="top"><img src="/icons/unknown.gif" alt="[   ]"></td><td><a href="{n}">{n}</a>'
                     f'</td><td align="right">2023-04-08 01:27  </td><td align="right">3.0M</td></tr>' for n in names)
    parent = path.rstrip("/").rsplit("/", 1)[0] + "/"
    return (f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html><head><title>Index of {path}</title>'
            f"</head><body>\n<h1>Index of {path}</h1>\n<table>\n"
            '<tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th>'
            '<th><a href="?C=S;O=A">Size</a></th></tr>\n'
            f'<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="{parent}">'
            f"Parent Directory</a></td></tr>\n{rows}\n</table>\n</body></html>\n")


class Archive:
    """Files and directory listings on a local server; ``behave[path]`` overrides one file's answers.

    A behaviour is called with the request and the file's bytes and returns a Response; ``gets[path]`` counts
    the GET requests each file received (a HEAD asks only the size of a file already present)."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.files: dict[str, bytes] = {}
        self.behave: dict[str, Callable[[Request, bytes], Response]] = {}
        self.gets: dict[str, int] = {}
        httpserver.expect_request(re.compile(r".*")).respond_with_handler(self._handle)

    def url(self, path: str = "") -> str:
        return self.server.url_for(path).rstrip("/")

    def add(self, path: str, data: bytes | Path) -> None:
        self.files[path] = data.read_bytes() if isinstance(data, Path) else data

    def _handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "GET":
            self.gets[path] = self.gets.get(path, 0) + 1
        if path in self.behave:
            return self.behave[path](request, self.files.get(path, b""))
        if path in self.files:
            return Response(self.files[path], headers={"Content-Length": str(len(self.files[path]))})
        folder = path.rstrip("/") + "/"
        names = sorted(p[len(folder):] for p in self.files if p.startswith(folder) and "/" not in p[len(folder):])
        if path.endswith("/") and names:
            return Response(apache_index(path, names), content_type="text/html")
        return Response("Not Found", status=404)


def status(code: int, times: int | None = None):
    """Answer ``code`` (the first ``times`` GETs only, when given), then the file."""
    seen = {"n": 0}

    def handler(request: Request, data: bytes) -> Response:
        failing = times is None or seen["n"] < times  # a HEAD fails when the GET after it will
        if request.method == "GET":
            seen["n"] += 1
        if failing:
            return Response("error", status=code)
        return Response(data, headers={"Content-Length": str(len(data))})

    return handler


def dropped(times: int | None = None):
    """Send half the file and drop the connection (the first ``times`` GETs only, when given)."""
    seen = {"n": 0}

    def handler(request: Request, data: bytes) -> Response:
        headers = {"Content-Length": str(len(data))}
        if request.method == "HEAD":
            return Response(b"", headers=headers)
        seen["n"] += 1
        if times is not None and seen["n"] > times:
            return Response(data, headers=headers)

        def body():
            yield data[: len(data) // 2]
            raise ConnectionAbortedError("dropped on purpose")

        return Response(body(), headers=headers, direct_passthrough=True)

    return handler


def slow(seconds: float, times: int | None = None):
    """Wait ``seconds`` before answering a GET (the first ``times`` GETs only, when given)."""
    seen = {"n": 0}

    def handler(request: Request, data: bytes) -> Response:
        if request.method == "GET":
            seen["n"] += 1
            if times is None or seen["n"] <= times:
                time.sleep(seconds)
        return Response(data, headers={"Content-Length": str(len(data))})

    return handler
