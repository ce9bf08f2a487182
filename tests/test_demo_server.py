"""The offline demo corpus: its loopback server, its feeds, and the gold labels shipped with it."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import defaultdict
from datetime import date
from importlib import resources
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest
import yaml
from bs4 import BeautifulSoup

from tracker.demo import DemoServer, demo_feeds_yaml
from tracker.demo.server import FAILING_FEED
from tracker.evaluate import COUNT_UNITS
from tracker.records import Settings

DEMO = resources.files("tracker.demo")
TYPES = {
    "model_distillation",
    "ip_theft",
    "copyright_infringement",
    "patent_infringement",
    "data_breach",
    "privacy_violation",
    "unauthorized_access",
    "antitrust",
    "fraud",
    "consumer_protection",
    "export_control",
    "labor",
    "safety",
    "corruption",
    "other",
}
STATUSES = {"alleged", "investigating", "charged", "settled", "fined", "ruled", "dismissed"}
RESPONSES = {"denied", "disputed", "no_comment", "admitted", "settled", "investigating"}
QUALIFIERS = {"over", "under", "about", "at_least", "up_to", "exactly", None}
GOLD_KEYS = {
    "id",
    "url",
    "title",
    "published",
    "style",
    "text",
    "companies",
    "allegations",
    "figures",
    "responses",
}


def _jsonl(name: str) -> list[dict]:
    lines = DEMO.joinpath(name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _slug(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1].removesuffix(".html")


def _page_bytes(slug: str) -> bytes:
    return DEMO.joinpath("pages", f"{slug}.html").read_bytes()


def _decode(data: bytes) -> str:
    # One page is deliberately mislabelled: it says utf-8 but holds cp1252 bytes.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


GOLD = _jsonl("gold.jsonl")
GROUPS = _jsonl("groups.jsonl")


@pytest.fixture(scope="module")
def server():
    with DemoServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def parsed_feeds(server, client) -> dict[str, feedparser.FeedParserDict]:
    out = {}
    for name in server.feed_names:
        if name == FAILING_FEED:
            continue
        response = client.get(server.feed_url(name))
        assert response.status_code == 200, name
        out[name] = feedparser.parse(response.content)
    return out


# --- the server ----------------------------------------------------------------------


def test_server_binds_loopback_ephemeral_port(server):
    parts = urlsplit(server.base_url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
    assert parts.port and parts.port > 0
    assert all(url.startswith(server.base_url + "/feeds/") for url in server.feed_urls)
    assert len(server.feed_urls) >= 5


def test_feeds_are_served_with_base_substituted(server, client):
    for name in server.feed_names:
        if name == FAILING_FEED:
            continue
        response = client.get(server.feed_url(name))
        assert response.status_code == 200
        assert "xml" in response.headers["content-type"]
        assert b"{base}" not in response.content
        assert server.base_url.encode() in response.content
        assert response.headers["etag"] and response.headers["last-modified"]


def test_pages_are_served_and_missing_ones_are_404(server, client):
    slugs = server.article_slugs
    assert len(slugs) >= 36
    for slug in slugs:
        response = client.get(server.article_url(slug))
        assert response.status_code == 200
        assert response.content == _page_bytes(slug)
        assert response.headers["content-type"].startswith("text/html")
    assert client.get(server.article_url("no-such-story")).status_code == 404
    assert client.get(server.base_url + "/articles/..%2Fgold.jsonl").status_code == 404
    assert client.get(server.base_url + "/feeds/no-such-feed.xml").status_code == 404
    assert client.get(server.base_url + "/elsewhere").status_code == 404


def test_failing_feed_answers_500(server, client):
    response = client.get(server.feed_url(FAILING_FEED))
    assert response.status_code == 500
    assert server.feed_url(FAILING_FEED) in server.feed_urls


def test_conditional_requests_get_304(server, client):
    url = server.feed_url("meridian-wire")
    first = client.get(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    old = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert client.get(url, headers={"If-Modified-Since": old}).status_code == 200
    # If-None-Match decides when both are sent.
    both = client.get(url, headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified})
    assert both.status_code == 200


def test_requests_are_recorded(server, client):
    client.get(server.base_url + "/robots.txt")
    assert "/robots.txt" in server.requests


def test_close_releases_the_port():
    srv = DemoServer()
    url = srv.feed_url("techpulse")
    assert httpx.get(url, timeout=5).status_code == 200
    srv.close()
    srv.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)


def test_demo_feeds_yaml_lists_every_feed_with_loopback_settings(server):
    document = yaml.safe_load(demo_feeds_yaml(server))
    assert [feed["url"] for feed in document["feeds"]] == server.feed_urls
    assert all(feed["name"] and feed["tags"] for feed in document["feeds"])
    settings = document["settings"]
    assert settings["allow_private_networks"] is True
    assert settings["min_host_delay"] == 0
    known = {f.name for f in dataclasses.fields(Settings)}
    assert set(settings) <= known, set(settings) - known


def test_demo_feeds_yaml_loads_with_the_config_reader(server, tmp_path):
    from tracker.config import load_config

    path = tmp_path / "feeds.yaml"
    path.write_text(demo_feeds_yaml(server), encoding="utf-8")
    config = load_config(path)
    assert [feed.url for feed in config.feeds] == server.feed_urls
    assert config.settings.allow_private_networks is True


# --- the feeds -----------------------------------------------------------------------


def test_every_good_feed_parses_cleanly(parsed_feeds):
    versions = set()
    for name, feed in parsed_feeds.items():
        if name == "broken":
            continue
        assert not feed.bozo, (name, feed.get("bozo_exception"))
        assert feed.entries, name
        versions.add(feed.version)
        for entry in feed.entries:
            assert entry.get("title") and entry.get("id"), name
            assert entry.get("published_parsed") or entry.get("updated_parsed"), (name, entry.title)
    assert {"rss20", "atom10", "rss10"} <= versions


def test_truncated_feed_is_malformed(parsed_feeds):
    broken = parsed_feeds["broken"]
    assert broken.bozo
    assert isinstance(broken.bozo_exception, Exception)


def test_feed_links_resolve_except_the_withdrawn_one(server, client, parsed_feeds):
    dead, no_link = [], []
    for name, feed in parsed_feeds.items():
        for entry in feed.entries:
            link = entry.get("link")
            if not link:
                if name != "broken":  # the truncated feed ends inside a half-written item
                    no_link.append(entry.get("id"))
                continue
            assert link.startswith(server.base_url), link
            if client.get(link).status_code == 404:
                dead.append(link)
    assert len(dead) == 1 and "withdrawn" in dead[0]
    assert len(no_link) == 1


def test_some_articles_arrive_through_two_feeds_one_with_tracking(parsed_feeds):
    feeds_of = defaultdict(set)
    tracked = set()
    for name, feed in parsed_feeds.items():
        for entry in feed.entries:
            if entry.get("link"):
                parts = urlsplit(entry.link)
                feeds_of[parts.path].add(name)
                if "utm_source" in parts.query:
                    tracked.add(parts.path)
    shared = {path for path, names in feeds_of.items() if len(names) > 1}
    assert len(shared) >= 3
    assert shared & tracked


def test_regulator_feed_carries_full_content(parsed_feeds):
    entries = parsed_feeds["regulators"].entries
    assert all(entry.get("content") and len(entry.content[0].value) > 300 for entry in entries)


def test_every_page_is_reachable_from_some_feed(parsed_feeds):
    linked = {
        _slug(e.link) for feed in parsed_feeds.values() for e in feed.entries if e.get("link")
    }
    missing = {g["id"] for g in GOLD if _slug(g["url"]) not in linked}
    assert not missing


# --- the gold labels ---------------------------------------------------------------


def _names(value) -> None:
    assert (
        isinstance(value, list) and value and all(isinstance(n, str) and n.strip() for n in value)
    )


@pytest.mark.parametrize("record", GOLD, ids=[g["id"] for g in GOLD])
def test_gold_record_follows_schema(record):
    assert set(record) == GOLD_KEYS
    assert re.fullmatch(r"https://demo\.example/articles/[a-z0-9-]+\.html", record["url"])
    date.fromisoformat(record["published"])
    assert record["title"].strip() and len(record["text"]) > 200
    assert "\n\n" in record["text"]
    for company in record["companies"]:
        _names(company)
    for allegation in record["allegations"]:
        assert set(allegation) == {"accuser", "accused", "types", "status", "evidence"}
        if allegation["accuser"] is not None:
            _names(allegation["accuser"])
        assert allegation["accused"]
        for party in allegation["accused"]:
            _names(party)
        assert allegation["types"] and set(allegation["types"]) <= TYPES
        assert allegation["status"] in STATUSES
        assert allegation["evidence"] in record["text"], allegation["evidence"]
    for figure in record["figures"]:
        assert set(figure) == {"value", "unit", "qualifier"}
        assert isinstance(figure["value"], int | float) and figure["value"] > 0
        assert figure["unit"] in COUNT_UNITS or re.fullmatch(r"[A-Z]{3}", figure["unit"])
        assert figure["qualifier"] in QUALIFIERS
    for response in record["responses"]:
        assert set(response) == {"company", "response"}
        _names(response["company"])
        assert response["response"] in RESPONSES


def test_gold_ids_and_pages_match_one_to_one():
    ids = [g["id"] for g in GOLD]
    assert len(ids) == len(set(ids)) >= 36
    pages = {item.name.removesuffix(".html") for item in DEMO.joinpath("pages").iterdir()}
    assert {_slug(g["url"]) for g in GOLD} == pages


def test_gold_covers_allegations_and_ordinary_news():
    with_allegations = [g for g in GOLD if g["allegations"]]
    without = [g for g in GOLD if not g["allegations"]]
    assert len(with_allegations) >= 25 and len(without) >= 6
    types = {t for g in GOLD for a in g["allegations"] for t in a["types"]}
    assert {
        "model_distillation",
        "privacy_violation",
        "antitrust",
        "data_breach",
        "fraud",
        "export_control",
    } <= types
    statuses = {a["status"] for g in GOLD for a in g["allegations"]}
    assert {"alleged", "investigating", "charged", "settled", "fined"} <= statuses
    units = {f["unit"] for g in GOLD for f in g["figures"]}
    assert {"EUR", "USD", "accounts", "records"} & units == {"EUR", "USD", "accounts", "records"}


def _fold(name: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", name.lower().replace("'s", "")).split()
    while len(words) > 1 and words[-1] in {"inc", "ltd", "limited", "corp", "co", "sas", "llc"}:
        words.pop()
    return " ".join(words)


@pytest.mark.parametrize("record", GOLD, ids=[g["id"] for g in GOLD])
def test_gold_alias_lists_are_consistent(record):
    """A party's names never straddle two entries, so every alias resolves the same way."""
    entries = [{_fold(n) for n in c} for c in record["companies"]]
    parties = [p for a in record["allegations"] for p in [a["accuser"], *a["accused"]] if p]
    parties += [r["company"] for r in record["responses"]]
    for party in parties:
        names = {_fold(n) for n in party}
        hits = [entry for entry in entries if entry & names]
        assert len(hits) <= 1, party
        if hits:
            assert names <= hits[0], (party, hits[0])
        else:
            entries.append(names)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("record", GOLD, ids=[g["id"] for g in GOLD])
