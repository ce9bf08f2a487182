"""Storage stage: the SQLite database (sqlite-utils), its schema, migrations and writes.

One file, WAL mode, a `schema_migrations` table recording each applied step so
an older database upgrades in place. Every article is written in its own
transaction together with everything the NLP step found in it, so a run killed
at any moment leaves either the whole article or none of it.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from tracker.errors import StorageError
from tracker.records import Analysis, Entity, ExtractedArticle, FeedConfig, FetchResult

# --- migrations -------------------------------------------------------------------------
# Each migration is (version, name, SQL script). Append only; never edit a released one.

# Migration 8's triggers: recompute an article's alleged_types from its allegations.
_RECOUNT_TYPES = """UPDATE articles SET alleged_types = (SELECT group_concat(t.type, char(31))
        FROM allegations al JOIN allegation_types t ON t.allegation_id = al.id
        WHERE al.article_id = articles.id)"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", """
CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    name TEXT,
    tags TEXT NOT NULL DEFAULT '[]',          -- JSON list
    added TEXT NOT NULL,
    last_fetched TEXT,
    last_ok TEXT,
    last_status INTEGER,
    last_error TEXT,
    last_error_reason TEXT,
    error_count INTEGER NOT NULL DEFAULT 0,
    etag TEXT,
    last_modified TEXT,
    next_fetch TEXT,
    entries_total INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,                         -- the URL that was fetched
    canonical_url TEXT NOT NULL UNIQUE,        -- dedupe key (tracking params removed)
    guid TEXT,
    title TEXT,
    authors TEXT NOT NULL DEFAULT '[]',        -- JSON list
    source TEXT,                               -- site name, else host
    published TEXT,
    fetched TEXT NOT NULL,
    language TEXT,
    text TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    feed_id INTEGER REFERENCES feeds(id),      -- the feed it first came through
    method TEXT NOT NULL,                      -- page, feed_content, feed_summary, import_text...
    fetch_error TEXT,                          -- why the page itself could not be used
    extractor_version TEXT,
    date_candidates TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX idx_articles_published ON articles(published);
CREATE INDEX idx_articles_hash ON articles(content_hash);
CREATE INDEX idx_articles_guid ON articles(guid);
CREATE INDEX idx_articles_feed ON articles(feed_id);
CREATE TABLE article_feeds (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    guid TEXT,
    entry_url TEXT,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (article_id, feed_id)
);
CREATE INDEX idx_article_feeds_guid ON article_feeds(guid);
CREATE TABLE companies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,                 -- canonical name
    kind TEXT NOT NULL DEFAULT 'company',      -- company, regulator, court, government...
    parent_id INTEGER REFERENCES companies(id),
    country TEXT,
    first_seen TEXT NOT NULL
);
CREATE TABLE company_aliases (
    key TEXT PRIMARY KEY,                      -- folded alias, see fold_name()
    alias TEXT NOT NULL,
    company_id INTEGER NOT NULL REFERENCES companies(id)
);
CREATE INDEX idx_company_aliases_company ON company_aliases(company_id);
CREATE TABLE mentions (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    company_id INTEGER NOT NULL REFERENCES companies(id),
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    source TEXT
);
CREATE INDEX idx_mentions_article ON mentions(article_id);
CREATE INDEX idx_mentions_company ON mentions(company_id);
CREATE TABLE article_companies (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    company_id INTEGER NOT NULL REFERENCES companies(id),
    mention_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, company_id)
);
CREATE INDEX idx_article_companies_company ON article_companies(company_id);
CREATE TABLE allegations (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    accuser_id INTEGER REFERENCES companies(id),
    accuser_name TEXT,
    types TEXT NOT NULL DEFAULT '[]',          -- JSON list of type ids
    type TEXT,                                 -- the first (primary) type
    status TEXT NOT NULL,
    evidence TEXT NOT NULL,
    start INTEGER,
    "end" INTEGER,
    cue TEXT,
    confidence REAL,
    created TEXT NOT NULL
);
CREATE INDEX idx_allegations_article ON allegations(article_id);
CREATE INDEX idx_allegations_type ON allegations(type);
CREATE TABLE allegation_types (
    allegation_id INTEGER NOT NULL REFERENCES allegations(id),
    type TEXT NOT NULL,
    PRIMARY KEY (allegation_id, type)
);
CREATE INDEX idx_allegation_types_type ON allegation_types(type);
CREATE TABLE allegation_parties (
    allegation_id INTEGER NOT NULL REFERENCES allegations(id),
    company_id INTEGER NOT NULL REFERENCES companies(id),
    role TEXT NOT NULL,                        -- accuser or accused
    PRIMARY KEY (allegation_id, company_id, role)
);
CREATE INDEX idx_allegation_parties_company ON allegation_parties(company_id, role);
CREATE TABLE figures (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    allegation_id INTEGER REFERENCES allegations(id),
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    qualifier TEXT,
    is_money INTEGER NOT NULL DEFAULT 0,
    text TEXT,
    start INTEGER,
    "end" INTEGER
);
CREATE INDEX idx_figures_article ON figures(article_id);
CREATE INDEX idx_figures_unit_value ON figures(unit, value);
CREATE TABLE responses (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    company_id INTEGER REFERENCES companies(id),
    company_name TEXT NOT NULL,
    response TEXT NOT NULL,
    evidence TEXT,
    start INTEGER,
    "end" INTEGER
);
CREATE INDEX idx_responses_article ON responses(article_id);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    summary TEXT
);
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, text, content='articles', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
"""),
    (2, "digest cursors", """
CREATE TABLE digest_cursors (
    name TEXT PRIMARY KEY,
    last_until TEXT NOT NULL,
    updated TEXT NOT NULL
);
"""),
    (3, "search indexes", """
-- Narrow copy of the columns search filters on, so checking a full-text match
-- against dates/sources reads this small index instead of whole article rows.
CREATE INDEX idx_articles_search ON articles(id, published, source, language);
CREATE INDEX idx_figures_allegation ON figures(allegation_id);
CREATE INDEX idx_companies_parent ON companies(parent_id);
"""),
    (4, "copies, incidents and date flags", """
-- tracker.incidents: MinHash signatures of article bodies, their LSH band keys
-- (the persistent buckets), near-duplicate links and incidents.
CREATE TABLE article_signatures (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id),
    minhash BLOB,                              -- datasketch MinHash hash values (uint64)
    shingles INTEGER NOT NULL DEFAULT 0,       -- body shingles; too few: never compared
    syndicated_from TEXT,                      -- agency named by a syndication note
    processed TEXT NOT NULL
);
CREATE TABLE article_bands (
    band INTEGER NOT NULL,
    key INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    PRIMARY KEY (band, key, article_id)
) WITHOUT ROWID;
CREATE INDEX idx_article_bands_article ON article_bands(article_id);
CREATE TABLE article_copies (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id),
    copy_of INTEGER NOT NULL REFERENCES articles(id),  -- the earliest version
    similarity REAL NOT NULL,                  -- shingle containment, 0..1
    method TEXT NOT NULL                       -- minhash or syndication
);
CREATE INDEX idx_article_copies_copy_of ON article_copies(copy_of);
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,      -- stable; never reused
    title TEXT NOT NULL,
    label TEXT,                                -- "Accused: type" summary
    status TEXT,                               -- furthest stage any article reports
    first_seen TEXT,
    last_seen TEXT,
    article_count INTEGER NOT NULL DEFAULT 0,
    source_count INTEGER NOT NULL DEFAULT 0,   -- independent sources (copies excluded)
    features TEXT NOT NULL DEFAULT '{}',       -- JSON: parties, types, accusers, figures
    merged_into INTEGER REFERENCES incidents(id),
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX idx_incidents_seen ON incidents(last_seen, first_seen);
CREATE INDEX idx_incidents_merged ON incidents(merged_into);
CREATE TABLE incident_articles (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    article_id INTEGER NOT NULL UNIQUE REFERENCES articles(id),
    reason TEXT NOT NULL,                      -- first, copy, parties, figures, merged
    added TEXT NOT NULL,
    PRIMARY KEY (incident_id, article_id)
);
ALTER TABLE articles ADD COLUMN date_source TEXT;
ALTER TABLE articles ADD COLUMN date_flags TEXT NOT NULL DEFAULT '[]';
"""),
    (5, "quiet feeds", """
-- Successful fetches in a row that brought nothing new (304 or only known entries).
ALTER TABLE feeds ADD COLUMN unchanged_runs INTEGER NOT NULL DEFAULT 0;
"""),
    (6, "incident facts cache", """
-- tracker.incidents: what grouping needs from each article, computed once (JSON), and
-- each incident's running totals, so an article joining costs the same in a big incident
-- as in a small one. The triggers drop an article's facts whenever what they are read
-- from changes (re-analysis, a re-dated article, a company's kind), so a stale copy is
-- never used: the next refresh reads the article again.
CREATE TABLE incident_facts (
    article_id INTEGER PRIMARY KEY,
    facts TEXT NOT NULL
);
CREATE TABLE incident_state (
    incident_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL
);
CREATE TRIGGER incident_facts_article_au AFTER UPDATE OF title, source, published, fetched,
    date_flags, extractor_version ON articles BEGIN
    DELETE FROM incident_facts WHERE article_id = old.id;
END;
CREATE TRIGGER incident_facts_article_ad AFTER DELETE ON articles BEGIN
    DELETE FROM incident_facts WHERE article_id = old.id;
END;
CREATE TRIGGER incident_facts_allegation_ai AFTER INSERT ON allegations BEGIN
    DELETE FROM incident_facts WHERE article_id = new.article_id;
END;
CREATE TRIGGER incident_facts_allegation_ad AFTER DELETE ON allegations BEGIN
    DELETE FROM incident_facts WHERE article_id = old.article_id;
END;
CREATE TRIGGER incident_facts_allegation_au AFTER UPDATE ON allegations BEGIN
    DELETE FROM incident_facts WHERE article_id IN (old.article_id, new.article_id);
END;
CREATE TRIGGER incident_facts_party_ai AFTER INSERT ON allegation_parties BEGIN
    DELETE FROM incident_facts WHERE article_id =
        (SELECT article_id FROM allegations WHERE id = new.allegation_id);
END;
CREATE TRIGGER incident_facts_party_ad AFTER DELETE ON allegation_parties BEGIN
    DELETE FROM incident_facts WHERE article_id =
        (SELECT article_id FROM allegations WHERE id = old.allegation_id);
END;
CREATE TRIGGER incident_facts_figure_ai AFTER INSERT ON figures BEGIN
    DELETE FROM incident_facts WHERE article_id = new.article_id;
END;
CREATE TRIGGER incident_facts_figure_ad AFTER DELETE ON figures BEGIN
    DELETE FROM incident_facts WHERE article_id = old.article_id;
END;
CREATE TRIGGER incident_facts_company_ai AFTER INSERT ON article_companies BEGIN
    DELETE FROM incident_facts WHERE article_id = new.article_id;
END;
CREATE TRIGGER incident_facts_company_ad AFTER DELETE ON article_companies BEGIN
    DELETE FROM incident_facts WHERE article_id = old.article_id;
END;
CREATE TRIGGER incident_facts_company_au AFTER UPDATE OF name, kind ON companies BEGIN
    DELETE FROM incident_facts WHERE article_id IN
        (SELECT article_id FROM article_companies WHERE company_id = old.id
         UNION SELECT a.article_id FROM allegation_parties ap
         JOIN allegations a ON a.id = ap.allegation_id WHERE ap.company_id = old.id);
END;
"""),
    (7, "incident lookup keys", """
-- tracker.incidents: what an incident can be matched by (a word of a party's name, a
-- figure), so an article is compared with the incidents that share one instead of all.
CREATE TABLE incident_keys (
    key TEXT NOT NULL,                         -- "p:" name word, "f:" value:unit, "?" to do
    incident_id INTEGER NOT NULL,
    PRIMARY KEY (key, incident_id)
) WITHOUT ROWID;
CREATE INDEX idx_incident_keys_incident ON incident_keys(incident_id);
-- Incidents grouped before this version get their keys the next time one is looked up.
INSERT INTO incident_keys (key, incident_id) SELECT '?', id FROM incidents
    WHERE merged_into IS NULL;
"""),
    (8, "allegation types in the search index", f"""
-- tracker.search: an article's allegation types (char(31)-joined, NULL when none) kept on
-- the article and in its narrow search index, so the type filter and the type facet read
-- them in the same lookup as the date instead of two more per matching article. The
-- triggers recompute the value whenever the article's allegations or their types change.
ALTER TABLE articles ADD COLUMN alleged_types TEXT;
UPDATE articles SET alleged_types = (SELECT group_concat(t.type, char(31)) FROM allegations al
    JOIN allegation_types t ON t.allegation_id = al.id WHERE al.article_id = articles.id)
    WHERE id IN (SELECT article_id FROM allegations);
DROP INDEX idx_articles_search;
CREATE INDEX idx_articles_search ON articles(id, published, source, language, alleged_types);
CREATE TRIGGER alleged_types_ai AFTER INSERT ON allegation_types BEGIN
    {_RECOUNT_TYPES}
    WHERE id = (SELECT article_id FROM allegations WHERE id = new.allegation_id);
END;
CREATE TRIGGER alleged_types_ad AFTER DELETE ON allegation_types BEGIN
    {_RECOUNT_TYPES}
    WHERE id = (SELECT article_id FROM allegations WHERE id = old.allegation_id);
END;
CREATE TRIGGER alleged_types_au AFTER UPDATE ON allegation_types BEGIN
    {_RECOUNT_TYPES}
    WHERE id IN (SELECT article_id FROM allegations
                 WHERE id IN (old.allegation_id, new.allegation_id));
END;
CREATE TRIGGER alleged_types_allegation_ad AFTER DELETE ON allegations BEGIN
    {_RECOUNT_TYPES}
    WHERE id = old.article_id;
END;
CREATE TRIGGER alleged_types_allegation_au AFTER UPDATE OF article_id ON allegations BEGIN
    {_RECOUNT_TYPES}
    WHERE id IN (old.article_id, new.article_id);
END;
"""),
    (9, "feed body hash", """
-- tracker.pipeline: the hash of a feed's last body, so a feed served again byte for byte
-- (by a server that sends no ETag or Last-Modified) is known unchanged without parsing it.
ALTER TABLE feeds ADD COLUMN body_hash TEXT;
"""),
    (10, "company keys in the text index", """
-- tracker.search: each article's company ids as index terms ("c12 c40") in a third
-- column of the text index, so a text search about one company is an AND inside FTS5,
-- which skips through the text's match list to the company's few articles instead of
-- handing every match to SQLite to look up in the company's list (most of a company
-- search's time at 1M articles). Searches read the title and text columns only and
-- BM25 weighs this one 0. tracker.store writes the keys with the article, and again
-- whenever the article's companies change.
ALTER TABLE articles ADD COLUMN company_keys TEXT;
UPDATE articles SET company_keys = (SELECT group_concat(k, ' ') FROM (SELECT 'c' || company_id
    AS k FROM article_companies WHERE article_id = articles.id ORDER BY company_id))
    WHERE id IN (SELECT article_id FROM article_companies);
DROP TRIGGER articles_ai;
DROP TRIGGER articles_ad;
DROP TRIGGER articles_au;
DROP TABLE articles_fts;
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, text, company_keys, content='articles', content_rowid='id',
    tokenize='porter unicode61'
);
INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');
CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, text, company_keys)
    VALUES (new.id, new.title, new.text, new.company_keys);
END;
CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, text, company_keys)
    VALUES ('delete', old.id, old.title, old.text, old.company_keys);
END;
CREATE TRIGGER articles_au AFTER UPDATE OF title, text, company_keys ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, text, company_keys)
    VALUES ('delete', old.id, old.title, old.text, old.company_keys);
    INSERT INTO articles_fts(rowid, title, text, company_keys)
    VALUES (new.id, new.title, new.text, new.company_keys);
END;
"""),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def fold_name(name: str) -> str:
    """Fold a company name or alias into a lookup key (case, accents, punctuation, suffixes)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", " and ")
    text = re.sub(r"'s\b", "", text)
    words = re.sub(r"[^\w]+", " ", text).split()
    suffixes = {"inc", "incorporated", "ltd", "limited", "co", "corp", "corporation", "llc",
                "plc", "ag", "sa", "gmbh", "nv", "bv", "se", "lp", "llp", "pte", "pty"}
    while len(words) > 1 and words[-1] in suffixes:
        words.pop()
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def company_key(company_id: int) -> str:
    """A company's term in the text index's company_keys column (migration 10 fills the
    column of older databases with the same form, in SQL)."""
    return f"c{company_id}"


def company_keys(company_ids: Iterable[int]) -> str | None:
    """The company_keys value for an article's companies: their terms, in id order."""
    return " ".join(company_key(i) for i in sorted(set(company_ids))) or None


