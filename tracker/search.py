"""Search stage: an analyst's question (free text plus filters) -> ranked articles and facets.

`SearchFilters` describes the question; `filter_clause` turns it into a SQL
WHERE fragment over `articles a` with bound parameters (digests and exports
reuse it); `search` runs it with BM25 or date order, snippets, allegation
summaries and facet counts. The read-only page queries of the web app
(`article_detail`, `company_detail`) live here too, so scripts can call them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import sqlite_utils

from tracker.countries import country_codes
from tracker.errors import QueryError
from tracker.records import COMPANY_KINDS
from tracker.store import company_key, fold_name, rows

# Snippet markers: private-use characters that never occur in article text, so
# callers can split the snippet into plain and highlighted parts before escaping.
MARK_START = "\ue000"
MARK_END = "\ue001"

SORTS = ("relevance", "date")
FACETS = ("type", "company", "source", "year")
FACET_LIMIT = 12
MAX_LIMIT = 500

# ISO 4217 codes the figure filter recognises in any letter case; other
# three-letter units are still accepted when written in capitals.
CURRENCIES = {
    "USD", "EUR", "GBP", "CNY", "RMB", "JPY", "CHF", "CAD", "AUD", "INR", "KRW", "HKD", "SGD",
    "SEK", "NOK", "DKK", "BRL", "RUB", "TRY", "ZAR", "NZD", "PLN", "MXN", "TWD", "ILS",
}
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6,
                "b": 1e9, "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12}
_FIGURE_RE = re.compile(
    r"^\s*(?P<unit>[A-Za-z][A-Za-z _-]*?)\s*(?P<op>>=|<=|=>|=<|==|>|<|=)\s*"
    r"(?P<num>\d[\d,_]*(?:\.\d+)?)\s*(?P<mult>[A-Za-z]+)?\s*$"
)


# --- filters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureFilter:
    """A condition on a figure found in the article: `unit op value` (e.g. accounts >= 1e6)."""

    unit: str  # lower-case plural count noun, or ISO 4217 code for money
    op: str  # one of >=, >, <=, <, =
    value: float

    @property
    def is_money(self) -> bool:
        return len(self.unit) == 3 and self.unit.isupper()

    def __str__(self) -> str:
        value = int(self.value) if float(self.value).is_integer() else self.value
        return f"{self.unit}{self.op}{value}"


def parse_figure_filter(text: str) -> FigureFilter:
    """Parse `accounts>=1000000`, `EUR >= 100m` or `users>2.5 million` into a FigureFilter."""
    match = _FIGURE_RE.match(text or "")
    if not match:
        raise QueryError(
            f"figure filter {text!r} is not understood: write UNIT OPERATOR NUMBER, for example "
            "'accounts>=1000000' or 'EUR>=100m' (operators: >=, >, <=, <, =)"
        )
    unit = " ".join(match["unit"].split())
    if unit.upper() in CURRENCIES or (len(unit) == 3 and unit.isupper()):
        unit = unit.upper()
    else:
        unit = unit.lower()
    op = {"=>": ">=", "=<": "<=", "==": "="}.get(match["op"], match["op"])
    value = float(match["num"].replace(",", "").replace("_", ""))
    if match["mult"]:
        mult = _MULTIPLIERS.get(match["mult"].lower())
        if mult is None:
            raise QueryError(
                f"figure filter {text!r}: unknown multiplier {match['mult']!r} "
                "(use k, m, bn, thousand, million or billion)"
            )
        value *= mult
    return FigureFilter(unit=unit, op=op, value=value)


@dataclass(frozen=True)
class SearchFilters:
    """What an analyst asks for. Empty fields do not filter; tuples are OR-ed within a field.

    Allegation conditions (accuser, accused, types, status) must all hold for
    the same allegation of the article.
    """

    query: str | None = None  # FTS5 syntax: words, "phrases", prefix*, AND/OR/NOT, ( )
    company: str | None = None  # canonical name or any alias; articles naming it
    include_subsidiaries: bool = False  # company also matches its subsidiaries (any depth)
    accuser: str | None = None
    accused: str | None = None
    types: tuple[str, ...] = ()  # allegation type ids, e.g. model_distillation
    status: tuple[str, ...] = ()  # alleged, investigating, charged, fined, settled...
    since: str | None = None  # published on or after: YYYY, YYYY-MM or YYYY-MM-DD
    until: str | None = None  # published on or before (the whole year/month/day included)
    source: str | None = None  # site name, or a feed's name or URL
    feed_tag: str | None = None  # a tag given to the feed in feeds.yaml
    language: str | None = None  # "en" also matches "en-GB"
    figures: tuple[FigureFilter, ...] = ()  # all must hold (each by some figure)
    incident: int | None = None  # articles of this incident (a merged id means its survivor)
    # The party's country: codes or names ("CN", "Chinese"); a region ("EU") counts
    # its members too (tracker/data/countries.yaml).
    accuser_country: tuple[str, ...] = ()
    accused_country: tuple[str, ...] = ()
    # The party's kind: company, regulator, court, government, university, other...
    accuser_kind: tuple[str, ...] = ()
    accused_kind: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not any((self.query and self.query.strip(), self.company, self.types,
                        self.status, self.since, self.until, self.source, self.feed_tag,
                        self.language, self.figures, self.incident is not None,
                        self.has_party_filter()))

    def has_party_filter(self) -> bool:
        """True when some condition is on an allegation's accuser or accused."""
        return bool(self.accuser or self.accused or self.accuser_country
                    or self.accused_country or self.accuser_kind or self.accused_kind)


