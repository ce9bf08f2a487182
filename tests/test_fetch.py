"""The fetch seam against a real loopback server: conditional requests, limits, politeness."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.support.httpserver import LoopbackServer, Route, serve
from tracker.fetch import (
    Fetcher,
    decode_body,
    fetch_sync,
    looks_binary,
    next_fetch_after,
    parse_retry_after,
)
from tracker.records import FetchResult, Settings

pytestmark = pytest.mark.timeout(60)

LOCAL = Settings(allow_private_networks=True, min_host_delay=0.0, total_timeout=5.0,
                 connect_timeout=2.0, read_timeout=3.0)


@pytest.fixture
def loopback():
    with serve() as server:
        yield server


def fetch(url: str, settings: Settings = LOCAL, **kwargs) -> FetchResult:
    return fetch_sync(url, settings, **kwargs)


def fetch_all(urls: list[str], settings: Settings = LOCAL, **kwargs) -> list[FetchResult]:
    async def go():
        async with Fetcher(settings) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(u, **kwargs) for u in urls))
    return asyncio.run(go())


def test_plain_fetch_sends_user_agent_and_returns_headers(loopback):
    url = loopback.route("/feed.xml", body="<rss/>", content_type="application/rss+xml",
                         etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    result = fetch(url, kind="feed")
    assert result.ok and result.status == 200 and result.content == b"<rss/>"
    assert result.etag == '"v1"' and result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert result.final_url == url and result.elapsed > 0
    sent = loopback.requests[0].headers
    assert sent["User-Agent"].startswith("allegation-tracker/")
    assert "gzip" in sent["Accept-Encoding"] and "rss+xml" in sent["Accept"]


def test_conditional_request_gives_not_modified(loopback):
    url = loopback.route("/feed.xml", body="<rss/>", etag='"abc"',
                         last_modified="Tue, 02 Jan 2024 00:00:00 GMT")
    first = fetch(url)
    again = fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and not again.ok and again.error is None
    assert again.status == 304 and again.content == b""
    assert loopback.requests[1].headers["If-None-Match"] == '"abc"'
    assert loopback.requests[1].headers["If-Modified-Since"] == "Tue, 02 Jan 2024 00:00:00 GMT"
    only_date = fetch(url, last_modified=first.last_modified)
    assert only_date.not_modified


def test_gzip_body_is_decoded(loopback):
    url = loopback.route("/z", body="hello " * 1000, gzip=True)
    result = fetch(url)
    assert result.ok and result.content == b"hello " * 1000


def test_gzip_bomb_stops_at_the_cap(loopback, gzip_bomb_bytes):
    url = loopback.route("/bomb", body=gzip_bomb_bytes, raw_gzip=True,
                         content_type="application/rss+xml")
    settings = Settings(allow_private_networks=True, max_bytes=2_000_000, min_host_delay=0)
    started = time.monotonic()
    result = fetch(url, settings, kind="feed")
    assert result.error_reason == "too_large" and "max_bytes" in result.error
    assert result.content == b""
    assert time.monotonic() - started < 3


def test_endless_stream_stops_at_the_cap(loopback):
    url = loopback.route("/endless", endless=b"<item>spam</item>" * 4096)
    settings = Settings(allow_private_networks=True, max_bytes=1_000_000, min_host_delay=0)
    result = fetch(url, settings)
    assert result.error_reason == "too_large"
    assert result.elapsed < 3


def test_declared_oversize_body_is_refused_before_reading(loopback):
    url = loopback.route("/big", body=b"x" * 50_000)
    result = fetch(url, Settings(allow_private_networks=True, max_bytes=10_000))
    assert result.error_reason == "too_large"


def test_slow_drip_is_cut_off_by_the_total_timeout(loopback):
    url = loopback.route("/drip", body=b"<rss>" + b" " * 100 + b"</rss>", drip=0.2)
    settings = Settings(allow_private_networks=True, total_timeout=1.0, read_timeout=1.0,
                        connect_timeout=1.0, min_host_delay=0)
    result = fetch(url, settings)
    assert result.error_reason == "timeout" and "total_timeout" in result.error
    assert 0.9 < result.elapsed < 2.0


def test_slow_headers_hit_the_read_timeout(loopback):
    url = loopback.route("/stall", body=b"late", delay=2.0)
    settings = Settings(allow_private_networks=True, read_timeout=0.3, connect_timeout=1.0,
                        total_timeout=5.0, min_host_delay=0)
    result = fetch(url, settings)
    assert result.error_reason == "timeout" and result.elapsed < 1.5


def test_redirects_are_followed_and_relative_locations_resolved(loopback):
    loopback.route("/old", status=301, headers={"Location": "/mid"})
    loopback.route("/mid", status=303, headers={"Location": "new?x=1"})
    final = loopback.route("/new", body="moved")
    result = fetch(loopback.url("/old"))
    assert result.ok and result.content == b"moved"
    assert result.final_url == final + "?x=1" and result.url == loopback.url("/old")


def test_redirect_loop_is_detected(loopback):
    loopback.route("/a", status=302, headers={"Location": "/b"})
    loopback.route("/b", status=302, headers={"Location": "/a"})
    result = fetch(loopback.url("/a"))
    assert result.error_reason == "redirect_loop"
    assert loopback.hits("/a") == 1 and loopback.hits("/b") == 1


def test_redirect_limit(loopback):
    for i in range(10):
        loopback.route(f"/r{i}", status=307, headers={"Location": f"/r{i + 1}"})
    loopback.route("/r10", body="end")
    settings = Settings(allow_private_networks=True, max_redirects=3, min_host_delay=0)
    result = fetch(loopback.url("/r0"), settings)
    assert result.error_reason == "too_many_redirects" and "max_redirects" in result.error
    assert loopback.hits("/r3") == 1 and loopback.hits("/r4") == 0


def test_redirect_to_non_http_scheme_is_refused(loopback):
    url = loopback.route("/x", status=302, headers={"Location": "file:///etc/passwd"})
    assert fetch(url).error_reason == "bad_redirect"


@pytest.mark.parametrize("status, header, expected", [
    (429, "120", 120.0),
    (503, "7", 7.0),
    (429, None, None),
    (429, "soon", None),
])
def test_retry_after_on_429_and_503(loopback, status, header, expected):
    url = loopback.route("/busy", status=status, body="slow down",
                         headers={"Retry-After": header} if header else {})
    result = fetch(url)
    assert result.error_reason == f"http_{status}" and result.status == status
    assert result.retry_after == expected


def test_retry_after_http_date(loopback):
    when = datetime.now(UTC) + timedelta(seconds=90)
    url = loopback.route("/busy", status=429, headers={"Retry-After": format_datetime(when, True)})
    assert 80 <= fetch(url).retry_after <= 91


def test_server_error_and_not_found(loopback):
    assert fetch(loopback.route("/boom", status=500, body="oops")).error_reason == "http_500"
    missing = fetch(loopback.url("/nothing-here"))
    assert missing.error_reason == "http_404" and missing.error.startswith("HTTP 404")
    assert missing.retry_after is None


@pytest.mark.parametrize("content_type, body", [
    ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(200)),
    ("application/octet-stream", b"\x89PNG\r\n\x1a\n" + bytes(200)),
    ("application/rss+xml", b"\x00\x01\x02garbage\x00" * 50),
    ("application/pdf", b"%PDF-1.7 ..."),
])
def test_binary_bodies_are_rejected(loopback, content_type, body):
    url = loopback.route("/bin", body=body, content_type=content_type)
    result = fetch(url, kind="feed")
    assert result.error_reason == "binary" and not result.content


def test_unsupported_content_encoding(loopback):
    url = loopback.route("/br", body=b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})
    assert fetch(url).error_reason == "bad_encoding"


def test_corrupt_gzip_is_a_decode_error(loopback):
    url = loopback.route("/bad.gz", body=b"\x1f\x8b\x08\x00not really gzip at all",
                         headers={"Content-Encoding": "gzip"})
    assert fetch(url).error_reason == "decode_error"


def test_connection_refused_and_bad_urls_do_not_raise():
    with serve() as server:
        dead = server.url("/gone")
    assert fetch(dead).error_reason == "connect_error"
    assert fetch("http://[::1").error_reason == "bad_url"
    assert fetch("gopher://example.com/", trusted=False).error_reason in ("bad_url",
                                                                         "blocked_file")


def test_robots_disallow_is_honoured_and_cached(loopback):
    loopback.route("/robots.txt", body="User-agent: *\nDisallow: /private\n")
    loopback.route("/private/a", body="secret")
    loopback.route("/public/a", body="fine")
    results = fetch_all([loopback.url("/private/a"), loopback.url("/public/a"),
                         loopback.url("/private/b")], check_robots=True)
    assert [r.error_reason for r in results] == ["robots", None, "robots"]
    assert "robots.txt" in results[0].error
    assert loopback.hits("/private/a") == 0 and loopback.hits("/robots.txt") == 1
    assert fetch(loopback.url("/private/a")).ok  # robots only when asked for


def test_robots_rules_for_our_agent_and_missing_robots(loopback):
    loopback.route("/robots.txt", body="User-agent: allegation-tracker\nDisallow: /\n\n"
                                       "User-agent: *\nAllow: /\n")
    loopback.route("/page", body="x")
    assert fetch(loopback.url("/page"), check_robots=True).error_reason == "robots"
    with serve() as other:
        other.route("/page", body="x")  # no robots.txt at all: 404 means no rules
        assert fetch(other.url("/page"), check_robots=True).ok


def test_robots_server_error_means_disallow_all(loopback):
    # RFC 9309: a robots.txt the server fails to serve means "crawl nothing" for now.
    loopback.route("/robots.txt", status=503, body="busy")
    loopback.route("/page", body="x")
    assert fetch(loopback.url("/page"), check_robots=True).error_reason == "robots"
    assert loopback.hits("/page") == 0


def test_per_host_limit_and_global_bound(loopback):
    active = {"now": 0, "peak": 0}

    def slow(request):
        active["now"] += 1
        active["peak"] = max(active["peak"], active["now"])
        time.sleep(0.15)
        active["now"] -= 1
        return Route(body="ok")

    loopback.route("/slow", handler=slow)
    settings = Settings(allow_private_networks=True, per_host=2, concurrency=8,
                        min_host_delay=0)
    results = fetch_all([loopback.url("/slow")] * 6, settings)
    assert all(r.ok for r in results)
    assert active["peak"] == 2


def test_min_delay_between_requests_to_one_host(loopback):
    loopback.route("/p", body="ok")
    settings = Settings(allow_private_networks=True, per_host=4, min_host_delay=0.2)
    fetch_all([loopback.url("/p")] * 3, settings)
    starts = sorted(r.time for r in loopback.requests)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert all(g >= 0.18 for g in gaps), gaps


def test_waiting_for_a_slot_does_not_count_against_the_timeout(loopback):
    def slowish(request):
        time.sleep(0.4)
        return Route(body="ok")

    loopback.route("/s", handler=slowish)
    settings = Settings(allow_private_networks=True, per_host=1, total_timeout=0.8,
                        connect_timeout=0.5, min_host_delay=0)
    results = fetch_all([loopback.url("/s")] * 3, settings)
    assert all(r.ok for r in results), [r.error for r in results]


def test_local_files_are_read_only_for_trusted_urls(tmp_path):
    feed = tmp_path / "my feed.xml"
    feed.write_bytes(b"<rss version='2.0'/>")
    for url in (str(feed), feed.as_uri()):
        result = fetch(url, trusted=True)
        assert result.ok and result.content == b"<rss version='2.0'/>"
        assert result.content_type in ("application/xml", "text/xml")
        again = fetch(url, trusted=True, last_modified=result.last_modified)
        assert again.not_modified
    refused = fetch(feed.as_uri(), trusted=False)
    assert refused.error_reason == "blocked_file"
    missing = fetch(str(tmp_path / "nope.xml"), trusted=True)
    assert missing.error_reason == "file_error" and "nope.xml" in missing.error
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2000)
    assert fetch(str(big), Settings(max_bytes=1000), trusted=True).error_reason == "too_large"


def test_fetcher_must_be_entered():
    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(Fetcher(LOCAL).fetch("http://127.0.0.1:9/"))


@pytest.mark.parametrize("body, content_type, declared, expected", [
    ("café".encode(), "text/html; charset=utf-8", None, "café"),
    ("café".encode("cp1252"), "text/html; charset=utf-8", None, "café"),  # lying header
    ("café".encode(), "text/html; charset=iso-8859-1", None, "café"),  # latin-1 label, UTF-8
    ("naïve €".encode("cp1252"), "text/xml", None, "naïve €"),
    ('<?xml version="1.0" encoding="windows-1252"?><t>é</t>'.encode("cp1252"), None, None,
     '<?xml version="1.0" encoding="windows-1252"?><t>é</t>'),
    ('<meta charset="koi8-r"><p>привет</p>'.encode("koi8-r"), "text/html", None,
     '<meta charset="koi8-r"><p>привет</p>'),
    (b"\xff\xfe" + "bom".encode("utf-16-le"), "text/plain; charset=utf-8", None, "bom"),
    ("<p>Привет, мир! Это тестовая страница о новостях.</p>".encode("cp1251"), "text/html",
     None, "<p>Привет, мир! Это тестовая страница о новостях.</p>"),
    ("Le café est très bon, naïve idée à Paris.".encode("cp1252"), "text/plain", None,
     "Le café est très bon, naïve idée à Paris."),
    (b"ok", "text/plain; charset=no-such-codec", None, "ok"),
    ("é".encode("cp1252"), None, "cp1252", "é"),
])
def test_decode_body(body, content_type, declared, expected):
    assert decode_body(body, content_type, declared) == expected


def test_decode_body_never_raises_on_garbage():
    text = decode_body(bytes(range(256)) * 20, "text/html; charset=utf-8")
    assert isinstance(text, str) and text
    assert decode_body(b"", None) == ""


def test_looks_binary():
    assert looks_binary(b"\x89PNG\r\n") and looks_binary(b"abc\x00def")
    assert not looks_binary("<rss/>".encode("utf-16")) and not looks_binary(b"<rss/>")


def test_parse_retry_after():
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 00:02:00 GMT", now) == 120.0
    assert parse_retry_after("Sun, 31 Dec 2023 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("later") is None and parse_retry_after(None) is None


def test_next_fetch_after_backs_off_with_cap_and_jitter():
    now = datetime(2024, 1, 1, tzinfo=UTC)
    delays = [(next_fetch_after(n, now, None) - now).total_seconds() for n in range(0, 12)]
    assert delays[0] == 0
    assert 0.8 * 1800 <= delays[1] <= 1800 and 0.8 * 3600 <= delays[2] <= 3600
    assert all(d <= 24 * 3600 for d in delays)
    assert delays[10] >= 0.8 * 24 * 3600  # capped, still tried daily
    assert (next_fetch_after(1, now, 7200) - now).total_seconds() == 7200
    assert (next_fetch_after(1, now, 10 * 86400) - now).total_seconds() == 86400
    assert next_fetch_after(10_000, now, None) <= now + timedelta(hours=24)
    samples = {next_fetch_after(3, now, None) for _ in range(20)}
    assert len(samples) > 1  # jitter spreads retries


@pytest.fixture(scope="module")
def gzip_bomb_bytes() -> bytes:
    from tests.support.httpserver import gzip_bomb

    return gzip_bomb(200_000_000)


def test_loopback_server_helper_reports_unknown_paths():
    with LoopbackServer() as server:
        assert fetch(server.url("/missing")).status == 404
        assert server.hits("/missing") == 1


def test_unresolvable_host_is_a_dns_error_without_network(monkeypatch):
    import socket

    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "feeds.unresolvable.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    for trusted in (True, False):
        result = fetch("https://feeds.unresolvable.example/rss", Settings(), trusted=trusted)
        assert result.error_reason == "dns", result.error
        assert "resolve" in result.error