def content_hash(text: str) -> str:
    """Hash of the whitespace-normalised body, so re-extracted identical text matches."""
    norm = " ".join(text.split()).lower()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


# --- opening ------------------------------------------------------------------------------


# Read-only connections (search, the web server, exports) read the file through a
# memory map: pages come straight from the OS cache that every reader shares, not
# through each connection's 2 MB page cache, so a server's workers share one copy of
# the pages. On a 1M-article database (1.7 GB) company searches took about 3% less
# time on average, same p95 (paired runs). SQLite caps the map at its compile-time
# limit (2 GB in the usual builds); past that it reads the rest as before.
READ_MMAP_BYTES = 1 << 32


def require_db(path: str | Path) -> None:
    """StorageError unless the database file exists (commands that only read or update one
    must not create an empty database by mistake)."""
    if not Path(path).exists():
        raise StorageError(
            f"database {path} does not exist: run `tracker run` or `tracker demo` first")


def open_db(path: str | Path, *, readonly: bool = False,
            migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database; read-only opens never write."""
    path = str(path)
    try:
        if readonly:
            require_db(path)
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            conn.execute(f"PRAGMA mmap_size={READ_MMAP_BYTES}")
            db = sqlite_utils.Database(conn)
            check_version(db, path)
            return db
        parent = Path(path).parent
        if not parent.exists():
            raise StorageError(f"cannot create database {path}: folder {parent} does not exist")
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        if migrate:
            apply_migrations(db)
        return db
    except sqlite3.DatabaseError as exc:
        raise StorageError(
            f"cannot open database {path}: {exc} (is it a tracker database?)") from exc


def current_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def check_version(db: sqlite_utils.Database, path: str) -> None:
    version = current_version(db)
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"database {path} has schema version {version}, newer than this tracker "
            f"({SCHEMA_VERSION}): upgrade the tracker"
        )
    if version < SCHEMA_VERSION:
        raise StorageError(
            f"database {path} has schema version {version}; open it once with `tracker stats` "
            "(read-write) to upgrade it in place"
        )


def apply_migrations(db: sqlite_utils.Database) -> list[int]:
    """Apply every migration newer than the database; each in its own transaction."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)"
    )
    done = current_version(db)
    if done > SCHEMA_VERSION:
        raise StorageError(
            f"database schema version {done} is newer than this tracker ({SCHEMA_VERSION}): "
            "upgrade the tracker"
        )
    applied = []
    for version, name, script in MIGRATIONS:
        if version <= done:
            continue
        # executescript commits first; wrap the script itself in a transaction.
        conn.executescript(
            "BEGIN;\n" + script + "\nINSERT INTO schema_migrations VALUES "
            f"({version}, '{name}', '{now_iso()}');\nCOMMIT;"
        )
        applied.append(version)
    return applied


