"""Digest stage: what is new in the database over a period, as Markdown, HTML, JSON or Atom.

A digest covers the half-open period ``[since, until)`` of *storage* time (when
the tracker wrote a row, not when the article was published), so a scheduled
job sees each allegation exactly once however late the news was fetched.

Usage from Python::

    from tracker.digest import DigestFilters, build_digest, resolve_window, publish
    since, until = resolve_window(db, name="daily", since="24h")
    digest = build_digest(db, since=since, until=until, name="daily")
    publish(db, digest, "md", "digest.md")   # writes, then advances the cursor

Period and cursor
-----------------
``--since`` takes a date (``2025-03-01``), a date-time (``2025-03-01T06:00``,
UTC unless it carries an offset) or a length back from now (``90m``, ``24h``,
``7d``, ``2w``). ``until`` is the start of the current second, so a row written
while the digest runs falls into the next one. ``--name NAME`` keeps a cursor in
the ``digest_cursors`` table: the next digest of that name starts where the last
one ended (``--since`` only sets where a new name starts; the default is 24h).
The cursor moves only after the digest was written in full; ``--dry-run``
never moves it.

Content
-------
- New allegations grouped by accused company, and within a company by
  incident (tracker.incidents): items whose articles belong to one incident
  sit together under an incident line with its title, its independent source
  count (copies excluded) and its article count; items in no incident follow.
  The company stays the outer grouping because a digest reader scans for the
  companies they follow; the incident line then says how many outlets
  independently carry the story. Allegations with the same
  accuser, accused and primary type stored in the same period (the same story
  from several outlets) are merged into one item listing every source link.
  Each item has the one-line summary (``Anthropic -> Alibaba: model
  distillation, alleged, over 25,000 accounts``), figures, status, confidence.
- Status changes: an item whose status ranks above every allegation stored
  before the period about the same accused company and type (alleged ->
  charged, fined, settled...; ranks from ``data/taxonomy.yaml``).
- New companies (first stored in the period), counts, and feeds whose last
  fetch in the period failed. An empty period says "Nothing new" plainly.

Filters (``DigestFilters``): company (canonical name or alias, as accuser or
accused, subsidiaries included), allegation types, feed tag, minimum confidence.

Formats
-------
``md`` (also the plain-text part of an email), ``html`` (one file, inline
styles only, no scripts or external resources: paste into an email body),
``atom`` (one entry per item; entry id ``tag:allegation-tracker,2025:allegation/<id>``
from the item's first allegation id and ``updated`` from its storage time, so
a feed reader shows each item once), and ``json``::

    {
      "digest": "daily" | null,          # cursor name
      "since": "2025-03-02T00:00:00+00:00", "until": "...", "generated": "...",
      "filters": {"company": null, "types": [], "feed_tag": null, "min_confidence": null},
      "nothing_new": false,
      "counts": {"articles": 4, "allegations": 5, "items": 4, "companies_accused": 3,
                 "status_changes": 1, "new_companies": 5, "failed_feeds": 1,
                 "incidents": 2},
      "groups": [{"company": "Alibaba", "items": ["allegation-2"],
                  "incidents": [7]}, ...],       # incident ids in the group, in order
      "incidents": [{"id": 7, "title": "...", "label": "Alibaba: model_distillation",
                     "status": "alleged", "first_seen": "2025-03-02", "last_seen": "...",
                     "source_count": 2, "article_count": 3,   # independent sources, articles
                     "new_article_count": 1,                   # articles that joined in the period
                     "items": ["allegation-2"]}],
      "items": [{"id": "allegation-2", "allegation_ids": [2, 3], "summary": "...",
                 "accuser": "Anthropic", "accused": ["Alibaba"],
                 "types": ["model_distillation"], "status": "alleged",
                 "previous_status": null, "confidence": 0.9,
                 "figures": ["over 25,000 accounts"], "evidence": "...",
                 "first_stored": "...", "last_stored": "...",
                 "incident_id": 7 | null, "incident": "Alibaba: model distillation" | null,
                 "incident_sources": 2 | null,   # the incident's independent sources
                 "sources": [{"title": "...", "url": "...", "site": "...",
                              "published": "2025-03-02"}]}],
      "status_changes": [{"company": "DeepSeek", "type": "model_distillation",
                          "before": "alleged", "after": "charged", "item": "allegation-4"}],
      "new_companies": [{"id": 3, "name": "Anthropic", "kind": "company",
                         "first_seen": "..."}],
      "failed_feeds": [{"id": 3, "name": "Broken feed", "url": "...", "error": "...",
                        "last_fetched": "...", "error_count": 1}]
    }

Scheduling
----------
cron, daily at 07:00 after the fetch::

    0 7 * * *  cd /srv/tracker && tracker run; tracker digest --name daily -o digest.md

systemd: ``tracker-digest.service`` (``Type=oneshot``, ``WorkingDirectory=/srv/tracker``,
``ExecStart=/usr/local/bin/tracker digest --name daily --format atom -o /srv/www/digest.xml``)
and ``tracker-digest.timer`` (``[Timer] OnCalendar=*-*-* 07:00:00``, ``Persistent=true``,
``[Install] WantedBy=timers.target``). A missed run is no loss: the named cursor
makes the next one cover the gap.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import sqlite_utils
import yaml

import tracker
from tracker.errors import QueryError, StorageError, UsageError
from tracker.search import find_company, summarize
from tracker.store import now_iso

FORMATS = ("md", "html", "json", "atom")
TAG_PREFIX = "tag:allegation-tracker,2025:"
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@cache
def taxonomy() -> dict:
    text = resources.files("tracker").joinpath("data/taxonomy.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def status_rank(status: str | None) -> int:
    return (taxonomy().get("statuses", {}).get(status or "", {}) or {}).get("rank", -1)


def type_label(type_id: str) -> str:
    spec = taxonomy().get("types", {}).get(type_id) or {}
    return spec.get("label") or type_id.replace("_", " ")


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestFilters:
    """Which allegations a digest reports; empty fields do not filter."""

    company: str | None = None  # accuser or accused, canonical name or alias
    types: tuple[str, ...] = ()
    feed_tag: str | None = None
    min_confidence: float | None = None


@dataclass(frozen=True)
class Source:
    title: str | None
    url: str
    site: str | None
    published: str | None


@dataclass(frozen=True)
class DigestItem:
    """One new allegation, or several reports of the same one stored in the period."""

    id: str  # stable: "allegation-<first allegation id>"
    allegation_ids: tuple[int, ...]
    summary: str
    accuser: str | None
    accused: tuple[str, ...]
    types: tuple[str, ...]
    status: str
    previous_status: str | None  # highest status stored before the period, when lower
    confidence: float | None
    figures: tuple[str, ...]
    evidence: str
    first_stored: str
    last_stored: str
    sources: tuple[Source, ...]
    incident_id: int | None = None  # the incident (tracker.incidents) its article belongs to
    incident: str | None = None  # that incident's title
    incident_sources: int | None = None  # the incident's independent sources (copies excluded)

    @property
    def tag_uri(self) -> str:
        return f"{TAG_PREFIX}allegation/{self.allegation_ids[0]}"


@dataclass(frozen=True)
class DigestIncident:
    """An incident that new items of the digest belong to (as stored, merges followed)."""

    id: int
    title: str
    label: str | None
    status: str | None
    first_seen: str | None
    last_seen: str | None
    source_count: int  # independent sources: copies do not count
    article_count: int  # all its articles, stored before the digest's period too
    items: tuple[str, ...]  # DigestItem ids
    new_article_count: int = 0  # its articles that joined it in the digest's period


@dataclass(frozen=True)
class StatusChange:
    company: str
    type: str
    before: str
    after: str
    item: str  # DigestItem.id


@dataclass(frozen=True)
class NewCompany:
    id: int
    name: str
    kind: str
    first_seen: str


@dataclass(frozen=True)
class FailedFeed:
    id: int
    name: str | None
    url: str
    error: str
    last_fetched: str
    error_count: int


@dataclass(frozen=True)
class Digest:
    since: str
    until: str
    generated: str
    name: str | None
    filters: DigestFilters
    items: tuple[DigestItem, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (accused company, item ids)
    status_changes: tuple[StatusChange, ...]
    new_companies: tuple[NewCompany, ...]
    failed_feeds: tuple[FailedFeed, ...]
    counts: dict[str, int]
    incidents: tuple[DigestIncident, ...] = ()

    @property
    def nothing_new(self) -> bool:
        return not (self.items or self.new_companies)

    def item(self, item_id: str) -> DigestItem:
        return next(i for i in self.items if i.id == item_id)

    def incident(self, incident_id: int) -> DigestIncident | None:
        return next((i for i in self.incidents if i.id == incident_id), None)

    def to_dict(self) -> dict:
        return {
            "digest": self.name, "since": self.since, "until": self.until,
            "generated": self.generated, "filters": asdict(self.filters),
            "nothing_new": self.nothing_new, "counts": dict(self.counts),
            "groups": [{"company": c, "items": list(ids),
                        "incidents": list(dict.fromkeys(
                            self.item(i).incident_id for i in ids
                            if self.item(i).incident_id is not None))}
                       for c, ids in self.groups],
            "incidents": [asdict(i) for i in self.incidents],
            "items": [asdict(i) for i in self.items],
            "status_changes": [asdict(s) for s in self.status_changes],
            "new_companies": [asdict(c) for c in self.new_companies],
            "failed_feeds": [asdict(f) for f in self.failed_feeds],
        }


# --- period and cursor -----------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_moment(value: str, *, now: datetime | None = None, name: str = "--since") -> str:
    """`24h`, `7d`, `90m`, `2w` (back from now), a date or a date-time, as an ISO UTC string."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(value)
    if match:
        return _iso(now - timedelta(**{_UNITS[match[2]]: int(match[1])}))
    try:
        return _iso(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise QueryError(f"{name} {value!r} is not understood: give a date (2025-03-01), a "
                         "date-time (2025-03-01T06:00) or a length back from now (24h, 7d, 2w)"
                         ) from None


def _check_name(name: str) -> str:
    if not name or not name.strip() or len(name) > 100:
        raise UsageError("--name must be a short non-empty name such as 'daily'")
    return name.strip()


def read_cursor(db: sqlite_utils.Database, name: str) -> str | None:
    """Where the digest of this name last ended, or None for a new name."""
    row = db.execute("SELECT last_until FROM digest_cursors WHERE name = ?",
                     [_check_name(name)]).fetchone()
    return row[0] if row else None


def advance_cursor(db: sqlite_utils.Database, name: str, until: str) -> None:
    """Record that the digest of this name has covered everything stored before `until`."""
    with db.conn:
        db.execute("INSERT INTO digest_cursors (name, last_until, updated) VALUES (?, ?, ?) "
                   "ON CONFLICT(name) DO UPDATE SET last_until = excluded.last_until, "
                   "updated = excluded.updated", [_check_name(name), until, now_iso()])


def resolve_window(db: sqlite_utils.Database, *, since: str | None = None,
                   name: str | None = None, until: str | None = None,
                   now: datetime | None = None) -> tuple[str, str]:
    """The (since, until) of the next digest: the cursor of `name` wins over `since`."""
    now = now or datetime.now(UTC)
    end = parse_moment(until, now=now, name="--until") if until else _iso(now)
    start = read_cursor(db, name) if name else None
    if start is None:
        start = parse_moment(since, now=now) if since else _iso(now - timedelta(hours=24))
    if start > end:
        raise QueryError(f"the digest would start at {start}, after its end {end}")
    return start, end


# --- building --------------------------------------------------------------------------------


def _company_tree(db: sqlite_utils.Database, name: str) -> list[int]:
    cid = find_company(db, name)
    if cid is None:
        raise QueryError(f"no company or alias named {name!r} in the database; check the "
                         "spelling (`tracker search --company` knows the same names)")
    ids, frontier = {cid}, {cid}
    while frontier:
        marks = ",".join("?" * len(frontier))
        frontier = {r[0] for r in db.execute(
            f"SELECT id FROM companies WHERE parent_id IN ({marks})", list(frontier))} - ids
        ids |= frontier
    return sorted(ids)


def _filter_sql(db: sqlite_utils.Database, filters: DigestFilters) -> tuple[str, list]:
    """Conditions over `allegations al` and `articles a` for the filters, validated."""
    clauses, params = [], []
    if filters.company:
        ids = _company_tree(db, filters.company)
        clauses.append(f"al.id IN (SELECT allegation_id FROM allegation_parties WHERE "
                       f"company_id IN ({','.join('?' * len(ids))}))")
        params += ids
    if filters.types:
        known = set(taxonomy().get("types", {})) | {
            r[0] for r in db.execute("SELECT DISTINCT type FROM allegation_types")}
        unknown = [t for t in filters.types if t not in known]
        if unknown:
            raise QueryError(f"unknown allegation type {', '.join(unknown)}: use one of "
                             + ", ".join(sorted(known)))
        clauses.append(f"al.id IN (SELECT allegation_id FROM allegation_types WHERE type IN "
                       f"({','.join('?' * len(filters.types))}))")
        params += list(filters.types)
    if filters.feed_tag:
        tagged = ("SELECT f.id FROM feeds f WHERE EXISTS (SELECT 1 FROM json_each(f.tags) t "
                  "WHERE t.value = ? COLLATE NOCASE)")
        if db.execute(tagged, [filters.feed_tag]).fetchone() is None:
            tags = sorted({r[0] for r in db.execute(
                "SELECT DISTINCT t.value FROM feeds f, json_each(f.tags) t")})
            raise QueryError(f"no feed has the tag {filters.feed_tag!r}; tags in use: "
                             + (", ".join(tags) or "none"))
        clauses.append(f"(a.feed_id IN ({tagged}) OR a.id IN (SELECT article_id FROM "
                       f"article_feeds WHERE feed_id IN ({tagged})))")
        params += [filters.feed_tag, filters.feed_tag]
    if filters.min_confidence is not None:
        if not 0 <= filters.min_confidence <= 1:
            raise QueryError("--min-confidence must be between 0 and 1, "
                             f"not {filters.min_confidence}")
        clauses.append("al.confidence >= ?")
        params.append(filters.min_confidence)
    return " AND ".join(clauses), params


def _allegations(db: sqlite_utils.Database, since: str, until: str,
                 filters: DigestFilters) -> list[dict]:
    where, params = _filter_sql(db, filters)
    cur = db.execute(
        "SELECT al.id, al.types, al.type, al.status, al.evidence, al.confidence, al.created, "
        "al.accuser_id, COALESCE(c.name, al.accuser_name) AS accuser, a.id AS article_id, "
        "a.title, a.url, a.source, a.published, (SELECT ia.incident_id FROM incident_articles ia "
        "WHERE ia.article_id = a.id) AS incident_id FROM allegations al "
        "JOIN articles a ON a.id = al.article_id LEFT JOIN companies c ON c.id = al.accuser_id "
        "WHERE al.created >= ? AND al.created < ?" + (f" AND {where}" if where else "")
        + " ORDER BY al.created, al.id", [since, until, *params])
    cols = [d[0] for d in cur.description]
    found = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    ids = [r["id"] for r in found]
    accused: dict[int, list[tuple[int, str]]] = {}
    figures: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        marks = ",".join("?" * len(part))
        for aid, cid, name in db.execute(
                "SELECT p.allegation_id, c.id, c.name FROM allegation_parties p JOIN companies c "
                f"ON c.id = p.company_id WHERE p.role = 'accused' AND p.allegation_id IN ({marks})"
                " ORDER BY c.name", part):
            accused.setdefault(aid, []).append((cid, name))
        for aid, text, value, unit in db.execute(
                "SELECT allegation_id, text, value, unit FROM figures WHERE allegation_id IN "
                f"({marks}) ORDER BY id", part):
            figures.setdefault(aid, []).append(text or f"{value:g} {unit}")
    incidents = _incidents(db, {r["incident_id"] for r in found if r["incident_id"]})
    for r in found:
        r["incident_id"], r["incident"] = incidents.get(r["incident_id"], (None, None))
        r["incident_sources"] = None
        try:
            r["types"] = list(json.loads(r["types"] or "[]"))
        except ValueError:
            r["types"] = []
        r["types"] = r["types"] or ([r["type"]] if r["type"] else [])
        r["accused"] = accused.get(r["id"], [])
        r["figures"] = figures.get(r["id"], [])
    return found


def _incidents(db: sqlite_utils.Database, ids: set[int]) -> dict[int, tuple[int, str]]:
    """incident id -> (id, title) of the incident it was merged into at the end, or itself."""
    out = {}
    for start in ids:
        current, title, seen = start, None, set()
        while current is not None and current not in seen:
            seen.add(current)
            row = db.execute("SELECT title, merged_into FROM incidents WHERE id = ?",
                             [current]).fetchone()
            if row is None:
                break
            title = row[0]
            if row[1] is None:
                break
            current = row[1]
        if title is not None:
            out[start] = (current, title)
    return out


def _incident_records(db: sqlite_utils.Database, items: list[DigestItem], since: str,
                      until: str) -> tuple[DigestIncident, ...]:
    """The incidents the items belong to, in the items' order, with their source counts and
    how many of their articles joined them in [since, until)."""
    order: dict[int, list[str]] = {}
    for item in items:
        if item.incident_id is not None:
            order.setdefault(item.incident_id, []).append(item.id)
    out = []
    for iid, item_ids in order.items():
        row = db.execute("SELECT title, label, status, first_seen, last_seen, source_count, "
                         "article_count FROM incidents WHERE id = ?", [iid]).fetchone()
        if row is not None:
            new = db.execute("SELECT COUNT(*) FROM incident_articles WHERE incident_id = ? "
                             "AND added >= ? AND added < ?", [iid, since, until]).fetchone()[0]
            out.append(DigestIncident(iid, row[0], row[1], row[2], row[3], row[4], row[5] or 0,
                                      row[6] or 0, tuple(item_ids), new))
    return tuple(out)


def _previous_status(db: sqlite_utils.Database, company_id: int, type_id: str,
                     since: str) -> str | None:
    """The furthest status stored before `since` for this accused company and type."""
    statuses = [r[0] for r in db.execute(
        "SELECT DISTINCT al.status FROM allegations al JOIN allegation_parties p "
        "ON p.allegation_id = al.id AND p.role = 'accused' AND p.company_id = ? "
        "JOIN allegation_types t ON t.allegation_id = al.id AND t.type = ? "
        "WHERE al.created < ?", [company_id, type_id, since])]
    return max(statuses, key=status_rank) if statuses else None


def _merge(db: sqlite_utils.Database, found: list[dict], since: str
           ) -> tuple[list[DigestItem], list[StatusChange]]:
    merged: dict[tuple, list[dict]] = {}
    for r in found:
        key = ((r["accuser"] or "").casefold(), tuple(cid for cid, _ in r["accused"]),
               r["types"][0] if r["types"] else None)
        merged.setdefault(key, []).append(r)
    items, changes = [], []
    for group in merged.values():
        first = group[0]
        status = max((r["status"] for r in group), key=status_rank)
        types = list(dict.fromkeys(t for r in group for t in r["types"]))
        figs = list(dict.fromkeys(f for r in group for f in r["figures"]))
        item_id = f"allegation-{min(r['id'] for r in group)}"
        previous = None
        for cid, cname in first["accused"]:
            for t in types:
                before = _previous_status(db, cid, t, since)
                if before is not None and status_rank(status) > status_rank(before):
                    changes.append(StatusChange(cname, t, before, status, item_id))
                    previous = previous or before
        sources, seen = [], set()
        for r in group:
            if r["url"] not in seen:
                seen.add(r["url"])
                sources.append(Source(r["title"], r["url"], r["source"], r["published"]))
        accused = tuple(name for _, name in first["accused"])
        confidences = [r["confidence"] for r in group if r["confidence"] is not None]
        best = max(group, key=lambda r: (status_rank(r["status"]), r["confidence"] or 0))
        summary = summarize({"accuser": first["accuser"], "accused": list(accused),
                             "types": types, "status": status, "figures": figs})
        items.append(DigestItem(
            id=item_id, allegation_ids=tuple(sorted(r["id"] for r in group)), summary=summary,
            accuser=first["accuser"], accused=accused, types=tuple(types), status=status,
            previous_status=previous,
            confidence=round(max(confidences), 3) if confidences else None,
            figures=tuple(figs), evidence=best["evidence"], first_stored=group[0]["created"],
            last_stored=max(r["created"] for r in group), sources=tuple(sources),
            incident_id=next((r["incident_id"] for r in group if r["incident_id"]), None),
            incident=next((r["incident"] for r in group if r["incident"]), None)))
    # Within a company, items of one incident stay together.
    items.sort(key=lambda i: (i.incident_id is None, i.incident_id or 0, -status_rank(i.status),
                              i.first_stored, i.allegation_ids[0]))
    return items, changes


def build_digest(db: sqlite_utils.Database, *, since: str, until: str,
                 filters: DigestFilters | None = None, name: str | None = None,
                 generated: str | None = None) -> Digest:
    """Everything stored in [since, until) that the filters let through."""
    filters = filters or DigestFilters()
    found = _allegations(db, since, until, filters)
    items, changes = _merge(db, found, since)
    incident_records = _incident_records(db, items, since, until)
    sources = {i.id: i.source_count for i in incident_records}
    items = [replace(i, incident_sources=sources.get(i.incident_id)) for i in items]
    by_company: dict[str, list[str]] = {}
    for item in items:
        for company in item.accused or ("(accused not named)",):
            by_company.setdefault(company, []).append(item.id)
    groups = tuple(sorted(((c, tuple(ids)) for c, ids in by_company.items()),
                          key=lambda g: (-len(g[1]), g[0].casefold())))
    involved = {n for i in items for n in (*i.accused, i.accuser) if n}
    filtered = filters != DigestFilters()
    new_companies = tuple(
        NewCompany(*r) for r in db.execute(
            "SELECT id, name, kind, first_seen FROM companies WHERE first_seen >= ? AND "
            "first_seen < ? ORDER BY name COLLATE NOCASE", [since, until])
        if not filtered or r[1] in involved)
    failed = tuple(FailedFeed(*r) for r in db.execute(
        "SELECT id, name, url, last_error, last_fetched, error_count FROM feeds "
        "WHERE error_count > 0 AND last_error IS NOT NULL AND last_fetched >= ? "
        "AND last_fetched < ? ORDER BY COALESCE(name, url)", [since, until]))
    articles = len({r["article_id"] for r in found}) if filtered else db.execute(
        "SELECT COUNT(*) FROM articles WHERE fetched >= ? AND fetched < ?",
        [since, until]).fetchone()[0]
    counts = {"articles": articles, "allegations": len(found), "items": len(items),
              "companies_accused": len(groups), "status_changes": len(changes),
              "new_companies": len(new_companies), "failed_feeds": len(failed)}
    counts["incidents"] = len(incident_records)
    return Digest(since, until, generated or now_iso(), name, filters, tuple(items), groups,
                  tuple(changes), new_companies, failed, counts, incident_records)


# --- rendering -------------------------------------------------------------------------------


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ") + " UTC"


def _title(d: Digest) -> str:
    return f"Allegation digest{' ' + repr(d.name) if d.name else ''}: " \
           f"{_when(d.since)} to {_when(d.until)}"


def _headline(d: Digest) -> str:
    c = d.counts
    if d.nothing_new:
        text = f"Nothing new between {_when(d.since)} and {_when(d.until)}."
    else:
        text = (f"{c['items']} new allegation{'s' * (c['items'] != 1)} about "
                f"{c['companies_accused']} compan{'ies' if c['companies_accused'] != 1 else 'y'}"
                f" from {c['articles']} article{'s' * (c['articles'] != 1)}; "
                f"{c['status_changes']} status change{'s' * (c['status_changes'] != 1)}; "
                f"{c['new_companies']} new compan"
                f"{'ies' if c['new_companies'] != 1 else 'y'}.")
    if d.failed_feeds:
        text += f" {len(d.failed_feeds)} feed{'s' * (len(d.failed_feeds) != 1)} failed."
    return text


def _details(item: DigestItem) -> str:
    bits = [f"status: {item.status}"]
    if item.previous_status:
        bits[0] += f" (was {item.previous_status})"
    if item.figures:
        bits.append("figures: " + ", ".join(item.figures))
    if item.confidence is not None:
        bits.append(f"confidence {item.confidence:.2f}")
    if item.incident:
        bits.append(f"incident: {item.incident}" + (
            f" ({_sources(item.incident_sources)})" if item.incident_sources is not None else ""))
    return " · ".join(bits)


def _sources(n: int) -> str:
    return f"{n} independent source{'s' * (n != 1)}"


def _incident_line(inc: DigestIncident) -> str:
    """"Incident 7: title — 3 independent sources, 2 new of 4 articles, first seen
    2025-03-02"."""
    total = f"{inc.article_count} article{'s' * (inc.article_count != 1)}"
    bits = [_sources(inc.source_count),
            f"{inc.new_article_count} new of {total}" if inc.new_article_count < inc.article_count
            else total]
    if inc.first_seen:
        bits.append(f"first seen {inc.first_seen}")
    if inc.status:
        bits.append(inc.status)
    return f"Incident {inc.id}: {inc.title} — " + ", ".join(bits)


def _runs(d: Digest, ids) -> list[tuple[DigestIncident | None, list[DigestItem]]]:
    """A company's items in runs: those of one incident together, then those of none."""
    runs: list[tuple[DigestIncident | None, list[DigestItem]]] = []
    for item in map(d.item, ids):
        inc = d.incident(item.incident_id) if item.incident_id is not None else None
        if runs and runs[-1][0] is inc:
            runs[-1][1].append(item)
        else:
            runs.append((inc, [item]))
    return runs


def _source_meta(s: Source) -> str:
    return ", ".join(x for x in (s.site, (s.published or "")[:10]) if x)


def _source_md(s: Source) -> str:
    title = (s.title or s.url).replace("[", "(").replace("]", ")")
    meta = _source_meta(s)
    return f"[{title}](<{s.url}>)" + (f" ({meta})" if meta else "")


def render_markdown(d: Digest) -> str:
    out = [f"# {_title(d)}", "", _headline(d), ""]
    if d.status_changes:
        out += ["## Status changes", ""]
        out += [f"- {s.company}, {type_label(s.type)}: {s.before} -> {s.after}"
                for s in d.status_changes]
        out.append("")
    if d.items:
        out += ["## New allegations", ""]
        for company, ids in d.groups:
            out += [f"### {company} ({len(ids)})", ""]
            for inc, run in _runs(d, ids):
                pad = ""
                if inc is not None:
                    out.append(f"- {_incident_line(inc)}")
                    pad = "  "
                for item in run:
                    out.append(f"{pad}- **{item.summary}**  ")
                    out.append(f"{pad}  {_details(item)}  ")
                    out.append(f"{pad}  Sources: "
                               + "; ".join(_source_md(s) for s in item.sources))
            out.append("")
    if d.new_companies:
        out += ["## New companies", ""]
        out += [f"- {c.name} ({c.kind})" for c in d.new_companies]
        out.append("")
    if d.failed_feeds:
        out += ["## Feeds that failed", ""]
        out += [f"- {f.name or f.url} <{f.url}>: {f.error} (failed {f.error_count} time"
                f"{'s' * (f.error_count != 1)} in a row)" for f in d.failed_feeds]
        out.append("")
    out.append(f"Generated {d.generated} by allegation tracker {tracker.__version__}.")
    return "\n".join(out) + "\n"


_FONT = "font-family:Helvetica,Arial,sans-serif;color:#222;line-height:1.45"
_H2 = "font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px"
_MUTED = "color:#666;font-size:13px"


def render_html(d: Digest) -> str:
    """Email-ready HTML: one file, inline styles, no scripts, readable with tags stripped."""
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{e(_title(d))}</title>", "</head>",
           f'<body style="{_FONT};max-width:720px;margin:0 auto;padding:16px">',
           f'<h1 style="font-size:21px;margin:0 0 8px">{e(_title(d))}</h1>',
           f'<p style="font-size:15px">{e(_headline(d))}</p>']
    if d.status_changes:
        out.append(f'<h2 style="{_H2}">Status changes</h2>\n<ul>')
        out += [f"<li>{e(s.company)}, {e(type_label(s.type))}: {e(s.before)} -&gt; "
                f"<strong>{e(s.after)}</strong></li>" for s in d.status_changes]
        out.append("</ul>")
    if d.items:
        out.append(f'<h2 style="{_H2}">New allegations</h2>')
        for company, ids in d.groups:
            out.append(f'<h3 style="font-size:15px;margin:14px 0 6px">{e(company)} '
                       f'({len(ids)})</h3>\n<ul style="padding-left:20px">')
            for inc, run in _runs(d, ids):
                if inc is not None:
                    out.append(f'<li style="margin-bottom:10px;list-style:square">'
                               f"<em>{e(_incident_line(inc))}</em>\n"
                               f'<ul style="padding-left:18px">')
                for item in run:
                    links = "<br>\n".join(
                        f'<a href="{e(s.url)}" style="color:#1a5fb4">{e(s.title or s.url)}</a> '
                        f'<span style="{_MUTED}">({e(_source_meta(s))})<br>\n{e(s.url)}</span>'
                        for s in item.sources)
                    out.append(f'<li style="margin-bottom:10px"><strong>{e(item.summary)}'
                               f'</strong><br>\n<span style="{_MUTED}">{e(_details(item))}'
                               f"</span><br>\nSources:<br>\n{links}</li>")
                if inc is not None:
                    out.append("</ul></li>")
            out.append("</ul>")
    if d.new_companies:
        out.append(f'<h2 style="{_H2}">New companies</h2>\n<ul>')
        out += [f"<li>{e(c.name)} ({e(c.kind)})</li>" for c in d.new_companies]
        out.append("</ul>")
    if d.failed_feeds:
        out.append(f'<h2 style="{_H2}">Feeds that failed</h2>\n<ul>')
        out += [f"<li>{e(f.name or f.url)} &lt;{e(f.url)}&gt;: {e(f.error)} (failed "
                f"{f.error_count} time{'s' * (f.error_count != 1)} in a row)</li>"
                for f in d.failed_feeds]
        out.append("</ul>")
    out += [f'<p style="{_MUTED};margin-top:24px">Generated {e(d.generated)} by allegation '
            f"tracker {e(tracker.__version__)}.</p>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def render_json(d: Digest) -> str:
    return json.dumps(d.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _x(text: str) -> str:
    """Escape for XML text, dropping characters XML 1.0 cannot hold."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)
    return xml_escape(text)


def render_atom(d: Digest) -> str:
    """An Atom 1.0 feed with one entry per item; ids and times do not change between runs."""
    feed_id = f"{TAG_PREFIX}digest/{d.name or 'default'}"
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<feed xmlns="http://www.w3.org/2005/Atom">',
           f"  <id>{_x(feed_id)}</id>",
           f"  <title>{_x('Allegation digest' + (' ' + d.name if d.name else ''))}</title>",
           f"  <subtitle>{_x(_headline(d))}</subtitle>",
           f"  <updated>{_x(d.until)}</updated>",
           "  <author><name>allegation tracker</name></author>",
           f'  <generator version={quoteattr(tracker.__version__)}>allegation tracker</generator>']
    for item in d.items:
        body = [f"<p><strong>{html.escape(item.summary)}</strong></p>",
                f"<p>{html.escape(_details(item))}</p>",
                f"<p>{html.escape(item.evidence)}</p>", "<ul>"]
        body += [f'<li><a href="{html.escape(s.url)}">{html.escape(s.title or s.url)}</a>'
                 f"{' (' + html.escape(s.site) + ')' if s.site else ''}</li>"
                 for s in item.sources]
        body.append("</ul>")
        out += ["  <entry>",
                f"    <id>{_x(item.tag_uri)}</id>",
                f"    <title>{_x(item.summary)}</title>",
                f"    <updated>{_x(item.last_stored)}</updated>",
                f"    <published>{_x(item.first_stored)}</published>"]
        out += [f'    <link rel="{"alternate" if n == 0 else "related"}" '
                f"href={quoteattr(s.url)}/>" for n, s in enumerate(item.sources)]
        out += [f"    <category term={quoteattr(t)} label={quoteattr(type_label(t))}/>"
                for t in item.types]
        if item.incident_id is not None:
            out.append(f"    <category term={quoteattr(f'incident-{item.incident_id}')} "
                       f"scheme={quoteattr(TAG_PREFIX + 'incident')} "
                       f"label={quoteattr(item.incident or '')}/>")
        out += [f"    <summary>{_x(item.summary + ' — ' + _details(item))}</summary>",
                f'    <content type="html">{_x("".join(body))}</content>',
                "  </entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json,
             "atom": render_atom}


def render(d: Digest, fmt: str) -> str:
    if fmt not in RENDERERS:
        raise UsageError(f"unknown digest format {fmt!r}: use one of {', '.join(FORMATS)}")
    return RENDERERS[fmt](d)


# --- publishing ------------------------------------------------------------------------------


def publish(db: sqlite_utils.Database, d: Digest, fmt: str, output: str | Path | None = None,
            *, dry_run: bool = False, stream: TextIO | None = None) -> str:
    """Render, write to `output` (atomically) or `stream`, then advance the named cursor.

    The cursor moves only once the whole digest was written, and never on a dry run.
    """
    text = render(d, fmt)
    if output is not None:
        path = Path(output)
        tmp = path.with_name(f".{path.name}.part")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot write the digest to {path}: {exc.strerror or exc}; "
                               "the digest cursor was not advanced") from exc
    else:
        stream = stream or sys.stdout
        stream.write(text)
        stream.flush()
    if d.name and not dry_run:
        advance_cursor(db, d.name, d.until)
    return text
