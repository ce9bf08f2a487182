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

from tracker.fetch import decode_body, looks_binary
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
# labels that servers and templates put on pages by default, often on bytes that are UTF-8
_WEAK_CHARSETS = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}


def _codec(name: str | None) -> str | None:
    try:
        return codecs.lookup(name.strip().strip("\"'")).name if name else None
    except LookupError:
        return None


def _decode(data: bytes, encoding: str | None = None) -> str:
    """Decode page bytes with tracker.fetch.decode_body (argument, <meta>, then detection).

    One repair first: bytes that are UTF-8 apart from a few broken sequences, under no
    label, a UTF-8 label or a single-byte western one (the default servers send), are
    read as UTF-8 with the broken bytes replaced; detection would otherwise garble the
    whole page to save a handful of characters.
    """
    if not data.isascii() and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        label = _codec(encoding)
        if label is None:
            match = _META_CHARSET.search(data[:4096])
            label = _codec(match.group(1).decode("ascii")) if match else None
        if label is None or label == "utf-8" or label in _WEAK_CHARSETS:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("utf-8", errors="replace")
            broken = text.count("\ufffd")
            multibyte = len(text) - len(text.encode("ascii", "ignore")) - broken
            if multibyte >= 3 * broken:
                return text
    return decode_body(data, None, declared=encoding)


def _to_text(page: str | bytes | None, encoding: str | None) -> str:
    if page is None:
        return ""
    if isinstance(page, (bytes, bytearray, memoryview)):
        data = bytes(page)
        # images, archives, PDFs and other binary bodies have no article text to decode
        return "" if looks_binary(data) else _decode(data, encoding)
    return str(page)


def _parse(text: str):
    """The lxml tree of a page, or None when there is no usable HTML or text in it.

    HTML fragments are wrapped in a document; tagless input that reads as prose (an
    imported record's text) becomes one paragraph per line; binary noise gives None.
    """
    if not text or not text.strip():
        return None
    # NUL and other C0 controls make lxml give up or truncate; they are never content
    text = _CONTROL_CHARS.sub("", text)
    if not _TAG.search(text[:5000]):
        if not _reads_as_text(text):
            return None
        text = "".join(f"<p>{html_lib.escape(line)}</p>" for line in text.splitlines()
                       if line.strip())
    try:
        tree = load_html(text)
        if tree is None and _reads_as_text(_TAG_OR_ENTITY.sub(" ", text)):
            tree = load_html(f"<html><body>{text}</body></html>")
    except Exception as exc:  # lxml raises several types on hostile input
        log.debug("unparseable HTML: %s", exc)
        return None
    if tree is None or not isinstance(tree.tag, str):
        return None
    return tree


def _reads_as_text(text: str) -> bool:
    """True unless the characters look like decoded binary: symbols, replacements, controls."""
    sample = text[:20000]
    if not sample.strip():
        return False
    usual = sum(1 for c in sample if c.isalnum() or c.isspace() or c in _PUNCTUATION)
    return usual >= 0.9 * len(sample) and sample.count("\ufffd") <= 0.01 * len(sample)


_TAG = re.compile(r"<\s*[a-zA-Z!?/]")
_TAG_OR_ENTITY = re.compile(r"<[^>]*>|&\w+;")
_PUNCTUATION = set(".,;:!?'\"()[]{}-–—/&%$€£@#*+=<>_|~^`’‘“”«»…·•°")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# --- body ------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"\W+")


def _norm(text: str) -> str:
    return _NON_WORD.sub(" ", text).strip().lower()


def _headlines(tree) -> list[str]:
    """Normalised headline strings of the page (og/twitter title, <title>, first <h1>)."""
    found = []
    # only the first <h1>: some templates use h1 for section heads inside the article
    for path in ('//meta[@property="og:title"]/@content', '//meta[@name="twitter:title"]/@content',
                 "//title//text()", "(//h1)[1]"):
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

