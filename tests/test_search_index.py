"""Search speed work: articles.alleged_types (store migration 8) and the search benchmark.

The type filter and facet read an article's allegation types from
articles.alleged_types, kept by triggers; these tests check the copy follows
every change to the allegations and that search answers as it would from the
allegation tables themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support import sampledb
from tests.support.olddb import copy_into_old
from tracker import store
from tracker.records import Allegation, Analysis, ExtractedArticle
from tracker.search import SearchFilters, search
from tracker.store import open_db

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"

# What alleged_types copies, read from the allegation tables.
FROM_TABLES = ("SELECT group_concat(t.type, char(31)) FROM allegations al JOIN allegation_types t "
               "ON t.allegation_id = al.id WHERE al.article_id = ?")


def stale(db) -> list[tuple]:
    """(article id, copy, tables) for every article whose copy disagrees with the tables."""
    out = []
    for aid, copy in db.execute("SELECT id, alleged_types FROM articles").fetchall():
        real = db.execute(FROM_TABLES, [aid]).fetchone()[0]
        if sorted((copy or "").split("\x1f")) != sorted((real or "").split("\x1f")):
            out.append((aid, copy, real))
    return out


@pytest.fixture
def db(tmp_path):
    conn = open_db(sampledb.build(tmp_path / "sample.db", extra=3))
    yield conn
    conn.conn.close()


def _analysis(*types_per_allegation: tuple[str, ...]) -> Analysis:
    return Analysis(text="x", allegations=tuple(
        Allegation(accuser=None, accused=(), types=types, status="alleged", evidence="x",
                   start=0, end=1) for types in types_per_allegation))


def test_alleged_types_match_the_allegation_tables(db):
    assert db.execute("SELECT COUNT(*) FROM articles WHERE alleged_types IS NOT NULL"
                      ).fetchone()[0] > 3
    assert stale(db) == []


def test_alleged_types_follow_reanalysis_and_deletes(db):
    aid = db.execute("SELECT id FROM articles WHERE alleged_types IS NOT NULL "
                     "ORDER BY id LIMIT 1").fetchone()[0]
    store.replace_analysis(db, aid, _analysis(("fraud", "antitrust"), ("fraud",)))
    assert sorted(db.execute("SELECT alleged_types FROM articles WHERE id = ?", [aid]
                             ).fetchone()[0].split("\x1f")) == ["antitrust", "fraud", "fraud"]
    hits = search(db, SearchFilters(types=("antitrust",)))
    assert aid in [h.id for h in hits.hits]
    store.replace_analysis(db, aid, _analysis())
    copy = db.execute("SELECT alleged_types FROM articles WHERE id = ?", [aid]).fetchone()[0]
    assert copy is None
    assert aid not in [h.id for h in search(db, SearchFilters(types=("antitrust",))).hits]
    # Direct edits of the allegation tables are followed too.
    al = db.execute("SELECT id, article_id FROM allegations ORDER BY id LIMIT 1").fetchone()
    with db.conn:
        db.execute("UPDATE allegation_types SET type = 'labor' WHERE allegation_id = ?", [al[0]])
        db.execute("INSERT INTO allegation_types VALUES (?, 'export_control')", [al[0]])
    assert "export_control" in db.execute("SELECT alleged_types FROM articles WHERE id = ?",
                                          [al[1]]).fetchone()[0]
    with db.conn:
        for table in ("allegation_types", "allegation_parties"):
            db.execute(f"DELETE FROM {table} WHERE allegation_id = ?", [al[0]])
        db.execute("UPDATE figures SET allegation_id = NULL WHERE allegation_id = ?", [al[0]])
        db.execute("DELETE FROM allegations WHERE id = ?", [al[0]])
    assert stale(db) == []


def test_type_filter_and_facet_agree_with_the_allegation_tables(db):
    types = [r[0] for r in db.execute("SELECT DISTINCT type FROM allegation_types")]
    assert types
    for type_id in types:
        expected = {r[0] for r in db.execute(
            "SELECT al.article_id FROM allegations al JOIN allegation_types t "
            "ON t.allegation_id = al.id WHERE t.type = ?", [type_id])}
        got = search(db, SearchFilters(types=(type_id,)), limit=500)
        assert {h.id for h in got.hits} == expected
        # The same question through the other path (an allegation-level condition).
        statuses = tuple(r[0] for r in db.execute("SELECT DISTINCT status FROM allegations"))
        other = search(db, SearchFilters(types=(type_id,), status=statuses), limit=500)
        assert {h.id for h in other.hits} == expected
        assert dict(got.facets["type"])[type_id] == len(expected)


def test_article_page_does_not_show_the_index_copy(db):
    from tracker.search import article_detail

    aid = db.execute("SELECT id FROM articles WHERE alleged_types IS NOT NULL LIMIT 1"
                     ).fetchone()[0]
    shown = article_detail(db, aid)
    assert "alleged_types" not in shown and "company_keys" not in shown


def test_migration_fills_alleged_types_of_an_older_database(tmp_path):
    current = open_db(tmp_path / "current.db")
    for i, types in enumerate([("fraud",), ("ip_theft", "fraud"), ()]):
        article = ExtractedArticle(url=f"https://old.example.com/{i}", text=f"body {i}",
                                   title=f"Old {i}", published="2024-01-02")
        store.save_article(current, article, _analysis(*([types] if types else [])),
                           canonical_url=article.url)
    current.conn.close()
    path = tmp_path / "old.db"
    copy_into_old(tmp_path / "current.db", path, 7)
    db = open_db(path)
    assert store.current_version(db) == store.SCHEMA_VERSION
    assert stale(db) == []
    assert search(db, SearchFilters(types=("fraud",))).total == 2


def test_search_benchmark_tiny(tmp_path, capsys):
    sys.path.insert(0, str(BENCH))
    try:
        import search_bench
    finally:
        sys.path.remove(str(BENCH))
    args = ["--sizes", "2000,4000", "--rounds", "2", "--keep", str(tmp_path)]
    assert search_bench.main(args) == 0
    first = capsys.readouterr().out
    assert "results" in first and "growth 2,000 -> 4,000" in first and "RESULT {" in first
    # Kept databases are reused (and brought to the current schema) on the next run.
    built = sorted(p.name for p in tmp_path.glob("bench-*.db"))
    assert search_bench.main(args) == 0
    assert sorted(p.name for p in tmp_path.glob("bench-*.db")) == built
    assert "RESULT {" in capsys.readouterr().out
