"""Test databases for digests and exports, built from hand-made records (no NLP model)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from tracker import store
from tracker.records import (
    Allegation,
    Analysis,
    Entity,
    ExtractedArticle,
    FeedConfig,
    FetchResult,
    Figure,
    Mention,
    Response,
)

EXTRACTOR = "test-extractor-1"
PARENTS = {"Instagram": "Meta"}
KINDS = {"US Department of Justice": "government", "Irish Data Protection Commission": "regulator"}


@dataclass(frozen=True)
class Claim:
    """One allegation to put into an article, in the words the test needs."""

    accuser: str | None
    accused: tuple[str, ...]
    types: tuple[str, ...]
    status: str = "alleged"
    confidence: float = 0.8
    figures: tuple[str, ...] = ()  # phrases like "over 25,000 accounts" or "EUR 1,200,000,000"
    response: str | None = None  # how the (first) accused answered


@contextmanager
def frozen_time(when: str):
    """Make the storage layer stamp rows with `when` instead of the clock."""
    with mock.patch.object(store, "now_iso", lambda: when):
        yield


def _figure(phrase: str, start: int, index: int) -> Figure:
    words = phrase.split()
    qualifier = None
    if words[0] in ("over", "about", "under"):
        qualifier = words.pop(0)
    if len(words[0]) == 3 and words[0].isupper():  # money: "EUR 1,200"
        unit, value = words[0], words[1]
    else:
        value, unit = words[0], words[1]
    return Figure(value=float(value.replace(",", "")), unit=unit, qualifier=qualifier,
                  text=phrase, start=start, end=start + len(phrase), allegation=index)


def analysis_for(title: str, claims: list[Claim], extra: str = "") -> tuple[str, Analysis]:
    """Article text stating each claim, and the Analysis an extractor would return for it."""
    sentences = []
    for c in claims:
        who = c.accuser or "Critics"
        s = f"{who} accused {' and '.join(c.accused)} of {', '.join(c.types)} ({c.status})."
        if c.figures:
            s += " It involved " + " and ".join(c.figures) + "."
        if c.response:
            s += f" {c.accused[0]} {c.response} the claims."
        sentences.append(s)
    body = " ".join(sentences + ([extra] if extra else []))
    text = f"{title}\n\n{body}"
    names: dict[str, list[Mention]] = {}
    allegations, figures, responses = [], [], []
    for i, (c, s) in enumerate(zip(claims, sentences, strict=True)):
        at = text.index(s)
        for name in ([c.accuser] if c.accuser else []) + list(c.accused):
            pos = text.index(name, at)
            names.setdefault(name, []).append(Mention(name, pos, pos + len(name), name))
        allegations.append(Allegation(c.accuser, c.accused, c.types, c.status, s, at,
                                      at + len(s), "accused", c.confidence))
        for phrase in c.figures:
            figures.append(_figure(phrase, text.index(phrase, at), i))
        if c.response:
            pos = text.index(f"{c.accused[0]} {c.response}", at)
            responses.append(Response(c.accused[0], c.response, s, pos, at + len(s)))
    entities = tuple(Entity(n, KINDS.get(n, "company"), parent=PARENTS.get(n),
                            mentions=tuple(ms))
                     for n, ms in names.items())
    return body, Analysis(text, entities, tuple(allegations), tuple(figures), tuple(responses),
                          EXTRACTOR)


class DigestDB:
    """A database filled article by article at chosen times."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = store.open_db(self.path)
        self._n = 0

    def feed(self, url: str, *, tags: tuple[str, ...] = (), name: str | None = None,
             when: str = "2025-01-01T00:00:00+00:00") -> int:
        with frozen_time(when):
            return store.upsert_feed(self.db, FeedConfig(url=url, name=name, tags=tags))

    def fetch(self, feed_id: int, when: str, error: str | None = None) -> None:
        result = FetchResult(url="x", final_url="x", status=500 if error else 200, error=error,
                             error_reason="http_500" if error else None)
        with frozen_time(when):
            store.record_feed_fetch(self.db, feed_id, result)

    def article(self, when: str, title: str, claims: list[Claim], *, feed_id: int | None = None,
                source: str = "example.com", published: str | None = None,
                extra: str = "", group: bool = False) -> int:
        """Store an article stating `claims` (plus `extra` text) as if fetched at `when`.

        With `group`, the article then goes through tracker.incidents as the pipeline
        does (copies linked, incidents formed).
        """
        self._n += 1
        body, analysis = analysis_for(title, claims, extra)
        url = f"https://{source}/news/{self._n}"
        art = ExtractedArticle(url=url, text=body, title=title, site_name=source,
                               published=published or when[:10], language="en")
        with frozen_time(when):
            article_id = store.save_article(self.db, art, analysis, canonical_url=url,
                                            feed_id=feed_id, guid=url).id
            if group:
                from tracker import incidents

                incidents.on_article_stored(self.db, article_id)
        return article_id

    def close(self) -> None:
        self.db.close()


