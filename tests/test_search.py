"""Search library and `tracker search`: filters, FTS5 query checking, facets, summaries, output."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from tests.support import sampledb
from tracker.cli import main
from tracker.errors import QueryError
from tracker.search import (
    MARK_START,
    SearchFilters,
    filter_clause,
    fts_query,
    parse_figure_filter,
    search,
)
from tracker.store import open_db


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    return sampledb.build(tmp_path_factory.mktemp("search") / "sample.db", extra=25)


@pytest.fixture
def db(sample_path):
    conn = open_db(sample_path, readonly=True)
    yield conn
    conn.conn.close()


def titles(result):
    return [h.title for h in result.hits]


def test_text_query_ranks_and_marks_snippet(db):
    result = search(db, SearchFilters(query="distill*"))
    assert result.total == 2
    assert set(titles(result)) == {"Anthropic accuses Alibaba of model distillation",
                                   "OpenAI says DeepSeek distilled its models"}
    assert all("[distill" in h.snippet for h in result.hits)
    assert result.hits[0].score <= result.hits[1].score


def test_allegation_summary_one_line(db):
    hit = search(db, SearchFilters(query="Anthropic Alibaba")).hits[0]
    assert hit.allegations == (
        "Anthropic -> Alibaba: model distillation / unauthorized access, alleged, "
        "over 25,000 accounts",)
    assert set(hit.companies) == {"Anthropic", "Alibaba"}


def test_facets_count_the_whole_match(db):
    result = search(db, SearchFilters(query="distill* OR fined OR cloud"), limit=1)
    assert len(result.hits) == 1
    facets = {k: dict(v) for k, v in result.facets.items()}
    assert facets["type"]["model_distillation"] == 2
    assert facets["year"]["2021"] == 25
    assert facets["source"]["Filler Daily"] == 25
    assert facets["company"]["Alibaba"] == 1
    assert result.total == sum(facets["year"].values())


def test_company_by_alias_and_subsidiaries(db):
    assert titles(search(db, SearchFilters(company="Alibaba Group Holding"))) == [
        "Anthropic accuses Alibaba of model distillation"]
    both = search(db, SearchFilters(company="alibaba", include_subsidiaries=True))
    assert set(titles(both)) == {"Anthropic accuses Alibaba of model distillation",
                                 "Alibaba Cloud investigated over data breach"}
    assert search(db, SearchFilters(company="No Such Corp")).total == 0


def test_accuser_accused_type_status_apply_to_one_allegation(db):
    assert titles(search(db, SearchFilters(accused="Facebook"))) == [
        "EU regulator fines Meta EUR 1.2 billion over data transfers"]
    assert titles(search(db, SearchFilters(accuser="OpenAI", types=("model_distillation",)))) == [
        "OpenAI says DeepSeek distilled its models"]
    # OpenAI accused nobody of a data breach: the conditions must hold for the same allegation.
    assert search(db, SearchFilters(accuser="OpenAI", types=("data_breach",))).total == 0
    fined = search(db, SearchFilters(status=("fined",)), sort="date")
    assert titles(fined) == ["EU regulator fines Meta EUR 1.2 billion over data transfers",
                             "La CNIL inflige une amende"]


def test_party_country_and_kind(db):
    distillation = SearchFilters(accused_country=("Chinese",), types=("model_distillation",))
    # "every distillation allegation against a Chinese lab"
    assert set(titles(search(db, distillation))) == {
        "Anthropic accuses Alibaba of model distillation",
        "OpenAI says DeepSeek distilled its models"}
    assert search(db, SearchFilters(accused_country=("CN",))).total == 3  # + Alibaba Cloud
    # "EU" stands for the Union and its members: the Irish DPC and France's CNIL.
    eu = search(db, SearchFilters(accuser_country=("EU",), accuser_kind=("regulator",)),
                sort="date")
    assert titles(eu) == ["EU regulator fines Meta EUR 1.2 billion over data transfers",
                          "La CNIL inflige une amende"]
    assert search(db, SearchFilters(accuser_country=("u.s.",))).total == 2
    # Name, country and kind must hold for the same party.
    assert search(db, SearchFilters(accused="Alibaba", accused_country=("US",))).total == 0
    assert search(db, SearchFilters(accuser_country=("CN",))).total == 0
    assert search(db, SearchFilters(accused_kind=("regulator",))).total == 0
    assert search(db, SearchFilters(accused_kind=("Company",), accused_country=("SG",))).total == 0


@pytest.mark.parametrize("filters,words", [
    (SearchFilters(accused_country=("Chinaa",)), "unknown accused country 'Chinaa'"),
    (SearchFilters(accuser_kind=("regulatr",)), "unknown accuser kind 'regulatr'"),
])
def test_party_filter_errors_name_the_value(db, filters, words):
    with pytest.raises(QueryError, match=words):
        search(db, filters)


def test_dates_sources_tags_language(db):
    assert search(db, SearchFilters(since="2025")).total == 2
    assert search(db, SearchFilters(since="2024-11", until="2024-11")).total == 1
    assert search(db, SearchFilters(until="2019-01-21")).total == 1
    assert search(db, SearchFilters(source="example news")).total == 2  # site name
    assert search(db, SearchFilters(source="Policy")).total == 2  # feed name
    assert search(db, SearchFilters(feed_tag="regulators")).total == 2
    assert search(db, SearchFilters(language="fr")).total == 1
    assert search(db, SearchFilters(language="en", query="quarterly")).total == 1  # en-GB


def test_figure_filters(db):
    assert titles(search(db, SearchFilters(figures=(parse_figure_filter("EUR>=100m"),)))) == [
        "EU regulator fines Meta EUR 1.2 billion over data transfers"]
    assert search(db, SearchFilters(figures=(parse_figure_filter("eur >= 10 million"),))).total == 2
    assert search(db, SearchFilters(figures=(parse_figure_filter("account>=25000"),))).total == 1
    assert search(db, SearchFilters(figures=(parse_figure_filter("accounts>25000"),))).total == 0
    assert search(db, SearchFilters(figures=(parse_figure_filter("records>=1000000"),))).total == 1


@pytest.mark.parametrize("text,unit,op,value", [
    ("accounts>=1000000", "accounts", ">=", 1e6),
    ("EUR>=100000000", "EUR", ">=", 1e8),
    ("usd > 2.5bn", "USD", ">", 2.5e9),
    ("Users => 1,500", "users", ">=", 1500),
    ("records=10k", "records", "=", 1e4),
])
def test_parse_figure_filter(text, unit, op, value):
    f = parse_figure_filter(text)
    assert (f.unit, f.op, f.value) == (unit, op, value)


@pytest.mark.parametrize("text,words", [
    ("accounts", "UNIT OPERATOR NUMBER"), (">=5", "UNIT OPERATOR NUMBER"),
    ("EUR>>1", "UNIT OPERATOR NUMBER"), ("EUR>=5 zillion", "unknown multiplier"),
])
def test_bad_figure_filter(text, words):
    with pytest.raises(QueryError, match=words):
        parse_figure_filter(text)


@pytest.mark.parametrize("query,words", [
    ('"fake accounts', "unbalanced quote"),
    ("AND", "AND at the start"),
    ("OR", "OR at the start"),
    ("NOT alibaba", "NOT at the start"),
    ("alibaba AND", "at the end"),
    ("a AND OR b", "OR after 'AND'"),
    ("(alibaba OR meta", "never closed"),
    ("alibaba)", "without a matching"),
    ("()", "empty group"),
    ("*", "not a word"),
    ("", "empty"),
])
def test_malformed_queries_explain(db, query, words):
    with pytest.raises(QueryError, match=words):
        search(db, SearchFilters(query=query or " x")) if query else fts_query(query)


def test_sqlite_side_errors_become_query_errors(db):
    with pytest.raises(QueryError, match="not valid"):
        search(db, SearchFilters(query="NEAR(alibaba anthropic, x)"))


def test_punctuated_words_are_quoted_not_errors(db):
    assert fts_query("U.S. co-founder") == '"U.S." "co-founder"'
    assert fts_query("title:distill* alibaba") == "title:distill* alibaba"
    assert search(db, SearchFilters(query="co-operating OR U.S.")).total == 0
    assert search(db, SearchFilters(query='"fake accounts" OR title:amende')).total == 1


def test_column_filter_on_a_phrase(db):
    # Searched in the title only, not the word "title" next to a phrase.
    assert fts_query('title:"fake accounts" text:"U.S. firm"') == (
        'title:"fake accounts" text:"U.S. firm"')
    # The fillers' titles say "Filler report", their texts "Routine cloud security".
    assert search(db, SearchFilters(query='title:"filler report"')).total == 25
    assert search(db, SearchFilters(query='text:"filler report"')).total == 0
    assert search(db, SearchFilters(query='text:"routine cloud security"')).total == 25
    assert search(db, SearchFilters(query='title:"routine cloud security"')).total == 0


def test_bad_dates_and_paging(db):
    with pytest.raises(QueryError, match="not a real date"):
        search(db, SearchFilters(since="2025-02-30"))
    with pytest.raises(QueryError, match="YYYY"):
        search(db, SearchFilters(until="last week"))
    with pytest.raises(QueryError, match="sort"):
        search(db, SearchFilters(query="x"), sort="best")
    with pytest.raises(QueryError, match="limit"):
        search(db, SearchFilters(query="x"), limit=10_000)


def test_pagination_and_date_order(db):
    first = search(db, SearchFilters(query="cloud"), sort="date", limit=10)
    second = search(db, SearchFilters(query="cloud"), sort="date", limit=10, offset=10)
    assert first.total == second.total == 26
    dates = [h.published for h in first.hits + second.hits]
    assert dates == sorted(dates, reverse=True)
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}


def test_filter_clause_binds_values(db):
    evil = "x' OR 1=1 --"
    sql, params = filter_clause(SearchFilters(query="alibaba", company=evil, source=evil,
                                              types=(evil,), language=evil))
    assert evil not in sql
    assert evil in params
    count = db.execute(f"SELECT COUNT(*) FROM articles a WHERE {sql}", params).fetchone()[0]
    assert count == 0
    sql, params = filter_clause(SearchFilters())
    assert (sql, params) == ("1", [])


# --- CLI ------------------------------------------------------------------------------------


def run(args, sample_path):
    result = CliRunner().invoke(main, ["search", *args, "--db", str(sample_path)])
    return result


def test_cli_json_array_and_facets_object(sample_path):
    out = run(["distill*", "--format", "json"], sample_path)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert isinstance(data, list) and len(data) == 2
    assert {"url", "title", "published", "source", "snippet", "companies"} <= set(data[0])
    out = run(["distill*", "--format", "json", "--facets"], sample_path)
    data = json.loads(out.output)
    assert data["total"] == 2 and len(data["results"]) == 2
    assert {"value": "model_distillation", "count": 2} in data["facets"]["type"]


def test_cli_every_filter(sample_path):
    out = run(["--company", "Alibaba", "--subsidiaries", "--accuser", "PDPC", "--accused",
               "Aliyun", "--type", "data_breach", "--status", "investigating", "--since", "2024",
               "--until", "2024-12-31", "--source", "Cloud Times", "--tag", "tech", "--language",
               "en", "--figure", "records>=1m", "--sort", "date", "--format", "csv"], sample_path)
    assert out.exit_code == 0, out.output
    records = list(csv.DictReader(io.StringIO(out.output)))
    assert [r["title"] for r in records] == ["Alibaba Cloud investigated over data breach"]
    assert records[0]["companies"] == "Alibaba Cloud; PDPC"


def test_cli_table_fits_80_columns(sample_path):
    out = run(["cloud OR distill*", "--facets", "--limit", "30"], sample_path)
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "Results 1-28 of 28:"
    assert max(len(line) for line in lines) <= 80
    assert "! Anthropic -> Alibaba" in out.output
    assert "type: model_distillation (2)" in out.output


def test_cli_offset_and_empty(sample_path):
    out = run(["cloud", "--limit", "5", "--offset", "5"], sample_path)
    assert out.output.startswith("Results 6-10 of 26:")
    assert "More: --offset 10" in out.output
    assert "No results" in run(["zzzyx"], sample_path).output


@pytest.mark.parametrize("args,words", [
    (['"unclosed'], "unbalanced quote"),
    (["AND"], "AND at the start"),
    (["x", "--figure", "lots"], "figure filter"),
    (["x", "--since", "yesterday"], "since date"),
])
def test_cli_errors_are_one_line(sample_path, args, words):
    out = run(args, sample_path)
    assert out.exit_code == 2
    assert words in out.output and "Traceback" not in out.output


def test_cli_party_country_and_kind(sample_path):
    out = run(["--type", "model_distillation", "--accused-country", "China"], sample_path)
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Results 1-2 of 2:")
    out = run(["--status", "fined", "--accuser-country", "EU", "--accuser-kind", "Regulator",
               "--format", "json"], sample_path)
    assert len(json.loads(out.output)) == 2
    bad = run(["--accused-country", "Atlantis"], sample_path)
    assert bad.exit_code == 2 and "unknown accused country 'Atlantis'" in bad.output


def test_cli_reader_that_stops_early_is_not_an_error(sample_path):
    import subprocess
    import sys

    # `tracker search ... | head -1`: the pipe closes before the output is written.
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tracker.cli import main; main()", "search", "cloud",
         "--format", "json", "--db", str(sample_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Error" not in err and "Traceback" not in err, err


def test_cli_missing_database(tmp_path):
    out = CliRunner().invoke(main, ["search", "x", "--db", str(tmp_path / "none.db")])
    assert out.exit_code == 1 and "does not exist" in out.output


def test_cli_help_has_example():
    out = CliRunner().invoke(main, ["search", "--help"])
    assert out.exit_code == 0 and "Examples:" in out.output and "--facets" in out.output


@pytest.mark.parametrize("query", ["cloud OR breach OR security", "clou*", '"cloud security"',
                                   "distill* OR fined", "title:alibaba OR accounts"])
@pytest.mark.parametrize("company,subsidiaries", [("Alibaba", True), ("Alibaba", False),
                                                  ("Aliyun", False), ("Anthropic", False)])
def test_company_filter_in_the_text_index_keeps_the_sql_answer(db, query, company, subsidiaries):
    from tracker.search import text_match

    filters = SearchFilters(query=query, company=company, include_subsidiaries=subsidiaries)
    got = search(db, filters, limit=500)
    # The same question answered in SQL: the text's matches among the company's articles.
    where, params = filter_clause(filters)
    expected = {r[0] for r in db.execute(f"SELECT a.id FROM articles a WHERE {where}", params)}
    assert {h.id for h in got.hits} == expected and got.total == len(expected)
    # The company filter leaves every score as the text alone gives it.
    alone = {h.id: h.score for h in search(db, SearchFilters(query=query), limit=500).hits}
    assert [(h.id, h.score) for h in got.hits] == sorted(
        ((i, alone[i]) for i in expected), key=lambda kv: (kv[1], -kv[0]))
    assert text_match(query).startswith("{title text} : (")


def test_date_order_finds_the_same_articles_without_scoring_them(db):
    filters = SearchFilters(query="cloud OR breach OR distill*", company="Alibaba",
                            include_subsidiaries=True)
    ranked, dated = search(db, filters), search(db, filters, sort="date")
    assert {h.id for h in dated.hits} == {h.id for h in ranked.hits} and dated.total == ranked.total
    assert dated.facets == ranked.facets
    assert all(h.score is not None for h in ranked.hits)
    assert all(h.score is None for h in dated.hits)
    days = [h.published for h in dated.hits]
    assert days == sorted(days, reverse=True)


def test_an_analysts_words_never_match_the_company_keys(db):
    cid = db.execute("SELECT company_id FROM company_aliases WHERE key = 'alibaba'").fetchone()[0]
    keys = db.execute("SELECT company_keys FROM articles WHERE id IN (SELECT article_id FROM "
                      "article_companies WHERE company_id = ?)", [cid]).fetchone()[0]
    assert f"c{cid}" in keys.split()
    assert search(db, SearchFilters(query=f"c{cid}")).total == 0
    assert search(db, SearchFilters(query=f"company_keys:c{cid}")).total == 0


def test_an_unknown_company_with_text_finds_nothing_and_still_checks_the_query(db):
    result = search(db, SearchFilters(query="cloud", company="No Such Corp"))
    assert result.total == 0 and result.hits == ()
    with pytest.raises(QueryError, match="not valid"):
        search(db, SearchFilters(query="NEAR(cloud breach, far)", company="No Such Corp"))


@pytest.mark.parametrize("query", ["cloud OR breach OR security", "clou* OR accounts"])
def test_snippets_made_in_the_main_query_match_the_page_pass(db, monkeypatch, query):
    import tracker.search as search_mod

    filters = SearchFilters(query=query, company="Alibaba", include_subsidiaries=True)
    ids = search_mod._named_company_ids(db, filters)
    assert len(ids) == 2 and search_mod._few_articles(db, ids)
    inline = search(db, filters)
    assert inline.hits and all(MARK_START in h.snippet_marked for h in inline.hits)
    monkeypatch.setattr(search_mod, "INLINE_SNIPPET_MAX", 0)  # a company too big to inline
    assert not search_mod._few_articles(db, ids)
    paged = search(db, filters)
    assert [(h.id, h.snippet_marked) for h in inline.hits] == [
        (h.id, h.snippet_marked) for h in paged.hits]
    assert inline.total == paged.total and inline.facets == paged.facets


# --- incidents, copies and date flags ---------------------------------------------------------


@pytest.fixture(scope="module")
def incident_path(tmp_path_factory):
    return sampledb.build(tmp_path_factory.mktemp("incsearch") / "inc.db", extra=3,
                          incidents=True)


@pytest.fixture
def idb(incident_path):
    conn = open_db(incident_path, readonly=True)
    yield conn
    conn.conn.close()


def article_id(db, url: str) -> int:
    return db.execute("SELECT id FROM articles WHERE url = ?", [url]).fetchone()[0]


NORTHWIND_URLS = [a["url"] for a in sampledb.INCIDENT_ARTICLES[:4]]


def test_incident_filter_and_hit_links(idb):
    from tracker import incidents

    original, copy, rewrite, probe = (article_id(idb, u) for u in NORTHWIND_URLS)
    inc = incidents.incident_of(idb, original)
    result = search(idb, SearchFilters(incident=inc), sort="date")
    assert sorted(h.id for h in result.hits) == sorted([original, copy, rewrite, probe])
    by_id = {h.id: h for h in result.hits}
    assert {h.incident_id for h in result.hits} == {inc}
    assert by_id[original].incident.startswith("Northwind Robotics")
    assert by_id[copy].copy_of == original and by_id[original].copy_of is None
    assert by_id[original].copies == 1 and by_id[rewrite].copies == 0
    assert by_id[copy].to_dict()["copy_of"] == original
    # Text and incident filters combine; an unknown incident matches nothing.
    assert titles(search(idb, SearchFilters(query="probe", incident=inc))) == [
        "Regulator opens probe into Northwind Robotics over scraping"]
    assert search(idb, SearchFilters(incident=99_999)).total == 0
    with pytest.raises(QueryError, match="whole number"):
        filter_clause(SearchFilters(incident="6"))


def test_collapse_copies_shows_earliest_version_and_keeps_facets(idb):
    filters = SearchFilters(query="Northwind")
    full = search(idb, filters)
    collapsed = search(idb, filters, collapse_copies=True)
    assert full.total == 4 and collapsed.total == 3
    assert all(h.copy_of is None for h in collapsed.hits)
    original = article_id(idb, NORTHWIND_URLS[0])
    assert next(h for h in collapsed.hits if h.id == original).copies == 1
    assert collapsed.facets == full.facets
    # A copy whose original does not match the filters still shows.
    only_copy = search(idb, SearchFilters(source="Daily Aggregate"), collapse_copies=True)
    assert [h.url for h in only_copy.hits] == [NORTHWIND_URLS[1]]


def test_merged_incident_id_finds_the_survivors_articles(incident_path, tmp_path):
    import shutil

    from tracker import incidents

    path = tmp_path / "merged.db"
    shutil.copy(incident_path, path)
    db = open_db(path)
    northwind = incidents.incident_of(db, article_id(db, NORTHWIND_URLS[0]))
    meta = incidents.incident_of(db, article_id(db, "https://eu.example.net/meta-fine"))
    incidents.merge_incidents(db, northwind, meta)
    result = search(db, SearchFilters(incident=meta))
    assert result.total == 5
    assert {h.incident_id for h in result.hits} == {northwind}
    db.conn.close()


def test_hits_carry_date_flags(idb):
    from tracker.search import date_note

    (archive,) = search(idb, SearchFilters(query="archive")).hits
    assert archive.published is None and archive.date.day == "date unknown"
    assert archive.date.warning == "2010-12-05 implausible: before Claude existed"
    (feature,) = search(idb, SearchFilters(query="feature")).hits
    assert feature.date.day == "2025-06-06" and feature.date_source == "feed"
    assert feature.to_dict()["date_warning"] == (
        "the page also said 2010-12-05: implausible: before Claude existed")
    assert date_note("2025-01-01", "feed", "not json").warning is None
    note = date_note(None, "none", ["after_fetch", "feed=2099-01-01T00:00:00+00:00: after_fetch: "
                                    "fetched 2025-01-01"])
    assert note.rejected == (("feed", "2099-01-01T00:00:00+00:00",
                              "after_fetch: fetched 2025-01-01"),)
    assert "after the page was fetched" in note.warning


def test_cli_incident_and_collapse(incident_path, idb):
    from tracker import incidents

    inc = incidents.incident_of(idb, article_id(idb, NORTHWIND_URLS[0]))
    out = run(["--incident", str(inc), "--collapse-copies", "--format", "json"], incident_path)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert len(data) == 3 and {d["incident_id"] for d in data} == {inc}
    assert max(d["copies"] for d in data) == 1
    table = run(["Claude", "--limit", "5"], incident_path).output
    assert "date unknown ⚠" in table and "⚠ date: 2010-12-05 implausible" in table
    assert max(len(line) for line in table.splitlines()) <= 80
    table = run(["--incident", str(inc)], incident_path).output
    assert f"incident {inc}: Northwind Robotics" in table
    assert "copy of article" in table and "1 copy; incident" in table
    assert run(["--incident", "zero"], incident_path).exit_code == 2


def test_readonly_connections_read_through_a_memory_map(db):
    # The web server and search open read-only: pages come from the shared OS cache.
    assert db.execute("PRAGMA mmap_size").fetchone()[0] > 0


def test_countries_file_covers_the_gazetteer():
    import re as re_mod

    import yaml

    from tracker.countries import COUNTRIES_FILE, _fold, load_countries

    countries = load_countries()
    gazetteer_codes = set()
    for path in (COUNTRIES_FILE.parent / "gazetteer").glob("*.yaml"):
        gazetteer_codes |= set(re_mod.findall(r"country: ([A-Z]{2})\b", path.read_text()))
    missing = sorted(c for c in gazetteer_codes if _fold(c) not in countries.names)
    assert not missing, f"add these codes to tracker/data/countries.yaml: {missing}"
    # No name stands for two countries.
    data = yaml.safe_load(COUNTRIES_FILE.read_text())
    seen: dict[str, str] = {}
    for code, names in data["countries"].items():
        for name in names:
            assert seen.setdefault(_fold(name), code) == code, name


def test_a_bad_countries_file_says_what_to_fix(tmp_path):
    from tracker.countries import load_countries
    from tracker.errors import ConfigError

    path = tmp_path / "countries.yaml"
    path.write_text("countries:\n  NO: [Norway]\n")  # YAML 1.1 reads NO as false
    with pytest.raises(ConfigError, match="quote NO"):
        load_countries(path)
    path.write_text("countries:\n  FR: France\n")
    with pytest.raises(ConfigError, match="list of names"):
        load_countries(path)


def test_a_parent_stored_first_gets_its_country_later(tmp_path):
    from tracker.store import company_id

    db = open_db(tmp_path / "c.db")
    cloud = company_id(db, "Alibaba Cloud", parent="Alibaba Group", country="CN")
    group = db.execute("SELECT parent_id FROM companies WHERE id = ?", [cloud]).fetchone()[0]
    assert db.execute("SELECT country FROM companies WHERE id = ?", [group]).fetchone()[0] is None
    assert company_id(db, "Alibaba Group", country="CN") == group
    assert company_id(db, "Alibaba Group", country="US") == group  # never overwritten
    assert db.execute("SELECT country FROM companies WHERE id = ?", [group]).fetchone()[0] == "CN"


def test_inline_snippets_with_collapsed_copies(idb, monkeypatch):
    import tracker.search as search_mod

    filters = SearchFilters(query="scraping OR data", company="Northwind Robotics")
    inline = search(idb, filters, collapse_copies=True)
    monkeypatch.setattr(search_mod, "INLINE_SNIPPET_MAX", 0)
    paged = search(idb, filters, collapse_copies=True)
    assert inline.total == paged.total == 3
    assert [(h.id, h.snippet_marked, h.copies) for h in inline.hits] == [
        (h.id, h.snippet_marked, h.copies) for h in paged.hits]
    assert any(h.copies for h in inline.hits)