# boilerplate that closes an article. Credits and copyright notices are that at any length;
# sign-up, follow-us and related-links words only in a short line or one that speaks to the
# reader, since reporting can mention a subscription or a related case too.
_TAIL_CREDIT = re.compile(
    r"copyright|©|ⓒ|\(c\) \d{4}|all rights reserved|powered by|contributed (?:to )?"
    r"(?:this )?report|\breporting by|editing by|^\W*$", re.I)
_TAIL_LINE = re.compile(
    r"newsletter|sign(?:ing)? up|subscrib|your inbox|follow (?:us|him|her|them|\w+(?: \w+)?) on|"
    r"(?:on|via) (?:twitter|facebook|instagram|youtube|linkedin)|share (?:it|this)|"
    r"\breach(?:ed)? (?:\w+ )*at\b|write to .{1,60} at|e-?mail .{0,60}\bat\b|"
    r"contact .{1,60} at|\brelated\b|you (?:may|might) also like|also on|don'?t miss|"
    r"recommended|more from|must read|read next|^read more\b|popular on|filed under|^tags?\b|"
    r"^source:|^more:?$|^see also|^watch:|^photos?:|^video:|learn more|"
    r"download (?:the|our) app|get the .{1,40} app|sitemap|privacy policy|"
    r"terms of (?:use|service)|cookie", re.I)
_READER = re.compile(
    r"\b(?:you|your|our|us|we)\b|^(?:follow|sign|subscribe|get|join|download|read|watch|click|"
    r"share|like|listen|see|email|e-mail|contact|write|reach|have a tip|tap)\b", re.I)
_TAIL_MAX = 300  # a long line at the end is prose, whatever words it contains


def _is_tail_boilerplate(line: str) -> bool:
    if len(line) >= _TAIL_MAX:
        return False
    if _TAIL_CREDIT.search(line):
        return True
    return bool(_TAIL_LINE.search(line)) and (len(line) < 80 or bool(_READER.search(line)))


def _is_meta_line(line: str) -> bool:
    """'Time:2010-12-5 Author:X Source:Y Views: Comments:0' style aggregator header lines."""
    return len(_LABELLED_META.findall(line)) >= 2 and len(line) < 300


def _is_crumb(line: str) -> bool:
    """A breadcrumb or section label: a few words, no sentence punctuation."""
    return len(line.split()) <= 3 and not re.search(r"[.!?:;,]", line)


def _repeats_headline(line: str, headlines: list[str]) -> bool:
    """A headline line, or a labelled summary that runs the headline into the body's start."""
    if _is_headline(line, headlines):
        return True
    if _SUMMARY_LABEL.match(line):
        rest = _norm(_SUMMARY_LABEL.sub("", line))
        return any(rest.startswith(h) for h in headlines if len(h) > 15)
    return False


def _clean_lines(text: str, headlines: list[str]) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    lines = [line for line in lines
             if line.strip() and not _NOISE_LINE.match(line.strip())
             and not _ATTRIBUTE_TEXT.match(line) and not _is_meta_line(line)]
    if not headlines:
        # no title in the page's markup: a short line near the top that the text repeats
        # is the headline (copied pages repeat it above the body)
        counts: dict[str, int] = {}
        for line in lines:
            if len(line) < 200:
                counts[_norm(line)] = counts.get(_norm(line), 0) + 1
        headlines = [_norm(x) for x in lines[:6] if counts.get(_norm(x), 0) >= 2
                     and len(x.split()) >= 3 and not x.rstrip().endswith(".")]
    # the headline is metadata, not body; so are breadcrumbs standing right before it.
    # Only near the top may a headline-like line be a short teaser of the body itself.
    keep = [True] * len(lines)
    for i, line in enumerate(lines):
        anywhere = _norm(line) in headlines or _SUMMARY_LABEL.match(line)
        if (anywhere or i < 4) and _repeats_headline(line, headlines):
            keep[i] = False
            j = i - 1
            while j >= 0 and keep[j] and _is_crumb(lines[j]):
                keep[j] = False
                j -= 1
    lines = [line for line, k in zip(lines, keep, strict=True) if k]
    # boilerplate run at the end
    end = len(lines)
    while end > 0 and _is_tail_boilerplate(lines[end - 1]):
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
    doc = _run_trafilatura(root, url, with_metadata=False)
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
        for element in list(root.iter("script", "style", "noscript")):
            if element.getparent() is not None:
                element.drop_tree()
        parts = [" ".join(line.split()) for line in root.text_content().split("\n")]
    return "\n".join(p for p in parts if p)


