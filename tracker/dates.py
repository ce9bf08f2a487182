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

Numeric dates whose day and month can be swapped ("02/11/2026": 2 November
day-first, 11 February month-first) are read both ways before step 2. This
applies to a raw value in that form from any source, and to the ISO value of a
source in GUESSING_SOURCES (trafilatura, htmldate...), which read such dates off
the page and may have taken the day for the month: its value counts as
ambiguous when its day and month are both 12 or less and differ. The reading
kept is decided by the first of these rules that tells them apart:

   a. `fetch`: a reading more than a day after the fetch time is impossible;
   b. `page`: the reading nearest a day-precision date another, unambiguous
      candidate gives (the feed entry, JSON-LD...);
   c. `context`: the only reading within CONTEXT_DAYS of a day in `context`,
      the dates of the stored stories the article belongs with (the incident it
      would join);
   d. otherwise, the reading nearest the fetch time, not after it: pages are
      fetched soon after they appear.

The reading set aside is listed in `rejected` with the code `other_reading`
when a rule a-c decided, `ambiguous_day_month` when only d did; the incidents
stage revisits the latter when the article's incident dates the story.

`ChosenDate.flags` holds the short reasons (for filters and badges) and
`ChosenDate.rejected` each rejected candidate with its reason (for the page).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
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

# Sources whose ISO value was read off a date printed on the page in an unknown order.
GUESSING_SOURCES = ("trafilatura", "htmldate", "fallback", "text")
CONTEXT_DAYS = 60  # as far from the related stories' dates as a reading may be (rule c)

FLAGS = (
    "after_fetch",
    "before_existence",
    "contradicts_page",
    "unparseable",
    "no_candidates",
    "no_plausible_date",
    "other_reading",  # an ambiguous day/month date: the reading the evidence contradicts
    "ambiguous_day_month",  # an ambiguous day/month date nothing decided (rule d)
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
    names: tuple[str, ...] = ()  # the name and its aliases, as written


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
                    tuple(names),
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


_NUMERIC = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.]((?:19|20)\d\d)\b")


def _readings(source: str, value: str) -> list[tuple[str, date]]:
    """The ways to read a candidate: one for most, two for an ambiguous numeric date.

    A raw "02/11/2026" gives its valid day-first and month-first readings; an ISO
    value of a GUESSING_SOURCES source with day and month both <= 12 (and not
    equal) also gives the swapped one. Empty when the value is no date at all.
    """
    if m := _NUMERIC.match(value):
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        out = []
        for month, day in ((b, a), (a, b)):  # day-first, then month-first
            try:
                d = date(year, month, day)
            except ValueError:
                continue
            if all(d != other for _, other in out):
                out.append((d.isoformat(), d))
        return out
    parsed = _parse(value)
    if parsed is None:
        return []
    day, prec = parsed
    out = [(value, day)]
    if prec and any(source == g or source.startswith(g + ":") for g in GUESSING_SOURCES):
        if day.day <= 12 and day.month <= 12 and day.day != day.month:
            swapped = date(day.year, day.day, day.month)
            out.append((swapped.isoformat() + value[10:], swapped))
    return out