# --- feeds ----------------------------------------------------------------------------------


def upsert_feed(db: sqlite_utils.Database, feed: FeedConfig) -> int:
    """Insert or update a configured feed; returns its id. Fetch state is kept."""
    row = db.execute("SELECT id FROM feeds WHERE url = ?", [feed.url]).fetchone()
    tags = json.dumps(list(feed.tags))
    with db.conn:
        if row:
            db.execute("UPDATE feeds SET name = ?, tags = ? WHERE id = ?",
                       [feed.name, tags, row[0]])
            return row[0]
        cur = db.execute("INSERT INTO feeds (url, name, tags, added) VALUES (?, ?, ?, ?)",
                         [feed.url, feed.name, tags, now_iso()])
        return cur.lastrowid


def feed_state(db: sqlite_utils.Database, feed_id: int) -> dict:
    row = db.execute("SELECT * FROM feeds WHERE id = ?", [feed_id])
    cols = [c[0] for c in row.description]
    values = row.fetchone()
    return dict(zip(cols, values, strict=True)) if values else {}


def record_feed_fetch(db: sqlite_utils.Database, feed_id: int, result: FetchResult, *,
                      entries: int = 0, parse_error: str | None = None,
                      next_fetch: str | None = None, changed: bool = True,
                      body_hash: str | None = None) -> None:
    """Store the outcome of fetching one feed: status, validators, error count, next fetch.

    `changed` is False for a successful fetch that brought nothing new; such
    fetches are counted in `unchanged_runs` (reset by the next change). `body_hash`
    is the hash of the body just parsed (kept until the next one).
    """
    now = now_iso()
    with db.conn:
        if result.error:
            db.execute(
                "UPDATE feeds SET last_fetched = ?, last_status = ?, last_error = ?, "
                "last_error_reason = ?, error_count = error_count + 1, next_fetch = ? "
                "WHERE id = ?",
                [now, result.status, result.error, result.error_reason, next_fetch, feed_id],
            )
        else:
            db.execute(
                "UPDATE feeds SET last_fetched = ?, last_ok = ?, last_status = ?, "
                "last_error = ?, last_error_reason = ?, error_count = 0, "
                "etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified), "
                "next_fetch = ?, entries_total = entries_total + ?, "
                "unchanged_runs = CASE WHEN ? THEN 0 ELSE unchanged_runs + 1 END, "
                "body_hash = COALESCE(?, body_hash) WHERE id = ?",
                [now, now, result.status, parse_error, "parse" if parse_error else None,
                 result.etag, result.last_modified, next_fetch, entries, int(changed),
                 body_hash, feed_id],
            )