def test_gold_text_appears_in_its_page(record):
    soup = BeautifulSoup(_decode(_page_bytes(_slug(record["url"]))), "html.parser")
    page = _squash(soup.get_text(""))
    for paragraph in record["text"].split("\n\n"):
        assert _squash(paragraph) in page, paragraph[:80]
    assert _squash(record["title"]) in page


def test_one_page_has_bad_charset_bytes():
    bad = []
    for item in DEMO.joinpath("pages").iterdir():
        try:
            item.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            bad.append(item.name)
    assert len(bad) == 1


def test_one_page_claims_an_impossible_date():
    """A 2026 story whose page metadata says 2010, like the aggregator seed."""
    found = []
    for record in GOLD:
        html = _decode(_page_bytes(_slug(record["url"])))
        years = {int(y) for y in re.findall(r'"datePublished":\s*"(\d{4})', html)}
        years |= {int(y) for y in re.findall(r'published_time" content="(\d{4})', html)}
        if years and max(years) < 2015 and record["published"].startswith("2026"):
            found.append(record["id"])
    assert found


# --- copies and incidents ----------------------------------------------------------


def test_groups_cover_every_gold_article():
    assert [g["id"] for g in GROUPS] == [g["id"] for g in GOLD]
    assert all(set(g) == {"id", "copy_of", "incident"} for g in GROUPS)