def _pick_reading(
    readings: list[tuple[str, date]],
    fetch_day: date,
    others: list[tuple[date, bool]],
    context: list[date],
) -> tuple[tuple[str, date], str, str]:
    """(reading, code, why) for an ambiguous date by rules a-d of the module docstring."""
    possible = [r for r in readings if r[1] <= fetch_day + timedelta(days=1)]
    if len(possible) == 1:
        return possible[0], "other_reading", f"the other reading is after the fetch ({fetch_day})"
    possible = possible or readings
    full = [d for d, prec in others if prec]
    if full:
        gaps = [min(abs((r[1] - d).days) for d in full) for r in possible]
        if gaps.count(min(gaps)) == 1:
            best = possible[gaps.index(min(gaps))]
            near = min(full, key=lambda d: abs((best[1] - d).days))
            return best, "other_reading", f"the page's other dates say {near.isoformat()}"
    months = {(d.year, d.month) for d, prec in others if not prec}
    in_month = [r for r in possible if (r[1].year, r[1].month) in months]
    if len(in_month) == 1:
        return in_month[0], "other_reading", "the page's other dates name its month"
    if context:
        near = [r for r in possible if min(abs((r[1] - d).days) for d in context) <= CONTEXT_DAYS]
        if len(near) == 1:
            return near[0], "other_reading", "the related stories date from then"
    best = max(possible, key=lambda r: r[1])
    return best, "ambiguous_day_month", "day and month could be swapped; nearest the fetch kept"


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
        # a plain substring test first: most names are not in the text at all
        if (
            (best is None or item.year > best[1])
            and any(n in haystack for n in item.names)
            and item.pattern.search(haystack)
        ):
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
    context: Iterable[str | date] | Callable[[], Iterable[str | date]] = (),
) -> ChosenDate:
    """Choose the publication date among `candidates` ((source, value) pairs) by the rules above.

    `fetched` is when the page was fetched (default: now); `text` is the title and
    body, searched for named companies/products and written dates; `entities` are
    names or `records.Entity` objects the NLP step found; `context` the dates
    (ISO strings or dates) of stored stories the article belongs with, used only
    to read an ambiguous day/month date (a function giving them is called only
    then: looking them up costs more than all the rest). Never raises for bad input.
    """
    fetch_day = _fetched_day(fetched)
    since = named_since(text, entities, founded=founded)
    written = [d for d in text_dates(text) if d <= fetch_day + timedelta(days=1)]
    rejected: list[tuple[str, str, str]] = []
    parsed: list[tuple[str, str, date, bool]] = []
    ambiguous: list[tuple[str, list[tuple[str, date]]]] = []
    for cand in candidates or ():
        try:
            source, value = cand
        except (TypeError, ValueError):
            rejected.append(("?", repr(cand)[:40], "unparseable"))
            continue
        source = str(source or "?")
        readings = _readings(source, value.strip()) if isinstance(value, str) else []
        if not readings:
            rejected.append((source, str(value)[:40], "unparseable"))
        elif len(readings) == 1:
            text_value, day = readings[0]
            parsed.append((source, text_value, day, _parse(text_value)[1]))
        else:
            ambiguous.append((source, readings))
    if not parsed and not rejected and not ambiguous:
        return ChosenDate(None, "none", ("no_candidates",))
    # Ambiguous dates are read against the unambiguous candidates that pass the hard facts.
    evidence = [
        (day, prec)
        for _, _, day, prec in parsed
        if day <= fetch_day + timedelta(days=1) and not (since and day.year < since[1])
    ]
    if not ambiguous:
        context = ()
    elif callable(context):
        context = context()
    context_days = [
        c if isinstance(c, date) else p[0]
        for c in context or ()
        if isinstance(c, date) or (isinstance(c, str) and (p := _parse(c)))
    ]
    notes: dict[tuple[str, str], tuple[str, str, str]] = {}
    for source, readings in ambiguous:
        (value, day), code, why = _pick_reading(readings, fetch_day, evidence, context_days)
        parsed.append((source, value, day, True))
        for other, _ in readings:
            if other != value:
                notes[(source, value)] = (source, other, f"{code}: {why}")

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
    # The other reading of an ambiguous date matters only where its reading was kept.
    rejected.extend(
        notes[(source, value)] for _, _, source, value in good if (source, value) in notes
    )
    flags = tuple(dict.fromkeys(r[2].split(":", 1)[0] for r in rejected))
    if not good:
        return ChosenDate(None, "none", flags + ("no_plausible_date",), tuple(rejected))
    good.sort(key=lambda g: (g[0], g[1]))
    _, _, source, value = good[0]
    return ChosenDate(value, source, flags, tuple(rejected))