# --- articles ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredArticle:
    id: int
    created: bool  # False when an existing article was found and (maybe) linked


def find_article(db: sqlite_utils.Database, *, canonical_url: str | None = None,
                 guid: str | None = None, content_hash_: str | None = None) -> int | None:
    """The id of an already stored article matching the canonical URL, GUID or content hash."""
    if canonical_url:
        row = db.execute("SELECT id FROM articles WHERE canonical_url = ?",
                         [canonical_url]).fetchone()
        if row:
            return row[0]
    if guid:
        row = db.execute("SELECT article_id FROM article_feeds WHERE guid = ? LIMIT 1",
                         [guid]).fetchone()
        if row:
            return row[0]
        row = db.execute("SELECT id FROM articles WHERE guid = ? LIMIT 1", [guid]).fetchone()
        if row:
            return row[0]
    if content_hash_:
        row = db.execute("SELECT id FROM articles WHERE content_hash = ? LIMIT 1",
                         [content_hash_]).fetchone()
        if row:
            return row[0]
    return None


def link_feed(db: sqlite_utils.Database, article_id: int, feed_id: int | None,
              guid: str | None = None, entry_url: str | None = None) -> bool:
    """Record that a feed carried an article; True when the link is new."""
    if feed_id is None:
        return False
    with db.conn:
        cur = db.execute(
            "INSERT OR IGNORE INTO article_feeds (article_id, feed_id, guid, entry_url, first_seen)"
            " VALUES (?, ?, ?, ?, ?)", [article_id, feed_id, guid, entry_url, now_iso()])
    return cur.rowcount > 0


