"""Publication dates: choose one among the candidates an article offers; flag implausible ones.

Extraction keeps each date it sees as a (source, value) pair: the feed entry,
JSON-LD, OpenGraph and other meta tags, <time> elements, the URL, trafilatura's
guess. This module picks one by explicit rules:

1. Every candidate is parsed; one that cannot be parsed is rejected (`unparseable`).
2. Each parsed candidate is checked against three facts:
   - `after_fetch`: it lies more than a day after the page was fetched;
   - `before_existence`: it lies before the founding or launch year of a company
     or product the article names (tracker/data/founded.yaml): a page dated 2010
     about Claude is wrong about its date;
   - `contradicts_page`: the other candidates agree on a date more than two days
     away, or most full dates written in the text come more than a month after it.
3. The first candidate without a flag, in SOURCE_ORDER, is chosen. Candidates of
   day precision beat year-month ones (a URL's /2026/02/).
4. When no candidate survives, the value is None (date unknown): showing a
   known-wrong date would be worse. The flags say why.

`ChosenDate.flags` holds the short reasons (for filters and badges) and
`ChosenDate.rejected` each rejected candidate with its reason (for the page).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

FOUNDED_FILE = Path(__file__).parent / "data" / "founded.yaml"

# Most trustworthy first: the page's own published-date metadata, then the feed,
# then weaker guesses; modification dates last, they are not publication dates.
SOURCE_ORDER = (
    "json-ld:datePublished",
    "og:published_time",
    "meta",
    "time",
    "feed",
    "json-ld:dateCreated",
    "url",
    "trafilatura",
    "htmldate",
    "fallback",
    "text",
    "json-ld:dateModified",
    "og:modified_time",
    "og:updated_time",
)

FLAGS = (
    "after_fetch",
    "before_existence",
    "contradicts_page",
    "unparseable",
    "no_candidates",
    "no_plausible_date",
)


@dataclass(frozen=True)
class ChosenDate:
    """The publication date chosen for one article, where it came from, and what was wrong."""

    value: str | None  # ISO date or datetime as the source gave it (normalised), None = unknown
    source: str  # the candidate's source, or "none"
    flags: tuple[str, ...] = ()  # short reasons, see FLAGS
    rejected: tuple[tuple[str, str, str], ...] = ()  # (source, value, reason with detail)

    @property
    def plausible(self) -> bool:
        return self.value is not None

    def describe(self) -> str:
        """One line for people: the date and, when candidates were rejected, why."""
        head = self.value[:10] if self.value else "date unknown"
        if not self.rejected:
            return head
        why = "; ".join(f"{src} said {val[:10]} ({reason})" for src, val, reason in self.rejected)
        return f"{head} [{why}]"

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "source": self.source,
            "flags": list(self.flags),
            "rejected": [list(r) for r in self.rejected],
        }


@dataclass(frozen=True)
class Founded:
    name: str
    year: int
    pattern: re.Pattern


@functools.lru_cache(maxsize=8)
def load_founded(extra_paths: tuple[str, ...] = ()) -> tuple[Founded, ...]:
    """The founding/launch years of tracker/data/founded.yaml plus the user's files."""
    items: list[Founded] = []
    for path in (FOUNDED_FILE, *extra_paths):
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
        for entry in data:
            if not isinstance(entry, dict) or "name" not in entry or "year" not in entry:
                raise ValueError(f"{path}: each entry needs `name` and `year`, got {entry!r}")
            names = [entry["name"], *entry.get("aliases", ())]
            alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            items.append(
                Founded(
                    entry["name"],
                    int(entry["year"]),
                    re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])"),
                )
            )
    return tuple(items)