def test_copies_point_at_the_earliest_version():
    gold = {g["id"]: g for g in GOLD}
    copies = [g for g in GROUPS if g["copy_of"]]
    assert len(copies) >= 4
    group_of = {g["id"]: g for g in GROUPS}
    for copy in copies:
        original = gold[copy["copy_of"]]
        assert group_of[original["id"]]["copy_of"] is None
        assert original["published"] <= gold[copy["id"]]["published"]
        assert original["text"] == gold[copy["id"]]["text"]
        assert copy["incident"] == group_of[original["id"]]["incident"]
        assert gold[copy["id"]]["url"] != original["url"]


def test_incidents_have_follow_ups_and_a_contested_figure():
    members = defaultdict(list)
    for g in GROUPS:
        if g["incident"]:
            members[g["incident"]].append(g["id"])
    assert len(members) >= 8
    copy_of = {g["id"]: g["copy_of"] for g in GROUPS}
    independent = [ids for ids in members.values() if sum(not copy_of[i] for i in ids) >= 2]
    assert len(independent) >= 6
    gold = {g["id"]: g for g in GOLD}
    contested = False
    for ids in members.values():
        values = {f["value"] for i in ids for f in gold[i]["figures"] if f["unit"] == "accounts"}
        contested |= {24000, 25000} <= values
    assert contested
    unrelated = [g for g in GROUPS if g["incident"] is None]
    assert len(unrelated) >= 6