def _source_name(article: ExtractedArticle) -> str | None:
    if article.site_name:
        return article.site_name
    match = re.match(r"^[a-z]+://([^/:]+)", article.url or "")
    if match:
        host = match.group(1).lower()
        return host[4:] if host.startswith("www.") else host
    return None


def save_article(db: sqlite_utils.Database, article: ExtractedArticle, analysis: Analysis | None,
                 *, canonical_url: str, feed_id: int | None = None, guid: str | None = None,
                 fetch_error: str | None = None) -> StoredArticle:
    """Store one article and everything found in it, in one transaction.

    An article already stored (same canonical URL, GUID or content hash) is not
    stored again: the feed is linked to the existing row instead.
    """
    chash = content_hash(article.text or article.title or canonical_url)
    existing = find_article(db, canonical_url=canonical_url, guid=guid, content_hash_=chash)
    if existing is not None:
        link_feed(db, existing, feed_id, guid, article.url)
        return StoredArticle(existing, False)
    now = now_iso()
    try:
        with db.conn:
            # The companies are resolved first so the article is indexed once, with its
            # company keys, rather than indexed and then re-indexed when they are known.
            ids = _company_ids(db, analysis, now) if analysis is not None else {}
            cur = db.execute(
                "INSERT INTO articles (url, canonical_url, guid, title, authors, source, "
                "published, fetched, language, text, content_hash, feed_id, method, "
                "fetch_error, extractor_version, date_candidates, company_keys) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [article.url, canonical_url, guid, article.title, json.dumps(list(article.authors)),
                 _source_name(article), article.published, now, article.language,
                 article.text or "", chash, feed_id, article.method, fetch_error,
                 analysis.extractor_version if analysis else None,
                 json.dumps([list(c) for c in article.date_candidates]),
                 company_keys(ids.values())],
            )
            article_id = cur.lastrowid
            if feed_id is not None:
                db.execute(
                    "INSERT OR IGNORE INTO article_feeds "
                    "(article_id, feed_id, guid, entry_url, first_seen) VALUES (?,?,?,?,?)",
                    [article_id, feed_id, guid, article.url, now])
            if analysis is not None:
                _save_analysis(db, article_id, analysis, now, ids)
    except sqlite3.IntegrityError:
        # Another writer stored the same canonical URL between our check and insert.
        existing = find_article(db, canonical_url=canonical_url)
        if existing is None:
            raise
        link_feed(db, existing, feed_id, guid, article.url)
        return StoredArticle(existing, False)
    return StoredArticle(article_id, True)


