"""Typed records the pipeline stages hand each other: config -> fetch -> extract -> nlp -> store.

Every record is a frozen dataclass. Stages never pass loose dicts; the only
dicts are at the edges (JSON output, database rows), built by `to_dict`
methods here or by the storage module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

# --- configuration (tracker.config) -------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Global options from the `settings:` block of feeds.yaml."""

    user_agent: str = "allegation-tracker/0.1 (+https://github.com/allegation-tracker)"
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # wall-clock cap for one request, body included
    max_bytes: int = 10_000_000  # body cap, enforced while streaming, after decompression
    max_redirects: int = 5
    concurrency: int = 8  # requests in flight across all hosts
    per_host: int = 2  # connections per host
    min_host_delay: float = 0.5  # seconds between request starts to one host
    fetch_articles: bool = True  # fetch article pages (else use feed content only)
    max_articles_per_feed: int = 50
    # Processes for extraction and NLP during a run; 1 does them in the writer thread.
    # 2 on a 2-core machine lets fetching and storing overlap the NLP.
    nlp_workers: int = 1
    respect_robots: bool = True
    # Poll less often a feed that brought nothing new 3 runs in a row: 30 min,
    # doubling, at most this many hours. 0 polls every feed on every run.
    quiet_feed_max_hours: float = 0.0
    allow_private_networks: bool = False
    database: str | None = None  # TRACKER_DB / --db win over this
    gazetteer: tuple[str, ...] = ()  # extra company gazetteer files (YAML/JSONL)
    taxonomy: tuple[str, ...] = ()  # extra allegation-type taxonomy files


@dataclass(frozen=True)
class FeedConfig:
    """One entry of the `feeds:` list."""

    url: str
    name: str | None = None
    tags: tuple[str, ...] = ()
    enabled: bool = True
    fetch_articles: bool | None = None  # None: use Settings.fetch_articles
    respect_robots: bool | None = None  # None: use Settings.respect_robots
    max_articles: int | None = None
    line: int | None = None  # line in feeds.yaml, for error messages

    @property
    def label(self) -> str:
        return self.name or self.url


@dataclass(frozen=True)
class Config:
    path: str
    settings: Settings
    feeds: tuple[FeedConfig, ...]


# --- fetching (tracker.fetch) --------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one HTTP (or file) fetch. `error` is set instead of raising."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int | None = None
    content: bytes = b""
    content_type: str | None = None
    encoding: str | None = None  # charset from the HTTP header, if any
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # 304: nothing to do
    error: str | None = None  # human-readable reason
    error_reason: str | None = None  # short tag: timeout, too_large, blocked_address, http_404...
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.not_modified


@dataclass(frozen=True)
class FeedEntry:
    """One item of a parsed feed."""

    feed_url: str
    guid: str | None
    url: str | None  # link as given by the feed
    canonical_url: str | None  # link with tracking parameters and fragment removed
    title: str | None = None
    summary: str | None = None  # plain text or HTML as the feed gave it
    content: str | None = None  # full content (content:encoded) if the feed has it
    published: str | None = None  # ISO 8601 UTC, or None
    authors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what parsing changed: future date clamped, content truncated...


@dataclass(frozen=True)
class ParsedFeed:
    feed_url: str
    title: str | None
    entries: tuple[FeedEntry, ...]
    error: str | None = None  # parse problem (feedparser bozo), entries may still be present
    warnings: tuple[str, ...] = ()  # entries dropped (duplicate GUID, nothing usable) and why


# --- content extraction (tracker.extract) --------------------------------------------


@dataclass(frozen=True)
class ExtractedArticle:
    """Body text and metadata of one article."""

    url: str  # the URL that was fetched (or given)
    text: str
    title: str | None = None
    canonical_url: str | None = None
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO date or datetime
    site_name: str | None = None
    language: str | None = None
    # how the text was obtained: page, feed_content, feed_summary, import_text, import_html
    method: str = "page"
    date_candidates: tuple[tuple[str, str], ...] = ()  # (source, value) pairs seen


# --- NLP (tracker.nlp) --------------------------------------------------------------

COMPANY_KINDS = (
    "company", "regulator", "court", "government", "university", "person", "product", "other",
)


@dataclass(frozen=True)
class Mention:
    """One place in the text where an organisation is named."""

    text: str
    start: int  # character offsets into the analysed text (title + "\n\n" + body)
    end: int
    name: str  # canonical name of the entity it refers to
    source: str = "gazetteer"  # gazetteer, rule, ner, coref


