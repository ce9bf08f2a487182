"""Content extraction stage: turn a fetched HTML page into its body text and metadata.

trafilatura finds the body and guesses the metadata; beautifulsoup4 reads the
JSON-LD and OpenGraph/meta tags it misses. The body then goes through a few
page-independent repairs: article text split over several sibling containers
is stitched back together, a repeated headline at the top is dropped, and
boilerplate lines (share/subscribe/copyright/credits, stray markup) are cut.
Nothing here touches the network: trafilatura and htmldate only see a parsed tree.
"""

from __future__ import annotations

import codecs
import copy
import html as html_lib
import json
import logging
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, SoupStrainer
from lxml import html as lxml_html
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from tracker.records import ExtractedArticle

log = logging.getLogger(__name__)

__all__ = ["extract_article", "extract_body"]

# trafilatura settings measured on the article-body benchmark: recall mode with the fast
# path finds more of the article than the default cascade, comments are never body text.
_TRAFILATURA_OPTIONS = {"fast": True, "favor_recall": True, "include_comments": False,
                        "include_tables": True}

# --- decoding --------------------------------------------------------------------------------

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,100}encoding=["']([A-Za-z0-9_.:-]{2,40})""")
# single-byte charsets that servers and templates declare by default, often wrongly
_WEAK_CHARSETS = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}


def _codec(name: str | bytes | None) -> str | None:
    """The Python codec name for a charset label, or None when the label is unknown."""
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(data: bytes, encoding: str | None = None) -> str:
    """Decode page bytes: given charset, then the page's own declaration, then detection.

    A declared single-byte western charset loses to UTF-8 when the bytes are valid
    UTF-8 with non-ASCII in them: that is what such pages almost always really are.
    Undecodable bytes are replaced, never raised.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name, errors="replace").lstrip("\ufeff")
    head = data[:4096]
    declared = _codec(encoding)
    if declared is None:
        match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
        declared = _codec(match.group(1)) if match else None
    if declared in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        declared = None  # an ASCII-readable page cannot really be UTF-16; the label is wrong
    if declared and declared not in _WEAK_CHARSETS:
        return data.decode(declared, errors="replace")
    if data.isascii():
        return data.decode("ascii")
    if _is_utf8(data):
        return data.decode("utf-8")
    if declared:
        return data.decode("cp1252" if declared in ("latin-1", "iso8859-1", "ascii") else declared,
                           errors="replace")
    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
        guess = _codec(best.encoding) if best is not None else None
    except Exception as exc:  # detection is a guess; a failure must not lose the page
        log.debug("charset detection failed: %s", exc)
    return data.decode(guess or "cp1252", errors="replace")


def _to_text(page: str | bytes | None, encoding: str | None) -> str:
    if page is None:
        return ""
    if isinstance(page, (bytes, bytearray, memoryview)):
        return _decode(bytes(page), encoding)
    return str(page)


def _parse(text: str):
    """The lxml tree of a page, or None when there is no usable HTML in it."""
    if not text or not text.strip():
        return None
    # NUL and other C0 controls make lxml give up or truncate; they are never content
    text = _CONTROL_CHARS.sub("", text)
    try:
        tree = load_html(text)
    except Exception as exc:  # lxml raises several types on hostile input
        log.debug("unparseable HTML: %s", exc)
        return None
    if tree is None or not isinstance(tree.tag, str):
        return None
    return tree


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# --- body ------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"\W+")


def _norm(text: str) -> str:
    return _NON_WORD.sub(" ", text).strip().lower()


def _headlines(tree) -> list[str]:
    """Normalised headline strings of the page (og/twitter title, <title>, <h1>)."""
    found = []
    for path in ('//meta[@property="og:title"]/@content', '//meta[@name="twitter:title"]/@content',
                 "//title//text()", "//h1"):
        for value in tree.xpath(path):
            if not isinstance(value, str):
                value = value.text_content()
            value = _norm(value)
            if value and value not in found:
                found.append(value)
    return found


def _is_headline(line: str, headlines: list[str]) -> bool:
    norm = _norm(line)
    if not norm:
        return False
    for head in headlines:
        if norm == head:
            return True
        # "<headline> | Site name" titles, or a line that is the headline run into a teaser
        if len(norm) > 15 and (norm in head or (
                len(head) > 15 and norm.startswith(head) and len(norm) < len(head) + 200)):
            return True
    return False


_LABELLED_META = re.compile(
    r"\b(?:time|date|posted|published|updated|author|by|source|views?|hits|comments?|clicks|"
    r"reads|category|tags?)\s*[:：]", re.I)
_SUMMARY_LABEL = re.compile(r"^\s*(?:summary|abstract|excerpt|description)\s*[:：]\s*", re.I)
# attribute soup that broken markup leaks into the text: referrerpolicy="no-referrer" style="..."
_ATTRIBUTE_TEXT = re.compile(r"""^\s*(?:[\w:-]+\s*=\s*(?:"[^"]*"|'[^']*'|\S+)\s*)+/?>?\s*$""")