def replace_analysis(db: sqlite_utils.Database, article_id: int, analysis: Analysis) -> None:
    """Re-run results for an existing article (e.g. after an extractor upgrade)."""
    with db.conn:
        for table in ("mentions", "article_companies", "figures", "responses"):
            db.execute(f"DELETE FROM {table} WHERE article_id = ?", [article_id])
        ids = [r[0] for r in db.execute("SELECT id FROM allegations WHERE article_id = ?",
                                        [article_id])]
        for aid in ids:
            db.execute("DELETE FROM allegation_parties WHERE allegation_id = ?", [aid])
            db.execute("DELETE FROM allegation_types WHERE allegation_id = ?", [aid])
        db.execute("DELETE FROM allegations WHERE article_id = ?", [article_id])
        db.execute("UPDATE articles SET extractor_version = ? WHERE id = ?",
                   [analysis.extractor_version, article_id])
        now = now_iso()
        ids = _company_ids(db, analysis, now)
        keys = company_keys(ids.values())
        # Setting the keys re-indexes the article's text: only when they change.
        db.execute("UPDATE articles SET company_keys = ? WHERE id = ? AND company_keys IS NOT ?",
                   [keys, article_id, keys])
        _save_analysis(db, article_id, analysis, now, ids)


def company_id(db: sqlite_utils.Database, name: str, *, kind: str = "company",
               parent: str | None = None, country: str | None = None,
               aliases: Iterable[str] = (), now: str | None = None) -> int:
    """The id of a company by canonical name or alias, creating it (and its parent) if new."""
    key = fold_name(name)
    row = db.execute("SELECT a.company_id, c.country FROM company_aliases a JOIN companies c "
                     "ON c.id = a.company_id WHERE a.key = ?", [key]).fetchone()
    now = now or now_iso()
    existing = row or db.execute("SELECT id, country FROM companies WHERE name = ?",
                                 [name]).fetchone()
    if existing:
        cid = existing[0]
        if country and existing[1] is None:
            # A company first stored as someone's parent had no country yet; the
            # search filters on a party's country read it.
            db.execute("UPDATE companies SET country = ? WHERE id = ?", [country, cid])
    if not row:
        if not existing:
            parent_id = None
            if parent and fold_name(parent) != key:
                parent_id = company_id(db, parent, kind="company", now=now)
            cid = db.execute(
                "INSERT INTO companies (name, kind, parent_id, country, first_seen) "
                "VALUES (?,?,?,?,?)", [name, kind, parent_id, country, now]).lastrowid
        db.execute("INSERT OR IGNORE INTO company_aliases (key, alias, company_id) VALUES (?,?,?)",
                   [key, name, cid])
    for alias in aliases:
        akey = fold_name(alias)
        if akey:
            db.execute("INSERT OR IGNORE INTO company_aliases (key, alias, company_id) "
                       "VALUES (?,?,?)", [akey, alias, cid])
    return cid


