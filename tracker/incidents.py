"""Incidents stage: near-duplicate copies, grouping articles into incidents, contested figures.

Runs after storage, one article at a time (`on_article_stored`), so incidents grow
as articles arrive:

1. **Copies.** The body, without junk lines (navigation, bylines, copyright,
   share buttons, syndication notes), is cut into word shingles; a datasketch
   MinHash of them is stored with its LSH band keys (MinHashLSH chooses the
   banding; the buckets live in SQLite so the index survives between runs).
   Articles sharing a bucket are compared exactly: when most of the shorter
   body's shingles appear in the other, the later one is a copy of the earliest
   version. A syndication note ("(Reuters) -", "originally appeared in")
   lowers the bar when it names the other article's source. Copies are never
   independent sources.
2. **Incidents.** An article joins the incident of its original when it is a
   copy; otherwise the incident, within WINDOW_DAYS, whose parties (accused
   first, then other companies involved) and allegation types match it, or
   whose accuser and distinctive figures it shares. An article that reports an
   allegation and matches none opens a new incident. When an article matches
   two incidents equally well they are merged: the older id survives and the
   other records `merged_into`.
   A publication date whose day and month could be swapped and that nothing
   decided (tracker.dates rule d) matches an incident by either reading; once
   the incident's other stories date it, the fitting reading is stored.
3. **Contested figures and parties.** Per incident, unit and stage, headline
   values (the first figure tied to the incident's allegation) further apart
   than 0.5% given by different independent sources, where no source states
   both; and the different sets of accused the sources name, each with its sources.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import sqlite_utils
import yaml

from tracker import dates, store
from tracker.errors import UsageError

log = logging.getLogger("tracker.incidents")

NUM_PERM = 128
SHINGLE = 5  # words per shingle
LSH_THRESHOLD = 0.3  # low on purpose: copies padded with junk have a low Jaccard
MIN_SHINGLES = 20  # shorter bodies are never called copies (too little text to tell)
COPY_CONTAINMENT = 0.8  # share of the shorter body's shingles found in the other
SYNDICATED_CONTAINMENT = 0.6  # the same, when a syndication note names the other's source
MIN_SIZE_RATIO = 0.3  # a brief quoting one paragraph of a long story is not a copy
WINDOW_DAYS = 60
FIGURE_TOLERANCE = 0.005
# Figures an incident is matched by: the first ones its articles give. A story that has
# gathered this many distinct figures is found by its parties; without a bound, its
# features (read for every article that names one of its parties) grow with every copy.
MAX_FIGURES = 64
REGULATOR_KINDS = ("regulator", "court", "government")
STATUS_RANK = {
    "alleged": 0,
    "investigating": 1,
    "charged": 2,
    "settled": 3,
    "ruled": 4,
    "fined": 5,
    "dismissed": 6,
}
STATUS_EVENT = {
    "investigating": "probe",
    "charged": "charge",
    "settled": "settlement",
    "ruled": "ruling",
    "fined": "fine",
    "dismissed": "dismissal",
}
RESPONSE_EVENT = {
    "denied": "denial",
    "disputed": "dispute",
    "admitted": "admission",
    "settled": "settlement",
    "investigating": "internal review",
}
# Name words too common to identify a party on their own ("Mobile" in "Northwind Mobile").
GENERIC_WORDS = frozenset(
    "ai group technologies technology labs lab systems system mobile health holdings global "
    "international the of and us u s sas inc digital data software media networks network "
    "bank capital partners company companies services solutions robotics semiconductor".split()
)

# --- text: junk lines, syndication notes, shingles --------------------------------------------

_JUNK_LINE = re.compile(
    r"(copyright|©|all rights reserved|powered by|sitemap|subscribe|sign up|newsletter|"
    r"share this|share on|follow us|read more|related (stories|articles|posts)|advertisement|"
    r"click here|cookie|originally (appeared|published)|republished (with|by)|"
    r"\bviews?:|comments?:|author:|source:|^time:|^by [a-z])"
)  # searched in the lower-cased line: far faster than an IGNORECASE search
_DATELINE = re.compile(r"^[A-Z][\w .,'-]{0,60}?\((?P<agency>[A-Z][\w .&'-]{1,40})\)\s*[-–—]\s*")
_NOTE = re.compile(
    r"(?:originally (?:appeared|published) (?:in|on|at|by)|republished (?:with permission )?"
    r"(?:from|by)|syndicated from|courtesy of)\s+(?:the\s+)?(?P<agency>[A-Z][\w.&'-]*"
    r"(?:\s+[A-Z][\w.&'-]*){0,3})"
)


def syndication_source(text: str | None) -> str | None:
    """The agency a syndication note or wire dateline names ("(Reuters) -"), if any."""
    head = (text or "")[:2000]
    for line in head.splitlines()[:8]:
        if m := _DATELINE.match(line.strip()):
            return m.group("agency").strip()
    if m := _NOTE.search(text or ""):
        return m.group("agency").strip().rstrip(".")
    return None


def body_words(text: str | None) -> list[str]:
    """The body's words, lower-cased, without junk lines and datelines."""
    words: list[str] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or _JUNK_LINE.search(line.lower()):
            continue
        line = _DATELINE.sub("", line)
        tokens = re.findall(r"[^\W_]+", line.lower())
        if len(tokens) < 8:  # headings, bylines, navigation, captions
            continue
        words.extend(tokens)
    return words


def shingles(text: str | None) -> set[str]:
    words = body_words(text)
    return {" ".join(words[i : i + SHINGLE]) for i in range(max(0, len(words) - SHINGLE + 1))}


@functools.lru_cache(maxsize=256)
def candidate_shingles(text: str) -> frozenset[str]:
    """Shingles of a stored article checked as the original of a new one. The same few
    articles come up as candidates again and again (a story's first version, a site's
    boilerplate-heavy pages), so recent ones are kept rather than re-shingled each time."""
    return frozenset(shingles(text))


def _lsh_params() -> tuple[int, int]:
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    return lsh.b, lsh.r


_BANDS: tuple[int, int] | None = None


def _band_keys(hashvalues: np.ndarray) -> list[tuple[int, int]]:
    global _BANDS
    if _BANDS is None:
        _BANDS = _lsh_params()
    b, r = _BANDS
    keys = []
    for band in range(b):
        chunk = hashvalues[band * r : (band + 1) * r].astype("<u8").tobytes()
        keys.append((band, int.from_bytes(hashlib.blake2b(chunk, digest_size=7).digest(), "big")))
    return keys


def minhash(sh: set[str]):
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM)
    m.update_batch([s.encode("utf-8") for s in sh])
    return m


