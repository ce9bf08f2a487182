"""Fetching stage: the one place that builds the HTTP client; turns URLs and local files into bytes.

Everything that reaches the network goes through `Fetcher.fetch`, which never
raises for network problems: it returns a FetchResult with `error` and a short
`error_reason` tag instead. It enforces, per request: connect/read timeouts and
a wall-clock total (a server dripping a byte a second is cut off), a body cap
counted after decompression (decompression itself is bounded, so a gzip bomb
stops at the cap without inflating further), manual redirects with a hop limit
and loop detection, and the address guard: a URL that did not come from
feeds.yaml (article links, every redirect hop) is only fetched when its host
resolves to public addresses. The guard runs twice: a pre-check that gives a
clear error without opening a socket, and a check inside the connection layer
on the very addresses the socket connects to, so a DNS answer that changes
between the two (DNS rebinding) cannot slip through. Politeness: a global
concurrency bound, a per-host connection limit, a minimum delay between
request starts to one host, and robots.txt (protego), cached per host.
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import ipaddress
import mimetypes
import os
import random
import re
import socket
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpcore
import httpx
from protego import Protego

from tracker.errors import BlockedError, FetchError
from tracker.records import FetchResult, Settings
from tracker.urls import check_ips

REDIRECT_STATUSES = {301, 302, 303, 307, 308}
ROBOTS_MAX_BYTES = 512_000
MAX_BACKOFF = timedelta(hours=24)  # a failing feed is still tried at least daily
BASE_BACKOFF = timedelta(minutes=30)

# Types that are never a feed or an article page; refused before the body is read.
_BINARY_TYPES = ("image/", "audio/", "video/", "font/", "application/zip", "application/gzip",
                 "application/x-gzip", "application/pdf", "application/x-tar",
                 "application/vnd.", "application/msword", "application/x-msdownload",
                 "application/wasm", "application/x-7z", "application/x-rar")
_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b",
          b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\x7fELF", b"MZ", b"\x00asm")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([\w.:+-]+)""", re.I)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:+-]+)["']""", re.I)
_META_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:+-]+)""", re.I)


# --- decoding ----------------------------------------------------------------------------


def charset_from_content_type(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type header, if it names a known codec."""
    if not content_type:
        return None
    match = _CHARSET_RE.search(content_type)
    return _known_codec(match.group(1)) if match else None


def _known_codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    try:
        codec = codecs.lookup(name.strip()).name
    except LookupError:
        return None
    # Browsers read latin-1 and ascii labels as windows-1252; servers mean the same.
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def declared_charset(content: bytes) -> str | None:
    """The encoding an XML declaration or HTML <meta> names in the first 2 KB, if known."""
    head = content[:2048]
    match = _XML_DECL_RE.search(head) or _META_RE.search(head)
    return _known_codec(match.group(1)) if match else None


def _bom_codec(content: bytes) -> str | None:
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return codec
    return None


def decode_body(content: bytes, content_type: str | None, declared: str | None = None) -> str:
    """Decode a fetched body to text; never raises.

    Order: a byte-order mark, then `declared` (an encoding already known, e.g.
    FetchResult.encoding) or the Content-Type charset, then the XML declaration
    or HTML <meta charset>, then detection (charset-normalizer). The first
    candidate that decodes the bytes without error wins; when none does, the
    first candidate is used with undecodable bytes replaced by U+FFFD.
    """
    if not content:
        return ""
    candidates: list[str] = []
    bom = _bom_codec(content)
    if bom:
        candidates.append(bom)
    header = _known_codec(declared) or charset_from_content_type(content_type)
    if header == "cp1252" and _is_utf8_with_non_ascii(content):
        # A latin-1 label on bytes that are valid multi-byte UTF-8 is almost always a
        # misconfigured server: real latin-1 text is very unlikely to form UTF-8 sequences.
        header = "utf-8"
    for codec in (header, declared_charset(content)):
        if codec and codec not in candidates:
            candidates.append(codec)
    for codec in candidates:
        try:
            return content.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    detected = _detect(content)
    if detected:
        try:
            return content.decode(detected)
        except (UnicodeDecodeError, LookupError):
            candidates.append(detected)
    fallback = candidates[0] if candidates else "utf-8"
    return content.decode(fallback, errors="replace")