def _parse_date(text: str, *, end: bool, name: str) -> str:
    """`2025`, `2025-03` or `2025-03-07` to an ISO bound; `end` gives the day after the period."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text)
    if not m:
        raise QueryError(f"{name} date {text!r} is not understood: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        start = date(year, month, day)
    except ValueError as exc:
        raise QueryError(f"{name} date {text!r} is not a real date: {exc}") from exc
    if not end:
        return start.isoformat()
    if m[3]:
        stop = start + timedelta(days=1)
    elif m[2]:
        stop = date(year + (month == 12), month % 12 + 1, 1)
    else:
        stop = date(year + 1, 1, 1)
    return stop.isoformat()


_COMPANY_IDS = (
    "WITH RECURSIVE tree(id) AS (SELECT company_id FROM company_aliases WHERE key = ? "
    "UNION SELECT c.id FROM companies c JOIN tree ON c.parent_id = tree.id) SELECT id FROM tree"
)


def _company_ids_sql(name: str, subsidiaries: bool) -> tuple[str, list]:
    if subsidiaries:
        return _COMPANY_IDS, [fold_name(name)]
    return "SELECT company_id FROM company_aliases WHERE key = ?", [fold_name(name)]


def _kinds(values, role: str) -> tuple[str, ...]:
    """Party kinds checked against the ones the store knows; QueryError names a wrong one."""
    kinds = tuple(dict.fromkeys(v.strip().lower() for v in values if v and v.strip()))
    for kind in kinds:
        if kind not in COMPANY_KINDS:
            raise QueryError(f"unknown {role} kind {kind!r}: use one of "
                             f"{', '.join(COMPANY_KINDS)}")
    return kinds


def filter_clause(filters: SearchFilters, *, text: bool = True) -> tuple[str, list]:
    """A WHERE fragment over `articles a` and its bound parameters ("1" when nothing filters).

    With `text=False` the free-text query is left out (search() joins the FTS
    table itself to rank by BM25). Values are always bound, never formatted in.
    """
    clauses: list[str] = []
    params: list = []
    if text and filters.query and filters.query.strip():
        clauses.append("a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
        params.append(text_match(filters.query))
    if filters.company:
        sub, sub_params = _company_ids_sql(filters.company, filters.include_subsidiaries)
        clauses.append(
            f"a.id IN (SELECT ac.article_id FROM article_companies ac "
            f"WHERE ac.company_id IN ({sub}))"
        )
        params += sub_params
    allegation: list[str] = []
    if filters.types:
        marks = ",".join("?" * len(filters.types))
        # Correlated lookups on the primary keys: an `al.id IN (list)` here makes
        # SQLite walk the whole list for every candidate article.
        allegation.append("EXISTS (SELECT 1 FROM allegation_types t WHERE t.allegation_id = al.id "
                          f"AND t.type IN ({marks}))")
        params += list(filters.types)
    if filters.status:
        allegation.append(f"al.status IN ({','.join('?' * len(filters.status))})")
        params += list(filters.status)
    for role in ("accuser", "accused"):
        # Name, country and kind all hold for the same party of the allegation.
        name = getattr(filters, role)
        countries = country_codes(getattr(filters, f"{role}_country"), name=f"{role} country")
        kinds = _kinds(getattr(filters, f"{role}_kind"), role)
        if not (name or countries or kinds):
            continue
        tests, test_params = ["ap.role = ?"], [role]
        if name:
            sub, sub_params = _company_ids_sql(name, filters.include_subsidiaries)
            tests.append(f"ap.company_id IN ({sub})")
            test_params += sub_params
        described = []
        if countries:
            described.append(f"country IN ({','.join('?' * len(countries))})")
            test_params += list(countries)
        if kinds:
            described.append(f"kind IN ({','.join('?' * len(kinds))})")
            test_params += list(kinds)
        if described:
            tests.append("ap.company_id IN (SELECT id FROM companies WHERE "
                         + " AND ".join(described) + ")")
        allegation.append("EXISTS (SELECT 1 FROM allegation_parties ap WHERE "
                          "ap.allegation_id = al.id AND " + " AND ".join(tests) + ")")
        params += test_params
    if allegation:
        clauses.append("EXISTS (SELECT 1 FROM allegations al WHERE al.article_id = a.id AND "
                       + " AND ".join(allegation) + ")")
    if filters.since:
        clauses.append("a.published >= ?")
        params.append(_parse_date(filters.since, end=False, name="since"))
    if filters.until:
        clauses.append("a.published < ?")
        params.append(_parse_date(filters.until, end=True, name="until"))
    if filters.source:
        clauses.append(
            "(a.source = ? COLLATE NOCASE OR a.id IN (SELECT af.article_id FROM article_feeds af "
            "JOIN feeds f ON f.id = af.feed_id WHERE f.name = ? COLLATE NOCASE OR f.url = ?))"
        )
        params += [filters.source] * 3
    if filters.feed_tag:
        clauses.append(
            "a.id IN (SELECT af.article_id FROM article_feeds af JOIN feeds f ON f.id = af.feed_id "
            "WHERE EXISTS (SELECT 1 FROM json_each(f.tags) t WHERE t.value = ? COLLATE NOCASE))"
        )
        params.append(filters.feed_tag)
    if filters.language:
        lang = filters.language.strip().lower()
        clauses.append("(lower(a.language) = ? OR lower(a.language) LIKE ?)")
        params += [lang, lang + "-%"]
    if filters.incident is not None:
        if isinstance(filters.incident, bool) or not isinstance(filters.incident, int):
            raise QueryError(f"incident must be a whole number (an incident id), "
                             f"not {filters.incident!r}")
        # Merging moves the articles to the surviving incident: follow merged_into there.
        clauses.append(
            "a.id IN (SELECT ia.article_id FROM incident_articles ia WHERE ia.incident_id IN "
            "(WITH RECURSIVE chain(id) AS (SELECT ? UNION SELECT i.merged_into FROM incidents i "
            "JOIN chain ON i.id = chain.id WHERE i.merged_into IS NOT NULL) "
            "SELECT id FROM chain))")
        params.append(filters.incident)
    for fig in filters.figures:
        units = [fig.unit] if fig.is_money else list(dict.fromkeys([fig.unit, _plural(fig.unit)]))
        marks = ",".join("?" * len(units))
        # fig.op comes from a fixed set checked by parse_figure_filter, never from raw input.
        op = fig.op if fig.op in (">=", ">", "<=", "<", "=") else ">="
        clauses.append(f"EXISTS (SELECT 1 FROM figures f WHERE f.article_id = a.id AND "
                       f"f.unit IN ({marks}) AND f.value {op} ?)")
        params += units + [fig.value]
    return (" AND ".join(clauses) or "1"), params


def _plural(unit: str) -> str:
    return unit if unit.endswith("s") else unit + "s"


# --- free-text query checking -------------------------------------------------------------

# A column filter on a phrase (title:"data breach") is one token, like the phrase itself.
_TOKEN_RE = re.compile(r'(?:(?:title|text):)?"(?:[^"]|"")*"|"|\(|\)|[^\s()"]+')
_OPERATORS = ("AND", "OR", "NOT")
# FTS5 barewords: letters, digits, underscore and any non-ASCII character.
_BAREWORD_RE = re.compile(r"^[\w\u0080-\uffff]+\*?$")
_COLUMN_RE = re.compile(r"^(title|text):(.+)$")


def fts_query(query: str) -> str:
    """Check an FTS5 query and quote words with punctuation; QueryError says what is wrong.

    Words like `U.S.` or `co-founder` are not valid FTS5 barewords; quoting them
    keeps the analyst's meaning instead of failing.
    """
    query = (query or "").strip()
    if not query:
        raise QueryError("the search query is empty: type at least one word")
    tokens = _TOKEN_RE.findall(query)
    out: list[str] = []
    depth = 0
    prev = None  # "op", "(", "term"
    tokens.reverse()
    while tokens:
        tok = tokens.pop()
        if tok == "NEAR" and tokens and tokens[-1] == "(":
            # NEAR(a b, 5) is copied as written; SQLite reports mistakes inside it.
            group = [tok]
            while tokens and group[-1] != ")":
                group.append(tokens.pop())
            if group[-1] != ")":
                raise QueryError(f"unbalanced parenthesis in {query!r}: NEAR( is never closed")
            if prev == "term":
                out.append("AND")
            out.append(group[0] + "(" + " ".join(group[2:-1]) + ")")
            prev = "term"
            continue
        if tok == '"':
            raise QueryError(
                f"unbalanced quote in {query!r}: every \" that opens a phrase needs a closing \""
            )
        if tok == "(":
            if prev == "term":
                out.append("AND")
            depth += 1
            out.append(tok)
            prev = "("
            continue
        if tok == ")":
            if depth == 0:
                raise QueryError(f"unbalanced parenthesis in {query!r}: ')' without a matching '('")
            if prev in ("op", "("):
                raise QueryError(f"empty group or operator before ')' in {query!r}")
            depth -= 1
            out.append(tok)
            prev = "term"
            continue
        if tok in _OPERATORS:
            if prev is None or prev in ("op", "("):
                where = "at the start" if prev is None else f"after {out[-1]!r}"
                raise QueryError(
                    f"{tok} {where} of {query!r} has nothing on its left: write it between two "
                    f"terms (a {tok} b), or in lower case to search for the word itself"
                )
            out.append(tok)
            prev = "op"
            continue
        if tok.startswith('"'):
            term = tok
        else:
            column = ""
            col = _COLUMN_RE.match(tok)
            if col:
                column, tok = col[1] + ":", col[2]
            if tok == "*" or set(tok) <= set("*^+-:."):
                raise QueryError(f"{tok!r} in {query!r} is not a word to search for")
            if tok.startswith('"'):
                term = column + tok  # a phrase already quoted
            elif _BAREWORD_RE.match(tok) and tok.upper() != "NEAR":
                term = column + tok
            else:
                prefix = tok.endswith("*")
                inner = tok.rstrip("*")
                term = column + '"' + inner.replace('"', '""') + '"' + ("*" if prefix else "")
        out.append(term)
        prev = "term"
    if depth:
        raise QueryError(f"unbalanced parenthesis in {query!r}: a '(' is never closed")
    if prev == "op":
        raise QueryError(
            f"{out[-1]} at the end of {query!r} has nothing on its right: add a term after it"
        )
    return " ".join(out)


# The text index's columns an analyst's query reads. The third, company_keys (store
# migration 10), holds the article's company ids as terms for the company filter: an
# analyst's "c12" must not find company 12's articles.
TEXT_COLUMNS = "{title text}"
# BM25 over the index's columns: a title word weighs three times a body word, and the
# company keys nothing, so a company filter leaves an article's score as it was.
_BM25 = "bm25(articles_fts, 3.0, 1.0, 0.0)"


def text_match(query: str) -> str:
    """The FTS5 expression for an analyst's query (checked by fts_query) on title and text."""
    return f"{TEXT_COLUMNS} : ({fts_query(query)})"


