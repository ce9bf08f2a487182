"""The store: each party under its own kind (people and unnamed groups are not companies),
and each article's company keys in the text index, kept up to date."""

from __future__ import annotations

from tests.support.olddb import old_schema
from tests.support.sampledb import _analysis
from tracker import store
from tracker.records import ExtractedArticle
from tracker.search import SearchFilters, search
from tracker.store import open_db, replace_analysis, save_article


def test_parties_keep_their_kinds(tmp_path):
    db = open_db(tmp_path / "t.db")
    title = "Whistleblower accuses Corvane Systems"
    body = ("Dana Whitlow, a former engineer, filed a complaint accusing Corvane Systems of "
            "hiding a breach. Federal prosecutors also accused Corvane Systems of fraud.")
    analysis = _analysis(
        title, body,
        entities=[("Dana Whitlow", "person", None, (), ["Dana Whitlow"]),
                  ("Corvane Systems", "company", None, (), ["Corvane Systems"])],
        allegations=[("Dana Whitlow", ["Corvane Systems"], ["data_breach"], "alleged",
                      "filed a complaint accusing Corvane Systems"),
                     # a party the analysis names without an entity of its own
                     ("federal prosecutors", ["Corvane Systems"], ["fraud"], "alleged",
                      "Federal prosecutors also accused Corvane Systems of fraud")])
    article = ExtractedArticle(url="https://news.example.com/1", text=body, title=title,
                               published="2026-01-02", site_name="Example", language="en")
    save_article(db, article, analysis, canonical_url=article.url)
    kinds = dict(db.execute("SELECT name, kind FROM companies").fetchall())
    assert kinds == {"Dana Whitlow": "person", "Corvane Systems": "company",
                     "federal prosecutors": "other"}
    # People are parties, not companies the article is about.
    named = {r[0] for r in db.execute(
        "SELECT c.name FROM article_companies ac JOIN companies c ON c.id = ac.company_id")}
    assert named == {"Corvane Systems"}


TITLE = "Regulator fines Corvane Systems"
BODY = ("The data regulator fined Corvane Systems and its cloud arm Velmora over a breach of "
        "customer records. Corvane's founder Dana Whitlow apologised. Its Lumo app was hit.")


def _corvane(*names):
    kinds = {"Corvane Systems": "company", "Velmora": "company", "Dana Whitlow": "person",
             "Lumo": "product"}
    return _analysis(TITLE, BODY, entities=[(n, kinds[n], None, (), [n]) for n in names])


def _ids(db, *names):
    return [db.execute("SELECT id FROM companies WHERE name = ?", [n]).fetchone()[0]
            for n in names]


def test_an_article_is_indexed_with_its_companies_keys(tmp_path):
    db = open_db(tmp_path / "t.db")
    article = ExtractedArticle(url="https://news.example.com/c", text=BODY, title=TITLE,
                               published="2026-01-02")
    stored = save_article(db, article, _corvane("Corvane Systems", "Velmora", "Dana Whitlow",
                                                "Lumo"), canonical_url=article.url)
    corvane, velmora = _ids(db, "Corvane Systems", "Velmora")
    keys = db.execute("SELECT company_keys FROM articles WHERE id = ?",
                      [stored.id]).fetchone()[0]
    # People and products are not among the article's companies, so they get no key.
    assert keys == store.company_keys([velmora, corvane]) == f"c{corvane} c{velmora}"
    fts = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?",
                     [f"company_keys : c{velmora}"]).fetchall()
    assert fts == [(stored.id,)]
    assert search(db, SearchFilters(query="breach", company="Velmora")).total == 1


def test_a_new_analysis_rewrites_the_keys_and_the_index(tmp_path):
    db = open_db(tmp_path / "t.db")
    article = ExtractedArticle(url="https://news.example.com/c", text=BODY, title=TITLE,
                               published="2026-01-02")
    stored = save_article(db, article, _corvane("Corvane Systems"), canonical_url=article.url)
    assert search(db, SearchFilters(query="breach", company="Velmora")).total == 0
    replace_analysis(db, stored.id, _corvane("Velmora"))
    assert search(db, SearchFilters(query="breach", company="Velmora")).total == 1
    assert search(db, SearchFilters(query="breach", company="Corvane Systems")).total == 0
    # The text itself is indexed once, not once per analysis.
    assert search(db, SearchFilters(query="breach")).total == 1
    db.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")


def test_migration_indexes_the_companies_of_an_older_database(tmp_path):
    path = tmp_path / "old.db"
    conn = old_schema(path, 9)
    conn.execute("INSERT INTO companies (id, name, kind, first_seen) VALUES "
                 "(7, 'Corvane Systems', 'company', 'x'), (9, 'Velmora', 'company', 'x')")
    conn.execute("INSERT INTO company_aliases VALUES ('corvane systems', 'Corvane Systems', 7), "
                 "('velmora', 'Velmora', 9)")
    for aid, companies in ((1, (9, 7)), (2, ()), (3, (7,))):
        conn.execute("INSERT INTO articles (id, url, canonical_url, title, published, fetched, "
                     "text, content_hash, method) VALUES (?,?,?,?,?,?,?,?,'page')",
                     [aid, f"u{aid}", f"u{aid}", TITLE, "2026-01-02", "x", BODY, f"h{aid}"])
        conn.executemany("INSERT INTO article_companies VALUES (?, ?, 1)",
                         [(aid, c) for c in companies])
    conn.commit()
    conn.close()
    db = open_db(path)
    assert store.current_version(db) == store.SCHEMA_VERSION
    assert db.execute("SELECT id, company_keys FROM articles ORDER BY id").fetchall() == [
        (1, "c7 c9"), (2, None), (3, "c7")]
    assert [h.id for h in search(db, SearchFilters(query="breach", company="Corvane Systems"),
                                 sort="date").hits] == [3, 1]
    assert search(db, SearchFilters(query="breach")).total == 3
    db.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")


def test_an_unplaced_name_is_filed_only_when_it_is_a_party(tmp_path):
    db = open_db(tmp_path / "t.db")
    title = "Hackers hit Corvane Systems"
    body = ("A gang calling itself Rustmoth claimed the attack on Corvane Systems, whose API "
            "keys and GDPR records were taken. Corvane Systems said it is investigating.")
    analysis = _analysis(
        title, body,
        entities=[("Corvane Systems", "company", None, (), ["Corvane Systems"]),
                  ("Rustmoth", "other", None, (), ["Rustmoth"]),
                  ("API", "other", None, (), ["API"]),
                  ("GDPR", "other", None, (), ["GDPR"])],
        allegations=[("Rustmoth", ["Corvane Systems"], ["data_breach"], "alleged",
                      "Rustmoth claimed the attack on Corvane Systems")],
        responses=[("Corvane Systems", "investigating",
                    "Corvane Systems said it is investigating")])
    article = ExtractedArticle(url="https://news.example.com/r", text=body, title=title,
                               published="2026-01-02")
    stored = save_article(db, article, analysis, canonical_url=article.url)
    filed = {r[0] for r in db.execute(
        "SELECT c.name FROM article_companies ac JOIN companies c ON c.id = ac.company_id")}
    assert filed == {"Corvane Systems", "Rustmoth"}
    assert {r[0] for r in db.execute("SELECT DISTINCT text FROM mentions")} == filed
    assert db.execute("SELECT COUNT(*) FROM companies WHERE name IN ('API', 'GDPR')"
                      ).fetchone()[0] == 0
    hit = search(db, SearchFilters(query="attack")).hits[0]
    assert hit.id == stored.id and set(hit.companies) == filed