def containment(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


# --- article facts ---------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@functools.lru_cache(maxsize=65536)
def _name_tokens(name: str) -> frozenset[str]:
    return frozenset(store.fold_name(name).split())


def names_match(a: str, b: str) -> bool:
    """Same party: one name's words contain the other's ("Quantera" / "Quantera Robotics Inc.")."""
    ta, tb = _name_tokens(a), _name_tokens(b)
    if not ta or not tb:
        return False
    small, big = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return small <= big and bool(small - GENERIC_WORDS)


def _overlap(xs, ys) -> list[str]:
    return [x for x in xs if any(names_match(x, y) for y in ys)]


@dataclass
class ArticleFacts:
    id: int
    title: str
    source: str
    day: date | None  # publication day; None when unknown or implausible
    order_key: tuple  # earliest-version ordering
    core: list[str] = field(default_factory=list)  # parties the article is mainly about
    parties: list[str] = field(default_factory=list)  # every company involved
    accusers: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    figures: set[tuple[int, str]] = field(default_factory=set)
    allegation: bool = False  # reports an allegation (or its title names an enforcement step)
    # The other reading of a publication date whose day and month could be swapped and
    # that nothing decided (dates rule d): (source, value, day); the incident may decide.
    alt_date: tuple[str, str, date] | None = None
    status: str | None = None  # the furthest stage (STATUS_RANK) its allegations report

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "title": self.title,
                "source": self.source,
                "day": self.day.isoformat() if self.day else None,
                "order_key": list(self.order_key),
                "core": self.core,
                "parties": self.parties,
                "accusers": self.accusers,
                "types": self.types,
                "figures": sorted(self.figures),
                "allegation": self.allegation,
                "alt_date": [self.alt_date[0], self.alt_date[1], self.alt_date[2].isoformat()]
                if self.alt_date
                else None,
                "status": self.status,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ArticleFacts:
        d = json.loads(text)
        alt = d["alt_date"]
        return cls(
            id=d["id"],
            title=d["title"],
            source=d["source"],
            day=date.fromisoformat(d["day"]) if d["day"] else None,
            order_key=tuple(d["order_key"]),
            core=d["core"],
            parties=d["parties"],
            accusers=d["accusers"],
            types=d["types"],
            figures={(v, u) for v, u in d["figures"]},
            allegation=d["allegation"],
            alt_date=(alt[0], alt[1], date.fromisoformat(alt[2])) if alt else None,
            status=d["status"],
        )


@functools.lru_cache(maxsize=1)
def _title_cues() -> re.Pattern:
    """Words that mark a headline as news of an allegation or enforcement step.

    Taken from the NLP taxonomy (types, statuses past `alleged`, responses), so a
    user's taxonomy additions count here too without a second list.
    """
    data = yaml.safe_load((Path(__file__).parent / "data" / "taxonomy.yaml").read_text("utf-8"))
    cues: list[str] = []
    for tid, spec in (data.get("types") or {}).items():
        if tid != "other":
            cues.extend(spec.get("cues") or ())
    for name, spec in (data.get("statuses") or {}).items():
        if name != "alleged":
            cues.extend(spec.get("cues") or ())
    for name, spec in (data.get("responses") or {}).items():
        if name != "no_comment":
            cues.extend(spec.get("cues") or ())
    cues.extend(["accus*", "alleg*", "case", "probe*", "watchdog"])
    parts = []
    for cue in dict.fromkeys(c.lower() for c in cues if isinstance(c, str) and c.strip()):
        body = re.escape(cue.rstrip("*")) + (r"\w*" if cue.endswith("*") else "")
        parts.append(body)
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.I)


def _rows(db, sql: str, params=()) -> list[dict]:
    return store.rows(db.execute(sql, list(params)))


def article_facts(db: sqlite_utils.Database, article_id: int) -> ArticleFacts | None:
    """What incident grouping needs to know about one stored article."""
    found = _rows(
        db,
        "SELECT id, title, source, published, fetched, date_flags FROM articles WHERE id = ?",
        [article_id],
    )
    if not found:
        return None
    row = found[0]
    title = row["title"] or ""
    day = _day(row["published"])
    facts = ArticleFacts(
        id=row["id"],
        title=title,
        source=row["source"] or "",
        day=day,
        order_key=(_moment(row["published"], row["fetched"]), row["id"]),
        alt_date=_undecided_reading(row["date_flags"]),
    )
    allegations = _rows(
        db,
        "SELECT id, accuser_name, accuser_id, types, status FROM allegations "
        "WHERE article_id = ? ORDER BY start",
        [article_id],
    )
    parties = defaultdict(list)
    for p in _rows(
        db,
        "SELECT ap.allegation_id, ap.role, c.name, c.kind FROM allegation_parties ap "
        "JOIN companies c ON c.id = ap.company_id JOIN allegations a "
        "ON a.id = ap.allegation_id WHERE a.article_id = ?",
        [article_id],
    ):
        parties[p["allegation_id"]].append(p)
    kinds = {
        r["name"]: r["kind"]
        for r in _rows(
            db,
            "SELECT c.name, c.kind FROM article_companies ac "
            "JOIN companies c ON c.id = ac.company_id "
            "WHERE ac.article_id = ?",
            [article_id],
        )
    }

    def accused_of(a: dict) -> list[str]:
        return [
            p["name"]
            for p in parties[a["id"]]
            if p["role"] == "accused" and p["kind"] not in REGULATOR_KINDS
        ]

    lowered = title.lower()
    title_words = set(re.findall(r"[^\W_]+", store.fold_name(title))) if title else set()
    in_title = [
        n
        for n, k in kinds.items()
        if k not in REGULATOR_KINDS
        and (
            store.fold_name(n) in lowered
            or (_name_tokens(n) - GENERIC_WORDS and _name_tokens(n) - GENERIC_WORDS <= title_words)
        )
    ]
    with_accuser = [a for a in allegations if a["accuser_name"] and accused_of(a)]
    titled = [
        a
        for a in with_accuser
        if _overlap(accused_of(a), in_title)
        or any(names_match(n, t) for n in accused_of(a) for t in re.findall(r"[A-Z][\w-]+", title))
    ]
    chosen = titled or with_accuser or [a for a in allegations if accused_of(a)]
    for a in chosen:
        for name in accused_of(a):
            if name not in facts.core:
                facts.core.append(name)
        for t in json.loads(a["types"] or "[]"):
            if t != "other" and t not in facts.types:
                facts.types.append(t)
    if not facts.core:
        facts.core = list(in_title)
    for a in allegations:
        st = a["status"]
        if st in STATUS_RANK and (
            facts.status is None or STATUS_RANK[st] > STATUS_RANK[facts.status]
        ):
            facts.status = st
        if a["accuser_name"] and a["accuser_name"] not in facts.accusers:
            facts.accusers.append(a["accuser_name"])
        for p in parties[a["id"]]:
            if p["kind"] not in REGULATOR_KINDS and p["name"] not in facts.parties:
                facts.parties.append(p["name"])
    for name in in_title:
        if name not in facts.parties:
            facts.parties.append(name)
    for value, unit in db.execute(
        "SELECT value, unit FROM figures WHERE article_id = ?", [article_id]
    ).fetchall():
        # Small counts ("three labs", "14 customers") recur by chance; large ones identify.
        if value is not None and unit and value >= 1000:
            facts.figures.add((round(value), unit))
    facts.allegation = bool(allegations) or bool(_title_cues().search(title))
    return facts