def _jsonld_body(tree) -> str:
    """The longest articleBody the page's JSON-LD holds, as plain text ("" if none)."""
    blocks = tree.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'
                        "/text()")
    if not blocks:
        return ""
    best = ""
    for obj in _jsonld_objects(blocks):
        body = obj.get("articleBody")
        if isinstance(body, str) and len(body) > len(best):
            best = body
    if "<" in best:  # some sites put the HTML of the body there
        try:
            fragment = lxml_html.fromstring(f"<div>{best}</div>")
            best = "\n".join(" ".join(p.text_content().split())
                             for p in fragment.iter("p", "li", "h2", "h3", "blockquote"))
        except Exception as exc:  # lxml raises several types on hostile input
            log.debug("unreadable articleBody markup: %s", exc)
            return ""
    return html_lib.unescape(best).strip()


# the JSON-LD articleBody stands in when the page's own text came out far shorter than it;
# otherwise the page wins, since many sites truncate articleBody to a teaser
_JSONLD_MIN = 500
_JSONLD_RATIO = 0.5


def _body(tree, url: str | None, doc) -> str:
    if doc is not None and doc.text:
        text = _stitch(tree, doc.text, url)
    else:
        text = _fallback_text(copy.deepcopy(tree))
    text = _clean_lines(text, _headlines(tree))
    if len(text) < 4 * _JSONLD_MIN:
        declared = _jsonld_body(tree)
        # trafilatura may itself fall back on articleBody, run into one line: same words,
        # but the declared copy keeps the paragraphs
        if len(declared) >= _JSONLD_MIN and (len(text) < _JSONLD_RATIO * len(declared)
                                             or _norm(text) == _norm(declared)):
            text = _clean_lines(declared, _headlines(tree))
    return text


def _run_trafilatura(tree, url: str | None, with_metadata: bool):
    # htmldate's extensive search turns a footer's "(c) 2024" into 2024-01-01; only dates
    # the page states as such are worth a candidate (trafilatura's fast mode turns it on)
    dates = {"original_date": True, "extensive_search": False,
             "max_date": datetime.now(UTC).strftime("%Y-%m-%d")}
    try:
        return bare_extraction(tree, url=url, with_metadata=with_metadata,
                               date_extraction_params=dates, **_TRAFILATURA_OPTIONS)
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


# --- metadata --------------------------------------------------------------------------------

_ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
                  "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
                  "blogposting", "liveblogposting", "techarticle", "scholarlyarticle", "report",
                  "socialmediaposting", "pressrelease"}
_DATE_META = ("article:published_time", "og:published_time", "published_time", "pubdate",
              "publishdate", "publish-date", "publish_date", "date", "dc.date",
              "dc.date.issued", "dcterms.date", "dcterms.issued", "dcterms.created",
              "article.published", "article_date_original", "sailthru.date",
              "parsely-pub-date", "datepublished", "originalpublicationdate")
_AUTHOR_META = ("author", "article:author", "dc.creator", "dcterms.creator", "byl",
                "parsely-author", "sailthru.author", "twitter:creator")
_LANG_META = ("og:locale", "content-language", "language", "dc.language", "dcterms.language")
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:/|[^\d]|$)")
_URL_MONTH = re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])/")
_BYLINE = re.compile(r"^\s*(?:by|von|par|por|di|door)\s+", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\||&)\s*|\s+and\s+")
# job titles that bylines append to names: "TOM KRISHER, AP Auto Writer"
_ROLE_WORDS = re.compile(r"\b(?:writer|editor|correspondent|reporter|staff|contributor|columnist|"
                         r"bureau chief|producer|photographer)s?\b", re.I)


