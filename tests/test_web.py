"""The web app in process (httpx.ASGITransport): pages, API, downloads, escaping, errors."""

from __future__ import annotations

import asyncio
import csv
import io
import re

import httpx
import pytest
from click.testing import CliRunner

from tests.support import sampledb
from tracker.cli import main
from tracker.web import create_app


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    return sampledb.build(tmp_path_factory.mktemp("web") / "sample.db", extra=25)


class Client:
    """A synchronous face over httpx.AsyncClient + ASGITransport: one client per request."""

    def __init__(self, app):
        self.app = app

    def request(self, method: str, url: str) -> httpx.Response:
        async def go():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.request(method, url)
        return asyncio.run(go())


@pytest.fixture(scope="module")
def client(sample_path):
    return Client(create_app(sample_path))


def get(client: Client, url: str) -> httpx.Response:
    return client.request("GET", url)


def ids_in(html: str, kind: str) -> list[int]:
    return [int(x) for x in re.findall(rf'href="/{kind}/(\d+)"', html)]


def test_home_page_has_form_and_examples(client):
    r = get(client, "/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<form class="filters"' in r.text and 'name="q"' in r.text
    assert '<option value="model_distillation"' in r.text  # types offered from the database
    assert "<script" not in r.text.lower()


def test_search_page_results_snippets_summaries_facets(client):
    r = get(client, "/?q=distill*")
    assert r.status_code == 200
    assert "2 results" in r.text
    assert "<mark>distilled</mark>" in r.text
    assert ("Anthropic -&gt; Alibaba: model distillation / unauthorized access, alleged, "
            "over 25,000 accounts") in r.text
    assert 'href="/?q=distill%2A&amp;type=model_distillation"' in r.text  # facet link
    assert "/search.csv?q=distill%2A" in r.text
    assert len(ids_in(r.text, "article")) == 2


def test_search_page_filters_and_pagination(client):
    r = get(client, "/?q=cloud&sort=date&per_page=10&page=2")
    assert r.status_code == 200
    assert "26 results, page 2 of 3" in r.text
    assert 'rel="prev"' in r.text and 'rel="next"' in r.text
    assert '<ol class="hits" start="11">' in r.text
    r = get(client, "/?company=Alibaba&subsidiaries=1&figure=records%3E%3D1m&tag=tech")
    assert "1 result" in r.text and "Alibaba Cloud investigated over data breach" in r.text
    r = get(client, "/?type=privacy_violation&status=fined&language=fr")
    assert "1 result" in r.text and "La CNIL inflige une amende" in r.text


def test_title_script_is_escaped_everywhere(client):
    for url in ("/?q=quarterly", "/article/5", "/company/1", "/?q=script"):
        r = get(client, url)
        assert r.status_code == 200, url
        assert "<script>alert(1)</script>" not in r.text, url
        assert "<b>bold</b>" not in r.text, url
    page = get(client, "/article/5").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Example &lt;Blog&gt;" in page
    assert 'href="https://example.org/xss?a=1&amp;b=&lt;2&gt;"' in page
    # The API is JSON (not HTML): the title comes back as data, served as application/json.
    api = get(client, "/api/search?q=quarterly")
    assert api.headers["content-type"] == "application/json"
    assert api.json()["results"][0]["title"] == sampledb.XSS_TITLE


def test_javascript_urls_are_not_links():
    from tracker.web.app import safe_href

    assert safe_href("javascript:alert(1)") is None
    assert safe_href(" JAVASCRIPT:alert(1)") is None
    assert safe_href("https://example.com/a") == "https://example.com/a"


def test_article_page(client):
    r = get(client, "/article/1")
    assert r.status_code == 200
    text = r.text
    assert "<mark>Anthropic said on Monday that Alibaba used over 25,000 accounts" in text
    assert "<mark>Alibaba denied the claims in a statement.</mark>" in text
    assert "over 25,000 accounts</td><td class=\"num\">25,000</td>" in text
    assert "denied" in text and "2025-03-10T09:00:00+00:00" in text
    assert 'href="https://news.example.com/anthropic-distillation"' in text
    assert "Fetched" in text and "Wire" in text
    assert ids_in(text, "company")


def test_company_page_timeline_and_subsidiaries(client):
    r = get(client, "/company?name=Alibaba%20Group")
    assert r.status_code == 303
    company_url = r.headers["location"]
    r = get(client, company_url)
    assert r.status_code == 200
    assert "<h1>Alibaba</h1>" in r.text
    assert "Alibaba Cloud" in r.text and "Subsidiaries" in r.text
    assert "1 against Alibaba, 0 made by it" in r.text
    assert "Example News" in r.text  # sources
    anthropic = get(client, "/company?name=anthropic").headers["location"]
    r = get(client, anthropic)
    assert "0 against Anthropic, 1 made by it" in r.text and 'class="role-by"' in r.text
    # Its country links to the allegations against that country's companies.
    assert '<a href="/?accused_country=US&amp;sort=date">' in r.text


def test_company_download(client):
    cid = get(client, "/company?name=Meta").headers["location"].rsplit("/", 1)[1]
    r = get(client, f"/company/{cid}/allegations.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["role"] == "against" and rows[0]["status"] == "fined"
    assert get(client, f"/company/{cid}/allegations.json").json()[0]["figures"] == [
        "EUR 1.2 billion"]


def test_api_mirrors_search(client):
    r = get(client, "/api/search?q=distill*&limit=1&offset=1")
    assert r.status_code == 200
    data = r.json()
    assert data["total"] == 2 and data["offset"] == 1 and len(data["results"]) == 1
    assert {"url", "title", "published", "source", "snippet", "companies"} <= set(
        data["results"][0])
    assert data["facets"]["year"] == [{"value": "2025", "count": 2}]
    assert get(client, "/api/article/1").json()["allegations"][0]["accused"] == ["Alibaba"]
    assert get(client, "/api/company/1").json()["name"] == "Anthropic"


def test_party_country_and_kind_filters(client):
    r = get(client, "/?type=model_distillation&accused_country=Chinese")
    assert r.status_code == 200
    assert "2 results" in r.text and 'value="Chinese"' in r.text
    data = get(client, "/api/search?accuser_country=EU&accuser_kind=regulator&sort=date").json()
    assert [x["title"] for x in data["results"]] == [
        "EU regulator fines Meta EUR 1.2 billion over data transfers",
        "La CNIL inflige une amende"]
    rows = list(csv.DictReader(io.StringIO(get(client, "/search.csv?accused_country=CN").text)))
    assert len(rows) == 3
    # The form offers every kind, with the chosen one selected.
    page = get(client, "/?accuser_kind=regulator&q=fines").text
    assert '<option value="regulator" selected>' in page


def test_downloads(client):
    r = get(client, "/search.csv?q=cloud")
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 26 and rows[0]["url"].startswith("https://")
    r = get(client, "/search.json?company=Meta")
    assert [x["title"] for x in r.json()] == [
        "EU regulator fines Meta EUR 1.2 billion over data transfers"]


@pytest.mark.parametrize("url,words", [
    ("/?q=%22unclosed", "unbalanced quote"),
    ("/?q=AND", "AND at the start"),
    ("/?q=x&page=zero", "whole number"),
    ("/?q=x&page=0", "between 1 and"),
    ("/?q=x&sort=best", "sort"),
    ("/?q=x&since=2025-99", "since date"),
    ("/?figure=lots", "figure filter"),
    ("/?q=a&q=b", "given 2 times"),
    ("/search.xml?q=x", "unknown download format"),
    ("/company", "give a company name"),
    ("/?accused_country=Narnia", "unknown accused country"),
    ("/?accuser_kind=pirate", "unknown accuser kind"),
])
def test_bad_parameters_are_400_pages(client, url, words):
    r = get(client, url)
    assert r.status_code == 400, url
    assert words in r.text
    assert "Traceback" not in r.text and "sqlite3" not in r.text


def test_bad_api_parameters_are_json_400(client):
    r = get(client, "/api/search?q=(a")
    assert r.status_code == 400
    assert "never closed" in r.json()["error"]


@pytest.mark.parametrize("url", ["/article/999", "/company/999", "/api/article/999",
                                 "/company?name=Nobody%20Ltd", "/no/such/page",
                                 "/article/abc"])
def test_unknown_ids_are_404(client, url):
    r = get(client, url)
    assert r.status_code == 404
    assert "Traceback" not in r.text


def test_no_endpoint_writes(client):
    responses = [client.request("POST", "/"), client.request("POST", "/api/search"),
                 client.request("DELETE", "/article/1"), client.request("PUT", "/company/1")]
    assert [r.status_code for r in responses] == [405] * 4


def test_missing_database_is_a_clear_page(tmp_path):
    r = get(Client(create_app(tmp_path / "x.db")), "/?q=x")
    assert r.status_code == 503 and "does not exist" in r.text


def test_serve_refuses_missing_database(tmp_path):
    out = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "none.db")])
    assert out.exit_code == 1 and "does not exist" in out.output
    assert "127.0.0.1" in CliRunner().invoke(main, ["serve", "--help"]).output


