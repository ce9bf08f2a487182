"""The end-to-end run: feeds over loopback into SQLite, 304s, dedupe, failures, re-runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.httpserver import loopback  # noqa: F401  (fixture)
from tracker import pipeline, store
from tracker.cli import main
from tracker.config import load_config

PAGE = """<!doctype html><html lang="en"><head><title>{title}</title>
<meta property="og:site_name" content="Loopback News">
<meta property="article:published_time" content="2026-02-2{day}T10:00:00Z"></head>
<body><nav>Home | World | Tech</nav><article><h1>{title}</h1>
<p>{body}</p>
<p>The company did not respond to a request for comment on Tuesday, a spokesperson said.</p>
<p>Analysts said the case could take years to resolve in the courts of several countries.</p>
</article><footer>Copyright 2026 Loopback News</footer></body></html>"""

ARTICLES = {
    "a1": ("Anthropic says DeepSeek used fake accounts",
           "Anthropic said on Monday that DeepSeek used about 24,000 fraudulent accounts to "
           "distill its Claude models without permission, in violation of its terms of service."),
    "a2": ("Irish regulator fines LinkedIn over ad targeting",
           "Ireland's Data Protection Commission fined LinkedIn 310 million euros for processing "
           "the personal data of its members for behavioural advertising without a valid basis."),
    "a3": ("Nvidia reports record data-center revenue",
           "Nvidia reported record quarterly revenue as demand for its data-center chips "
           "continued to grow, the company said in a statement to investors."),
}


def rss(base: str, items: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{ARTICLES[k][0]}</title><link>{base}/articles/{k}.html{suffix}</link>"
        f"<guid>{k}-guid</guid><pubDate>Mon, 23 Feb 2026 10:00:00 GMT</pubDate>"
        f"<description>{ARTICLES[k][1]}</description></item>"
        for k, suffix in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            f"<link>{base}</link><description>d</description>{entries}</channel></rss>").encode()


@pytest.fixture
def site(loopback):  # noqa: F811
    base = loopback.base
    for i, (key, (title, body)) in enumerate(ARTICLES.items()):
        loopback.route(f"/articles/{key}.html", body=PAGE.format(title=title, body=body, day=i),
                       content_type="text/html; charset=utf-8")
    loopback.route("/feed1.xml", body=rss(base, [("a1", ""), ("a2", "")]),
                   content_type="application/rss+xml", etag='"v1"')
    # The same a1 through a second feed, with a tracking parameter: linked, not stored twice.
    loopback.route("/feed2.xml", body=rss(base, [("a1", "?utm_source=rss&utm_medium=x"),
                                                 ("a3", "")]),
                   content_type="application/rss+xml")
    loopback.route("/broken.xml", status=500, body=b"oops")
    return loopback


def write_feeds(tmp_path, site, extra: str = "") -> str:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "settings:\n  allow_private_networks: true\n  min_host_delay: 0\n"
        "  respect_robots: false\n"
        f"feeds:\n  - url: {site.url('/feed1.xml')}\n    name: one\n    tags: [test]\n"
        f"  - url: {site.url('/feed2.xml')}\n    name: two\n"
        f"  - url: {site.url('/broken.xml')}\n    name: broken\n" + extra)
    return str(path)


def count(db_path, sql: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchone()[0]


def test_run_stores_dedupes_and_survives_a_failing_feed(site, tmp_path, db_path):
    config = load_config(write_feeds(tmp_path, site))
    summary = pipeline.run(config, str(db_path))
    assert summary.feeds_ok == 2 and summary.feeds_failed == 1
    assert summary.articles_new == 3
    assert count(db_path, "SELECT COUNT(*) FROM articles") == 3
    # a1 came through both feeds: one row, two links
    assert count(db_path, "SELECT COUNT(*) FROM article_feeds") == 4
    with sqlite3.connect(db_path) as conn:
        err = conn.execute("SELECT last_status, error_count, next_fetch, last_error FROM feeds "
                           "WHERE name = 'broken'").fetchone()
        assert err[0] == 500 and err[1] == 1 and err[2] and "500" in err[3]
        title, source, method = conn.execute(
            "SELECT title, source, method FROM articles WHERE canonical_url LIKE '%a1.html'"
        ).fetchone()
        assert title.startswith("Anthropic says") and method == "page"
        assert source == "Loopback News"
        # the NLP step ran and stored what it found
        names = {r[0] for r in conn.execute(
            "SELECT c.name FROM article_companies ac JOIN companies c ON c.id = ac.company_id")}
        assert "Anthropic" in names and "LinkedIn" in names
        assert conn.execute("SELECT COUNT(*) FROM allegations").fetchone()[0] >= 1
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_rerun_is_idempotent_and_sends_validators(site, tmp_path, db_path):
    config = load_config(write_feeds(tmp_path, site))
    pipeline.run(config, str(db_path))
    allegations = count(db_path, "SELECT COUNT(*) FROM allegations")
    page_hits = site.hits("/articles/a1.html")
    assert page_hits == 1  # fetched once although two feeds carry it
    second = pipeline.run(config, str(db_path), force=True)
    assert second.articles_new == 0
    # feed1 answers 304 to its ETag; feed2 has none but serves the same bytes again
    assert second.feeds_not_modified == 2
    assert site.hits("/articles/a1.html") == page_hits  # nothing fetched again
    conditional = [r for r in site.requests if r.path == "/feed1.xml"][-1]
    assert conditional.headers.get("If-None-Match") == '"v1"'
    assert count(db_path, "SELECT COUNT(*) FROM articles") == 3
    assert count(db_path, "SELECT COUNT(*) FROM allegations") == allegations


def test_backing_off_feed_is_skipped_until_due(site, tmp_path, db_path):
    config = load_config(write_feeds(tmp_path, site))
    pipeline.run(config, str(db_path))
    again = pipeline.run(config, str(db_path))
    assert again.feeds_skipped == 1  # the broken feed waits for its next_fetch
    assert site.hits("/broken.xml") == 1


def test_page_failure_falls_back_to_feed_summary(site, tmp_path, db_path):
    site.route("/articles/a2.html", status=404, body=b"gone")
    config = load_config(write_feeds(tmp_path, site))
    summary = pipeline.run(config, str(db_path), nlp=False)
    assert summary.pages_failed == 1
    with sqlite3.connect(db_path) as conn:
        method, text, err = conn.execute(
            "SELECT method, text, fetch_error FROM articles WHERE url LIKE '%a2%'").fetchone()
    assert method == "feed_summary" and "310 million euros" in text and "404" in err


def test_run_lock_refuses_a_second_run(tmp_path, db_path):
    from tracker.errors import LockedError

    with pipeline.run_lock(str(db_path)):
        with pytest.raises(LockedError, match="--wait"):
            with pipeline.run_lock(str(db_path)):
                pass
    with pipeline.run_lock(str(db_path)):  # released again
        pass


def test_cli_run_json_and_exit_codes(site, tmp_path, db_path):
    runner = CliRunner()
    feeds = write_feeds(tmp_path, site)
    result = runner.invoke(main, ["run", "--feeds", feeds, "--db", str(db_path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["articles_new"] == 3 and data["feeds_failed"] == 1
    # nothing reachable at all: exit 1, each feed's error reported, no traceback
    dead = tmp_path / "dead.yaml"
    dead.write_text("feeds:\n  - url: http://127.0.0.1:9/feed.xml\n    name: dead\n"
                    "  - url: http://127.0.0.1:9/other.xml\n")
    result = runner.invoke(main, ["run", "--feeds", str(dead), "--db", str(tmp_path / "d.db")])
    assert result.exit_code == 1
    assert "dead:" in result.stdout and "Traceback" not in result.output


def test_env_variables_choose_db_and_feeds(site, tmp_path, monkeypatch):
    feeds = write_feeds(tmp_path, site)
    env_db = tmp_path / "from-env.db"
    monkeypatch.setenv("TRACKER_FEEDS", feeds)
    monkeypatch.setenv("TRACKER_DB", str(env_db))
    result = CliRunner().invoke(main, ["run", "--no-nlp"])
    assert result.exit_code == 0, result.output
    assert count(env_db, "SELECT COUNT(*) FROM articles") == 3
    stats = CliRunner().invoke(main, ["stats", "--format", "json"])
    assert json.loads(stats.stdout)["articles"] == 3


def test_bad_config_is_exit_2_with_file_and_line(tmp_path):
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds:\n  - name: no url here\n")
    result = CliRunner().invoke(main, ["run", "--feeds", str(bad), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert "feeds.yaml:2" in result.stderr and "url" in result.stderr


def test_feeds_command_shows_health(site, tmp_path, db_path):
    feeds = write_feeds(tmp_path, site)
    pipeline.run(load_config(feeds), str(db_path), nlp=False)
    result = CliRunner().invoke(main, ["feeds", "--feeds", feeds, "--db", str(db_path),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    by_name = {f["name"]: f for f in json.loads(result.stdout)}
    assert by_name["broken"]["error_count"] == 1 and by_name["broken"]["next_fetch"]
    assert by_name["one"]["last_status"] == 200 and by_name["one"]["error_count"] == 0


def test_import_jsonl_and_html_folder(tmp_path, db_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"url": "https://x.example/1", "title": "Meta fined",
                    "text": "The European Commission fined Meta 797 million euros.",
                    "published": "2024-11-14"}) + "\n"
        + "not json\n"
        + json.dumps({"url": "https://x.example/2", "title": "nothing"}) + "\n")
    result = CliRunner().invoke(main, ["import", str(src), "--db", str(db_path), "--no-nlp"])
    assert result.exit_code == 0, result.output
    assert "Imported 1 new" in result.stdout
    assert "in.jsonl:2" in result.stderr and "in.jsonl:3" in result.stderr
    folder = tmp_path / "pages"
    folder.mkdir()
    title, body = ARTICLES["a3"]
    (folder / "p.html").write_text(PAGE.format(title=title, body=body, day=1))
    result = CliRunner().invoke(main, ["import", str(folder), "--db", str(db_path), "--no-nlp"])
    assert result.exit_code == 0, result.output
    assert count(db_path, "SELECT COUNT(*) FROM articles") == 2


def test_add_fetches_one_article(site, tmp_path, db_path):
    result = CliRunner().invoke(main, ["add", site.url("/articles/a3.html"), "--db",
                                       str(db_path), "--feeds", str(tmp_path / "none.yaml")])
    assert result.exit_code == 0, result.output
    assert "added" in result.stdout
    result = CliRunner().invoke(main, ["add", site.url("/articles/a3.html"), "--db",
                                       str(db_path), "--feeds", str(tmp_path / "none.yaml")])
    assert "already stored" in result.stdout


def test_old_database_upgrades_in_place(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, "
                 "applied TEXT)")
    conn.executescript(store.MIGRATIONS[0][2])
    conn.execute("INSERT INTO schema_migrations VALUES (1, 'initial schema', '2026-01-01')")
    conn.execute("INSERT INTO articles (url, canonical_url, fetched, content_hash, method) "
                 "VALUES ('u', 'u', '2026-01-01', 'h', 'page')")
    conn.commit()
    conn.close()
    db = store.open_db(path)
    assert store.current_version(db) == store.SCHEMA_VERSION
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1


def test_run_groups_articles_into_incidents(site, tmp_path, db_path):
    from tracker import incidents

    config = load_config(write_feeds(tmp_path, site))
    pipeline.run(config, str(db_path))
    db = store.open_db(db_path)
    found = incidents.list_incidents(db)
    assert found, "no incident was formed"
    assert all(i["source_count"] >= 1 for i in found) if isinstance(found[0], dict) else True
    assert db.execute("SELECT COUNT(*) FROM articles a LEFT JOIN article_signatures s "
                      "ON s.article_id = a.id WHERE s.article_id IS NULL").fetchone()[0] == 0


def test_impossible_date_is_flagged_not_used(site, tmp_path, db_path):
    # An aggregator copy dated 2010 about a story that names Claude (launched 2023).
    page = PAGE.format(title="Chinese labs accused of copying Claude", day=0, body=(
        "Anthropic said rival labs used thousands of accounts to query its Claude models and "
        "copy their answers, a practice known as distillation, which it said broke its terms."))
    page = page.replace("2026-02-20T10:00:00Z", "2010-12-05T17:23:32Z")
    site.route("/articles/old.html", body=page, content_type="text/html")
    site.route("/feed3.xml", content_type="application/rss+xml", body=(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>x</link>'
        f"<description>d</description><item><title>Copy</title>"
        f"<link>{site.url('/articles/old.html')}</link></item></channel></rss>"))
    feeds = write_feeds(tmp_path, site, f"  - url: {site.url('/feed3.xml')}\n")
    pipeline.run(load_config(feeds), str(db_path))
    with sqlite3.connect(db_path) as conn:
        published, flags = conn.execute(
            "SELECT published, date_flags FROM articles WHERE url LIKE '%old.html'").fetchone()
    assert not (published or "").startswith("2010")
    assert "before_existence" in flags


def test_quiet_feed_is_polled_less_often_when_asked(site, tmp_path, db_path):
    feeds = Path(write_feeds(tmp_path, site))
    feeds.write_text(feeds.read_text().replace("settings:\n",
                                               "settings:\n  quiet_feed_max_hours: 6\n"))
    config = load_config(feeds)
    for _ in range(4):  # the first run stores everything; the next three bring nothing new
        pipeline.run(config, str(db_path), nlp=False, force=True)
    with sqlite3.connect(db_path) as conn:
        runs, nxt = conn.execute(
            "SELECT unchanged_runs, next_fetch FROM feeds WHERE name = 'two'").fetchone()
    assert runs == 3 and nxt  # three quiet fetches in a row: next poll is scheduled later
    hits = site.hits("/feed2.xml")
    summary = pipeline.run(config, str(db_path), nlp=False)
    assert site.hits("/feed2.xml") == hits and summary.feeds_skipped >= 1
    # without the setting every feed is polled on every run
    default = load_config(write_feeds(tmp_path, site))
    assert default.settings.quiet_feed_max_hours == 0


def test_import_of_a_file_that_is_not_jsonl_is_one_error(tmp_path, db_path):
    junk = tmp_path / "dump.bin"
    junk.write_bytes(b"\x00\x01SQLite format 3\n" * 50)
    result = CliRunner().invoke(main, ["import", str(junk), "--db", str(db_path), "--no-nlp"])
    assert result.exit_code == 2
    assert "does not look like a JSON Lines file" in result.stderr
    assert result.stderr.count("\n") <= 6  # a few skipped lines at most, then the error


def test_nlp_worker_processes_store_the_same_results(site, tmp_path):
    feeds = Path(write_feeds(tmp_path, site))
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    pipeline.run(load_config(feeds), str(one))
    feeds.write_text(feeds.read_text().replace("settings:\n", "settings:\n  nlp_workers: 2\n"))
    config = load_config(feeds)
    assert config.settings.nlp_workers == 2
    summary = pipeline.run(config, str(two))
    assert summary.articles_new == 3 and summary.feeds_failed == 1

    def found(path):
        with sqlite3.connect(path) as conn:
            return sorted(conn.execute(
                "SELECT a.canonical_url, al.type, al.status, al.accuser_name FROM allegations al "
                "JOIN articles a ON a.id = al.article_id").fetchall())

    assert found(two) == found(one) and found(one)


def test_a_run_that_did_not_finish_makes_the_next_one_distrust_feed_validators(tmp_path):
    db = store.open_db(str(tmp_path / "runs.db"))
    assert store.last_run_unfinished(db) is False  # no run yet
    cases = [
        (None, None, True),  # killed: never finished
        ("2026-01-01T00:00:00+00:00", '{"interrupted": true}', True),  # Ctrl-C
        ("2026-01-01T00:00:00+00:00", '{"complete": false}', True),  # stopped by an error
        ("2026-01-01T00:00:00+00:00", "not json", True),
        ("2026-01-01T00:00:00+00:00", '{"complete": true}', False),
        ("2026-01-01T00:00:00+00:00", '{"articles_new": 3}', False),  # before "complete"
    ]
    for finished, summary, expected in cases:
        with db.conn:
            db.execute("INSERT INTO runs (started, finished, summary) VALUES (?, ?, ?)",
                       ["2026-01-01T00:00:00+00:00", finished, summary])
        assert store.last_run_unfinished(db) is expected, (finished, summary)
    db.conn.close()


def test_a_run_stopped_by_an_error_is_recorded_incomplete(site, tmp_path, db_path, monkeypatch):
    config = load_config(write_feeds(tmp_path, site))

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "store_pages", broken)
    monkeypatch.setattr(pipeline, "process_pages", broken)
    with pytest.raises(RuntimeError):
        pipeline.run(config, str(db_path), nlp=False)
    db = store.open_db(str(db_path))
    assert store.last_run_unfinished(db) is True
    db.conn.close()
    monkeypatch.undo()
    done = pipeline.run(config, str(db_path), nlp=False)
    assert done.articles_new == 3 and done.feeds_not_modified == 0  # every feed read in full