def _parse(value: str | None) -> tuple[date, bool] | None:
    """(date, day_precision) of an ISO-ish value; None when it is not a date."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    m = re.match(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
    if not m:
        return None
    try:
        if m.group(3) is None:
            return date(int(m.group(1)), int(m.group(2)), 1), False
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    # A datetime with an offset may fall on another UTC day; the local day is what
    # the outlet printed, so keep it.
    return day, True


def _source_rank(source: str) -> int:
    for i, prefix in enumerate(SOURCE_ORDER):
        if source == prefix or source.startswith(prefix + ":"):
            return i
    return len(SOURCE_ORDER)


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_MONTH_RE = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|"
    r"aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_TEXT_DATES = (
    re.compile(
        _MONTH_RE + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b", re.I
    ),
    re.compile(
        r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH_RE + r",?\s+(?P<year>(?:19|20)\d\d)\b",
        re.I,
    ),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),
)


def text_dates(text: str | None) -> list[date]:
    """Full dates (day, month and year) written in the text."""
    found: list[date] = []
    for pattern in _TEXT_DATES:
        for m in pattern.finditer(text or ""):
            try:
                month = (
                    int(m.group("month"))
                    if "month" in m.groupdict() and m.group("month")
                    else _MONTHS[m.group("mon")[:3].lower()]
                )
                found.append(date(int(m.group("year")), month, int(m.group("day"))))
            except (ValueError, KeyError, IndexError):
                continue
    return found


def named_since(
    text: str | None, entities: Iterable = (), *, founded: tuple[Founded, ...] | None = None
) -> tuple[str, int] | None:
    """The most recently founded company or product the article names, with its year."""
    founded = load_founded() if founded is None else founded
    names = set()
    for e in entities or ():
        if isinstance(e, str):
            names.add(e)
        elif getattr(e, "name", None):
            names.add(e.name)
            names.update(getattr(e, "aliases", ()) or ())
    haystack = (text or "") + "\n" + "\n".join(sorted(names))
    best: tuple[str, int] | None = None
    for item in founded:
        if (best is None or item.year > best[1]) and item.pattern.search(haystack):
            best = (item.name, item.year)
    return best


def _fetched_day(fetched: str | datetime | None) -> date:
    if isinstance(fetched, datetime):
        return fetched.date()
    parsed = _parse(fetched) if fetched else None
    return parsed[0] if parsed else datetime.now(UTC).date()


def choose_published(
    candidates: Iterable[tuple[str, str]],
    *,
    fetched: str | datetime | None = None,
    text: str | None = None,
    entities: Iterable = (),
    founded: tuple[Founded, ...] | None = None,
) -> ChosenDate:
    """Choose the publication date among `candidates` ((source, value) pairs) by the rules above.

    `fetched` is when the page was fetched (default: now); `text` is the title and
    body, searched for named companies/products and written dates; `entities` are
    names or `records.Entity` objects the NLP step found. Never raises for bad input.
    """
    fetch_day = _fetched_day(fetched)
    since = named_since(text, entities, founded=founded)
    written = [d for d in text_dates(text) if d <= fetch_day + timedelta(days=1)]
    rejected: list[tuple[str, str, str]] = []
    parsed: list[tuple[str, str, date, bool]] = []
    for cand in candidates or ():
        try:
            source, value = cand
        except (TypeError, ValueError):
            rejected.append(("?", repr(cand)[:40], "unparseable"))
            continue
        source = str(source or "?")
        p = _parse(value if isinstance(value, str) else None)
        if p is None:
            rejected.append((source, str(value)[:40], "unparseable"))
            continue
        parsed.append((source, value.strip(), p[0], p[1]))
    if not parsed and not rejected:
        return ChosenDate(None, "none", ("no_candidates",))

    # First the hard facts, then agreement among the candidates that survive them:
    # three copies of one wrong date must not outvote the feed's right one.
    survivors: list[tuple[str, str, date, bool]] = []
    for source, value, day, prec in parsed:
        if day > fetch_day + timedelta(days=1):
            rejected.append((source, value, f"after_fetch: fetched {fetch_day.isoformat()}"))
        elif since and day.year < since[1]:
            rejected.append((source, value, f"before_existence: {since[0]} dates from {since[1]}"))
        else:
            survivors.append((source, value, day, prec))
    good: list[tuple[int, int, str, str]] = []
    for source, value, day, prec in survivors:
        agreeing = sum(1 for _, _, d, p in survivors if p and abs((d - day).days) <= 2)
        others = sum(1 for _, _, d, p in survivors if p and abs((d - day).days) > 2)
        later = [d for d in written if (d - day).days > 31]
        if prec and others > agreeing:
            rejected.append(
                (source, value, "contradicts_page: the other dates on the page disagree")
            )
        elif written and len(later) * 2 > len(written):
            rejected.append(
                (
                    source,
                    value,
                    f"contradicts_page: the text reports events of {max(later).isoformat()}",
                )
            )
        else:
            good.append((0 if prec else 1, _source_rank(source), source, value))
    flags = tuple(dict.fromkeys(r[2].split(":", 1)[0] for r in rejected))
    if not good:
        return ChosenDate(None, "none", flags + ("no_plausible_date",), tuple(rejected))
    good.sort(key=lambda g: (g[0], g[1]))
    _, _, source, value = good[0]
    return ChosenDate(value, source, flags, tuple(rejected))