# --- incidents, copies and date flags ---------------------------------------------------------


@pytest.fixture(scope="module")
def inc(tmp_path_factory):
    """A database with incidents: the Northwind story (original, copy, rewrite with another
    figure, probe), two pages with implausible dates, the Meta incident merged into the CNIL
    one, and one incident whose title and label carry markup."""
    from tracker import incidents
    from tracker.store import open_db

    path = sampledb.build(tmp_path_factory.mktemp("webinc") / "inc.db", extra=3, incidents=True)
    db = open_db(path)
    ids = {url: db.execute("SELECT id FROM articles WHERE url = ?", [url]).fetchone()[0]
           for url in [a["url"] for a in sampledb.ARTICLES + sampledb.INCIDENT_ARTICLES]}
    urls = [a["url"] for a in sampledb.INCIDENT_ARTICLES]
    northwind = incidents.incident_of(db, ids[urls[0]])
    meta = incidents.incident_of(db, ids["https://eu.example.net/meta-fine"])
    cnil = incidents.incident_of(db, ids["https://fr.example.fr/amende"])
    incidents.merge_incidents(db, cnil, meta)
    deepseek = incidents.incident_of(db, ids["https://news.example.com/openai-deepseek"])
    with db.conn:
        db.execute("UPDATE incidents SET title = ?, label = ? WHERE id = ?",
                   [sampledb.XSS_TITLE, "<b>bold</b>: fraud", deepseek])
    db.conn.close()
    return {"client": Client(create_app(path)), "northwind": northwind, "meta": meta,
            "cnil": cnil, "deepseek": deepseek, "original": ids[urls[0]], "copy": ids[urls[1]],
            "rewrite": ids[urls[2]], "probe": ids[urls[3]], "feature": ids[urls[4]],
            "archive": ids[urls[5]]}