# lines that are never article text wherever they stand
_NOISE_LINE = re.compile(
    r"^(?:advertisements?|ad|sponsored|story continues below(?: advertisement)?|continue reading|"
    r"read more|see more|show more|load more|comments?|\d+\s+comments?|print(?: article)?|"
    r"order reprints|share(?: this)?(?: article| story| page)?|share on \w+|tweet|email|"
    r"click here.{0,80}|skip to (?:main )?content|sorry!?|thank you!?|back to top|"
    r"loading\.*|(?:image|photo|video) credit.{0,80})\W*$", re.I)

# boilerplate that closes an article: credits, sign-ups, follow-us, copyright, related links
_TAIL_LINE = re.compile(
    r"copyright|©|ⓒ|\(c\) \d{4}|all rights reserved|powered by|newsletter|sign(?:ing)? up|"
    r"subscribe|subscription|your inbox|follow (?:us|him|her|them|\w+(?: \w+)?) on|"
    r"(?:on|via) (?:twitter|facebook|instagram|youtube|linkedin)|share (?:it|this)|"
    r"\breach(?:ed)? (?:\w+ )*at\b|write to .{1,60} at|e-?mail .{0,60}\bat\b|"
    r"contact .{1,60} at|contributed (?:to )?(?:this )?report|\breporting by|editing by|"
    r"\brelated\b|you (?:may|might) also like|also on|don'?t miss|recommended|more from|"
    r"must read|read next|popular on|filed under|^tags?\b|^source:|^more:?$|^see also|"
    r"^watch:|^photos?:|^video:|learn more|download (?:the|our) app|get the .{1,40} app|"
    r"sitemap|privacy policy|terms of (?:use|service)|cookie|^\W*$", re.I)
_TAIL_MAX = 300  # a long line at the end is prose, whatever words it contains


def _is_meta_line(line: str) -> bool:
    """'Time:2010-12-5 Author:X Source:Y Views: Comments:0' style aggregator header lines."""
    return len(_LABELLED_META.findall(line)) >= 2 and len(line) < 300


def _clean_lines(text: str, headlines: list[str]) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    lines = [line for line in lines
             if line.strip() and not _NOISE_LINE.match(line.strip())
             and not _ATTRIBUTE_TEXT.match(line) and not _is_meta_line(line)]
    # the headline (and breadcrumbs or labels standing before it) is metadata, not body
    for i, line in enumerate(lines[:4]):
        if _is_headline(line, headlines) and all(len(x.split()) <= 6 for x in lines[:i]):
            lines = lines[i + 1:]
            break
    # a labelled summary that just repeats the headline and the first words of the body
    while lines and _SUMMARY_LABEL.match(lines[0]):
        rest = _SUMMARY_LABEL.sub("", lines[0])
        if not (_is_headline(rest, headlines) or any(
                _norm(rest).startswith(h) for h in headlines if len(h) > 15)):
            break
        lines = lines[1:]
    while lines and _is_headline(lines[0], headlines):
        lines = lines[1:]
    # boilerplate run at the end
    end = len(lines)
    while end > 0 and len(lines[end - 1]) < _TAIL_MAX and _TAIL_LINE.search(lines[end - 1]):
        end -= 1
    return "\n".join(lines[:end]).strip()


_OUTSIDE_ARTICLE = {"nav", "footer", "aside", "header", "form", "script", "style", "noscript",
                    "figcaption"}
_PARA_MIN = 80  # characters: a paragraph of prose, not a caption or a link