DAY1 = "2025-03-01T08:00:00+00:00"
DAY2 = "2025-03-02T09:00:00+00:00"
DAY2_LATE = "2025-03-02T15:30:00+00:00"
DAY3 = "2025-03-03T10:00:00+00:00"


PATENT_STORY = ("Court papers filed in Delaware describe three patents on conveyor sensors and "
                "say the company shipped devices using them for two years without a license "
                "after talks between the two firms broke down last spring.")


def build_sample(path: str | Path, incidents: bool = False) -> DigestDB:
    """Three days of news: a distillation story reported twice, a case that moves from
    alleged to charged, a low-confidence patent claim, a fine with a response, a failing feed,
    and a claim against a subsidiary (Instagram, parent Meta).

    With `incidents`, every article goes through tracker.incidents (incidents form,
    dates are chosen) and the patent story gets a longer text and a reprint wrapped in
    aggregator junk on day 3, linked to it as a copy.
    """
    d = DigestDB(path)
    group = incidents
    ai = d.feed("https://ai.example/feed.xml", tags=("ai",), name="AI wire")
    privacy = d.feed("https://privacy.example/rss", tags=("privacy",), name="Privacy news")
    broken = d.feed("https://broken.example/rss", tags=("ai",), name="Broken feed")
    d.fetch(ai, DAY1)
    d.article(DAY1, "OpenAI says DeepSeek copied its models", [
        Claim("OpenAI", ("DeepSeek",), ("model_distillation",))], feed_id=ai,
        source="wire.example", group=group)
    d.article(DAY2, "Anthropic accuses Alibaba of distillation", [
        Claim("Anthropic", ("Alibaba",), ("model_distillation", "unauthorized_access"),
              figures=("over 25,000 accounts",), confidence=0.9)], feed_id=ai,
        source="wire.example", group=group)
    d.article(DAY2_LATE, "Alibaba faces distillation claims", [
        Claim("Anthropic", ("Alibaba",), ("model_distillation",), confidence=0.85,
              response="denied")], feed_id=ai, source="techdaily.example", group=group)
    d.article(DAY2, "DeepSeek charged over model copying", [
        Claim("US Department of Justice", ("DeepSeek",), ("model_distillation",),
              status="charged", confidence=0.7)], feed_id=ai, source="wire.example",
        group=group)
    patent = [Claim("Acme", ("Widget Corp",), ("patent_infringement",), confidence=0.3)]
    d.article(DAY2, "Widget Corp patent spat", patent, feed_id=ai, source="wire.example",
              extra=PATENT_STORY if incidents else "", group=group)
    d.fetch(broken, DAY2, error="HTTP 500 from https://broken.example/rss")
    d.fetch(privacy, DAY3)
    d.article(DAY3, "Meta fined EUR 1.2bn", [
        Claim("Irish Data Protection Commission", ("Meta",), ("privacy_violation",),
              status="fined", figures=("EUR 1,200,000,000",), response="disputed")],
        feed_id=privacy, source="privacy.example",
        extra="The regulator's decision runs to 222 pages and orders a suspension of transfers.",
        group=group)
    d.article(DAY3, "Instagram accused over scraping", [
        Claim("Clearview", ("Instagram",), ("unauthorized_access",), confidence=0.6)],
        feed_id=privacy, source="privacy.example", published="2025-02-27", group=group)
    if incidents:
        d.article(DAY3, "Widget Corp patent spat | Aggregator", patent, feed_id=ai,
                  source="aggregator.example", group=group,
                  extra=PATENT_STORY + "\nShare this story with your friends and colleagues on "
                  "social media\nCopyright 2025 Aggregator. All rights reserved.")
    return d