def cached_facts(db: sqlite_utils.Database, article_ids) -> dict[int, ArticleFacts]:
    """`article_facts` of many articles, read from the cache (incident_facts) where they
    are there and computed and stored once where not; missing articles are left out."""
    ids = list(dict.fromkeys(article_ids))
    out: dict[int, ArticleFacts] = {}
    for i in range(0, len(ids), 500):  # SQLite's limit on bound parameters
        chunk = ids[i : i + 500]
        for aid, text in db.execute(
            f"SELECT article_id, facts FROM incident_facts WHERE article_id IN "
            f"({_placeholders(chunk)})",
            chunk,
        ):
            try:
                out[aid] = ArticleFacts.from_json(text)
            except (ValueError, KeyError, TypeError, IndexError):
                # Written by another version of this module: read the article again.
                log.info("incidents: cached facts of article %s unreadable; recomputing", aid)
    for aid in ids:
        if aid not in out and (f := article_facts(db, aid)) is not None:
            db.execute(
                "INSERT OR REPLACE INTO incident_facts (article_id, facts) VALUES (?, ?)",
                [aid, f.to_json()],
            )
            out[aid] = f
    return out


# --- copies ----------------------------------------------------------------------------------


def copy_root(db: sqlite_utils.Database, article_id: int) -> int:
    """The earliest version of an article (itself when it is not a copy)."""
    seen = set()
    while article_id not in seen:
        seen.add(article_id)
        row = db.execute(
            "SELECT copy_of FROM article_copies WHERE article_id = ?", [article_id]
        ).fetchone()
        if not row:
            return article_id
        article_id = row[0]
    return article_id


def _moment(published: str | None, fetched: str | None) -> str:
    """Sortable UTC-ish instant; a bare date counts as the end of its day, because a
    timestamped wire story and a date-only reprint of the same day are, in that order."""
    for value in (published, fetched):
        if _day(value):
            return value[:19] if len(value) > 10 else value[:10] + "T23:59:59"
    return "9999-12-31T23:59:59"


def _order_key(db, article_id: int) -> tuple:
    row = db.execute(
        "SELECT published, fetched FROM articles WHERE id = ?", [article_id]
    ).fetchone()
    return (_moment(*row) if row else "9999", article_id)


def _detect_copy(db, article_id: int, text: str, source: str | None) -> int | None:
    """Store the article's signature; link it to the earliest version it copies. Returns that."""
    sh = shingles(text)
    synd = syndication_source(text)
    if len(sh) < MIN_SHINGLES:
        db.execute(
            "INSERT OR REPLACE INTO article_signatures VALUES (?, NULL, ?, ?, ?)",
            [article_id, len(sh), synd, store.now_iso()],
        )
        return None
    m = minhash(sh)
    keys = _band_keys(m.hashvalues)
    candidates: set[int] = set()
    for band, key in keys:
        candidates.update(
            r[0]
            for r in db.execute(
                "SELECT article_id FROM article_bands WHERE band = ? AND key = ?", [band, key]
            )
        )
    candidates.discard(article_id)
    best: tuple[float, int, str] | None = None
    for cid in sorted(candidates):
        row = db.execute("SELECT text, source FROM articles WHERE id = ?", [cid]).fetchone()
        if not row:
            continue
        other = candidate_shingles(row[0])
        if not other or min(len(sh), len(other)) / max(len(sh), len(other)) < MIN_SIZE_RATIO:
            continue
        sim = containment(sh, other)
        named = bool(synd and row[1] and names_match(synd, row[1]))
        if sim >= (SYNDICATED_CONTAINMENT if named else COPY_CONTAINMENT) and (
            best is None or sim > best[0]
        ):
            best = (sim, cid, "syndication" if named and sim < COPY_CONTAINMENT else "minhash")
    db.execute(
        "INSERT OR REPLACE INTO article_signatures VALUES (?, ?, ?, ?, ?)",
        [article_id, m.hashvalues.astype("<u8").tobytes(), len(sh), synd, store.now_iso()],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO article_bands (band, key, article_id) VALUES (?, ?, ?)",
        [(band, key, article_id) for band, key in keys],
    )
    if best is None:
        return None
    sim, cid, method = best
    root = copy_root(db, cid)
    if _order_key(db, article_id) < _order_key(db, root):
        # The new article is older than the version we had: it becomes the original.
        db.execute("UPDATE article_copies SET copy_of = ? WHERE copy_of = ?", [article_id, root])
        db.execute(
            "INSERT OR REPLACE INTO article_copies VALUES (?, ?, ?, ?)",
            [root, article_id, round(sim, 4), method],
        )
    else:
        db.execute(
            "INSERT OR REPLACE INTO article_copies VALUES (?, ?, ?, ?)",
            [article_id, root, round(sim, 4), method],
        )
    return root


# --- incidents -------------------------------------------------------------------------------


def resolve(db: sqlite_utils.Database, incident_id: int) -> int | None:
    """The surviving id of an incident (following merges), or None when there is none."""
    seen = set()
    current = incident_id
    while current is not None and current not in seen:
        seen.add(current)
        row = db.execute("SELECT merged_into FROM incidents WHERE id = ?", [current]).fetchone()
        if row is None:
            return None
        if row[0] is None:
            return current
        current = row[0]
    return current


def incident_of(db: sqlite_utils.Database, article_id: int) -> int | None:
    row = db.execute(
        "SELECT incident_id FROM incident_articles WHERE article_id = ?", [article_id]
    ).fetchone()
    return resolve(db, row[0]) if row else None


def _score(a: ArticleFacts, feats: dict) -> tuple[int, bool]:
    """(score, strong) of an article against an incident's features; score 0 = no match."""
    ta, ti = set(a.types), set(feats.get("types", ()))
    if ta and ti and not ta & ti:
        return 0, False
    shared_type = bool(ta & ti)
    core_hit = _overlap(a.core, feats.get("core", ()))
    any_hit = _overlap(
        a.core + a.parties, list(feats.get("core", ())) + list(feats.get("parties", ()))
    )
    figs = a.figures & {tuple(f) for f in feats.get("figures", ())}
    accuser = _overlap(a.accusers, feats.get("accusers", ()))
    if core_hit:
        score = 6 + len(core_hit)
    elif any_hit and (shared_type or figs or not ta):
        score = 3
    elif accuser and figs and shared_type:
        score = 2
    else:
        return 0, False
    return score + 2 * shared_type + min(len(figs), 3), bool(core_hit) and shared_type