def _ancestors(element, limit: int) -> list:
    found, parent = [], element.getparent()
    while parent is not None and len(found) < limit:
        found.append(parent)
        parent = parent.getparent()
    return found


def _missing_chunks(tree, text: str) -> tuple[list, list] | None:
    """Containers holding article paragraphs that trafilatura left out, if any.

    Some sites cut the article into several identical containers (ads go in between);
    trafilatura keeps the first. Paragraphs in containers with the same tag and class as
    the extracted ones, close by in the tree, are the rest of the article.
    """
    seen = {_norm(line)[:60] for line in text.split("\n") if len(line) >= _PARA_MIN}
    groups: dict[tuple, dict] = {}
    for para in tree.iter("p"):
        content = para.text_content()
        parent = para.getparent()
        if len(content.strip()) < _PARA_MIN or parent is None or not parent.get("class"):
            continue
        if any(a.tag in _OUTSIDE_ARTICLE for a in _ancestors(para, 60)):
            continue
        counts = groups.setdefault((parent.tag, parent.get("class")), {}).setdefault(
            parent, [0, 0])
        if _norm(content)[:60] in seen:
            counts[0] += 1
        else:
            counts[1] += len(content)
    for group in groups.values():
        hit = [parent for parent, (found, _) in group.items() if found >= 2]
        missed = [parent for parent, (found, size) in group.items() if not found and size >= 150]
        if not hit or not missed:
            continue
        near = {a for parent in hit for a in _ancestors(parent, 3)}
        missed = [parent for parent in missed if near.intersection(_ancestors(parent, 3))]
        if sum(group[parent][1] for parent in missed) >= max(300, 0.2 * len(text)):
            return hit, missed
    return None


def _extract_container(container, url: str | None) -> str:
    root = lxml_html.fromstring("<html><body><article></article></body></html>")
    root.find(".//article").append(copy.deepcopy(container))
    doc = bare_extraction(root, url=url, **_TRAFILATURA_OPTIONS)
    return doc.text if doc is not None and doc.text else ""


def _stitch(tree, text: str, url: str | None) -> str:
    found = _missing_chunks(tree, text)
    if not found:
        return text
    hit, missed = found
    order = {element: i for i, element in enumerate(tree.iter())}
    first = min(order[parent] for parent in hit)
    missed.sort(key=order.get)
    before = [_extract_container(p, url) for p in missed if order[p] < first]
    after = [_extract_container(p, url) for p in missed if order[p] > first]
    return "\n".join(part for part in (*before, text, *after) if part)


def _fallback_text(tree) -> str:
    """Paragraph text of the page when trafilatura finds nothing (very short pages)."""
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts = []
    for element in root.iter("p", "h1", "h2", "h3", "li", "td", "pre", "blockquote"):
        if any(a.tag in _OUTSIDE_ARTICLE for a in _ancestors(element, 60)):
            continue
        if element.tag in ("li", "td") and element.find(".//p") is not None:
            continue
        content = " ".join(element.text_content().split())
        if content:
            parts.append(content)
    if not parts:
        for element in root.iter("script", "style", "noscript"):
            element.drop_tree() if element.getparent() is not None else None
        parts = [" ".join(line.split()) for line in root.text_content().split("\n")]
    return "\n".join(p for p in parts if p)


def _body(tree, url: str | None, doc) -> str:
    if doc is not None and doc.text:
        text = _stitch(tree, doc.text, url)
    else:
        text = _fallback_text(copy.deepcopy(tree))
    return _clean_lines(text, _headlines(tree))


def _run_trafilatura(tree, url: str | None, with_metadata: bool):
    try:
        return bare_extraction(tree, url=url, with_metadata=with_metadata, **_TRAFILATURA_OPTIONS)
    except Exception as exc:  # a library bug on one odd page must not lose the article
        log.warning("trafilatura failed on %s: %s", url or "page", exc)
        return None


def extract_body(html: str | bytes | None, url: str | None = None, *,
                 encoding: str | None = None) -> str:
    """The article body of a page as plain text, paragraphs separated by newlines.

    Returns "" for empty or unusable input; never raises on bad HTML or bytes.
    """
    tree = _parse(_to_text(html, encoding))
    if tree is None:
        return ""
    return _body(tree, url, _run_trafilatura(tree, url, with_metadata=False))
