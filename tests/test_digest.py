"""Digests: period and cursor, content, filters and the four output formats."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import feedparser
import pytest
from click.testing import CliRunner

from tests.support.digestdb import DAY3, Claim, build_sample
from tracker.cli import main
from tracker.digest import (
    DigestFilters,
    build_digest,
    parse_moment,
    publish,
    read_cursor,
    render,
    resolve_window,
)
from tracker.errors import QueryError, StorageError

D2 = "2025-03-02T00:00:00+00:00"
D3 = "2025-03-03T00:00:00+00:00"
D4 = "2025-03-04T00:00:00+00:00"


@pytest.fixture
def sample(db_path):
    d = build_sample(db_path)
    yield d
    d.close()


def digest_day2(sample, **filters):
    return build_digest(sample.db, since=D2, until=D3, filters=DigestFilters(**filters))


def test_parse_moment_accepts_dates_datetimes_and_lengths():
    now = datetime(2025, 3, 10, 12, 30, 15, tzinfo=UTC)
    assert parse_moment("24h", now=now) == "2025-03-09T12:30:15+00:00"
    assert parse_moment("7d", now=now) == "2025-03-03T12:30:15+00:00"
    assert parse_moment("90m", now=now) == "2025-03-10T11:00:15+00:00"
    assert parse_moment("2025-03-01", now=now) == "2025-03-01T00:00:00+00:00"
    assert parse_moment("2025-03-01T08:00+02:00", now=now) == "2025-03-01T06:00:00+00:00"
    with pytest.raises(QueryError, match="24h, 7d"):
        parse_moment("last week", now=now)


def test_content_groups_merges_sources_and_finds_status_change(sample):
    d = digest_day2(sample)
    assert [c for c, _ in d.groups] == ["Alibaba", "DeepSeek", "Widget Corp"]
    alibaba = d.item(d.groups[0][1][0])
    assert alibaba.summary == ("Anthropic -> Alibaba: model distillation / unauthorized access, "
                               "alleged, over 25,000 accounts")
    # The same story from two outlets is one item listing both links.
    assert [s.url for s in alibaba.sources] == ["https://wire.example/news/2",
                                                "https://techdaily.example/news/3"]
    assert alibaba.allegation_ids == (2, 3)
    deepseek = d.item(d.groups[1][1][0])
    assert (deepseek.status, deepseek.previous_status) == ("charged", "alleged")
    assert [(s.company, s.type, s.before, s.after) for s in d.status_changes] == [
        ("DeepSeek", "model_distillation", "alleged", "charged")]
    assert [c.name for c in d.new_companies] == [
        "Acme", "Alibaba", "Anthropic", "US Department of Justice", "Widget Corp"]
    assert [f.name for f in d.failed_feeds] == ["Broken feed"]
    assert d.counts == {"articles": 4, "allegations": 4, "items": 3, "companies_accused": 3,
                        "status_changes": 1, "new_companies": 5, "failed_feeds": 1,
                        "incidents": 0}


def test_filters(sample):
    assert [c for c, _ in digest_day2(sample, company="alibaba").groups] == ["Alibaba"]
    assert [c for c, _ in digest_day2(sample, types=("patent_infringement",)).groups] == [
        "Widget Corp"]
    assert len(digest_day2(sample, min_confidence=0.5).items) == 2
    assert digest_day2(sample, feed_tag="privacy").nothing_new
    assert len(digest_day2(sample, feed_tag="AI").items) == 3
    # A parent company's digest includes allegations against its subsidiaries.
    meta = build_digest(sample.db, since=D3, until=D4, filters=DigestFilters(company="Meta"))
    assert [c for c, _ in meta.groups] == ["Instagram", "Meta"]
    with pytest.raises(QueryError, match="no company"):
        digest_day2(sample, company="Nobody Ltd")
    with pytest.raises(QueryError, match="unknown allegation type"):
        digest_day2(sample, types=("jaywalking",))
    with pytest.raises(QueryError, match="tags in use: ai, privacy"):
        digest_day2(sample, feed_tag="sports")


def test_empty_period_says_nothing_new(sample):
    d = build_digest(sample.db, since=D4, until="2025-03-05T00:00:00+00:00")
    assert d.nothing_new and d.items == () and d.counts["allegations"] == 0
    for fmt in ("md", "html"):
        assert "Nothing new between 2025-03-04 00:00 UTC and 2025-03-05 00:00 UTC." in render(
            d, fmt)
    assert json.loads(render(d, "json"))["nothing_new"] is True
    feed = feedparser.parse(render(d, "atom").encode())
    assert feed.bozo == 0 and feed.entries == []


def test_named_cursor_two_runs_repeat_nothing(sample, tmp_path):
    db = sample.db
    assert read_cursor(db, "daily") is None
    since, until = resolve_window(db, name="daily", since="2025-03-02", until=D3)
    first = build_digest(db, since=since, until=until, name="daily")
    publish(db, first, "json", tmp_path / "1.json")
    assert read_cursor(db, "daily") == D3
    # The cursor wins over --since once it exists.
    since, until = resolve_window(db, name="daily", since="2025-01-01", until=D4)
    assert since == D3
    second = build_digest(db, since=since, until=until, name="daily")
    publish(db, second, "json", tmp_path / "2.json")
    ids1 = {i for item in first.items for i in item.allegation_ids}
    ids2 = {i for item in second.items for i in item.allegation_ids}
    assert ids1 == {2, 3, 4, 5} and ids2 == {6, 7} and not ids1 & ids2
    # A third run with nothing stored since says so and moves the cursor on.
    since, until = resolve_window(db, name="daily", until="2025-03-05")
    third = build_digest(db, since=since, until=until, name="daily")
    assert third.nothing_new
    publish(db, third, "md", tmp_path / "3.md")
    assert read_cursor(db, "daily") == "2025-03-05T00:00:00+00:00"
    assert "Nothing new" in (tmp_path / "3.md").read_text()


def test_row_stored_during_the_until_second_comes_next_time(sample, tmp_path):
    db = sample.db
    first = build_digest(db, since=D3, until=DAY3, name="edge")
    publish(db, first, "md", tmp_path / "a.md")
    assert first.nothing_new  # the DAY3 article is stored at exactly `until`
    since, until = resolve_window(db, name="edge", until=D4)
    assert [i.allegation_ids for i in build_digest(db, since=since, until=until).items] == [
        (6,), (7,)]


def test_dry_run_and_failed_write_leave_cursor(sample, tmp_path):
    db = sample.db
    d = build_digest(db, since=D2, until=D3, name="daily")
    publish(db, d, "md", tmp_path / "dry.md", dry_run=True)
    assert (tmp_path / "dry.md").exists() and read_cursor(db, "daily") is None
    with pytest.raises(StorageError, match="cursor was not advanced"):
        publish(db, d, "md", tmp_path / "missing" / "out.md")
    assert read_cursor(db, "daily") is None


def test_atom_parses_without_errors_and_ids_are_stable(sample):
    one = render(build_digest(sample.db, since=D2, until=D4, generated="2025-03-04T01:00:00"),
                 "atom")
    two = render(build_digest(sample.db, since=D2, until=D4, generated="2025-03-09T01:00:00"),
                 "atom")
    f1, f2 = feedparser.parse(one.encode()), feedparser.parse(two.encode())
    assert f1.bozo == 0 and f2.bozo == 0, f1.get("bozo_exception")
    ids = [e.id for e in f1.entries]
    assert ids == [e.id for e in f2.entries]
    assert len(ids) == len(set(ids)) == 5
    assert all(re.fullmatch(r"tag:allegation-tracker,2025:allegation/\d+", i) for i in ids)
    assert [e.updated for e in f1.entries] == [e.updated for e in f2.entries]
    meta = next(e for e in f1.entries if "Meta" in e.title)
    assert meta.updated == DAY3 and meta.link == "https://privacy.example/news/6"
    assert [t.term for t in meta.tags] == ["privacy_violation"]
    alibaba = next(e for e in f1.entries if "Alibaba" in e.title)
    assert {lk.href for lk in alibaba.links} == {"https://wire.example/news/2",
                                                 "https://techdaily.example/news/3"}


def test_html_is_single_file_without_scripts_and_reads_as_text(sample):
    page = render(digest_day2(sample), "html")
    low = page.lower()
    for banned in ("<script", "<link", "<style", "<img", "<iframe", "javascript:", "onload="):
        assert banned not in low
    assert 'style="' in page
    text = re.sub(r"<[^>]+>", "", page).replace("&gt;", ">")
    assert "Anthropic -> Alibaba: model distillation / unauthorized access, alleged, over " \
           "25,000 accounts" in text
    assert "https://techdaily.example/news/3" in text  # links are readable without HTML


def test_html_and_markdown_escape_hostile_text(sample):
    sample.article("2025-03-02T10:00:00+00:00", "<script>alert(1)</script> [evil](x)", [
        Claim("Acme", ("Widget Corp",), ("fraud",))], source="evil.example")
    d = digest_day2(sample)
    assert "<script>" not in render(d, "html")
    assert feedparser.parse(render(d, "atom").encode()).bozo == 0


def test_json_shape(sample):
    data = json.loads(render(digest_day2(sample), "json"))
    assert set(data) == {"digest", "since", "until", "generated", "filters", "nothing_new",
                         "counts", "groups", "items", "status_changes", "new_companies",
                         "failed_feeds", "incidents"}
    item_ids = {i["id"] for i in data["items"]}
    assert {i for g in data["groups"] for i in g["items"]} == item_ids
    item = data["items"][0]
    assert set(item) == {"id", "allegation_ids", "summary", "accuser", "accused", "types",
                         "status", "previous_status", "confidence", "figures", "evidence",
                         "first_stored", "last_stored", "sources", "incident_id", "incident",
                         "incident_sources"}
    assert set(data["groups"][0]) == {"company", "items", "incidents"}
    assert set(item["sources"][0]) == {"title", "url", "site", "published"}


def test_cli_named_digest_to_file_then_stdout(sample, db_path, tmp_path):
    runner = CliRunner()
    out = tmp_path / "digest.html"
    args = ["digest", "--db", str(db_path), "--name", "daily", "--since", "2025-03-02",
            "--until", "2025-03-03"]
    res = runner.invoke(main, args + ["--format", "html", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Anthropic -&gt; Alibaba" in out.read_text()
    res = runner.invoke(main, ["digest", "--db", str(db_path), "--name", "daily", "--until",
                               "2025-03-04", "--dry-run"])
    assert res.exit_code == 0 and "Meta" in res.output and "Alibaba" not in res.output
    res = runner.invoke(main, ["digest", "--db", str(db_path), "--name", "daily", "--until",
                               "2025-03-04", "--format", "json"])
    assert json.loads(res.output)["since"] == D3
    res = runner.invoke(main, ["digest", "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 1 and "does not exist" in res.output
    res = runner.invoke(main, ["digest", "--db", str(db_path), "--since", "soon"])
    assert res.exit_code == 2 and "not understood" in res.output


def test_items_name_their_incident_following_merges(sample):
    db = sample.db
    with db.conn:
        for iid, title, merged in ((2, "Alibaba: distillation", None), (1, "Old Alibaba story", 2)):
            db.execute("INSERT INTO incidents (id, title, merged_into, created, updated) "
                       "VALUES (?, ?, ?, ?, ?)", [iid, title, merged, D2, D2])
        db.execute("INSERT INTO incident_articles VALUES (1, 2, 'first', ?)", [D2])
        db.execute("INSERT INTO incident_articles VALUES (2, 3, 'parties', ?)", [D2])
    d = digest_day2(sample, company="Alibaba")
    (item,) = d.items
    assert (item.incident_id, item.incident) == (2, "Alibaba: distillation")
    assert "incident: Alibaba: distillation" in render(d, "md")
    assert json.loads(render(d, "json"))["items"][0]["incident_id"] == 2


STORY = ("The complaint says the crawler collected order histories from the customer portal "
         "over six months and broke the terms of service that every customer accepted when "
         "signing up for an account with the company last year.")


def test_items_group_under_their_incident_with_independent_sources(db_path):
    """Real incidents (tracker.incidents): an original, a copy wrapped in junk and an
    independent rewrite form one incident of 2 independent sources; an unrelated claim
    against the same company stays outside it."""
    from tests.support.digestdb import DigestDB

    d = DigestDB(db_path)
    claim = Claim("Contoso", ("Northwind",), ("unauthorized_access",),
                  figures=("24,000 accounts",))
    d.article(DAY3, "Contoso accuses Northwind of scraping", [claim], source="harbor.example",
              extra=STORY, group=True)
    d.article(DAY3, "Contoso accuses Northwind of scraping", [claim], source="aggregate.example",
              extra=STORY + "\nShare this story with your friends and colleagues on social media",
              group=True)
    d.article(DAY3, "Northwind rejects Contoso claims", [
        Claim("Contoso", ("Northwind",), ("unauthorized_access",), figures=("25,000 accounts",),
              response="denied")], source="ledger.example", group=True)
    d.article(DAY3, "Northwind sued over patents", [
        Claim("Initech", ("Northwind",), ("patent_infringement",))], source="ledger.example")
    digest = build_digest(d.db, since=D3, until=D4)
    (incident,) = digest.incidents
    assert incident.source_count == 2 and incident.article_count == 3
    assert digest.counts["incidents"] == 1
    ((company, ids),) = digest.groups
    assert company == "Northwind" and len(ids) == 2
    inside = [i for i in digest.items if i.incident_id == incident.id]
    assert len(inside) == 1 and len(inside[0].sources) == 3 and inside[0].incident_sources == 2
    assert ids[0] == inside[0].id  # the incident's items come first in the company group
    md = render(digest, "md")
    assert (f"- Incident {incident.id}: Contoso accuses Northwind of scraping — "
            "2 independent sources") in md
    assert "\n  - **Contoso -> Northwind: unauthorized access, alleged" in md
    assert "\n- **Initech -> Northwind: patent infringement" in md  # outside the incident
    html = render(digest, "html")
    assert "<em>Incident " in html and "2 independent sources" in html and "<script" not in html
    data = json.loads(render(digest, "json"))
    assert data["groups"][0]["incidents"] == [incident.id]
    assert data["incidents"][0]["source_count"] == 2
    assert data["incidents"][0]["items"] == [inside[0].id]
    feed = feedparser.parse(render(digest, "atom"))
    assert not feed.bozo
    assert any(t["term"] == f"incident-{incident.id}" for e in feed.entries for t in e.tags)
    assert incident.new_article_count == 3 and "3 articles" in md and " new of " not in md
    # The next day one more article joins: the incident line counts it apart from the rest.
    d.article("2025-03-04T09:00:00+00:00", "Northwind denies scraping claims", [
        Claim("Contoso", ("Northwind",), ("unauthorized_access",), figures=("24,000 accounts",),
              response="denied")], source="wire.example", group=True)
    later = build_digest(d.db, since=D4, until="2025-03-05T00:00:00+00:00")
    (incident,) = later.incidents
    assert (incident.new_article_count, incident.article_count) == (1, 4)
    assert "1 new of 4 articles" in render(later, "md")
    assert json.loads(render(later, "json"))["incidents"][0]["new_article_count"] == 1
    d.close()
