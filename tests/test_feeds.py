"""Feed parsing: RSS and Atom, deduplication, dates, odd entries, big entries, wrong content."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tracker.feeds import MAX_TEXT_CHARS, parse_feed
from tracker.urls import canonical_url

pytestmark = pytest.mark.timeout(60)

FEED_URL = "https://news.example.com/feeds/main.xml"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def rss(items: str, extra_ns: str = "", encoding: str = "utf-8") -> bytes:
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n'
            f'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/" {extra_ns}><channel>'
            f"<title>Example News</title><link>https://news.example.com/</link>{items}"
            "</channel></rss>").encode(encoding)


def item(guid: str | None = "g1", link: str | None = "https://news.example.com/a",
         title: str | None = "A title", date: str | None = "Mon, 03 Jun 2024 09:30:00 +0200",
         extra: str = "") -> str:
    parts = ["<item>"]
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if title is not None:
        parts.append(f"<title>{title}</title>")
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    parts.append(extra + "</item>")
    return "".join(parts)


def parse(content: bytes, **kwargs):
    kwargs.setdefault("now", datetime(2024, 6, 3, 12, tzinfo=UTC))
    return parse_feed(content, FEED_URL, **kwargs)


def test_rss_entry_fields():
    body = item(link="https://news.example.com/a?utm_source=rss&amp;id=4#top",
                extra="<description>Short &lt;b&gt;summary&lt;/b&gt;</description>"
                      "<content:encoded><![CDATA[<p>Full <b>text</b></p>]]></content:encoded>"
                      "<dc:creator>Ada Lovelace</dc:creator>")
    parsed = parse(rss(body))
    assert parsed.error is None and parsed.title == "Example News"
    (entry,) = parsed.entries
    assert entry.feed_url == FEED_URL and entry.guid == "g1"
    assert entry.url == "https://news.example.com/a?utm_source=rss&id=4#top"
    assert entry.canonical_url == "https://news.example.com/a?id=4"
    assert entry.title == "A title" and entry.published == "2024-06-03T07:30:00Z"
    assert entry.summary == "Short <b>summary</b>"
    assert entry.content == "<p>Full <b>text</b></p>"
    assert entry.authors == ("Ada Lovelace",)
    assert entry.notes == ()


def test_atom_feed_and_relative_links():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>
<entry><id>tag:example.com,2024:1</id><title>First</title>
<link rel="alternate" href="/2024/first"/><updated>2024-05-01T10:00:00-05:00</updated>
<author><name>Grace</name></author><author><name>Alan</name></author>
<summary>Sum</summary><content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry>
</feed>"""
    parsed = parse(atom, content_type="application/atom+xml")
    (entry,) = parsed.entries
    assert parsed.title == "Atom News"
    assert entry.url == "https://news.example.com/2024/first"
    assert entry.published == "2024-05-01T15:00:00Z"
    assert entry.authors == ("Grace", "Alan") and entry.content == "<p>Body</p>"


def test_duplicate_guids_keep_the_first():
    items = (item(guid="same", link="https://news.example.com/1", title="one")
             + item(guid="same", link="https://news.example.com/2", title="two")
             + item(guid="other", link="https://news.example.com/3", title="three"))
    parsed = parse(rss(items))
    assert [e.title for e in parsed.entries] == ["one", "three"]
    assert any("duplicate" in w and "entry 2" in w for w in parsed.warnings)


def test_entries_without_guid_dedupe_by_canonical_link():
    items = (item(guid=None, link="https://news.example.com/x?utm_medium=a", title="one")
             + item(guid=None, link="https://NEWS.example.com/x#frag", title="again"))
    parsed = parse(rss(items))
    assert [e.title for e in parsed.entries] == ["one"]


def test_entries_without_link_or_title():
    items = (item(guid="nolink", link=None, title="Only a title",
                  extra="<description>text of it</description>")
             + item(guid="notitle", link="https://news.example.com/b", title=None)
             + "<item><pubDate>Mon, 03 Jun 2024 09:30:00 GMT</pubDate></item>")
    parsed = parse(rss(items))
    no_link, no_title = parsed.entries
    assert no_link.url is None and no_link.canonical_url is None and "no link" in no_link.notes
    assert no_link.summary == "text of it"
    assert no_title.title is None and no_title.url == "https://news.example.com/b"
    assert any("skipped" in w for w in parsed.warnings)


def test_non_http_links_are_not_followed():
    parsed = parse(rss(item(guid="js", link="javascript:alert(1)")))
    (entry,) = parsed.entries
    assert entry.url is None and any("not an http(s) URL" in n for n in entry.notes)