def _is_utf8_with_non_ascii(content: bytes) -> bool:
    if content.isascii():
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(content: bytes) -> str | None:
    import charset_normalizer

    # Detection over a bounded sample: it is slow on megabytes and the head is representative.
    sample = content[:200_000]
    results = list(charset_normalizer.from_bytes(sample))
    if not results:
        return None
    lowest = min(m.chaos for m in results)
    plausible = [m.encoding for m in results if m.chaos <= lowest + 0.01
                 and (b"\x00" in sample or not m.encoding.startswith(("utf_16", "utf_32")))]
    # Short samples fit many single-byte codecs equally well; among equals, windows-1252
    # is by far the most common mislabelled encoding on the web.
    if "utf_8" in plausible:
        return "utf-8"
    try:
        as_1252 = sample.decode("cp1252")
    except UnicodeDecodeError:
        as_1252 = None
    if as_1252 is not None and any(sample.decode(enc, "replace") == as_1252
                                   for enc in plausible):
        return "cp1252"
    return _known_codec(plausible[0] if plausible else results[0].encoding)


def looks_binary(content: bytes) -> bool:
    """True for bytes that are not text: known file signatures or NUL bytes in the first 4 KB."""
    head = content[:4096]
    if not head or _bom_codec(head) or head.startswith((b"<\x00", b"\x00<")):
        return False  # UTF-16/32 text has NULs but is still text
    if head.startswith(_MAGIC):
        return True
    return b"\x00" in head


# --- backoff and Retry-After ----------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def next_fetch_after(error_count: int, now: datetime, retry_after: float | None) -> datetime:
    """When a feed that failed `error_count` times in a row should next be fetched.

    Capped exponential backoff (30 min, 1 h, 2 h, ... at most 24 h) with jitter so
    that feeds failing together do not retry together; a server's Retry-After is
    honoured when longer. Never more than 24 h: a failing feed is tried daily.
    """
    delay = 0.0
    if error_count > 0:
        exponent = min(error_count - 1, 16)
        delay = min(BASE_BACKOFF.total_seconds() * 2 ** exponent, MAX_BACKOFF.total_seconds())
        delay *= random.uniform(0.8, 1.0)
    if retry_after:
        delay = max(delay, float(retry_after))
    return now + timedelta(seconds=min(delay, MAX_BACKOFF.total_seconds()))


def next_quiet_fetch(unchanged_runs: int, now: datetime, max_hours: float) -> datetime | None:
    """When to poll a feed again that brought nothing new `unchanged_runs` times in a row.

    None (poll every run) until three quiet fetches in a row or when `max_hours`
    is 0; then 30 min, doubling per further quiet fetch, capped at `max_hours`.
    Any change resets the count, so a feed that wakes up is polled every run again.
    """
    if max_hours <= 0 or unchanged_runs < 3:
        return None
    delay = min(BASE_BACKOFF.total_seconds() * 2 ** min(unchanged_runs - 3, 16),
                max_hours * 3600)
    return now + timedelta(seconds=delay)


# --- the address guard inside the connection layer --------------------------------------------