def test_incident_page_shows_sources_copies_timeline_and_contested_figures(inc):
    r = get(inc["client"], f"/incident/{inc['northwind']}")
    assert r.status_code == 200
    text = " ".join(r.text.split())
    assert "<h1>Contoso accuses Northwind Robotics of scraping customer data</h1>" in text
    assert "<dt>First seen</dt><dd>2025-06-02</dd>" in text
    assert "<dt>Last seen</dt><dd>2025-06-20</dd>" in text
    assert '<span class="sources-count">3</span> (4 articles; copies do not count)' in text
    # Every article with its source and date; the copy names what it copies.
    assert set(ids_in(r.text, "article")) == {inc["original"], inc["copy"], inc["rewrite"],
                                              inc["probe"]}
    for source, day in (("Harbor Post", "2025-06-02"), ("Daily Aggregate", "2025-06-03"),
                        ("Tech Ledger", "2025-06-04"), ("EU Policy Wire", "2025-06-20")):
        assert f'<span class="date">{day}</span></td> <td>{source}</td>' in text
    assert (f'copy of <a href="/article/{inc["original"]}">Contoso accuses Northwind Robotics '
            "of scraping customer data</a> (Harbor Post); not an independent source") in text
    assert text.count('class="copy"') == 1
    # Timeline: first report, denial, probe, in date order.
    events = re.findall(r'<strong class="event">([^<]+)</strong>', r.text)
    assert events == ["first report", "denial", "probe"]
    # Contested figures: each value with its sources.
    assert '<span class="num">24,000</span> accounts: Harbor Post' in text
    assert '<span class="num">25,000</span> accounts: Tech Ledger' in text