def test_dates_future_missing_ancient_and_unreadable():
    now = datetime(2024, 6, 3, 12, tzinfo=UTC)
    items = (item(guid="future", date="Fri, 01 Jan 2100 00:00:00 GMT")
             + item(guid="soon", date="Mon, 03 Jun 2024 20:00:00 GMT")
             + item(guid="missing", date=None)
             + item(guid="ancient", date="Thu, 01 Jan 1970 00:00:00 GMT")
             + item(guid="garbage", date="the day after tomorrow"))
    entries = {e.guid: e for e in parse(rss(items), now=now).entries}
    assert entries["future"].published == "2024-06-03T12:00:00Z"
    assert "clamped" in entries["future"].notes[0]
    assert entries["soon"].published == "2024-06-03T20:00:00Z"  # within a day: clock skew
    assert entries["missing"].published is None and entries["missing"].notes == ()
    assert entries["ancient"].published is None and "old" in entries["ancient"].notes[0]
    assert entries["garbage"].published is None and "unreadable" in entries["garbage"].notes[0]


def test_five_megabyte_entry_is_parsed_quickly_and_capped():
    paragraph = "<p>Lorem ipsum dolor sit amet, <b>consectetur</b> adipiscing elit.</p>\n"
    big = paragraph * (5_000_000 // len(paragraph))
    body = item(extra=f"<content:encoded><![CDATA[{big}]]></content:encoded>")
    started = time.monotonic()
    parsed = parse(rss(body + item(guid="small", title="next")))
    assert time.monotonic() - started < 10
    first, second = parsed.entries
    assert len(first.content) == MAX_TEXT_CHARS and "truncated" in first.notes[0]
    assert second.title == "next"


def test_malformed_xml_keeps_what_parses():
    broken = rss(item(guid="ok1") + item(guid="ok2", title="Second &amp; fine"))[:-30]
    parsed = parse(broken + b"<item><title>unclosed")
    assert parsed.error and parsed.error.startswith("malformed feed")
    assert [e.guid for e in parsed.entries][:2] == ["ok1", "ok2"]


@pytest.mark.parametrize("content", [b"", b"   \n\t "])
def test_empty_body(content):
    parsed = parse(content)
    assert parsed.entries == () and "empty" in parsed.error


def test_html_served_as_feed_is_reported_with_the_advertised_feed():
    page = b"""<!DOCTYPE html><html><head><title>News</title>
<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>
<body><p>Hello</p></body></html>"""
    parsed = parse(page, content_type="text/html; charset=utf-8")
    assert parsed.entries == () and parsed.error.startswith("served HTML, not a feed")
    assert "https://news.example.com/rss.xml" in parsed.error
    plain = parse(b"<html><body>nothing</body></html>")
    assert plain.error.startswith("served HTML, not a feed")


def test_feed_served_as_text_html_is_still_parsed():
    parsed = parse(rss(item()), content_type="text/html")
    assert len(parsed.entries) == 1 and parsed.error is None


def test_binary_and_non_feed_text():
    assert parse(b"\x89PNG\r\n\x1a\n" + bytes(100)).error == "binary data, not a feed"
    text = parse(b"just some words, nothing like a feed")
    assert text.entries == () and text.error


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1252", "iso-8859-1", "utf-16"])
def test_encodings_from_declaration(encoding):
    parsed = parse(rss(item(title="Café déjà vu"), encoding=encoding))
    assert parsed.entries[0].title == "Café déjà vu"


def test_wrong_charset_header_does_not_garble_or_crash():
    content = rss(item(title="Société Générale fined €5m"), encoding="windows-1252")
    parsed = parse(content, content_type="application/rss+xml; charset=utf-8")
    assert parsed.entries[0].title == "Société Générale fined €5m"
    latin_label = parse(rss(item(title="Zoë’s café")),
                        content_type="application/rss+xml; charset=iso-8859-1")
    assert latin_label.entries[0].title == "Zoë’s café"


def test_body_that_looks_like_a_file_name_is_not_read_from_disk(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss(item(title="LEAKED")))
    parsed = parse(str(secret).encode())
    assert all(e.title != "LEAKED" for e in parsed.entries) and parsed.error


def test_canonical_url_rules():
    assert canonical_url("HTTPS://Example.COM:443/a/?utm_source=x&b=2&fbclid=1&a=1#f") == (
        "https://example.com/a/?b=2&a=1")
    assert canonical_url("http://example.com:8080") == "http://example.com:8080/"
    assert canonical_url("https://example.com/p?gclid=1&mc_cid=2&ref=rss") == (
        "https://example.com/p")
    assert canonical_url("https://example.com/%7Euser/") == "https://example.com/~user/"
    assert canonical_url("mailto:a@example.com") == "mailto:a@example.com"
    assert canonical_url("http://[::1]:80/x") == "http://[::1]/x"