async def resolve(host: str, port: int, *, url: str | None = None) -> list[str]:
    """The addresses `host` resolves to (itself when it is an IP literal), without duplicates."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}", url=url, reason="dns") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, refuses non-public addresses, and connects to the checked IP."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend):
        self._inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        ips = await resolve(host, port)
        check_ips(f"{host}:{port}", host, ips, allow_private=False)
        last: Exception | None = None
        for ip in ips:
            try:
                return await self._inner.connect_tcp(ip, port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise BlockedError("unix sockets are not fetched", reason="blocked_address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _transport(settings: Settings, guarded: bool) -> httpx.AsyncHTTPTransport:
    limits = httpx.Limits(max_connections=max(settings.concurrency, settings.per_host) * 2,
                          max_keepalive_connections=settings.concurrency)
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    if guarded:
        # httpx has no public hook for the network backend; its pool is rebuilt with the
        # same options plus our backend, so the guard sees the addresses actually dialled.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(httpcore.AnyIOBackend()),
        )
    return transport


# --- decompression with a bounded output -----------------------------------------------------


class _Decoder:
    """Content-Encoding decoder that never produces more than it is asked for per call."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self._wbits = 31 if encoding in ("gzip", "x-gzip") else 15
        self._obj = zlib.decompressobj(self._wbits) if encoding != "identity" else None
        self._started = False

    def decode(self, data: bytes, limit: int) -> bytes:
        """Decode `data`, stopping once more than `limit` bytes have come out."""
        if self._obj is None:
            return data
        out: list[bytes] = []
        produced = 0
        while data and produced <= limit:
            try:
                chunk = self._obj.decompress(data, limit - produced + 1)
            except zlib.error:
                if self.encoding == "deflate" and not self._started and self._wbits == 15:
                    # Some servers send raw deflate without the zlib header.
                    self._wbits = -15
                    self._obj = zlib.decompressobj(-15)
                    continue
                raise
            self._started = True
            out.append(chunk)
            produced += len(chunk)
            tail = self._obj.unconsumed_tail
            if self._obj.eof:
                rest = self._obj.unused_data
                if self._wbits == 31 and rest.strip(b"\x00"):
                    self._obj = zlib.decompressobj(31)  # next gzip member
                    data = rest
                    continue
                break
            if not chunk and tail == data:
                break
            data = tail
        return b"".join(out)


def _decoders(header: str) -> list[_Decoder]:
    names = [n.strip().lower() for n in header.split(",") if n.strip()]
    names = [n for n in names if n != "identity"]
    for name in names:
        if name not in ("gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported Content-Encoding {name!r}", reason="bad_encoding")
    return [_Decoder(n) for n in reversed(names)]  # applied in reverse order of listing


# --- the fetcher ---------------------------------------------------------------------------


@dataclass
class _HostGate:
    slots: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    delay: float = 0.0


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def is_local(url: str) -> bool:
    """True for a file:// URL or a plain file path (these are read, not fetched)."""
    scheme = urlsplit(url).scheme.lower()
    return scheme == "file" or not scheme or (len(scheme) == 1 and os.name == "nt")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