def _entity_id(db, entity: Entity, now: str) -> int:
    return company_id(db, entity.name, kind=entity.kind, parent=entity.parent,
                      country=entity.country, aliases=entity.aliases, now=now)


# Entity kinds the analysis finds that are not counted among an article's companies.
_NOT_COMPANIES = ("person", "product")


def _listed(analysis: Analysis) -> set[str]:
    """Names of the entities an article is filed under (search's company filter and facets,
    the hits' company lines, company pages).

    People and products are not companies. An organisation the NLP could give no kind
    ("other") is listed only when it is a party to an allegation or answers one: alone,
    such names are mostly words the model read as names ("API", "GDPR", a headline's
    words), and a hacking group or a rights group that matters is a party.
    """
    parties = {a.accuser for a in analysis.allegations}
    parties.update(name for a in analysis.allegations for name in a.accused)
    parties.update(r.company for r in analysis.responses)
    return {e.name for e in analysis.entities
            if e.kind not in _NOT_COMPANIES and (e.kind != "other" or e.name in parties)}


def _company_ids(db: sqlite_utils.Database, analysis: Analysis, now: str) -> dict[str, int]:
    """The stored ids of the entities an article is filed under (see _listed)."""
    listed = _listed(analysis)
    return {entity.name: _entity_id(db, entity, now) for entity in analysis.entities
            if entity.name in listed}