def _iso(value) -> str | None:
    """A date or datetime value as ISO 8601: UTC with Z when the zone is known, else as given."""
    if value is None:
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()
                                           and len(value.strip()) in (10, 13)):
        seconds = float(value)
        seconds = seconds / 1000 if seconds > 1e11 else seconds
        try:
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text or len(text) > 64:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return datetime.strptime(text, "%Y-%m-%d").date().isoformat()
        except ValueError:
            return None
    when = None
    try:
        when = datetime.fromisoformat(text.replace(" UTC", "Z").replace("z", "Z"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            # "2019-11-18T14:03:00.1234567Z" or similar: try the first 19 characters
            try:
                when = datetime.fromisoformat(text[:19])
            except ValueError:
                return None
    if when.tzinfo is None:
        return when.strftime("%Y-%m-%dT%H:%M:%S")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean_value(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    if isinstance(value, list):
        value = next((v for v in (_clean_value(x) for x in value) if v), None)
    if not isinstance(value, str):
        return None
    value = " ".join(html_lib.unescape(value).split())
    return value or None


def _person_names(value) -> list[str]:
    """Author names from a JSON-LD author value or a meta tag, split and cleaned."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("name")
        if isinstance(item, list):
            names.extend(_person_names(item))
            continue
        text = _clean_value(item)
        if not text or "://" in text or "@" in text.strip("@")[:-1] or text.startswith("@"):
            continue
        text = _BYLINE.sub("", text)
        parts = []
        for part in _AUTHOR_SPLIT.split(text):
            pieces = [p.strip(" .") for p in part.split(",")]
            # "Tom Krisher, AP Auto Writer" holds two phrases; "Doe, Jane" is one name
            if len(pieces) > 1 and all(2 <= len(p.split()) <= 4 for p in pieces):
                parts.extend(pieces)
            else:
                parts.append(part.strip(" ,."))
        parts = [p for p in parts if p and len(p) <= 80 and any(c.isalpha() for c in p)]
        names.extend(p for p in parts if not (_ROLE_WORDS.search(p) and len(parts) > 1))
    return names


def _dedupe(values) -> tuple[str, ...]:
    seen, out = set(), []
    for value in values:
        if value and value.lower() not in seen:
            seen.add(value.lower())
            out.append(value)
    return tuple(out)


def _walk_jsonld(node, found: list[dict]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_jsonld(item, found)
    elif isinstance(node, dict):
        found.append(node)
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in node:
                _walk_jsonld(node[key], found)


def _types(node: dict) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.lower() for v in values if isinstance(v, str)}


def _jsonld_objects(blocks) -> list[dict]:
    """Every JSON object in the page's JSON-LD blocks (raw script texts), @graph unpacked."""
    objects: list[dict] = []
    for raw in blocks:
        raw = (raw or "").strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            log.debug("unreadable JSON-LD block skipped")
            continue
        _walk_jsonld(data, objects)
    return objects


def _meta_tags(soup) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for meta in soup.find_all("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") \
            or meta.get("http-equiv")
        value = meta.get("content")
        if key and value and value.strip():
            tags.setdefault(key.strip().lower(), []).append(value.strip())
    return tags


class _Metadata:
    """Metadata read from one page's JSON-LD, OpenGraph and meta tags."""

    def __init__(self, text: str, tree, url: str):
        soup = BeautifulSoup(text, "lxml", parse_only=SoupStrainer(["meta", "link", "script",
                                                                     "title"]))
        objects = _jsonld_objects(
            script.string or script.get_text()
            for script in soup.find_all("script", attrs={"type": re.compile(r"ld\+json", re.I)}))
        articles = [o for o in objects if _types(o) & _ARTICLE_TYPES]
        self.article = articles[0] if articles else {}
        self.publisher = None
        publisher = self.article.get("publisher")
        if publisher is None:
            publisher = next((o for o in objects if _types(o) & {"organization",
                                                                 "newsmediaorganization"}), None)
        self.publisher = _clean_value(publisher)
        self.meta = _meta_tags(soup)
        self.canonical = None
        for link in soup.find_all("link", href=True):
            rels = link.get("rel") or []
            rels = rels if isinstance(rels, list) else rels.split()
            if "canonical" in [r.lower() for r in rels]:
                self.canonical = link["href"].strip()
                break
        self.html_lang = (tree.get("lang") or tree.get("xml:lang") or "").strip() or None
        self.url = url

    def first(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, ()):
                cleaned = _clean_value(value)
                if cleaned:
                    return cleaned
        return None

    def date_candidates(self, tree) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for key in ("datePublished", "dateCreated", "dateModified"):
            value = _iso(_clean_value(self.article.get(key)))
            if value:
                found.append((f"json-ld:{key}", value))
        for key in ("article:published_time", "og:published_time", "article:modified_time",
                    "og:updated_time"):
            for value in self.meta.get(key, ()):
                if (iso := _iso(value)) is not None:
                    found.append((f"og:{key.split(':', 1)[1]}", iso))
        for key in _DATE_META[2:]:
            for value in self.meta.get(key, ()):
                if (iso := _iso(value)) is not None:
                    found.append((f"meta:{key}", iso))
        for value in tree.xpath("//time[@datetime]/@datetime")[:3]:
            if (iso := _iso(value)) is not None:
                found.append(("time", iso))
        path = urlsplit(self.url or "").path
        if match := _URL_DATE.search(path):
            found.append(("url", _iso("-".join(match.groups())) or "-".join(match.groups())))
        elif match := _URL_MONTH.search(path):
            found.append(("url", "-".join(match.groups())))
        return found


_PUBLISHED_SOURCES = ("json-ld:datePublished", "json-ld:dateCreated", "og:published_time",
                      *(f"meta:{k}" for k in _DATE_META[2:]), "time")

# --- language --------------------------------------------------------------------------------

_STOPWORDS = {
    "en": "the of and to in is that for it was on with as by he at from his be are this have",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als",
    "fr": "le la les de des et en un une du est pour que qui dans par sur pas au avec",
    "es": "el la de que y en los del se las por un para con una su al es lo como más",
    "pt": "de que o a e do da em um para com não uma os no se na por mais as dos",
    "it": "di che il la e per un in del non della una sono è le da con si gli al",
    "nl": "de het een en van in is dat op te zijn met voor niet aan er die ook als",
}
_STOPSETS = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}
_WORDS = re.compile(r"[^\W\d_]+", re.U)


def _language_code(value: str | None) -> str | None:
    if not value:
        return None
    code = re.split(r"[-_\s,;]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def guess_language(text: str) -> str | None:
    """A cheap guess of the text's language: writing system, then stopword share."""
    sample = text[:5000]
    letters = [c for c in sample if c.isalpha()]
    if len(letters) < 20:
        return None
    counts = {"ja": 0, "zh": 0, "ko": 0, "ru": 0, "ar": 0, "el": 0, "he": 0}
    for c in letters:
        o = ord(c)
        if 0x3040 <= o <= 0x30FF:
            counts["ja"] += 1
        elif 0x4E00 <= o <= 0x9FFF:
            counts["zh"] += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            counts["ko"] += 1
        elif 0x0400 <= o <= 0x04FF:
            counts["ru"] += 1
        elif 0x0600 <= o <= 0x06FF:
            counts["ar"] += 1
        elif 0x0370 <= o <= 0x03FF:
            counts["el"] += 1
        elif 0x0590 <= o <= 0x05FF:
            counts["he"] += 1
    if counts["ja"] > 0.05 * len(letters):
        return "ja"
    script, n = max(counts.items(), key=lambda kv: kv[1])
    if n > 0.4 * len(letters):
        return script
    scores = _stopword_shares(sample)
    if not scores:
        return None
    lang, share = max(scores.items(), key=lambda kv: kv[1])
    return lang if share >= 0.1 else None


def _stopword_shares(text: str) -> dict[str, float]:
    words = [w.lower() for w in _WORDS.findall(text[:5000])]
    if len(words) < 5:
        return {}
    return {lang: sum(w in stop for w in words) / len(words) for lang, stop in _STOPSETS.items()}


def _language(declared: str | None, text: str) -> str | None:
    """The declared language unless the text plainly is another one (templates lie)."""
    guess = guess_language(text)
    if declared is None:
        return guess
    if guess and guess != declared and declared in _STOPSETS and guess in _STOPSETS:
        shares = _stopword_shares(text)
        if shares[guess] >= 0.15 and shares[declared] < 0.05:
            return guess
    return declared


# --- the article -----------------------------------------------------------------------------


def _absolute(url: str | None, base: str) -> str | None:
    if not url:
        return None
    url = urljoin(base or "", url.strip())
    return url if urlsplit(url).scheme in ("http", "https") else None


def extract_article(html: str | bytes | None, url: str, *, fallback_title: str | None = None,
                    fallback_published: str | None = None,
                    encoding: str | None = None) -> ExtractedArticle:
    """Body text and metadata of one article page.

    `html` may be bytes (decoded with `encoding`, then the page's declaration, then
    detection) or text. `fallback_title` and `fallback_published` (e.g. from the feed
    entry) are used when the page has none. Never raises on bad input: an empty or
    unusable page gives an article with empty text and the fallbacks.
    """
    text = _to_text(html, encoding)
    tree = _parse(text)
    if tree is None:
        published = _iso(fallback_published) or fallback_published
        return ExtractedArticle(url=url, text="", title=fallback_title, published=published,
                                date_candidates=(("fallback", published),) if published else ())
    doc = _run_trafilatura(tree, url, with_metadata=True)
    body = _body(tree, url, doc)
    meta = _Metadata(text, tree, url)
    art = meta.article

    title = (_clean_value(art.get("headline")) or meta.first("og:title", "twitter:title")
             or (doc.title if doc is not None else None) or fallback_title)
    if title and len(title) > 2 and title[0] + title[-1] in ('""', "''", "“”", "«»"):
        title = title[1:-1].strip()  # aggregators wrap copied headlines in quotes

    authors = _person_names(art.get("author")) if art.get("author") else []
    if not authors:
        for key in _AUTHOR_META:
            authors = [n for v in meta.meta.get(key, ()) for n in _person_names(v)]
            if authors:
                break
    if not authors and doc is not None and doc.author:
        authors = _person_names(doc.author)

    candidates = meta.date_candidates(tree)
    if doc is not None and doc.date and (guess := _iso(doc.date)):
        candidates.append(("trafilatura", guess))
    fallback = _iso(fallback_published) or fallback_published
    if fallback:
        candidates.append(("fallback", fallback))
    by_source = {}
    for source, value in candidates:
        by_source.setdefault(source, value)
    published = next((by_source[s] for s in _PUBLISHED_SOURCES if s in by_source), None) \
        or fallback or by_source.get("url") or by_source.get("trafilatura")
    if published and len(published) == 7:  # a year-month from the URL is not a date
        published = by_source.get("trafilatura") or published

    main_entity = art.get("mainEntityOfPage")
    if isinstance(main_entity, dict):
        main_entity = main_entity.get("@id") or main_entity.get("url")
    canonical = (_absolute(meta.canonical, url) or _absolute(meta.first("og:url"), url)
                 or _absolute(main_entity if isinstance(main_entity, str) else None, url)
                 or _absolute(_clean_value(art.get("url")), url))

    site_name = (meta.first("og:site_name", "application-name") or meta.publisher
                 or (doc.sitename if doc is not None else None))

    language = _language(_language_code(meta.html_lang) or _language_code(_clean_value(
        art.get("inLanguage"))) or _language_code(meta.first(*_LANG_META)), body)

    return ExtractedArticle(
        url=url,
        text=body,
        title=title,
        canonical_url=canonical,
        authors=_dedupe(authors),
        published=published,
        site_name=site_name,
        language=language,
        method="page",
        date_candidates=tuple(candidates),
    )
