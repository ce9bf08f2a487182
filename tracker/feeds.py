"""Feed parsing stage: turn fetched feed bytes into a ParsedFeed of deduplicated FeedEntry records.

feedparser only ever sees bytes, wrapped in a stream. Handing it a bare string
or bytes would be unsafe: `feedparser.parse()` fetches anything that looks like
a URL and *opens anything that looks like a file name* (a body consisting of
"/etc/passwd" would be read from disk).

Hostile XML, as checked for this project (feedparser 6.0, lxml 6, expat 2.5):

* External entities: feedparser strips the DOCTYPE before its SAX parse and
  keeps only entity declarations whose value is plain text or one character
  reference (feedparser.sanitizer.replace_doctype); SYSTEM entities are dropped
  and external general entities are switched off, so `&xxe;` stays literal
  text. lxml (5+) defaults to resolve_entities="internal" and refuses
  external entities too.
* Entity expansion: nested "billion laughs" entities are dropped by the same
  DOCTYPE filter, and expat >= 2.4 aborts on amplification; lxml >= 5 has
  the same amplification limit. A quadratic blowup (one large plain-text entity
  referenced many times) passes feedparser's filter and is only stopped by
  expat's amplification limit after it has expanded several megabytes.

So neither library resolves external entities, but their protection depends on
version details. We do not rely on it: `hostile_dtd` rejects any document whose
DOCTYPE declares an entity other than a tiny internal one (the `&nbsp;`-style
declarations old RSS feeds use) before feedparser sees it. That makes a new
dependency such as defusedxml unnecessary.

feedparser's HTML sanitizer is switched off: it takes ~16 s on a 5 MB entry
(0.5 s without). Summaries and content are therefore raw HTML as the feed gave
it; every consumer treats them as untrusted markup (extraction parses them,
the web UI escapes them).
"""

from __future__ import annotations

import io
import pyexpat
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import feedparser

from tracker.fetch import decode_body, looks_binary
from tracker.records import FeedEntry, ParsedFeed
from tracker.urls import canonical_url

MAX_TEXT_CHARS = 1_000_000  # per entry field; real articles are far below this
FUTURE_TOLERANCE = timedelta(days=1)  # time zones and clock skew; beyond this a date is wrong
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)  # before the web: a broken date
_SAFE_ENTITY_CHARS = 8  # replacement text this short cannot amplify a document meaningfully

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_ENCODING_ATTR_RE = re.compile(r"""encoding\s*=\s*["'][^"']*["']""")
_HTML_START_RE = re.compile(
    r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
    re.I | re.S)
_FEED_ROOT_RE = re.compile(r"<(?:[\w-]+:)?(?:rss|feed|RDF|channel)[\s>]")
_ALTERNATE_RE = re.compile(
    r"""<link[^>]+type\s*=\s*["']application/(?:rss|atom)\+xml["'][^>]*>""", re.I)
_HREF_RE = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)


class _Stop(Exception):
    pass


class _Hostile(Exception):
    pass


def hostile_dtd(content: bytes) -> str | None:
    """Why the document's DOCTYPE is refused (entity declarations that could be abused), or None.

    Only the prolog is parsed: expat stops at the root element, so this is cheap
    on large documents. Allowed: internal general entities whose replacement is
    at most a few characters, e.g. <!ENTITY nbsp "&#160;">.
    """
    text = _prolog_text(content)
    parser = pyexpat.ParserCreate()

    def entity_decl(name, is_parameter, value, base, system_id, public_id, notation):
        if is_parameter:
            raise _Hostile(f"declares a parameter entity %{name}")
        if system_id or public_id or value is None:
            raise _Hostile(f"declares an external entity &{name}; ({system_id or public_id})")
        if len(value) > _SAFE_ENTITY_CHARS or "&" in value or "<" in value:
            raise _Hostile(f"declares entity &{name}; with {len(value)} characters of "
                           "replacement text (possible entity-expansion bomb)")

    def start(*args):
        raise _Stop

    parser.EntityDeclHandler = entity_decl
    parser.StartElementHandler = start
    try:
        parser.Parse(text, True)
    except _Hostile as exc:
        return str(exc)
    except _Stop:
        return None
    except pyexpat.ExpatError:
        # Malformed before the root element: no reliable prolog, so be conservative.
        if re.search(r"<!ENTITY", text, re.I):
            return "declares XML entities in a malformed prolog"
    return None


