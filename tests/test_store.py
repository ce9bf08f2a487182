"""The store keeps each party under its own kind: people and unnamed groups are not companies."""

from __future__ import annotations

from tests.support.sampledb import _analysis
from tracker.records import ExtractedArticle
from tracker.store import open_db, save_article


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