def _in_window(day: date | None, first: str | None, last: str | None) -> bool:
    if day is None or not first or not last:
        return True
    window = timedelta(days=WINDOW_DAYS)
    return date.fromisoformat(first) - window <= day <= date.fromisoformat(last) + window


def _in_window_any(facts: ArticleFacts, first: str | None, last: str | None, feats: dict) -> bool:
    """In the incident's window, reading an undecided day/month date either way, on
    either side: the article's own other reading, or a member's (`alt_days`). An
    incident none of whose articles has a publication date (their pages gave only
    impossible ones) is dated by when they were fetched, which says nothing of when the
    story happened: it has no window."""
    if feats.get("dated") is False:
        return True
    days = [facts.day] + ([facts.alt_date[2]] if facts.alt_date else [])
    spans = [(first, last)] + [(d, d) for d in feats.get("alt_days", ())]
    return any(_in_window(d, a, b) for d in days for a, b in spans)


def _undecided_reading(flags_json: str | None) -> tuple[str, str, date] | None:
    """The other reading tracker.dates set aside for want of evidence (`ambiguous_day_month`)."""
    try:
        flags = json.loads(flags_json or "[]")
    except (TypeError, ValueError):
        return None
    for item in flags if isinstance(flags, list) else ():
        source, eq, rest = str(item).partition("=")
        value, _, reason = rest.partition(": ")
        if eq and reason.startswith("ambiguous_day_month") and (day := _day(value)):
            return source, value, day
    return None


def _settle_readings(db, facts: list[ArticleFacts]) -> list[ArticleFacts]:
    """Re-date members whose undecided day/month date only the other reading fits.

    The other members with a settled date are the context (dates rule c): when the
    kept reading lies outside WINDOW_DAYS of all of them and the other reading
    within, the other one is stored, and the flags say the incident decided.
    """
    window = timedelta(days=WINDOW_DAYS)
    settled = [f.day for f in facts if f.day and not f.alt_date]
    changed = []
    for f in facts:
        if not f.alt_date or not settled or f.day is None:
            continue
        source, value, alt = f.alt_date
        if any(abs(f.day - d) <= window for d in settled) or not any(
            abs(alt - d) <= window for d in settled
        ):
            continue
        row = db.execute(
            "SELECT published, date_flags FROM articles WHERE id = ?", [f.id]
        ).fetchone()
        old, flags = row[0], json.loads(row[1] or "[]")
        flags = [
            "other_reading" if x == "ambiguous_day_month" else x
            for x in flags
            if not str(x).startswith(f"{source}={value}: ambiguous_day_month")
        ] + [f"{source}={old}: other_reading: the incident's other stories date from then"]
        db.execute(
            "UPDATE articles SET published = ?, date_flags = ? WHERE id = ?",
            [value, json.dumps(list(dict.fromkeys(flags))), f.id],
        )
        f.day, f.alt_date = alt, None
        f.order_key = (_moment(value, None), f.id)
        changed.append(f)
    return changed


def _cluster(db, article_id: int) -> list[int]:
    root = copy_root(db, article_id)
    return [root] + [
        r[0] for r in db.execute("SELECT article_id FROM article_copies WHERE copy_of = ?", [root])
    ]


def _add(db, incident_id: int, article_ids, reason: str) -> None:
    now = store.now_iso()
    for aid in article_ids:
        db.execute(
            "INSERT OR IGNORE INTO incident_articles VALUES (?, ?, ?, ?)",
            [incident_id, aid, reason, now],
        )


def _assign(db, article_id: int, related: int | None) -> int | None:
    if (existing := incident_of(db, article_id)) is not None:
        return existing
    if related is not None and (inc := incident_of(db, related)) is not None:
        _add(db, inc, [article_id], "copy")
        _absorb(db, inc, [article_id])
        return inc
    facts = cached_facts(db, [article_id]).get(article_id)
    if facts is None or not facts.allegation or not (facts.core or facts.parties):
        return None
    scored = []
    # Only incidents sharing a party's name word or a figure can score (see `_score`).
    for row in _candidates(
        db, _party_keys(facts.core + facts.parties) | _figure_keys(facts.figures)
    ):
        feats = json.loads(row["features"] or "{}")
        if not _in_window_any(facts, row["first_seen"], row["last_seen"], feats):
            continue
        score, strong = _score(facts, feats)
        if score:
            scored.append((score, strong, row["id"]))
    members = [a for a in _cluster(db, article_id) if incident_of(db, a) is None]
    if not scored:
        if not facts.core:
            return None
        now = store.now_iso()
        inc = db.execute(
            "INSERT INTO incidents (title, created, updated) VALUES (?, ?, ?)",
            [facts.title or f"article {article_id}", now, now],
        ).lastrowid
        _add(db, inc, [article_id], "first")
        _add(db, inc, [a for a in members if a != article_id], "copy")
        refresh(db, inc)
        return inc
    scored.sort(key=lambda s: (-s[0], s[2]))
    best = scored[0][2]
    strong = sorted(i for _, is_strong, i in scored if is_strong)
    _add(db, best, [article_id], "parties" if scored[0][0] >= 3 else "figures")
    _add(db, best, [a for a in members if a != article_id], "copy")
    if len(strong) > 1 and best in strong:
        # The article ties two incidents together: the oldest id survives.
        keep = strong[0]
        for other in strong[1:]:
            _merge(db, keep, other)
        refresh(db, keep)
        return keep
    _absorb(db, best, [article_id] + [a for a in members if a != article_id])
    return best


def _source_key(source: str | None, syndicated: str | None) -> str:
    return store.fold_name(syndicated or source or "unknown")


def refresh(db: sqlite_utils.Database, incident_id: int) -> None:
    """Recompute an incident's title, dates, counts, status and matching features from
    all its articles: the full path (new incidents, merges, re-dated or re-analysed
    members); an article joining an incident otherwise goes through `_absorb`."""
    ids = [
        r[0]
        for r in db.execute(
            "SELECT article_id FROM incident_articles WHERE incident_id = ? ORDER BY article_id",
            [incident_id],
        )
    ]
    copies: set[int] = set()
    synd: dict[int, str | None] = {}
    for i in range(0, len(ids), 500):  # SQLite's limit on bound parameters
        chunk = ids[i : i + 500]
        copies.update(
            r[0]
            for r in db.execute(
                f"SELECT article_id FROM article_copies WHERE article_id IN "
                f"({_placeholders(chunk)})",
                chunk,
            )
        )
        synd.update(
            db.execute(
                f"SELECT article_id, syndicated_from FROM article_signatures WHERE article_id IN "
                f"({_placeholders(chunk)})",
                chunk,
            ).fetchall()
        )
    by_id = cached_facts(db, ids)
    facts = [by_id[a] for a in ids if a in by_id]
    if not facts:
        db.execute("DELETE FROM incident_state WHERE incident_id = ?", [incident_id])
        return
    if changed := _settle_readings(db, facts):
        # Re-dating dropped their cached facts (see the triggers); read them again.
        cached_facts(db, [f.id for f in changed])
    originals = [f for f in facts if f.id not in copies]
    state: dict = {
        "n": len(ids),
        "copies": len(copies),
        "max_id": max(ids),
        "core_count": {},
        "parties": [],
        "accusers": [],
        "types": [],
        "figures": [],
        "alt_days": sorted({f.alt_date[2].isoformat() for f in facts if f.alt_date}),
        "originals": len(originals),
        "first": None,
        "dated": False,
        "lo": None,
        "hi": None,
        "sources": [],
        "status": None,
    }
    for f in facts:
        _tally(state, f)
    # Title and sources come from the independent articles (all of them if none is).
    for f in originals or facts:
        _tally_original(state, f, synd.get(f.id))
    _write_state(db, incident_id, state)


