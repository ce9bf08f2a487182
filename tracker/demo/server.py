"""Demo stage: serve the shipped sample feeds and article pages from a loopback HTTP server.

The feeds under ``tracker/demo/feeds/`` are templates: every ``{base}`` in them is
replaced at serve time by the server's own ``http://127.0.0.1:PORT``, so the
entries point back at pages this server holds. One extra feed path always
answers 500 so the pipeline's failure handling is exercised too.
"""

from __future__ import annotations

import hashlib
import re
import threading
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

import yaml

#: Feed path that exists only to fail: the server answers it with HTTP 500.
FAILING_FEED = "outage"

#: Display name and tags of each feed file (by file stem); unknown files get defaults.
FEED_INFO: dict[str, tuple[str, tuple[str, ...]]] = {
    "meridian-wire": ("Meridian Wire: technology", ("wire", "tech")),
    "techpulse": ("TechPulse (Atom)", ("tech", "blog")),
    "regulators": ("Regulators' press releases", ("regulator", "privacy", "competition")),
    "newsflow-hub": ("NewsFlow Hub aggregator", ("aggregator",)),
    "ledger-business": ("The Ledger Daily: business", ("business",)),
    "broken": ("Broken feed (truncated XML)", ("broken",)),
    FAILING_FEED: ("Outage feed (answers HTTP 500)", ("broken",)),
}

# Served for every feed: a fixed date keeps conditional requests deterministic.
_LAST_MODIFIED = "Tue, 03 Mar 2026 09:00:00 GMT"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


def _load(kind: str, suffix: str) -> dict[str, bytes]:
    """Read every shipped ``kind/*suffix`` file into memory, keyed by file stem."""
    folder = resources.files("tracker.demo").joinpath(kind)
    out: dict[str, bytes] = {}
    for item in folder.iterdir():
        if item.is_file() and item.name.endswith(suffix):
            out[item.name[: -len(suffix)]] = item.read_bytes()
    return out


class _Handler(BaseHTTPRequestHandler):
    server: _DemoHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        # The demo prints its own summary; per-request lines would drown it.
        return

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _respond(self, head: bool) -> None:
        path = urlsplit(self.path).path
        self.server.record(path)
        if path.startswith("/feeds/") and path.endswith(".xml"):
            self._feed(path[len("/feeds/") : -len(".xml")], head)
        elif path.startswith("/articles/") and path.endswith(".html"):
            slug = path[len("/articles/") : -len(".html")]
            page = self.server.pages.get(slug) if _SLUG.fullmatch(slug) else None
            if page is None:
                self._send(
                    HTTPStatus.NOT_FOUND,
                    b"<h1>404 Not Found</h1>",
                    "text/html; charset=utf-8",
                    head,
                )
            else:
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", head)
        elif path == "/robots.txt":
            self._send(
                HTTPStatus.OK, b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8", head
            )
        elif path == "/":
            links = "".join(
                f'<li><a href="/feeds/{name}.xml">{name}</a></li>'
                for name in self.server.feed_names
            )
            body = f"<!doctype html><title>Demo news</title><ul>{links}</ul>".encode()
            self._send(HTTPStatus.OK, body, "text/html; charset=utf-8", head)
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head)

    def _feed(self, name: str, head: bool) -> None:
        if name == FAILING_FEED:
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"upstream exploded\n", "text/plain", head)
            return
        template = self.server.feeds.get(name) if _SLUG.fullmatch(name) else None
        if template is None:
            self._send(HTTPStatus.NOT_FOUND, b"no such feed\n", "text/plain; charset=utf-8", head)
            return
        body = template.replace(b"{base}", self.server.base_url.encode())
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": _LAST_MODIFIED}
        if self._not_modified(etag):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            return
        kind = "application/atom+xml" if b"<feed" in body[:500] else "application/rss+xml"
        self._send(HTTPStatus.OK, body, kind + "; charset=utf-8", head, headers)

    def _not_modified(self, etag: str) -> bool:
        # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return etag in tags or "*" in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return parsedate_to_datetime(ims) >= parsedate_to_datetime(_LAST_MODIFIED)
            except (TypeError, ValueError):
                return False
        return False

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        head: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Date", formatdate(usegmt=True))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, _Handler)
        self.feeds = _load("feeds", ".xml")
        self.pages = _load("pages", ".html")
        self.feed_names = sorted([*self.feeds, FAILING_FEED])
        host, port = self.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.requests: list[str] = []
        self._lock = threading.Lock()

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)


class DemoServer:
    """The demo feeds and pages on ``http://127.0.0.1:<ephemeral port>``, served from a thread.

    Use as a context manager (or call ``close()``)::

        with DemoServer() as server:
            print(server.feed_urls)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._httpd = _DemoHTTPServer((host, port))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="tracker-demo-server", daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        return self._httpd.base_url

    @property
    def feed_names(self) -> list[str]:
        """Every feed path stem served, the failing one included."""
        return list(self._httpd.feed_names)

    @property
    def feed_urls(self) -> list[str]:
        """Full URL of every feed, broken and failing ones included."""
        return [self.feed_url(name) for name in self._httpd.feed_names]

    @property
    def article_slugs(self) -> list[str]:
        """Slugs of every article page the server holds."""
        return sorted(self._httpd.pages)

    @property
    def requests(self) -> list[str]:
        """Paths requested so far, in order (a copy)."""
        with self._httpd._lock:
            return list(self._httpd.requests)

    def feed_url(self, name: str) -> str:
        return f"{self.base_url}/feeds/{name}.xml"

    def article_url(self, slug: str) -> str:
        return f"{self.base_url}/articles/{slug}.html"

    def close(self) -> None:
        """Stop serving and release the port. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def demo_feeds_yaml(server: DemoServer) -> str:
    """A feeds.yaml text listing every demo feed on ``server``, with settings fit for loopback."""
    feeds = []
    for name in server.feed_names:
        title, tags = FEED_INFO.get(name, (name, ("demo",)))
        feeds.append({"url": server.feed_url(name), "name": title, "tags": list(tags)})
    document = {
        "settings": {
            # The demo server lives on 127.0.0.1, which the fetcher refuses by default.
            "allow_private_networks": True,
            "min_host_delay": 0,
            "respect_robots": False,
            "concurrency": 8,
            "per_host": 4,
            "connect_timeout": 5,
            "read_timeout": 10,
            "total_timeout": 20,
            "max_articles_per_feed": 100,
        },
        "feeds": feeds,
    }
    return (
        "# Generated by tracker demo: sample feeds served from a loopback server.\n"
        + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    )