@dataclass(frozen=True)
class Entity:
    """An organisation recognised in one article (company, regulator, court...)."""

    name: str  # canonical name
    kind: str  # one of COMPANY_KINDS
    parent: str | None = None  # canonical name of the parent company
    aliases: tuple[str, ...] = ()
    country: str | None = None
    mentions: tuple[Mention, ...] = ()
    # the article's own most specific name ("Verizon" where the canonical name is
    # "Verizon Communications"); None when it is the canonical name
    surface: str | None = None

    @property
    def display_name(self) -> str:
        return self.surface or self.name

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "parent": self.parent,
                "aliases": list(self.aliases), "country": self.country,
                "mentions": [asdict(m) for m in self.mentions]}


@dataclass(frozen=True)
class Figure:
    """A quantity of affected things or an amount of money."""

    value: float
    unit: str  # lower-case plural count noun, or ISO 4217 code for money
    qualifier: str | None  # over, under, about, at_least, up_to, exactly, or None
    text: str  # the matched phrase, e.g. "over 25,000 accounts"
    start: int
    end: int
    sentence: str = ""
    allegation: int | None = None  # index into Analysis.allegations

    @property
    def is_money(self) -> bool:
        return len(self.unit) == 3 and self.unit.isupper()

    def to_dict(self) -> dict:
        value = int(self.value) if float(self.value).is_integer() else self.value
        return {"value": value, "unit": self.unit, "qualifier": self.qualifier,
                "text": self.text, "start": self.start, "end": self.end,
                "allegation": self.allegation}


@dataclass(frozen=True)
class Allegation:
    accuser: str | None
    accused: tuple[str, ...]
    types: tuple[str, ...]
    status: str
    evidence: str
    start: int  # offsets of the evidence sentence
    end: int
    cue: str | None = None  # attribution cue: "according to", "said in a filing"
    confidence: float = 0.5

    def to_dict(self) -> dict:
        return {"accuser": self.accuser, "accused": list(self.accused),
                "types": list(self.types), "status": self.status, "evidence": self.evidence,
                "start": self.start, "end": self.end, "cue": self.cue,
                "confidence": round(self.confidence, 3)}


@dataclass(frozen=True)
class Response:
    company: str
    response: str  # denied, disputed, no_comment, admitted, settled, investigating
    evidence: str
    start: int
    end: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Analysis:
    """Everything the NLP step found in one article."""

    text: str  # the analysed text; offsets point into it
    entities: tuple[Entity, ...] = ()
    allegations: tuple[Allegation, ...] = ()
    figures: tuple[Figure, ...] = ()
    responses: tuple[Response, ...] = ()
    extractor_version: str = ""

    @property
    def companies(self) -> tuple[Entity, ...]:
        return tuple(e for e in self.entities if e.kind == "company")

    def to_prediction(self, id: str) -> dict:
        """The prediction record of ../shared/eval/SCHEMA.md (extra keys are allowed).

        Names are the article's own (a reader checks them against the text); each
        record that renames keeps the canonical name under `canonical`.
        """
        shown = {e.name: e.display_name for e in self.entities}

        def named(d: dict, key: str) -> dict:
            if d.get(key) and shown.get(d[key], d[key]) != d[key]:
                d["canonical" if key in ("name", "company") else f"{key}_canonical"] = d[key]
                d[key] = shown[d[key]]
            return d

        allegations = []
        for a in self.allegations:
            d = named(a.to_dict(), "accuser")
            if any(shown.get(x, x) != x for x in d["accused"]):
                d["accused_canonical"] = list(d["accused"])
                d["accused"] = [shown.get(x, x) for x in d["accused"]]
            allegations.append(d)
        return {
            "id": id,
            "companies": [named(e.to_dict(), "name") for e in self.entities],
            "allegations": allegations,
            "figures": [f.to_dict() for f in self.figures],
            "responses": [named(r.to_dict(), "company") for r in self.responses],
            "extractor_version": self.extractor_version,
        }


# --- pipeline results -----------------------------------------------------------------


@dataclass
class RunSummary:
    """What one `tracker run` did. Mutable: the pipeline fills it as it goes."""

    started: datetime
    finished: datetime | None = None
    feeds_total: int = 0
    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_skipped: int = 0  # backing off, not due yet
    entries_seen: int = 0
    articles_new: int = 0
    articles_linked: int = 0  # already stored, linked to another feed
    pages_failed: int = 0
    allegations_new: int = 0
    companies_seen: int = 0
    interrupted: bool = False
    # the previous run did not finish: feeds were read in full, ETags and hashes ignored
    full_read: bool = False
    errors: list[dict] = field(default_factory=list)  # {"feed"|"url": ..., "error": ...}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["started"] = self.started.isoformat()
        d["finished"] = self.finished.isoformat() if self.finished else None
        return d