def test_incident_api_and_list(inc):
    client = inc["client"]
    data = get(client, f"/api/incident/{inc['northwind']}").json()
    assert data["id"] == inc["northwind"] and data["source_count"] == 3
    assert [a["id"] for a in data["articles"] if a["copy_of"]] == [inc["copy"]]
    assert data["contested_figures"][0]["values"][0]["source_names"] == ["Harbor Post"]
    assert data["timeline"][0]["event"] == "first report"
    listing = get(client, "/api/incidents").json()
    seen = [r["last_seen"] for r in listing["results"]]
    assert seen == sorted(seen, reverse=True) and listing["results"][0]["id"] == inc["northwind"]
    assert inc["meta"] not in [r["id"] for r in listing["results"]]  # merged away
    assert listing["total"] == len(listing["results"]) == 5
    oldest = get(client, "/api/incidents?sort=last_seen&order=asc&limit=2").json()
    assert [r["last_seen"] for r in oldest["results"]] == sorted(seen)[:2]
    assert oldest["total"] == 5
    only = get(client, "/api/incidents?company=Northwind%20Robotics").json()
    assert [r["id"] for r in only["results"]] == [inc["northwind"]]
    page = get(client, "/incidents?sort=last_seen&order=asc")
    assert page.status_code == 200 and "5 incidents" in page.text
    listed = ids_in(page.text, "incident")
    assert listed[-1] == inc["northwind"]  # oldest first: the newest story last
    assert 'href="/incidents?sort=last_seen&amp;order=desc"' in page.text  # flip the order
    page = get(client, "/incidents?company=Contoso")
    assert ids_in(page.text, "incident") == [inc["northwind"]]
    assert "No incidents match" in get(client, "/incidents?company=Nobody").text


def test_merged_incident_redirects_to_survivor(inc):
    client = inc["client"]
    for prefix in ("/incident/", "/api/incident/"):
        r = get(client, f"{prefix}{inc['meta']}")
        assert r.status_code == 308
        assert r.headers["location"] == f"{prefix}{inc['cnil']}"
    r = get(client, f"/incident/{inc['cnil']}")
    assert "La CNIL inflige une amende" in r.text and "EU regulator fines Meta" in r.text
    assert f"Merged from</dt><dd>incident {inc['meta']}</dd>" in r.text


@pytest.mark.parametrize("url,status,words", [
    ("/incident/99999", 404, "no incident with id 99999"),
    ("/api/incident/99999", 404, "no incident"),
    ("/incident/abc", 404, ""),
    ("/incidents?sort=best", 400, "sort"),
    ("/incidents?order=up", 400, "asc or desc"),
    ("/incidents?since=yesterday", 400, "since date"),
    ("/api/incidents?limit=9999", 400, "between 0 and 500"),
    ("/?incident=six", 400, "whole number"),
    ("/?q=x&collapse=maybe", 400, "collapse"),
])
def test_incident_errors(inc, url, status, words):
    r = get(inc["client"], url)
    assert r.status_code == status, url
    assert words in r.text and "Traceback" not in r.text