def _match_fails(db: sqlite_utils.Database, match: str) -> bool:
    """True when the FTS5 expression alone is rejected (so the error is the analyst's query)."""
    try:
        db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT 1", [match])
    except sqlite3.OperationalError:
        return True
    return False


def _query_error(exc: sqlite3.OperationalError, query: str) -> QueryError:
    return QueryError(f"the search query {query!r} is not valid: {exc} "
                      '(use words, "phrases", prefix*, AND, OR, NOT and parentheses)')


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One article in a result list."""

    id: int
    url: str
    title: str | None
    published: str | None
    fetched: str | None
    source: str | None
    language: str | None
    snippet_marked: str  # matched words between MARK_START and MARK_END
    companies: tuple[str, ...]
    allegations: tuple[str, ...]  # one-line summaries
    score: float | None = None  # BM25 (lower is better) when ranked by relevance
    incident_id: int | None = None  # the (surviving) incident the article belongs to
    incident: str | None = None  # that incident's label ("Accused: type") or title
    copy_of: int | None = None  # the earliest version, when this article is a copy of it
    copies: int = 0  # stored copies of this article (near-duplicates linked to it)
    date_source: str | None = None  # where the published date came from (tracker.dates)
    date_flags: tuple[str, ...] = ()  # what was wrong with the date candidates

    @property
    def date(self) -> DateNote:
        return date_note(self.published, self.date_source, self.date_flags)

    @property
    def snippet(self) -> str:
        """The snippet with matched words in [brackets], for terminals and CSV/JSON."""
        return self.snippet_marked.replace(MARK_START, "[").replace(MARK_END, "]")

    @property
    def snippet_parts(self) -> list[tuple[str, bool]]:
        """(text, highlighted) pieces, for HTML that escapes each piece."""
        parts: list[tuple[str, bool]] = []
        for i, piece in enumerate(re.split(f"[{MARK_START}{MARK_END}]", self.snippet_marked)):
            if piece:
                parts.append((piece, i % 2 == 1))
        return parts

    def to_dict(self) -> dict:
        return {"id": self.id, "url": self.url, "title": self.title, "published": self.published,
                "fetched": self.fetched, "source": self.source, "language": self.language,
                "snippet": self.snippet, "companies": list(self.companies),
                "allegations": list(self.allegations),
                "score": round(self.score, 4) if self.score is not None else None,
                "incident_id": self.incident_id, "incident": self.incident,
                "copy_of": self.copy_of, "copies": self.copies,
                "date_source": self.date_source, "date_flags": list(self.date_flags),
                "date_warning": self.date.warning}


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0

    def to_dict(self) -> dict:
        return {"total": self.total, "limit": self.limit, "offset": self.offset,
                "sort": self.sort, "results": [h.to_dict() for h in self.hits],
                "facets": {k: [{"value": v, "count": n} for v, n in items]
                           for k, items in self.facets.items()}}


def _check_page(limit, offset) -> None:
    """A page of results: 0 <= limit <= MAX_LIMIT and offset >= 0, else QueryError."""
    if not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 0 and {MAX_LIMIT}, not {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise QueryError(f"offset must be 0 or more, not {offset!r}")


def search(db: sqlite_utils.Database, filters: SearchFilters, *, sort: str = "relevance",
           limit: int = 20, offset: int = 0, facets: bool = True,
           collapse_copies: bool = False) -> SearchResult:
    """Articles matching `filters`, one page of them, with the total and facet counts.

    Relevance order is BM25 over title and text (title weighted higher); with no
    free text, or with sort="date", newest first. With `collapse_copies`, an
    article whose earliest version (tracker.incidents) also matches is left out,
    so each story shows once; its `copies` count says how many copies exist.
    The total counts what is shown; facets always count every matching article.
    """
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    _check_page(limit, offset)
    has_text = bool(filters.query and filters.query.strip())
    match = text_match(filters.query) if has_text else None
    fts_expr = match
    inline_snippets = False
    clause_filters = filters
    if has_text and filters.company:
        company_ids = _named_company_ids(db, filters)
        if company_ids:
            # The company is a condition of the FTS5 expression: FTS5 skips through the
            # text's matches to the company's articles, in C, instead of handing every
            # match to SQLite to look up in the company's list (store migration 10).
            fts_expr = (f"{match} AND company_keys : ("
                        + " OR ".join(company_key(i) for i in company_ids) + ")")
            clause_filters = replace(filters, company=None)
            inline_snippets = _few_articles(db, company_ids)
    # A filter on allegation types alone is tested on the article's alleged_types (kept
    # in the search index with the date), not with two lookups per matching article.
    types_apart = bool(filters.types) and not (
        filters.status or filters.has_party_filter()
        or any(_SEP in t for t in filters.types))
    where, params = filter_clause(
        replace(clause_filters, types=()) if types_apart else clause_filters, text=False)
    if types_apart:
        tests = " OR ".join(["instr(char(31) || a.alleged_types || char(31), "
                             "char(31) || ? || char(31))"] * len(filters.types))
        where += f" AND a.alleged_types IS NOT NULL AND ({tests})"
        params += list(filters.types)
    types_col = "a.alleged_types" if facets else "NULL"
    if has_text:
        # Snippets made while FTS5 is on the match cost a few microseconds each; made
        # afterwards for the page, each id is another seek (or, for a prefix, a walk).
        snip = "snippet(articles_fts, 1, ?, ?, '…', 28)" if inline_snippets else "NULL"
        # BM25's first call counts each phrase's documents, a walk of its whole list:
        # only a relevance order pays for it.
        score = _BM25 if sort == "relevance" else "NULL"
        base = (f"SELECT a.id AS id, {score} AS score, "
                f"a.published AS published, a.source AS source, {types_col} AS tys, "
                f"{snip} AS snip FROM articles_fts "
                "JOIN articles a INDEXED BY idx_articles_search ON a.id = articles_fts.rowid "
                f"WHERE articles_fts MATCH ? AND {where}")
        params = ([MARK_START, MARK_END] if inline_snippets else []) + [fts_expr] + params
    else:
        base = ("SELECT a.id AS id, NULL AS score, a.published AS published, a.source AS source, "
                f"{types_col} AS tys, NULL AS snip FROM articles a WHERE {where}")
    ctes = f"m AS MATERIALIZED ({base})"
    if sort == "relevance" and has_text:
        order = "score, id DESC"
    else:
        order = "published IS NULL, published DESC, id DESC"
    # One statement: the matching set is computed once (MATERIALIZED) and the
    # page, the total and every facet are read from it. CROSS JOIN keeps the
    # (small) matching set as the outer loop; left to itself the planner may
    # scan a whole table and probe the set instead.
    shown = "s" if collapse_copies else "m"
    parts = [f"SELECT * FROM (SELECT 'hit' AS k, id AS v, score AS n, published AS p, snip AS s "
             f"FROM {shown} ORDER BY {order} LIMIT ? OFFSET ?)",
             f"SELECT 'total', NULL, COUNT(*), NULL, NULL FROM {shown}"]
    tail_params: list = [limit, offset]
    if facets:
        parts += [
            "SELECT * FROM (SELECT 'year', substr(published, 1, 4) AS y, COUNT(*), NULL, NULL "
            "FROM m WHERE published IS NOT NULL GROUP BY y ORDER BY y DESC LIMIT 30)",
            "SELECT * FROM (SELECT 'source', source, COUNT(*) AS n, NULL, NULL FROM m "
            "WHERE source IS NOT NULL GROUP BY source ORDER BY n DESC, source LIMIT ?)",
            # Type counts come back per combination of types; Python adds them up.
            "SELECT 'tys', tys, COUNT(*), NULL, NULL FROM m WHERE tys IS NOT NULL GROUP BY tys",
            # Counted by company id, named after: a name lookup per company, not per mention.
            "SELECT * FROM (SELECT 'company', c.name, g.n AS n, NULL, NULL FROM "
            "(SELECT ac.company_id AS cid, COUNT(*) AS n FROM m "
            "CROSS JOIN article_companies ac ON ac.article_id = m.id "
            "GROUP BY ac.company_id) g CROSS JOIN companies c ON c.id = g.cid "
            "ORDER BY n DESC, c.name LIMIT ?)",
        ]
        tail_params += [FACET_LIMIT] * 2
    collapse = ""
    if collapse_copies:
        # Copies link straight to the earliest version, so one level is enough.
        collapse = (", s AS MATERIALIZED (SELECT * FROM m WHERE NOT EXISTS (SELECT 1 FROM "
                    "article_copies c WHERE c.article_id = m.id AND c.copy_of IN "
                    "(SELECT id FROM m)))")
    sql = f"WITH {ctes}{collapse} " + " UNION ALL ".join(parts)
    try:
        result_rows = db.execute(sql, params + tail_params).fetchall()
    except sqlite3.OperationalError as exc:
        if has_text and _match_fails(db, match):
            raise _query_error(exc, filters.query) from exc
        raise
    hit_rows = [(v, n, p) for k, v, n, p, _ in result_rows if k == "hit"]
    snippets = ({v: s for k, v, _, _, s in result_rows if k == "hit" and s}
                if inline_snippets else None)
    total = next((n for k, _, n, _, _ in result_rows if k == "total"), 0)
    facet_map: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS} if facets else {}
    type_counts: dict[str, int] = {}
    for k, v, n, _, _ in result_rows:
        if k in facet_map:
            facet_map[k].append((v, n))
        elif k == "tys":
            for type_id in set(v.split(_SEP)):
                type_counts[type_id] = type_counts.get(type_id, 0) + n
    if facets:
        # Same order as SQL's ORDER BY n DESC, type: UTF-8 bytes sort as code points.
        ranked = sorted(type_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        facet_map["type"] = ranked[:FACET_LIMIT]
    if sort == "relevance" and has_text:
        hit_rows.sort(key=lambda r: (r[1], -r[0]))
    else:
        hit_rows.sort(key=lambda r: (r[2] is None, _neg(r[2]), -r[0]))
    hits = _hits(db, hit_rows, match, snippets)
    return SearchResult(hits=tuple(hits), total=total, facets=facet_map, filters=filters,
                        sort=sort, limit=limit, offset=offset)


# Joins an article's allegation types in articles.alleged_types (store migration 8);
# type ids never hold this control character.
_SEP = "\x1f"


# Up to this many company articles, the main query makes the snippets (about 5 µs
# each, measured at 1M articles) instead of a second pass for the page's hits,
# which for a prefix query walks every match again (2-3 ms at 1M articles). Even
# when every one of them matches, that is no more than BM25 and the facets already
# spend on each matching article.
INLINE_SNIPPET_MAX = 4000


def _named_company_ids(db: sqlite_utils.Database, filters: SearchFilters) -> list[int]:
    """The ids the company filter names: the company, with its subsidiaries if asked."""
    sub, sub_params = _company_ids_sql(filters.company, filters.include_subsidiaries)
    return sorted({r[0] for r in db.execute(sub, sub_params)})


def _few_articles(db: sqlite_utils.Database, company_ids: list[int]) -> bool:
    """Whether the companies have few enough articles to make snippets in the main query.

    The count stops at the first article past the limit.
    """
    marks, params = _in_list(company_ids)
    n = db.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM article_companies WHERE company_id IN ({marks}) "
        "LIMIT ?)", params + [INLINE_SNIPPET_MAX + 1]).fetchone()[0]
    return n <= INLINE_SNIPPET_MAX


def _neg(value: str | None) -> tuple:
    # Sort ISO strings descending without converting them: negate each character.
    return tuple(-ord(c) for c in value or "")


def _in_list(values: list) -> tuple[str, list]:
    """Placeholders for `x IN (...)` and their parameters, padded with NULLs to a power of two.

    NULL never equals anything, so the padding changes no result; it keeps the
    number of distinct statements small, so the connection's statement cache
    holds them instead of preparing each result page's queries again.
    """
    size = 1
    while size < len(values):
        size *= 2
    if size > 1024:
        size = len(values)  # stay far from SQLite's limit on bound parameters
    return ",".join("?" * size), list(values) + [None] * (size - len(values))


def _hits(db: sqlite_utils.Database, hit_rows: list[tuple], match: str | None,
          snippets: dict[int, str] | None = None) -> list[Hit]:
    """The page's hits; `snippets` are the ones the main query already made, if it did."""
    ids = [r[0] for r in hit_rows]
    if not ids:
        return []
    marks, pids = _in_list(ids)
    articles = {r["id"]: r for r in rows(db.execute(
        f"SELECT id, url, title, published, fetched, source, language, date_source, "
        f"date_flags, substr(text, 1, 400) AS head FROM articles WHERE id IN ({marks})", pids))}
    links = incident_links(db, ids)
    if snippets is None and match:
        snippets = {}
        # FTS5 takes `rowid IN (...)` as one seek per id, not a scan of every match.
        # A prefix term is expanded again on every seek, so there one walk over the
        # ids' range is cheaper (`+rowid` keeps the list out of FTS5's hands).
        ids_test = "rowid BETWEEN ? AND ? AND +rowid" if "*" in match else "rowid"
        bounds = [min(ids), max(ids)] if "*" in match else []
        for aid, snippet in db.execute(
                "SELECT rowid, snippet(articles_fts, 1, ?, ?, '…', 28) FROM articles_fts "
                f"WHERE articles_fts MATCH ? AND {ids_test} IN ({marks})",
                [MARK_START, MARK_END, match, *bounds, *pids]):
            if snippet:
                snippets[aid] = snippet
    companies: dict[int, list[str]] = {}
    for aid, name in db.execute(
            f"SELECT ac.article_id, c.name FROM article_companies ac JOIN companies c "
            f"ON c.id = ac.company_id WHERE ac.article_id IN ({marks}) "
            f"ORDER BY ac.mention_count DESC, c.name", pids):
        companies.setdefault(aid, []).append(name)
    summaries = allegation_summaries(db, ids)
    out = []
    for aid, score, _ in hit_rows:
        a = articles.get(aid)
        if a is None:
            continue
        snippet = (snippets or {}).get(aid) or _head(a["head"])
        link = links.get(aid, {})
        out.append(Hit(id=aid, url=a["url"], title=a["title"], published=a["published"],
                       fetched=a["fetched"], source=a["source"], language=a["language"],
                       snippet_marked=snippet, companies=tuple(companies.get(aid, ())),
                       allegations=tuple(s for _, s in summaries.get(aid, ())), score=score,
                       incident_id=link.get("incident_id"), incident=link.get("incident"),
                       copy_of=link.get("copy_of"), copies=link.get("copies", 0),
                       date_source=a["date_source"],
                       date_flags=tuple(parse_flags(a["date_flags"]))))
    return out