def _tally(state: dict, f: ArticleFacts) -> None:
    """Add one member's facts to an incident's running totals (all but title and sources)."""
    counts = state["core_count"]
    for n in f.core:
        counts[n] = counts.get(n, 0) + 1
    for key in ("parties", "accusers", "types"):
        have = state[key]
        for v in getattr(f, key):
            if v not in have:
                have.append(v)
    figs = state["figures"]
    if len(figs) < MAX_FIGURES:
        have = {tuple(x) for x in figs}
        for fig in sorted(f.figures):
            if fig not in have and len(figs) < MAX_FIGURES:
                have.add(fig)
                figs.append(list(fig))
    if f.day:
        days = [f.day]
        if not state["dated"]:  # dated members replace the ones dated by fetch time
            state["dated"], state["lo"], state["hi"] = True, None, None
    elif not state["dated"]:
        d = _day(f.order_key[0])
        days = [d] if d and d != date(9999, 12, 31) else []
    else:
        days = []
    for d in days:
        iso = d.isoformat()
        state["lo"] = iso if state["lo"] is None else min(state["lo"], iso)
        state["hi"] = iso if state["hi"] is None else max(state["hi"], iso)
    st = f.status
    if st in STATUS_RANK and (
        state["status"] is None or STATUS_RANK[st] > STATUS_RANK[state["status"]]
    ):
        state["status"] = st


def _tally_original(state: dict, f: ArticleFacts, syndicated: str | None) -> None:
    key = [f.order_key[0], f.order_key[1], f.title or f"article {f.id}"]
    if state["first"] is None or tuple(key[:2]) < tuple(state["first"][:2]):
        state["first"] = key
    source = _source_key(f.source, syndicated)
    if source not in state["sources"]:
        state["sources"].append(source)


def _write_state(db, incident_id: int, state: dict) -> None:
    """Store the running totals and the incident row they determine."""
    counts = state["core_count"]
    feats: dict = {
        "core": sorted(counts, key=lambda n: (-counts[n], n)),
        "parties": state["parties"],
        "accusers": state["accusers"],
        "types": state["types"],
        "figures": state["figures"],
        "alt_days": state["alt_days"],
        "dated": state["dated"],
    }
    # The parties most articles are about; a name one article's NLP got wrong stays out.
    top = max(counts.values(), default=0)
    feats["main"] = [n for n in feats["core"] if counts[n] * 2 >= top]
    names: list[str] = []
    for n in feats["core"]:
        if not any(names_match(n, m) for m in names):
            names.append(n)
    label = ", ".join(names[:3]) + (": " + ", ".join(feats["types"][:2]) if feats["types"] else "")
    db.execute(
        "UPDATE incidents SET title = ?, label = ?, status = ?, first_seen = ?, last_seen = ?, "
        "article_count = ?, source_count = ?, features = ?, updated = ? WHERE id = ?",
        [
            state["first"][2],
            label,
            state["status"],
            state["lo"],
            state["hi"],
            state["n"],
            len(state["sources"]),
            json.dumps(feats),
            store.now_iso(),
            incident_id,
        ],
    )
    db.execute(
        "INSERT OR REPLACE INTO incident_state (incident_id, state) VALUES (?, ?)",
        [incident_id, json.dumps(state)],
    )
    _index(db, incident_id, feats)


def _party_keys(names) -> set[str]:
    # Two names match only when they share a word outside GENERIC_WORDS (see names_match),
    # so an incident sharing none of these keys with an article cannot match it.
    return {"p:" + t for n in names for t in _name_tokens(n) - GENERIC_WORDS}


def _figure_keys(figures) -> set[str]:
    return {f"f:{v}:{u}" for v, u in figures}


def _index(db, incident_id: int, feats: dict) -> None:
    """Record the keys an incident can be found by (incident_keys); never removes one,
    so a key may be stale (the exact checks drop such incidents) but none is missing."""
    keys = _party_keys(list(feats.get("core", ())) + list(feats.get("parties", ()))) | (
        _figure_keys(feats.get("figures", ()))
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO incident_keys (key, incident_id) VALUES (?, ?)",
        [(k, incident_id) for k in sorted(keys)],
    )


def _candidates(db, keys: set[str]) -> list[dict]:
    """Live incidents sharing one of `keys`, in id order (after indexing any incident
    grouped before incident_keys existed)."""
    todo = [r[0] for r in db.execute("SELECT incident_id FROM incident_keys WHERE key = '?'")]
    for inc in todo:
        row = db.execute("SELECT features FROM incidents WHERE id = ?", [inc]).fetchone()
        _index(db, inc, json.loads((row[0] if row else None) or "{}"))
        db.execute("DELETE FROM incident_keys WHERE key = '?' AND incident_id = ?", [inc])
    if not keys:
        return []
    found: set[int] = set()
    ordered = sorted(keys)
    for i in range(0, len(ordered), 500):  # SQLite's limit on bound parameters
        chunk = ordered[i : i + 500]
        found.update(
            r[0]
            for r in db.execute(
                f"SELECT incident_id FROM incident_keys WHERE key IN ({_placeholders(chunk)})",
                chunk,
            )
        )
    ids = sorted(found)
    out: list[dict] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out.extend(
            _rows(
                db,
                f"SELECT id, first_seen, last_seen, features FROM incidents "
                f"WHERE id IN ({_placeholders(chunk)}) AND merged_into IS NULL ORDER BY id",
                chunk,
            )
        )
    return out