def _prolog_text(content: bytes) -> str:
    """The document as text for the prolog scan; its own encoding only matters for UTF-16/32."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                       (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                       (b"\xfe\xff", "utf-16")):
        if content.startswith(bom):
            return content.decode(codec, errors="replace")
    if content.startswith(b"<\x00"):
        return content.decode("utf-16-le", errors="replace")
    if content.startswith(b"\x00<"):
        return content.decode("utf-16-be", errors="replace")
    # Markup is ASCII in every other encoding a feed may use; latin-1 maps bytes 1:1.
    return content.decode("latin-1")


def _served_html(text: str, content_type: str | None) -> bool:
    head = text[:4096]
    if _HTML_START_RE.match(head):
        return not _FEED_ROOT_RE.search(head)
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime == "text/html" and not _FEED_ROOT_RE.search(head)


def _advertised_feed(text: str, base: str) -> str | None:
    """The feed URL an HTML page advertises with <link rel="alternate" type="...rss+xml">."""
    match = _ALTERNATE_RE.search(text[:200_000])
    if match:
        href = _HREF_RE.search(match.group(0))
        if href:
            return urljoin(base, href.group(1))
    return None


def _utf8_document(text: str) -> bytes:
    """Text re-encoded as UTF-8 with an XML declaration that says so."""
    match = _XML_DECL_RE.match(text)
    if match:
        decl = match.group(0)
        fixed = (_ENCODING_ATTR_RE.sub('encoding="utf-8"', decl) if "encoding" in decl
                 else decl)
        text = fixed + text[match.end():]
    return text.encode("utf-8")


def _empty(feed_url: str, error: str) -> ParsedFeed:
    return ParsedFeed(feed_url=feed_url, title=None, entries=(), error=error)


def parse_feed(content: bytes, feed_url: str, *, content_type: str | None = None,
               encoding: str | None = None, now: datetime | None = None) -> ParsedFeed:
    """Parse RSS/Atom bytes; never raises for bad input, reports it in ParsedFeed.error.

    Entries are deduplicated by GUID (by canonical link when there is no GUID),
    first occurrence kept. Dates become ISO 8601 UTC; a date more than a day in
    the future is clamped to `now` (the fetch time) and one before 1990 dropped,
    each noted in FeedEntry.notes. Entries without a link are kept (their own
    content is all there is); entries with no link, title, GUID or text are
    dropped and listed in ParsedFeed.warnings. Text fields are capped at
    MAX_TEXT_CHARS characters.
    """
    now = now or datetime.now(UTC)
    if not content or not content.strip():
        return _empty(feed_url, "empty body: the server sent no feed")
    if looks_binary(content):
        return _empty(feed_url, "binary data, not a feed")
    hostile = hostile_dtd(content)
    if hostile:
        return _empty(feed_url, f"refused: the feed's DOCTYPE {hostile}")
    text = decode_body(content, content_type, encoding)
    if _served_html(text, content_type):
        advertised = _advertised_feed(text, feed_url)
        hint = (f"; the page advertises a feed at {advertised}, use that URL in feeds.yaml"
                if advertised else "; check the feed URL")
        return _empty(feed_url, f"served HTML, not a feed{hint}")
    started = time.monotonic()
    parsed = feedparser.parse(
        io.BytesIO(_utf8_document(text)),
        response_headers={"content-type": "application/xml; charset=utf-8",
                          "content-location": feed_url},
        sanitize_html=False, resolve_relative_uris=False)
    error = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        error = f"malformed feed: {type(exc).__name__}: {exc}" if exc else "malformed feed"
    if not parsed.entries and not parsed.get("version"):
        return _empty(feed_url, error or "not an RSS or Atom feed")
    entries, warnings = _entries(parsed, feed_url, now)
    if time.monotonic() - started > 10:
        warnings.append(f"parsing took {time.monotonic() - started:.0f}s")
    title = _clip(parsed.feed.get("title"))
    return ParsedFeed(feed_url=feed_url, title=title.strip() if title else None,
                      entries=tuple(entries), error=error, warnings=tuple(warnings))


def _clip(value: str | None, notes: list[str] | None = None, what: str = "") -> str | None:
    if value is None:
        return None
    if len(value) > MAX_TEXT_CHARS:
        if notes is not None:
            notes.append(f"{what} truncated from {len(value)} to {MAX_TEXT_CHARS} characters")
        return value[:MAX_TEXT_CHARS]
    return value


def _entries(parsed, feed_url: str, now: datetime) -> tuple[list[FeedEntry], list[str]]:
    entries: list[FeedEntry] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(parsed.entries):
        notes: list[str] = []
        link = _link(item, feed_url, notes)
        guid = (item.get("id") or "").strip() or None
        title = _clip((item.get("title") or "").strip() or None, notes, "title")
        summary = _clip(item.get("summary") or None, notes, "summary")
        content = _clip(_best_content(item), notes, "content")
        if not (link or title or guid or summary or content):
            warnings.append(f"entry {position + 1}: no link, title, id or text; skipped")
            continue
        canonical = canonical_url(link) if link else None
        key = f"guid:{guid}" if guid else (f"url:{canonical}" if canonical else None)
        if key is not None:
            if key in seen:
                warnings.append(f"entry {position + 1}: duplicate of entry {seen[key] + 1} "
                                f"({key}); skipped")
                continue
            seen[key] = position
        entries.append(FeedEntry(
            feed_url=feed_url, guid=guid, url=link, canonical_url=canonical, title=title,
            summary=summary, content=content, published=_published(item, now, notes),
            authors=_authors(item), notes=tuple(notes)))
    return entries, warnings


def _link(item, feed_url: str, notes: list[str]) -> str | None:
    candidates = [item.get("link")]
    candidates += [link.get("href") for link in item.get("links", [])
                   if link.get("rel", "alternate") == "alternate"]
    guid = item.get("id")
    if guid and item.get("guidislink", False):
        candidates.append(guid)
    for raw in candidates:
        if not raw or not isinstance(raw, str):
            continue
        url = urljoin(feed_url, raw.strip()) if urlsplit(feed_url).scheme in (
            "http", "https") else raw.strip()
        if urlsplit(url).scheme.lower() in ("http", "https"):
            return url
        notes.append(f"link {raw[:100]!r} is not an http(s) URL; ignored")
    if not any(candidates):
        notes.append("no link")
    return None


def _best_content(item) -> str | None:
    values = [c.get("value") for c in item.get("content", []) if c.get("value")]
    return max(values, key=len) if values else None


def _published(item, now: datetime, notes: list[str]) -> str | None:
    # dict.get bypasses FeedParserDict's deprecated updated -> published aliasing.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = dict.get(item, key)
        if not parsed:
            continue
        try:
            when = datetime(*parsed[:6], tzinfo=UTC)
        except (TypeError, ValueError):
            continue
        if when > now + FUTURE_TOLERANCE:
            notes.append(f"date {when.isoformat()} is in the future; clamped to fetch time")
            when = now
        elif when < EARLIEST_DATE:
            notes.append(f"date {when.isoformat()} is implausibly old; dropped")
            return None
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw = dict.get(item, "published") or dict.get(item, "updated")
    if raw:
        notes.append(f"unreadable date {str(raw)[:60]!r}")
    return None


def _authors(item) -> tuple[str, ...]:
    names = [a.get("name", "").strip() for a in item.get("authors", []) if a.get("name")]
    if not names and item.get("author"):
        names = [item.get("author").strip()]
    return tuple(dict.fromkeys(n for n in names if n))
