"""A loopback HTTP server for tests that need real sockets: routes with faults injected on demand.

    from tests.support.httpserver import LoopbackServer, loopback  # `loopback` is a fixture

    def test_x(loopback):
        loopback.route("/feed.xml", body=b"<rss/>", content_type="application/rss+xml")
        loopback.route("/slow", body=b"x" * 100, drip=0.5)        # one byte every 0.5 s
        loopback.route("/old", status=301, headers={"Location": "/feed.xml"})
        url = loopback.url("/feed.xml")

Each route is a `Route`: status, headers, body (bytes, str or a callable taking
the `Request`), `content_type`, `delay` before the headers, `drip` (seconds
between chunks of `drip_size` bytes), `gzip` (compress the body on the fly),
`raw_gzip` (body is already gzip data, sent with Content-Encoding: gzip),
`endless` (repeat this chunk until the client hangs up), `etag` /
`last_modified` (answer 304 to a matching conditional request), or `handler`
(a callable returning a Route per request). Every request is recorded in
`server.requests`. The server binds 127.0.0.1 on an ephemeral port, serves from
a background thread and never touches any other address.
"""

from __future__ import annotations

import gzip as gzip_module
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    time: float


@dataclass
class Route:
    status: int = 200
    body: bytes | str | Callable[[Request], bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/plain; charset=utf-8"
    delay: float = 0.0
    drip: float | None = None
    drip_size: int = 1
    gzip: bool = False
    raw_gzip: bool = False
    endless: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    handler: Callable[[Request], Route] | None = None


def gzip_bomb(uncompressed_size: int, chunk: int = 1 << 20) -> bytes:
    """Gzip data of `uncompressed_size` zero bytes (about 1000:1), built without holding it all."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(chunk)
    out = []
    remaining = uncompressed_size
    while remaining > 0:
        out.append(compressor.compress(zeros[: min(chunk, remaining)]))
        remaining -= chunk
    out.append(compressor.flush())
    return b"".join(out)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def do_POST(self):
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        request = Request(self.command, self.path, dict(self.headers.items()), time.time())
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(request)
        path = self.path.split("?", 1)[0]
        route = owner.routes.get(self.path) or owner.routes.get(path)
        if route is None:
            route = Route(status=404, body=b"not found")
        while route.handler is not None:
            route = route.handler(request)
        try:
            self._respond(route, request, head)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True

    def _respond(self, route: Route, request: Request, head: bool) -> None:
        if route.delay:
            time.sleep(route.delay)
        if (route.etag and request.headers.get("If-None-Match") == route.etag) or (
                route.last_modified
                and request.headers.get("If-Modified-Since") == route.last_modified):
            self.send_response(304)
            if route.etag:
                self.send_header("ETag", route.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = route.body(request) if callable(route.body) else route.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if route.gzip:
            body = gzip_module.compress(body)
        self.send_response(route.status)
        if route.content_type:
            self.send_header("Content-Type", route.content_type)
        if route.gzip or route.raw_gzip:
            self.send_header("Content-Encoding", "gzip")
        if route.etag:
            self.send_header("ETag", route.etag)
        if route.last_modified:
            self.send_header("Last-Modified", route.last_modified)
        for name, value in route.headers.items():
            self.send_header(name, value)
        streamed = route.endless is not None or route.drip is not None
        if streamed:
            self.send_header("Transfer-Encoding", "chunked")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        if route.endless is not None:
            deadline = time.monotonic() + self.server.owner.stream_limit
            while time.monotonic() < deadline:  # the client is expected to hang up first
                self._chunk(route.endless)
                if route.drip:
                    time.sleep(route.drip)
            return
        if route.drip is not None:
            for i in range(0, len(body), route.drip_size):
                self._chunk(body[i:i + route.drip_size])
                time.sleep(route.drip)
            self.wfile.write(b"0\r\n\r\n")
            return
        self.wfile.write(body)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer

    def handle_error(self, request, client_address) -> None:
        import sys

        # Clients hanging up mid-response is the point of most fault tests; stay quiet then.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """An HTTP server on 127.0.0.1 (ephemeral port) in a background thread."""

    def __init__(self, stream_limit: float = 30.0):
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.stream_limit = stream_limit  # endless streams stop after this many seconds anyway
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    def route(self, path: str, route: Route | None = None, **options) -> str:
        """Register `path` (exact, or without its query string) and return its full URL."""
        self.routes[path] = route or Route(**options)
        return self.url(path)

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path.split("?", 1)[0] == path)


@contextmanager
def serve(stream_limit: float = 30.0) -> Iterator[LoopbackServer]:
    """Run a LoopbackServer for the duration of a `with` block."""
    server = LoopbackServer(stream_limit=stream_limit).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A fresh loopback server per test (import this name into a test module to use it)."""
    with serve() as server:
        yield server