def _absorb(db, incident_id: int, new_ids: list[int]) -> None:
    """Update an incident for articles that just joined it, from their facts alone.

    Falls back to the full `refresh` whenever the running totals cannot tell the
    outcome: no totals stored, members changed since (a merge, a re-analysed or
    re-dated member, a re-rooted copy), joiners older than members (the totals keep
    members in id order), or an undecided day/month date on either side (a joiner
    may settle a member's reading, and settling re-dates).
    """
    row = db.execute(
        "SELECT state FROM incident_state WHERE incident_id = ?", [incident_id]
    ).fetchone()
    state = json.loads(row[0]) if row else None
    new_ids = sorted(new_ids)
    new = cached_facts(db, new_ids)
    n, with_facts, n_copies = db.execute(
        "SELECT COUNT(*), COUNT(f.article_id), COUNT(c.article_id) FROM incident_articles ia "
        "LEFT JOIN incident_facts f ON f.article_id = ia.article_id "
        "LEFT JOIN article_copies c ON c.article_id = ia.article_id WHERE ia.incident_id = ?",
        [incident_id],
    ).fetchone()
    copies = {
        r[0]
        for r in db.execute(
            f"SELECT article_id FROM article_copies WHERE article_id IN ({_placeholders(new_ids)})",
            new_ids,
        )
    }
    if (
        state is None
        or not new_ids
        or len(new) != len(new_ids)
        or new_ids[0] <= state["max_id"]
        or state["alt_days"]
        or any(f.alt_date for f in new.values())
        or state["originals"] == 0
        or n != state["n"] + len(new_ids)
        or with_facts != n
        or n_copies != state["copies"] + len(copies)
    ):
        refresh(db, incident_id)
        return
    synd = dict(
        db.execute(
            f"SELECT article_id, syndicated_from FROM article_signatures WHERE article_id IN "
            f"({_placeholders(new_ids)})",
            new_ids,
        ).fetchall()
    )
    for aid in new_ids:
        f = new[aid]
        _tally(state, f)
        if aid in copies:
            state["copies"] += 1
        else:
            state["originals"] += 1
            _tally_original(state, f, synd.get(aid))
    state["n"] = n
    state["max_id"] = new_ids[-1]
    _write_state(db, incident_id, state)


def _merge(db, keep: int, other: int) -> None:
    db.execute("UPDATE incident_articles SET incident_id = ? WHERE incident_id = ?", [keep, other])
    db.execute("DELETE FROM incident_state WHERE incident_id IN (?, ?)", [keep, other])
    db.execute("DELETE FROM incident_keys WHERE incident_id = ?", [other])
    db.execute("UPDATE incidents SET merged_into = ? WHERE merged_into = ?", [keep, other])
    db.execute(
        "UPDATE incidents SET merged_into = ?, article_count = 0, source_count = 0, "
        "updated = ? WHERE id = ?",
        [keep, store.now_iso(), other],
    )


def merge_incidents(db: sqlite_utils.Database, keep_id: int, other_id: int) -> int:
    """Merge incident `other_id` into `keep_id` (other records merged_into); returns keep's id."""
    keep, other = resolve(db, keep_id), resolve(db, other_id)
    if keep is None or other is None:
        missing = keep_id if keep is None else other_id
        raise UsageError(f"no incident {missing}: list them with `tracker incidents`")
    if keep == other:
        return keep
    with db.conn:
        _merge(db, keep, other)
        refresh(db, keep)
    return keep


# --- the hook the pipeline calls -------------------------------------------------------------


def _date_choice(db, row: dict) -> None:
    try:
        candidates = [
            tuple(c)
            for c in json.loads(row["date_candidates"] or "[]")
            if isinstance(c, list | tuple) and len(c) == 2
        ]
    except (ValueError, TypeError):
        candidates = []
    if row["published"] and row["published"] not in {c[1] for c in candidates}:
        candidates.append(("stored", row["published"]))
    if not candidates:
        return
    names = [
        r[0]
        for r in db.execute(
            "SELECT c.name FROM article_companies ac JOIN companies c ON c.id = ac.company_id "
            "WHERE ac.article_id = ?",
            [row["id"]],
        )
    ]
    # The stories about the same accused parties date the article when its own date is a
    # day/month puzzle ("02/11/2026"); see tracker.dates rule c.
    def context() -> list[str]:
        return [
            d
            for row in (_candidates(db, _party_keys(names)) if names else [])
            if (feats := json.loads(row["features"] or "{}")).get("dated") is not False
            and _overlap(names, feats.get("core", []))
            for d in (row["first_seen"], row["last_seen"])
            if d
        ]

    chosen = dates.choose_published(
        candidates,
        fetched=row["fetched"],
        text=f"{row['title'] or ''}\n\n{row['text'] or ''}",
        entities=names,
        context=context,
    )
    flags = list(chosen.flags) + [f"{s}={v}: {why}" for s, v, why in chosen.rejected]
    db.execute(
        "UPDATE articles SET published = ?, date_source = ?, date_flags = ? WHERE id = ?",
        [chosen.value, chosen.source, json.dumps(flags), row["id"]],
    )


def process_article(db: sqlite_utils.Database, article_id: int) -> int | None:
    """Date check, copy detection and incident assignment for one stored article.

    Returns the incident id (or None). Idempotent: an article already processed
    is left as it is. Raises on database errors; `on_article_stored` does not.
    """
    if db.execute("SELECT 1 FROM article_signatures WHERE article_id = ?", [article_id]).fetchone():
        return incident_of(db, article_id)
    found = _rows(
        db,
        "SELECT id, title, text, source, published, fetched, date_candidates "
        "FROM articles WHERE id = ?",
        [article_id],
    )
    if not found:
        return None
    row = found[0]
    with db.conn:
        _date_choice(db, row)
        related = _detect_copy(db, article_id, row["text"] or "", row["source"])
        return _assign(db, article_id, related)


def on_article_stored(db: sqlite_utils.Database, article_id: int) -> None:
    """Pipeline hook: call after `store.save_article` created an article. Never raises."""
    try:
        process_article(db, article_id)
    except Exception as exc:  # grouping is an extra: it must never lose the run an article
        log.warning("incidents: article %s not grouped: %s", article_id, exc)


def rebuild(db: sqlite_utils.Database) -> int:
    """Process every stored article not processed yet, oldest first; returns how many."""
    todo = [
        r[0]
        for r in db.execute(
            "SELECT a.id FROM articles a LEFT JOIN article_signatures s ON s.article_id = a.id "
            "WHERE s.article_id IS NULL ORDER BY COALESCE(a.published, a.fetched), a.id"
        )
    ]
    for aid in todo:
        on_article_stored(db, aid)
    return len(todo)


# --- reading incidents -----------------------------------------------------------------------


def _placeholders(ids) -> str:
    return ",".join("?" * len(ids))


def incident_articles(db: sqlite_utils.Database, incident_id: int) -> list[dict]:
    """The incident's articles, oldest first, each with its copy link and independence."""
    found = _rows(
        db,
        "SELECT a.id, a.url, a.title, a.source, a.published, a.fetched, a.date_flags, "
        "ia.reason, c.copy_of, c.similarity, s.syndicated_from FROM incident_articles ia "
        "JOIN articles a ON a.id = ia.article_id "
        "LEFT JOIN article_copies c ON c.article_id = a.id "
        "LEFT JOIN article_signatures s ON s.article_id = a.id WHERE ia.incident_id = ?",
        [incident_id],
    )
    for r in found:
        r["independent"] = r["copy_of"] is None
        r["date_flags"] = json.loads(r["date_flags"] or "[]")
        r["source_key"] = _source_key(r["source"], r["syndicated_from"])
    found.sort(key=lambda r: (_moment(r["published"], r["fetched"]), r["id"]))
    return found