def _save_analysis(db: sqlite_utils.Database, article_id: int, analysis: Analysis,
                   now: str, company_ids: dict[str, int]) -> None:
    """Everything found in an article; `company_ids` from _company_ids, which also gave
    the article its company keys."""
    ids = dict(company_ids)
    for entity in analysis.entities:
        if entity.name not in company_ids:
            continue
        cid = company_ids[entity.name]
        db.execute("INSERT OR REPLACE INTO article_companies (article_id, company_id, "
                   "mention_count) VALUES (?,?,?)", [article_id, cid, len(entity.mentions)])
        for m in entity.mentions:
            db.execute("INSERT INTO mentions (article_id, company_id, text, start, \"end\", source)"
                       " VALUES (?,?,?,?,?,?)", [article_id, cid, m.text, m.start, m.end, m.source])

    entities = {e.name: e for e in analysis.entities}

    def lookup(name: str | None) -> int | None:
        """A party's id. A person accusing or answering keeps kind person (they are not
        counted among the article's companies, above); a name the analysis gives no entity
        for is stored as `other`, never passed off as a company."""
        if not name:
            return None
        if name not in ids:
            entity = entities.get(name)
            ids[name] = (_entity_id(db, entity, now) if entity is not None
                         else company_id(db, name, kind="other", now=now))
        return ids[name]

    allegation_ids: list[int] = []
    for a in analysis.allegations:
        accuser_id = lookup(a.accuser)
        aid = db.execute(
            "INSERT INTO allegations (article_id, accuser_id, accuser_name, types, type, status, "
            "evidence, start, \"end\", cue, confidence, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [article_id, accuser_id, a.accuser, json.dumps(list(a.types)),
             a.types[0] if a.types else None, a.status, a.evidence, a.start, a.end, a.cue,
             a.confidence, now]).lastrowid
        allegation_ids.append(aid)
        for t in dict.fromkeys(a.types):
            db.execute("INSERT OR IGNORE INTO allegation_types VALUES (?, ?)", [aid, t])
        if accuser_id is not None:
            db.execute("INSERT OR IGNORE INTO allegation_parties VALUES (?, ?, 'accuser')",
                       [aid, accuser_id])
        for name in a.accused:
            db.execute("INSERT OR IGNORE INTO allegation_parties VALUES (?, ?, 'accused')",
                       [aid, lookup(name)])
    for f in analysis.figures:
        link = allegation_ids[f.allegation] if (
            f.allegation is not None and 0 <= f.allegation < len(allegation_ids)) else None
        db.execute(
            "INSERT INTO figures (article_id, allegation_id, value, unit, qualifier, is_money, "
            "text, start, \"end\") VALUES (?,?,?,?,?,?,?,?,?)",
            [article_id, link, f.value, f.unit, f.qualifier, int(f.is_money), f.text, f.start,
             f.end])
    for r in analysis.responses:
        db.execute(
            "INSERT INTO responses (article_id, company_id, company_name, response, evidence, "
            "start, \"end\") VALUES (?,?,?,?,?,?,?)",
            [article_id, lookup(r.company), r.company, r.response, r.evidence, r.start, r.end])


# --- runs and stats -------------------------------------------------------------------------


def start_run(db: sqlite_utils.Database, started: str) -> int:
    with db.conn:
        return db.execute("INSERT INTO runs (started) VALUES (?)", [started]).lastrowid


def last_run_unfinished(db: sqlite_utils.Database) -> bool:
    """Whether the latest run was killed, interrupted or stopped by an error before it
    stored everything it had queued: its feeds' validators and body hashes then vouch
    for entries that were never stored, and the next run must not trust them."""
    row = db.execute("SELECT finished, summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return False
    if row[0] is None:
        return True
    try:
        summary = json.loads(row[1] or "{}")
    except (TypeError, ValueError):
        return True
    return bool(summary.get("interrupted")) or summary.get("complete") is False


def finish_run(db: sqlite_utils.Database, run_id: int, summary: dict) -> None:
    with db.conn:
        db.execute("UPDATE runs SET finished = ?, summary = ? WHERE id = ?",
                   [summary.get("finished") or now_iso(), json.dumps(summary), run_id])


def stats(db: sqlite_utils.Database) -> dict:
    """Row counts and date range, for `tracker stats`."""
    out: dict = {"schema_version": current_version(db)}
    for table in ("articles", "feeds", "companies", "allegations", "figures", "responses",
                  "mentions"):
        out[table] = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    row = db.execute("SELECT MIN(published), MAX(published), MAX(fetched) FROM articles").fetchone()
    out["published_first"], out["published_last"], out["last_fetched"] = row
    out["allegations_by_type"] = dict(db.execute(
        "SELECT type, COUNT(*) FROM allegation_types GROUP BY type ORDER BY 2 DESC").fetchall())
    out["articles_by_method"] = dict(db.execute(
        "SELECT method, COUNT(*) FROM articles GROUP BY method ORDER BY 2 DESC").fetchall())
    # Which extractor analysed what (none: stored without NLP); `tracker reanalyze`
    # brings the others up to the installed version.
    out["articles_by_extractor"] = {v or "none": n for v, n in db.execute(
        "SELECT extractor_version, COUNT(*) FROM articles GROUP BY 1 ORDER BY 2 DESC")}
    out["top_companies"] = [
        {"name": n, "kind": k, "articles": c} for n, k, c in db.execute(
            "SELECT c.name, c.kind, COUNT(*) FROM article_companies ac JOIN companies c "
            "ON c.id = ac.company_id GROUP BY c.id ORDER BY 3 DESC LIMIT 10")]
    return out


def rows(cursor: sqlite3.Cursor) -> list[dict]:
    """Cursor rows as dicts keyed by column name."""
    cols = [c[0] for c in cursor.description]
    return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]