class Fetcher:
    """The tracker's HTTP client: `async with Fetcher(settings) as f: await f.fetch(url)`.

    `transport` replaces the network for in-process tests (httpx.MockTransport);
    the address pre-check still applies to untrusted URLs.
    """

    def __init__(self, settings: Settings | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings or Settings()
        self._transport = transport
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self._global = asyncio.Semaphore(self.settings.concurrency)
        self._hosts: dict[str, _HostGate] = {}
        self._robots: dict[str, Protego | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self.robots_agent = self.settings.user_agent.split("/", 1)[0].split()[0]

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        timeout = httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout,
                                write=s.read_timeout, pool=s.total_timeout)
        headers = {"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"}
        for trusted in (True, False):
            if self._transport is not None:
                transport = self._transport
            else:
                transport = _transport(s, guarded=not trusted and not s.allow_private_networks)
            self._clients[trusted] = httpx.AsyncClient(
                transport=transport, timeout=timeout, headers=headers, follow_redirects=False,
                trust_env=False)
        return self

    async def __aexit__(self, *exc_info) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    trusted: bool = False, kind: str = "page",
                    check_robots: bool = False) -> FetchResult:
        """Fetch `url` and return a FetchResult; network problems become `error`, never raise.

        `trusted` marks a URL written in feeds.yaml: it may point at a private
        address or a local file. Redirect hops leaving its origin are untrusted.
        `kind` ("feed", "page", "robots") selects the content-type checks.
        `check_robots` consults the host's robots.txt first (error_reason "robots").
        """
        started = time.monotonic()
        if not self._clients:
            raise RuntimeError("use Fetcher inside `async with Fetcher(settings) as fetcher:`")
        try:
            if is_local(url):
                return self._fetch_file(url, trusted, last_modified, started)
            if check_robots and not await self._robots_allow(url, trusted):
                raise BlockedError(f"robots.txt of {_origin(url)} disallows {url}",
                                   url=url, reason="robots")
            async with self._global:
                return await self._fetch_http(url, etag, last_modified, trusted, kind, started)
        except FetchError as exc:
            return self._failed(url, exc.url or url, started, str(exc), exc.reason,
                                status=exc.status)
        except TimeoutError:
            return self._failed(url, url, started,
                                f"gave up after {self.settings.total_timeout:g}s "
                                "(settings.total_timeout)", "timeout")
        except httpx.TimeoutException as exc:
            return self._failed(url, url, started, f"timed out: {type(exc).__name__}", "timeout")
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return self._failed(url, url, started, f"invalid URL: {exc}", "bad_url")
        except httpx.ConnectError as exc:
            if _caused_by(exc, socket.gaierror):
                return self._failed(url, url, started, f"cannot resolve host name: {exc}", "dns")
            return self._failed(url, url, started, f"cannot connect: {exc}", "connect_error")
        except (httpx.RemoteProtocolError, httpx.LocalProtocolError) as exc:
            return self._failed(url, url, started, f"broken HTTP response: {exc}",
                                "protocol_error")
        except httpx.DecodingError as exc:
            return self._failed(url, url, started, f"cannot decode body: {exc}", "decode_error")
        except zlib.error as exc:
            return self._failed(url, url, started, f"corrupt compressed body: {exc}",
                                "decode_error")
        except (httpx.HTTPError, OSError) as exc:
            return self._failed(url, url, started, f"network error: {exc!r}", "network_error")
        except ValueError as exc:  # malformed URLs and host names (e.g. bad IDNA)
            return self._failed(url, url, started, f"invalid URL: {exc}", "bad_url")

    @staticmethod
    def _failed(url: str, final_url: str, started: float, error: str, reason: str,
                status: int | None = None, retry_after: float | None = None) -> FetchResult:
        return FetchResult(url=url, final_url=final_url, status=status, error=error,
                           error_reason=reason, retry_after=retry_after,
                           elapsed=time.monotonic() - started)

    # -- local files

    def _fetch_file(self, url: str, trusted: bool, last_modified: str | None,
                    started: float) -> FetchResult:
        if not trusted:
            raise BlockedError(f"refused {url}: local files are only read for URLs written in "
                               "feeds.yaml", url=url, reason="blocked_file")
        parts = urlsplit(url)
        if parts.scheme.lower() == "file":
            if parts.netloc not in ("", "localhost"):
                raise FetchError(f"file URL with a remote host is not supported: {url}",
                                 url=url, reason="bad_url")
            path = Path(unquote(parts.path))
        else:
            path = Path(url).expanduser()
        try:
            stat = path.stat()
            if stat.st_size > self.settings.max_bytes:
                raise BlockedError(f"{path} is {stat.st_size} bytes, over settings.max_bytes "
                                   f"({self.settings.max_bytes})", url=url, reason="too_large")
            mtime = email.utils.formatdate(stat.st_mtime, usegmt=True)
            if last_modified and last_modified == mtime:
                return FetchResult(url=url, final_url=url, not_modified=True,
                                   last_modified=mtime, elapsed=time.monotonic() - started)
            content = path.read_bytes()[: self.settings.max_bytes + 1]
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror or exc}", url=url,
                             reason="file_error") from exc
        content_type = mimetypes.guess_type(path.name)[0]
        return FetchResult(url=url, final_url=url, content=content, content_type=content_type,
                           last_modified=mtime, elapsed=time.monotonic() - started)

    # -- HTTP

    def _gate(self, url: str) -> _HostGate:
        key = _origin(url)
        gate = self._hosts.get(key)
        if gate is None:
            gate = _HostGate(asyncio.Semaphore(self.settings.per_host),
                             delay=self.settings.min_host_delay)
            self._hosts[key] = gate
        return gate

    async def _wait_turn(self, gate: _HostGate) -> None:
        async with gate.lock:
            loop = asyncio.get_running_loop()
            wait = gate.next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            gate.next_start = loop.time() + gate.delay

    async def _precheck(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise BlockedError(f"refused {url}: only http(s) URLs are fetched from the network",
                               url=url, reason="bad_url")
        host = parts.hostname
        ips = await resolve(host, parts.port or 0, url=url)
        check_ips(url, host, ips, allow_private=False)

    async def _fetch_http(self, url: str, etag: str | None, last_modified: str | None,
                          trusted: bool, kind: str, started: float) -> FetchResult:
        s = self.settings
        headers = {"Accept": _ACCEPT.get(kind, "*/*")}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        trusted_origin = _origin(url) if trusted else None
        seen = {url}
        current = url
        deadline: float | None = None
        for _hop in range(s.max_redirects + 1):
            hop_trusted = trusted_origin is not None and _origin(current) == trusted_origin
            if not hop_trusted and not s.allow_private_networks:
                # A DNS lookup can hang well past any socket timeout; bound it separately.
                async with asyncio.timeout(s.connect_timeout):
                    await self._precheck(current)
            client = self._clients[hop_trusted]
            gate = self._gate(current)
            async with gate.slots:
                await self._wait_turn(gate)
                loop = asyncio.get_running_loop()
                if deadline is None:
                    deadline = loop.time() + s.total_timeout
                async with asyncio.timeout_at(deadline):
                    response = await client.send(client.build_request("GET", current,
                                                                      headers=headers),
                                                 stream=True)
                    try:
                        location = response.headers.get("location")
                        if response.status_code in REDIRECT_STATUSES and location:
                            target = urljoin(current, location.strip())
                            if urlsplit(target).scheme.lower() not in ("http", "https"):
                                raise BlockedError(f"redirect from {current} to a non-http URL "
                                                   f"{target!r} refused", url=current,
                                                   reason="bad_redirect")
                            if target in seen:
                                raise FetchError(f"redirect loop: {current} -> {target}",
                                                 url=current, reason="redirect_loop",
                                                 status=response.status_code)
                            seen.add(target)
                            current = target
                            continue
                        return await self._finish(url, current, response, kind, started)
                    finally:
                        await response.aclose()
        raise FetchError(f"more than {s.max_redirects} redirects (settings.max_redirects), "
                         f"last {current}", url=current, reason="too_many_redirects")

    async def _finish(self, url: str, final_url: str, response: httpx.Response, kind: str,
                      started: float) -> FetchResult:
        status = response.status_code
        headers = response.headers
        content_type = headers.get("content-type")
        common = dict(url=url, final_url=final_url, status=status, content_type=content_type,
                      encoding=charset_from_content_type(content_type),
                      etag=headers.get("etag"), last_modified=headers.get("last-modified"))
        if status == 304:
            return FetchResult(not_modified=True, elapsed=time.monotonic() - started, **common)
        if status >= 400 or status < 200:
            retry_after = (parse_retry_after(headers.get("retry-after"))
                           if status in (429, 503) else None)
            reason = response.reason_phrase or "error"
            return FetchResult(error=f"HTTP {status} {reason}", error_reason=f"http_{status}",
                               retry_after=retry_after, elapsed=time.monotonic() - started,
                               **common)
        if status in REDIRECT_STATUSES:
            raise FetchError(f"HTTP {status} redirect without a Location header",
                             url=final_url, reason="bad_redirect", status=status)
        mime = (content_type or "").split(";", 1)[0].strip().lower()
        if kind != "robots" and mime.startswith(_BINARY_TYPES):
            raise BlockedError(f"{final_url} is {mime}, not a {kind}", url=final_url,
                               reason="binary", status=status)
        cap = ROBOTS_MAX_BYTES if kind == "robots" else self.settings.max_bytes
        content = await self._read_capped(response, cap, final_url)
        if kind != "robots" and looks_binary(content):
            raise BlockedError(f"{final_url} returned binary data, not a {kind}",
                               url=final_url, reason="binary", status=status)
        return FetchResult(content=content, elapsed=time.monotonic() - started, **common)

    async def _read_capped(self, response: httpx.Response, cap: int, url: str) -> bytes:
        def too_large() -> BlockedError:
            return BlockedError(f"body of {url} is larger than {cap} bytes (settings.max_bytes); "
                                "stopped reading", url=url, reason="too_large",
                                status=response.status_code)

        decoders = _decoders(response.headers.get("content-encoding", ""))
        length = response.headers.get("content-length", "")
        if not decoders and length.isdigit() and int(length) > cap:
            raise too_large()
        parts: list[bytes] = []
        total = 0
        async for raw in response.aiter_raw():
            data = raw
            for decoder in decoders:
                data = decoder.decode(data, cap - total)
            total += len(data)
            if total > cap:
                raise too_large()
            parts.append(data)
        return b"".join(parts)

    # -- robots.txt

    async def _robots_allow(self, url: str, trusted: bool) -> bool:
        origin = _origin(url)
        if origin not in self._robots:
            lock = self._robots_locks.setdefault(origin, asyncio.Lock())
            async with lock:
                if origin not in self._robots:
                    self._robots[origin] = await self._load_robots(origin, trusted)
        parser = self._robots[origin]
        if parser is None:
            return True
        delay = parser.crawl_delay(self.robots_agent)
        if delay:
            # Honour Crawl-delay, bounded so one robots.txt cannot stall a run.
            gate = self._gate(url)
            gate.delay = max(gate.delay, min(float(delay), 30.0))
        return parser.can_fetch(url, self.robots_agent)

    async def _load_robots(self, origin: str, trusted: bool) -> Protego | None:
        """The host's robots rules; None (allow all) when the host has none.

        As RFC 9309 says: a missing robots.txt (4xx) means no restrictions; one the
        server fails to serve (5xx, 429) or that cannot be reached at all means
        "disallow everything" for this run, so a struggling host is not crawled. The
        entry's own feed content stands in for those pages, and the next run asks again.
        """
        result = await self.fetch(origin + "/robots.txt", trusted=trusted, kind="robots")
        status = result.status or 0
        if status >= 500 or status == 429 or (result.error and not status):
            return Protego.parse("User-agent: *\nDisallow: /\n")
        if not result.ok or not result.content:
            return None
        text = decode_body(result.content, result.content_type, result.encoding)
        try:
            return Protego.parse(text)
        except Exception:  # protego raises assorted errors on garbage; treat as no rules
            return None


_ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/rdf+xml, "
            "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "robots": "text/plain, */*;q=0.5",
}


async def fetch_many(urls: Iterable[str], settings: Settings | None = None,
                     **kwargs) -> list[FetchResult]:
    """Fetch several URLs concurrently with one Fetcher (convenience for scripts and the CLI)."""
    async with Fetcher(settings) as fetcher:
        return list(await asyncio.gather(*(fetcher.fetch(u, **kwargs) for u in urls)))


def fetch_sync(url: str, settings: Settings | None = None, **kwargs) -> FetchResult:
    """Fetch one URL from synchronous code (runs its own event loop)."""
    return asyncio.run(fetch_many([url], settings, **kwargs))[0]