def _head(text: str | None, words: int = 40) -> str:
    parts = (text or "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


# --- incidents, copies and date flags -----------------------------------------------------


def parse_flags(value) -> list[str]:
    """articles.date_flags (a JSON list) as a list; bad or empty values give []."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    try:
        found = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return [str(v) for v in found] if isinstance(found, list) else []


_REASONS = {
    "after_fetch": "implausible: after the page was fetched",
    "before_existence": "implausible: before {name} existed",
    "contradicts_page": "contradicts the page's other dates",
    "unparseable": "not a readable date",
    "other_reading": "the other day/month reading of an ambiguous date",
    "ambiguous_day_month": "ambiguous day/month: the other reading",
}


def reason_text(reason: str) -> str:
    """A date rejection reason from tracker.dates ("before_existence: Claude dates from 2023")
    in words for people ("implausible: before Claude existed")."""
    code, _, detail = (reason or "").partition(":")
    detail = detail.strip()
    if code == "before_existence":
        name = detail.split(" dates from ")[0] if " dates from " in detail else "what it names"
        return _REASONS[code].format(name=name)
    if code == "contradicts_page" and detail:
        return f"contradicts the page: {detail}"
    return _REASONS.get(code, reason or "rejected")


@dataclass(frozen=True)
class DateNote:
    """A published date as shown to people: the value, and what was wrong with the others."""

    value: str | None  # the chosen date (None: no plausible candidate, or none at all)
    source: str | None  # which candidate it came from (feed, json-ld:datePublished...)
    flags: tuple[str, ...]  # short flags (tracker.dates.FLAGS)
    rejected: tuple[tuple[str, str, str], ...]  # (source, value, reason) of rejected dates

    @property
    def day(self) -> str:
        return self.value[:10] if self.value else "date unknown"

    @property
    def warning(self) -> str | None:
        """One line next to the date: the first rejected candidate and why, or None."""
        if not self.rejected:
            return None
        source, value, reason = self.rejected[0]
        more = len(self.rejected) - 1
        tail = f" (+{more} more)" if more else ""
        if self.value is None:
            return f"{value[:10]} {reason_text(reason)}{tail}"
        return f"the page also said {value[:10]}: {reason_text(reason)}{tail}"

    def to_dict(self) -> dict:
        return {"value": self.value, "source": self.source, "flags": list(self.flags),
                "warning": self.warning,
                "rejected": [{"source": s, "value": v, "reason": r, "explained": reason_text(r)}
                             for s, v, r in self.rejected]}


def date_note(published: str | None, date_source: str | None, date_flags) -> DateNote:
    """Read articles.published/date_source/date_flags back into a DateNote.

    tracker.incidents stores the short flags followed by "source=value: reason"
    for each rejected candidate; values never hold "=" and reasons follow ": ".
    """
    flags, rejected = [], []
    for item in parse_flags(date_flags):
        if "=" in item:
            source, _, rest = item.partition("=")
            value, _, reason = rest.partition(": ")
            rejected.append((source, value, reason))
        else:
            flags.append(item)
    return DateNote(published, date_source, tuple(flags), tuple(rejected))


def incident_links(db: sqlite_utils.Database, article_ids: list[int]) -> dict[int, dict]:
    """article id -> {incident_id, incident (label), copy_of, copies} for the given articles.

    Incident ids follow merges to the surviving incident.
    """
    if not article_ids:
        return {}
    marks, pids = _in_list(article_ids)
    out: dict[int, dict] = {aid: {"incident_id": None, "incident": None, "copy_of": None,
                                  "copies": 0} for aid in article_ids}
    survivors: dict[int, tuple[int, str]] = {}
    for aid, iid in db.execute(
            f"SELECT article_id, incident_id FROM incident_articles WHERE article_id IN ({marks})",
            pids).fetchall():
        if iid not in survivors:
            survivors[iid] = _surviving_incident(db, iid)
        if survivors[iid] is not None:
            out[aid]["incident_id"], out[aid]["incident"] = survivors[iid]
    for aid, copy_of in db.execute(
            f"SELECT article_id, copy_of FROM article_copies WHERE article_id IN ({marks})",
            pids).fetchall():
        out[aid]["copy_of"] = copy_of
    for copy_of, n in db.execute(
            f"SELECT copy_of, COUNT(*) FROM article_copies WHERE copy_of IN ({marks}) "
            "GROUP BY copy_of", pids).fetchall():
        out[copy_of]["copies"] = n
    return out


def _surviving_incident(db: sqlite_utils.Database, incident_id: int) -> tuple[int, str] | None:
    """(id, label) of the incident, following merged_into; None when it does not exist."""
    seen: set[int] = set()
    current = incident_id
    while current not in seen:
        seen.add(current)
        row = db.execute("SELECT merged_into, label, title FROM incidents WHERE id = ?",
                         [current]).fetchone()
        if row is None:
            return None
        if row[0] is None:
            return current, row[1] or row[2]
        current = row[0]
    return None


INCIDENT_SORTS = ("last_seen", "first_seen", "sources", "articles")


def incident_list(db: sqlite_utils.Database, *, company: str | None = None,
                  since: str | None = None, sort: str = "last_seen", descending: bool = True,
                  limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """One page of live incidents and how many there are, sorted by `sort` (INCIDENT_SORTS).

    `company` matches an accused or involved party as tracker.incidents does;
    `since` keeps incidents last seen on or after YYYY[-MM[-DD]].
    """
    from tracker import incidents

    if sort not in INCIDENT_SORTS:
        raise QueryError(f"unknown incident sort {sort!r}: use one of {', '.join(INCIDENT_SORTS)}")
    _check_page(limit, offset)
    bound = _parse_date(since, end=False, name="since") if since else None
    found = incidents.list_incidents(db, company=company, since=bound, limit=10**9)
    key = {"last_seen": "last_seen", "first_seen": "first_seen", "sources": "source_count",
           "articles": "article_count"}[sort]
    # Undated incidents go last in either direction.
    dated = [r for r in found if r[key] is not None]
    undated = [r for r in found if r[key] is None]
    dated.sort(key=lambda r: (r[key], r["id"]), reverse=descending)
    ordered = dated + sorted(undated, key=lambda r: r["id"], reverse=descending)
    return ordered[offset:offset + limit], len(ordered)


def incident_detail(db: sqlite_utils.Database, incident_id: int) -> dict | None:
    """One incident (tracker.incidents.get_incident) with each article's date note and the
    title and source of the article a copy copies; None when there is no such incident."""
    from tracker import incidents

    if incidents.resolve(db, incident_id) is None:
        return None
    inc = incidents.get_incident(db, incident_id)
    by_id = {a["id"]: a for a in inc["articles"]}
    flags = dict(db.execute(
        f"SELECT id, date_source FROM articles WHERE id IN ({','.join('?' * len(by_id))})",
        list(by_id)).fetchall()) if by_id else {}
    for a in inc["articles"]:
        a["date"] = date_note(a["published"], flags.get(a["id"]), a["date_flags"]).to_dict()
        original = by_id.get(a["copy_of"]) if a["copy_of"] else None
        if a["copy_of"] and original is None:
            row = db.execute("SELECT title, source FROM articles WHERE id = ?",
                             [a["copy_of"]]).fetchone()
            original = {"title": row[0], "source": row[1]} if row else None
        a["copy_of_title"] = original["title"] if original else None
        a["copy_of_source"] = original["source"] if original else None
    for contested in inc["contested_figures"]:
        for value in contested["values"]:
            # The outlets' names as they print them (sources holds the folded keys).
            value["source_names"] = sorted({by_id[aid]["source"] for aid in value["articles"]
                                            if aid in by_id and by_id[aid]["source"]}
                                           ) or list(value["sources"])
    for contested in inc.get("contested_parties", ()):
        contested["source_names"] = sorted({by_id[aid]["source"] for aid in contested["articles"]
                                            if aid in by_id and by_id[aid]["source"]}
                                           ) or list(contested["sources"])
    return inc


# --- allegation summaries -----------------------------------------------------------------


def type_label(type_id: str | None) -> str:
    return (type_id or "unspecified").replace("_", " ")


def allegation_rows(db: sqlite_utils.Database, where: str, params: list) -> list[dict]:
    """Allegations matching `where` (over `al`), with accuser, accused, types, figures resolved."""
    items = rows(db.execute(
        "SELECT al.id, al.article_id, al.types, al.type, al.status, al.evidence, al.start, "
        "al.\"end\", al.cue, al.confidence, COALESCE(c.name, al.accuser_name) AS accuser, "
        "a.published, a.title AS article_title, a.url AS article_url "
        "FROM allegations al LEFT JOIN companies c ON c.id = al.accuser_id "
        f"JOIN articles a ON a.id = al.article_id WHERE {where} "
        "ORDER BY a.published IS NULL, a.published, al.id", params))
    if not items:
        return []
    ids = [r["id"] for r in items]
    marks, pids = _in_list(ids)
    accused: dict[int, list[str]] = {}
    for aid, name in db.execute(
            f"SELECT ap.allegation_id, c.name FROM allegation_parties ap JOIN companies c "
            f"ON c.id = ap.company_id WHERE ap.role = 'accused' AND ap.allegation_id IN ({marks}) "
            f"ORDER BY c.name", pids):
        accused.setdefault(aid, []).append(name)
    figures: dict[int, dict[tuple, str]] = {}
    for aid, text, value, unit in db.execute(
            "SELECT allegation_id, text, value, unit FROM figures "
            f"WHERE allegation_id IN ({marks}) "
            f"ORDER BY id", pids):
        # One quantity told twice ("24,000 fake accounts", later "24,000 fraudulent
        # accounts") is shown once, in the words it was first given.
        figures.setdefault(aid, {}).setdefault((value, unit), text or f"{value:g} {unit}")
    for r in items:
        try:
            r["types"] = json.loads(r["types"] or "[]")
        except ValueError:
            r["types"] = [r["type"]] if r["type"] else []
        r["accused"] = accused.get(r["id"], [])
        r["figures"] = list(figures.get(r["id"], {}).values())
        r["summary"] = summarize(r)
    return items


def summarize(allegation: dict) -> str:
    """One line: "Anthropic -> Alibaba: model distillation, alleged, over 25,000 accounts"."""
    accuser = allegation.get("accuser") or "unknown accuser"
    accused = ", ".join(allegation.get("accused") or []) or "unknown party"
    types = allegation.get("types") or ([allegation["type"]] if allegation.get("type") else [])
    bits = [" / ".join(type_label(t) for t in types) or type_label(None), allegation["status"]]
    bits += list(dict.fromkeys(allegation.get("figures") or []))[:2]
    return f"{accuser} -> {accused}: " + ", ".join(b for b in bits if b)


def allegation_summaries(db: sqlite_utils.Database, article_ids: list[int]) -> dict[int, list]:
    """article id -> [(allegation id, summary)], in article order."""
    if not article_ids:
        return {}
    marks, pids = _in_list(list(article_ids))
    out: dict[int, list] = {}
    for r in allegation_rows(db, f"al.article_id IN ({marks})", pids):
        out.setdefault(r["article_id"], []).append((r["id"], r["summary"]))
    return out


# --- detail pages -------------------------------------------------------------------------


def article_detail(db: sqlite_utils.Database, article_id: int) -> dict | None:
    """One article with its companies, allegations, figures, responses, feeds; None if unknown."""
    found = rows(db.execute("SELECT * FROM articles WHERE id = ?", [article_id]))
    if not found:
        return None
    art = found[0]
    # Search index copies: the allegations' types and the companies' ids.
    art.pop("alleged_types", None)
    art.pop("company_keys", None)
    for key in ("authors",):
        try:
            art[key] = json.loads(art[key] or "[]")
        except ValueError:
            art[key] = []
    art["companies"] = rows(db.execute(
        "SELECT c.id, c.name, c.kind, ac.mention_count, p.name AS parent FROM article_companies ac "
        "JOIN companies c ON c.id = ac.company_id LEFT JOIN companies p ON p.id = c.parent_id "
        "WHERE ac.article_id = ? ORDER BY ac.mention_count DESC, c.name", [article_id]))
    art["allegations"] = allegation_rows(db, "al.article_id = ?", [article_id])
    art["figures"] = rows(db.execute(
        "SELECT id, allegation_id, value, unit, qualifier, is_money, text, start, \"end\" "
        "FROM figures WHERE article_id = ? ORDER BY start, id", [article_id]))
    art["responses"] = rows(db.execute(
        "SELECT r.company_id, r.company_name, r.response, r.evidence, r.start, r.\"end\" "
        "FROM responses r WHERE r.article_id = ? ORDER BY r.start, r.id", [article_id]))
    art["feeds"] = rows(db.execute(
        "SELECT f.id, f.name, f.url, af.first_seen FROM article_feeds af JOIN feeds f "
        "ON f.id = af.feed_id WHERE af.article_id = ? ORDER BY af.first_seen", [article_id]))
    art["date_flags"] = parse_flags(art.get("date_flags"))
    art["date"] = date_note(art["published"], art.get("date_source"), art["date_flags"]).to_dict()
    link = incident_links(db, [article_id])[article_id]
    art.update(link)
    art["copy_of_article"] = None
    if link["copy_of"]:
        found = rows(db.execute("SELECT id, title, source, published FROM articles WHERE id = ?",
                                [link["copy_of"]]))
        art["copy_of_article"] = found[0] if found else None
    art["copy_list"] = rows(db.execute(
        "SELECT a.id, a.title, a.source, a.published, c.similarity FROM article_copies c "
        "JOIN articles a ON a.id = c.article_id WHERE c.copy_of = ? ORDER BY a.id",
        [article_id]))
    return art


def text_segments(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Split text into (piece, highlighted) around the given character spans (merged, clipped)."""
    clean = sorted((max(0, s), min(len(text), e)) for s, e in spans
                   if s is not None and e is not None and e > s)
    merged: list[list[int]] = []
    for s, e in clean:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        if s > pos:
            out.append((text[pos:s], False))
        out.append((text[s:e], True))
        pos = e
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def article_segments(article: dict) -> list[tuple[str, bool]]:
    """The article body with its evidence sentences marked.

    Offsets from the NLP step point into title + "\\n\\n" + body; when the
    evidence is not at its offset (older extractor), it is looked up by text.
    """
    text = article.get("text") or ""
    shift = len(article["title"]) + 2 if article.get("title") else 0
    spans = []
    for item in list(article.get("allegations", [])) + list(article.get("responses", [])):
        evidence = (item.get("evidence") or "").strip()
        start, end = item.get("start"), item.get("end")
        if start is not None and end is not None:
            s, e = start - shift, end - shift
            if 0 <= s < e <= len(text) and (not evidence or text[s:e].strip() == evidence):
                spans.append((s, e))
                continue
        if evidence:
            pos = text.find(evidence)
            if pos >= 0:
                spans.append((pos, pos + len(evidence)))
    return text_segments(text, spans)


def find_company(db: sqlite_utils.Database, name: str) -> int | None:
    """The id of a company by canonical name or alias."""
    row = db.execute("SELECT company_id FROM company_aliases WHERE key = ?",
                     [fold_name(name)]).fetchone()
    return row[0] if row else None


def company_detail(db: sqlite_utils.Database, company_id: int) -> dict | None:
    """A company with its allegations (against it and by it), figures, sources, subsidiaries."""
    found = rows(db.execute(
        "SELECT c.*, p.name AS parent_name FROM companies c LEFT JOIN companies p "
        "ON p.id = c.parent_id WHERE c.id = ?", [company_id]))
    if not found:
        return None
    comp = found[0]
    comp["aliases"] = [r[0] for r in db.execute(
        "SELECT alias FROM company_aliases WHERE company_id = ? AND alias != ? ORDER BY alias",
        [company_id, comp["name"]])]
    comp["subsidiaries"] = rows(db.execute(
        "SELECT id, name, kind FROM companies WHERE parent_id = ? ORDER BY name", [company_id]))
    comp["against"] = allegation_rows(
        db, "al.id IN (SELECT allegation_id FROM allegation_parties WHERE company_id = ? "
            "AND role = 'accused')", [company_id])
    comp["by"] = allegation_rows(
        db, "al.id IN (SELECT allegation_id FROM allegation_parties WHERE company_id = ? "
            "AND role = 'accuser')", [company_id])
    comp["figures"] = rows(db.execute(
        "SELECT f.value, f.unit, f.qualifier, f.is_money, f.text, f.article_id, a.title, "
        "a.published FROM figures f JOIN articles a ON a.id = f.article_id "
        "WHERE f.allegation_id IN (SELECT allegation_id FROM allegation_parties "
        "WHERE company_id = ?) ORDER BY a.published, f.id LIMIT 200", [company_id]))
    comp["sources"] = [{"source": s, "count": n} for s, n in db.execute(
        "SELECT a.source, COUNT(*) AS n FROM article_companies ac JOIN articles a "
        "ON a.id = ac.article_id WHERE ac.company_id = ? AND a.source IS NOT NULL "
        "GROUP BY a.source ORDER BY n DESC, a.source LIMIT 30", [company_id])]
    comp["article_count"] = db.execute(
        "SELECT COUNT(*) FROM article_companies WHERE company_id = ?", [company_id]).fetchone()[0]
    comp["responses"] = rows(db.execute(
        "SELECT r.response, r.evidence, r.article_id, a.title, a.published FROM responses r "
        "JOIN articles a ON a.id = r.article_id WHERE r.company_id = ? "
        "ORDER BY a.published, r.id LIMIT 200", [company_id]))
    return comp