def test_article_and_search_link_to_incident_and_copies(inc):
    client = inc["client"]
    page = get(client, f"/article/{inc['copy']}").text
    assert f'class="incident-link" href="/incident/{inc["northwind"]}"' in page
    assert "Northwind Robotics: unauthorized access, privacy violation" in page
    assert f'<dt>Copy of</dt><dd class="copy-note"><a href="/article/{inc["original"]}">' in page
    original = get(client, f"/article/{inc['original']}").text
    assert "<dt>Copies</dt>" in original and f'href="/article/{inc["copy"]}">Daily Aggregate' in (
        original)
    r = get(client, "/?q=northwind")
    assert "4 results" in r.text and r.text.count(f'href="/incident/{inc["northwind"]}"') == 4
    assert f'copy of <a href="/article/{inc["original"]}">' in r.text
    r = get(client, "/?q=northwind&collapse=1")
    assert "3 results" in r.text and "1 copy" in r.text and "copy of <a" not in r.text
    assert 'id="collapse" name="collapse" type="checkbox" value="1" checked' in r.text
    r = get(client, f"/?incident={inc['northwind']}&sort=date")
    assert "4 results" in r.text
    rows = list(csv.DictReader(io.StringIO(get(client, "/search.csv?q=northwind").text)))
    assert {r["incident_id"] for r in rows} == {str(inc["northwind"])}
    assert [r["copy_of"] for r in rows if r["copy_of"]] == [str(inc["original"])]
    api = get(client, "/api/search?q=northwind&collapse=1").json()
    assert api["total"] == 3 and {h["incident_id"] for h in api["results"]} == {inc["northwind"]}


def test_date_flags_shown_next_to_dates(inc):
    client = inc["client"]
    r = get(client, "/?q=Claude")
    text = " ".join(r.text.split())
    assert ('<span class="date date-unknown">date unknown</span> <span class="date-flag">'
            "&#9888;&#xFE0E; 2010-12-05 implausible: before Claude existed</span>") in text
    assert ('<span class="date">2025-06-06</span> <span class="date-flag">&#9888;&#xFE0E; the '
            "page also said 2010-12-05: implausible: before Claude existed</span>") in text
    archive = " ".join(get(client, f"/article/{inc['archive']}").text.split())
    assert '<span class="date-unknown">date unknown</span>' in archive
    assert "No candidate date was plausible." in archive
    assert ("<li>2010-12-05 (json-ld:datePublished): implausible: before Claude existed</li>"
            in archive)
    feature = " ".join(get(client, f"/article/{inc['feature']}").text.split())
    assert '2025-06-06 <span class="date-source">(from feed)</span>' in feature
    assert "Other dates on the page were rejected:" in feature
    data = get(client, f"/api/article/{inc['archive']}").json()
    assert data["published"] is None and data["date"]["flags"] == [
        "before_existence", "no_plausible_date"]
    assert data["date"]["rejected"][0]["explained"] == "implausible: before Claude existed"


def test_incident_text_is_escaped(inc):
    client = inc["client"]
    for url in (f"/incident/{inc['deepseek']}", "/incidents",
                f"/article/{sampledb_article(inc, 'openai-deepseek')}", "/?q=DeepSeek"):
        r = get(client, url)
        assert r.status_code == 200, url
        assert "<script>alert(1)</script>" not in r.text and "<b>bold</b>" not in r.text, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in get(
        client, f"/incident/{inc['deepseek']}").text


def sampledb_article(inc, slug: str) -> int:
    hits = get(inc["client"], f"/api/search?q={slug.split('-')[1]}").json()["results"]
    return next(h["id"] for h in hits if slug in h["url"])
