"""`tracker reanalyze`: the current extractor redoes stored articles an older one analysed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.support.nlp import shared_analyzer
from tests.support.sampledb import _analysis
from tracker import incidents, pipeline
from tracker.cli import main
from tracker.nlp import EXTRACTOR_VERSION
from tracker.records import ExtractedArticle, Settings
from tracker.search import SearchFilters, search
from tracker.store import open_db, save_article

TITLE = "Velmora accuses Corvane Systems of copying its models"
BODY = ("Velmora said on Monday that Corvane Systems used 12,000 fake accounts to distill its "
        "models. Corvane Systems denied the claims.")


@pytest.fixture(autouse=True)
def one_model(monkeypatch):
    # The re-analysis loads its analyzer through tracker.nlp: hand it the session's.
    analyzer = shared_analyzer()
    monkeypatch.setattr("tracker.nlp.Analyzer", lambda **_: analyzer)


def _old(title=TITLE, body=BODY, version="nlp-old"):
    """An analysis an older extractor could have made: one made-up company, nothing else."""
    analysis = _analysis(title, body, entities=[("Velmora", "company", None, (), ["Velmora"])])
    return analysis.__class__(**{**analysis.__dict__, "extractor_version": version})


def _store(db, n, analysis, title=TITLE, body=BODY):
    body = f"{body} Report number {n}."  # a body of its own: not a copy of another
    article = ExtractedArticle(url=f"https://news.example.com/{n}", text=body, title=title,
                               published=f"2026-01-0{n}", site_name=f"Site {n}")
    return save_article(db, article, analysis, canonical_url=article.url).id


def _companies(db, article_id):
    return {r[0] for r in db.execute(
        "SELECT c.name FROM article_companies ac JOIN companies c ON c.id = ac.company_id "
        "WHERE ac.article_id = ?", [article_id])}


@pytest.fixture
def path(tmp_path):
    path = str(tmp_path / "t.db")
    db = open_db(path)
    ids = {"old": _store(db, 1, _old()),
           "never": _store(db, 2, None),
           # current version: must be left as it is, made-up content and all
           "current": _store(db, 3, _old(version=EXTRACTOR_VERSION))}
    db.conn.close()
    return path, ids


def test_only_articles_of_other_versions_are_redone(path):
    path, ids = path
    summary = pipeline.reanalyze(path, Settings())
    assert (summary.due, summary.reanalyzed, summary.failed) == (2, 2, [])
    db = open_db(path)
    for key in ("old", "never"):
        assert _companies(db, ids[key]) == {"Velmora", "Corvane Systems"}
        assert db.execute("SELECT extractor_version FROM articles WHERE id = ?",
                          [ids[key]]).fetchone()[0] == EXTRACTOR_VERSION
        kinds = {r[0] for r in db.execute("SELECT type FROM allegations WHERE article_id = ?",
                                          [ids[key]])}
        assert "model_distillation" in kinds
    assert _companies(db, ids["current"]) == {"Velmora"}
    # The text index knows the new companies: the company filter finds the articles.
    found = search(db, SearchFilters(query="fake accounts", company="Corvane Systems"))
    assert {h.id for h in found.hits} == {ids["old"], ids["never"]}
    db.conn.close()
    assert pipeline.reanalyze(path, Settings()).due == 0
    everything = pipeline.reanalyze(path, Settings(), everything=True)
    assert (everything.due, everything.reanalyzed) == (3, 3)


def test_a_limit_leaves_the_rest_for_the_next_call(path):
    path, ids = path
    first = pipeline.reanalyze(path, Settings(), limit=1)
    assert (first.due, first.reanalyzed) == (2, 1)
    second = pipeline.reanalyze(path, Settings(), limit=1)
    assert (second.due, second.reanalyzed) == (1, 1)
    with pytest.raises(Exception, match="limit must be 0 or more"):
        pipeline.reanalyze(path, Settings(), limit=-1)


def test_an_article_the_analyzer_fails_on_keeps_its_old_analysis(path, monkeypatch):
    path, ids = path
    real = pipeline.safe_analyze

    def failing(analyzer, items):
        out = real(analyzer, items)
        return [RuntimeError("model fell over") if title and "Broken" in title else r
                for (_, title), r in zip(items, out, strict=True)]

    db = open_db(path)
    broken = _store(db, 4, _old(title="Broken page about Velmora"),
                    title="Broken page about Velmora")
    db.conn.close()
    monkeypatch.setattr(pipeline, "safe_analyze", failing)
    summary = pipeline.reanalyze(path, Settings())
    assert summary.reanalyzed == 2
    assert summary.failed == [{"article_id": broken,
                               "error": "analysis failed: RuntimeError('model fell over')"}]
    db = open_db(path)
    assert _companies(db, broken) == {"Velmora"}
    assert db.execute("SELECT extractor_version FROM articles WHERE id = ?",
                      [broken]).fetchone()[0] == "nlp-old"


def test_the_incidents_of_redone_articles_are_recomputed(path):
    path, ids = path
    db = open_db(path)
    incident = incidents.process_article(db, ids["old"])
    before = db.execute("SELECT label FROM incidents WHERE id = ?", [incident]).fetchone()[0]
    assert "Corvane" not in before
    db.conn.close()
    summary = pipeline.reanalyze(path, Settings())
    assert summary.incidents == 1
    db = open_db(path)
    label = db.execute("SELECT label FROM incidents WHERE id = ?", [incident]).fetchone()[0]
    assert "Corvane Systems" in label and "model_distillation" in label


def test_cli_reports_and_exits(path, tmp_path):
    path, ids = path
    runner = CliRunner()

    def versions():
        shown = runner.invoke(main, ["stats", "--db", path, "--format", "json"])
        return json.loads(shown.output)["articles_by_extractor"]

    assert versions() == {"nlp-old": 1, "none": 1, EXTRACTOR_VERSION: 1}
    out = runner.invoke(main, ["reanalyze", "--db", path, "--workers", "1"])
    assert out.exit_code == 0, out.output
    assert "Re-analysed 2 of 2 articles due with extractor " + EXTRACTOR_VERSION in out.output
    assert versions() == {EXTRACTOR_VERSION: 3}
    again = runner.invoke(main, ["reanalyze", "--db", path, "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["due"] == 0
    missing = runner.invoke(main, ["reanalyze", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code != 0 and "does not exist" in missing.output
    assert not (tmp_path / "none.db").exists()
    with pipeline.run_lock(path):
        locked = runner.invoke(main, ["reanalyze", "--db", path])
    assert locked.exit_code == 3 and "tracker reanalyze" in locked.output


def test_two_worker_processes_find_what_one_finds(tmp_path):
    def build(name):
        path = str(tmp_path / name)
        db = open_db(path)
        for n in range(1, 6):
            _store(db, n, _old())
        db.conn.close()
        return path

    def found(path):
        db = open_db(path)
        out = [db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
               for table in ("article_companies", "figures", "responses")]
        out.append(db.execute("SELECT article_id, type, status, accuser_name, evidence "
                              "FROM allegations ORDER BY 1, 2, 5").fetchall())
        db.conn.close()
        return out

    one, two = build("one.db"), build("two.db")
    assert pipeline.reanalyze(one, Settings(), workers=1).reanalyzed == 5
    assert pipeline.reanalyze(two, Settings(), workers=2).reanalyzed == 5
    assert found(one) == found(two)
    assert found(one)[0]


def test_ctrl_c_still_recomputes_the_incidents_of_what_was_redone(path, monkeypatch):
    path, ids = path
    db = open_db(path)
    incident = incidents.process_article(db, ids["old"])
    db.conn.close()
    real = pipeline.store.replace_analysis
    calls = []

    def interrupted(db, article_id, analysis):
        calls.append(article_id)
        if len(calls) > 1:
            raise KeyboardInterrupt
        real(db, article_id, analysis)

    monkeypatch.setattr(pipeline.store, "replace_analysis", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.reanalyze(path, Settings())
    assert calls == [ids["old"], ids["never"]]
    db = open_db(path)
    label = db.execute("SELECT label FROM incidents WHERE id = ?", [incident]).fetchone()[0]
    assert "Corvane Systems" in label