def timeline(db: sqlite_utils.Database, incident_id: int) -> list[dict]:
    """Developments in date order: first report, then probes, charges, fines, settlements,
    denials and admissions, each the first time an article reports it for a party."""
    arts = incident_articles(db, incident_id)
    if not arts:
        return []
    feats = json.loads(
        (
            db.execute("SELECT features FROM incidents WHERE id = ?", [incident_id]).fetchone()
            or ["{}"]
        )[0]
        or "{}"
    )
    core = feats.get("main") or feats.get("core", [])
    first = next((a for a in arts if a["independent"]), arts[0])
    events = [
        {
            "date": (first["published"] or first["fetched"] or "")[:10],
            "event": "first report",
            "party": None,
            "article_id": first["id"],
            "source": first["source"],
            "evidence": first["title"],
        }
    ]
    seen = set()
    ids = [a["id"] for a in arts]
    by_id = {a["id"]: a for a in arts}
    for a in _rows(
        db,
        f"SELECT a.id, a.article_id, a.status, a.evidence, a.start, "
        f"(SELECT group_concat(c.name, '|') FROM allegation_parties ap JOIN companies c "
        f"ON c.id = ap.company_id WHERE ap.allegation_id = a.id AND ap.role = 'accused') "
        f"AS accused FROM allegations a WHERE a.article_id IN ({_placeholders(ids)}) "
        f"ORDER BY a.start",
        ids,
    ):
        event = STATUS_EVENT.get(a["status"])
        accused = [n for n in (a["accused"] or "").split("|") if n]
        if not event or (core and accused and not _overlap(accused, core)):
            continue
        party = next((n for n in accused if _overlap([n], core)), accused[0] if accused else None)
        events.append(
            {
                "article_id": a["article_id"],
                "event": event,
                "party": party,
                "evidence": a["evidence"],
            }
        )
    for r in _rows(
        db,
        f"SELECT article_id, company_name, response, evidence FROM responses "
        f"WHERE article_id IN ({_placeholders(ids)})",
        ids,
    ):
        event = RESPONSE_EVENT.get(r["response"])
        if event and (not core or _overlap([r["company_name"]], core)):
            events.append(
                {
                    "article_id": r["article_id"],
                    "event": event,
                    "party": r["company_name"],
                    "evidence": r["evidence"],
                }
            )
    out = [events[0]]
    for e in events[1:]:
        art = by_id[e["article_id"]]
        e["date"] = (art["published"] or art["fetched"] or "")[:10]
        e["source"] = art["source"]
        key = (e["event"], store.fold_name(e["party"] or ""))
        if key not in seen:
            seen.add(key)
            out.append(e)
    out[1:] = sorted(out[1:], key=lambda e: (e["date"], e["article_id"]))
    return out


@dataclass
class _Stance:
    """What one independent article says about the incident's allegation."""

    article_id: int
    source_key: str
    on_topic: dict[int, list[str]]  # allegation id -> its accused (the incident's allegation)
    related: set[int]  # other allegations naming the incident's parties (an accuser as accused)

    def headline_allegations(self) -> set[int]:
        """Allegations whose figures may be this article's headline figures: the incident's;
        failing those, the ones naming its parties in another role (a misread accuser)."""
        return set(self.on_topic) or self.related


def _stances(db, incident_id: int) -> tuple[list[_Stance], list[str]]:
    """Each independent article's allegations split into the incident's and others, and the
    incident's principal accused (named by more than half of the articles naming anyone).

    An allegation belongs to the incident when it accuses a principal party: a party one
    article alone names (often a firm hired to investigate, or the accuser misread as
    accused) does not make that article's other allegations the incident's. When no party
    has such a majority (two articles, two readings), the incident's core parties decide.
    """
    arts = [a for a in incident_articles(db, incident_id) if a["independent"]]
    if not arts:
        return [], []
    by_id = {a["id"]: a for a in arts}
    ids = list(by_id)
    accused: dict[int, dict[int, list[str]]] = defaultdict(dict)
    accuser: dict[int, str | None] = {}
    for aid, alg, by, name, kind in db.execute(
        f"SELECT a.article_id, a.id, a.accuser_name, c.name, c.kind FROM allegations a "
        f"LEFT JOIN allegation_parties ap ON ap.allegation_id = a.id AND ap.role = 'accused' "
        f"LEFT JOIN companies c ON c.id = ap.company_id "
        f"WHERE a.article_id IN ({_placeholders(ids)}) ORDER BY a.start, a.id, ap.rowid",
        ids,
    ).fetchall():
        names = accused[aid].setdefault(alg, [])
        accuser[alg] = by
        if name and kind not in REGULATOR_KINDS and name not in names:
            names.append(name)
    naming = [aid for aid in ids if any(accused[aid].values())]
    counts: dict[str, int] = defaultdict(int)
    canon: list[str] = []  # one spelling per party, in first-seen order
    for aid in naming:
        seen_here: set[str] = set()
        for names in accused[aid].values():
            for n in names:
                key = _spelling(canon, n)
                if key not in seen_here:
                    seen_here.add(key)
                    counts[key] += 1
    principal = [c for c in canon if counts[c] * 2 > len(naming)]
    feats = json.loads(
        (
            db.execute("SELECT features FROM incidents WHERE id = ?", [incident_id]).fetchone()
            or ["{}"]
        )[0]
        or "{}"
    )
    if not principal:
        principal = list(feats.get("core", []))
    known = list(feats.get("core", [])) + list(feats.get("accusers", []))
    stances = []
    for aid in ids:
        on, related = {}, set()
        for alg, names in accused[aid].items():
            if names and _overlap(names, principal):
                on[alg] = names
            elif _overlap(names + [accuser[alg] or ""], known):
                related.add(alg)
        stances.append(_Stance(aid, by_id[aid]["source_key"], on, related))
    return stances, principal


def _spelling(canon: list[str], name: str) -> str:
    """The spelling already in `canon` for the party `name` names; a new party is added."""
    for known in canon:
        if names_match(known, name):
            return known
    canon.append(name)
    return name


