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