def contested_parties(db: sqlite_utils.Database, incident_id: int) -> list[dict]:
    """Different sets of accused named by independent sources, each set with its sources.

    An article's set is every party accused in its allegations that belong to the
    incident (see `_stances`), names of one party ("Quantera", "Quantera Robotics
    Inc.") counted once. Sets are listed only when at least two sources disagree;
    the most widely reported set comes first. Empty when the sources agree.
    """
    resolved = resolve(db, incident_id)
    if resolved is None:
        raise UsageError(f"no incident {incident_id}: list them with `tracker incidents`")
    stances, principal = _stances(db, resolved)
    canon: list[str] = list(principal)
    sets: dict[frozenset, dict] = {}
    for st in stances:
        names: list[str] = []
        for accused in st.on_topic.values():
            for n in accused:
                key = _spelling(canon, n)
                if key not in names:
                    names.append(key)
        if not names:
            continue
        entry = sets.setdefault(
            frozenset(names), {"accused": names, "sources": set(), "articles": set()}
        )
        entry["sources"].add(st.source_key)
        entry["articles"].add(st.article_id)
    if len(sets) < 2 or len(set().union(*(e["sources"] for e in sets.values()))) < 2:
        return []
    order = {n: i for i, n in enumerate(canon)}
    out = [
        {
            "accused": sorted(e["accused"], key=lambda n: order[n]),
            "sources": sorted(e["sources"]),
            "articles": sorted(e["articles"]),
        }
        for e in sets.values()
    ]
    out.sort(key=lambda e: (-len(e["sources"]), -len(e["accused"]), e["accused"]))
    return out


def contested_figures(db: sqlite_utils.Database, incident_id: int) -> list[dict]:
    """Figures of one unit on which independent sources disagree, each value with its sources.

    Each article's headline figure per unit and stage counts: the first figure it
    ties to one of its allegations that belong to the incident (`_stances`), not
    simply its first figure of the unit, which may describe another case (a blog
    recalling an earlier fine). A figure tied to no allegation can only back a
    value another source gives as its headline; it never opens a disagreement on
    its own. A fine and a later settlement are different amounts, not a
    disagreement, so figures are compared within the stage (status) of their
    allegation. Values within 0.5% of each other are one value; copies are left
    out; two values count as contested only when a source of one does not also
    state the other (an article reporting "24,000, not 25,000 as first said" does
    not disagree with either).
    """
    resolved = resolve(db, incident_id)
    if resolved is None:
        raise UsageError(f"no incident {incident_id}: list them with `tracker incidents`")
    stances, _ = _stances(db, resolved)
    if not stances:
        return []
    by_id = {st.article_id: st for st in stances}
    ids = list(by_id)
    figures = _rows(
        db,
        f"SELECT f.article_id, f.allegation_id, f.value, f.unit, f.text, "
        f"a.status FROM figures f LEFT JOIN allegations a ON a.id = f.allegation_id "
        f"WHERE f.article_id IN ({_placeholders(ids)}) AND f.value IS NOT NULL "
        f"ORDER BY f.article_id, f.start, f.id",
        ids,
    )
    stated: dict[tuple[int, str], list[float]] = defaultdict(list)
    headline: dict[tuple[int, str, str | None], dict] = {}
    loose: list[dict] = []
    for fig in figures:
        stated[(fig["article_id"], fig["unit"])].append(fig["value"])
        if fig["allegation_id"] in by_id[fig["article_id"]].headline_allegations():
            headline.setdefault((fig["article_id"], fig["unit"], fig["status"]), fig)
        elif fig["allegation_id"] is None:
            loose.append(fig)

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= FIGURE_TOLERANCE * max(abs(a), abs(b), 1e-9)

    def add(values: list[dict], fig: dict, v: dict | None = None) -> None:
        if v is None:
            v = {"value": fig["value"], "sources": set(), "articles": set(), "texts": []}
            values.append(v)
        v["sources"].add(by_id[fig["article_id"]].source_key)
        v["articles"].add(fig["article_id"])
        if fig["text"] and fig["text"] not in v["texts"]:
            v["texts"].append(fig["text"])

    per_unit: dict[tuple, list[dict]] = defaultdict(list)
    for (_, unit, status), fig in headline.items():
        values = per_unit[(unit, status)]
        add(values, fig, next((v for v in values if close(v["value"], fig["value"])), None))
    for fig in loose:
        for (unit, _), values in per_unit.items():
            if unit != fig["unit"] or fig["article_id"] in set().union(
                *(v["articles"] for v in values)
            ):
                continue
            if v := next((v for v in values if close(v["value"], fig["value"])), None):
                add(values, fig, v)

    def disagree(x: dict, y: dict) -> bool:
        """Some article gives x and not y, and another gives y and not x, from two sources."""
        only_x = [
            a for a in x["articles"] if not any(close(s, y["value"]) for s in stated[(a, unit)])
        ]
        only_y = [
            a for a in y["articles"] if not any(close(s, x["value"]) for s in stated[(a, unit)])
        ]
        return any(by_id[a].source_key != by_id[b].source_key for a in only_x for b in only_y)

    out = []
    for (unit, status), values in sorted(
        per_unit.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        if not any(disagree(x, y) for i, x in enumerate(values) for y in values[i + 1 :]):
            continue
        values.sort(key=lambda v: v["value"])
        out.append(
            {
                "unit": unit,
                "status": status,
                "values": [
                    {
                        "value": int(v["value"]) if float(v["value"]).is_integer() else v["value"],
                        "sources": sorted(v["sources"]),
                        "articles": sorted(v["articles"]),
                        "texts": v["texts"][:3],
                    }
                    for v in values
                ],
            }
        )
    return out


def get_incident(db: sqlite_utils.Database, incident_id: int) -> dict:
    """One incident with its articles, timeline and contested figures; follows merges."""
    resolved = resolve(db, incident_id)
    if resolved is None:
        raise UsageError(f"no incident {incident_id}: list them with `tracker incidents`")
    row = _rows(db, "SELECT * FROM incidents WHERE id = ?", [resolved])[0]
    features = json.loads(row.pop("features") or "{}")
    row["accused"] = features.get("core", [])
    row["types"] = features.get("types", [])
    row["requested_id"] = incident_id
    row["merged_from"] = [
        r[0]
        for r in db.execute(
            "SELECT id FROM incidents WHERE merged_into = ? ORDER BY id", [resolved]
        )
    ]
    row["articles"] = incident_articles(db, resolved)
    row["timeline"] = timeline(db, resolved)
    row["contested_figures"] = contested_figures(db, resolved)
    row["contested_parties"] = contested_parties(db, resolved)
    return row


def list_incidents(
    db: sqlite_utils.Database,
    *,
    company: str | None = None,
    since: str | None = None,
    limit: int = 50,
) -> list[dict]:
    """Live (not merged) incidents, most recently seen first; `company` matches an accused party."""
    found = _rows(
        db,
        "SELECT id, title, label, status, first_seen, last_seen, article_count, "
        "source_count, features FROM incidents WHERE merged_into IS NULL "
        "AND (? IS NULL OR last_seen >= ?) ORDER BY last_seen DESC, id DESC",
        [since, since],
    )
    out = []
    for r in found:
        feats = json.loads(r.pop("features") or "{}")
        r["accused"] = feats.get("core", [])
        r["types"] = feats.get("types", [])
        if company and not _overlap([company], r["accused"] + feats.get("parties", [])):
            continue
        out.append(r)
        if len(out) >= limit:
            break
    return out
