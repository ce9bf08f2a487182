"""Commands that fill the database (run, add, import, reanalyze, demo) and describe it
(feeds, stats)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click

from tracker import pipeline, store
from tracker.cli import main
from tracker.cli.common import (
    db_option,
    echo_json,
    feeds_option,
    handle_errors,
    interactive,
    setup_logging,
    truncate,
)
from tracker.records import RunSummary, Settings


def _load(feeds_path: str | None, db_path: str | None):
    """The config and the database path, honouring --feeds/--db and the environment."""
    from tracker.config import load_config, resolve_paths

    db, feeds = resolve_paths(db_path, feeds_path)
    config = load_config(feeds)
    if not db_path and config.settings.database and not _env_db():
        db = config.settings.database
    return config, db


def _env_db() -> str | None:
    import os

    return os.environ.get("TRACKER_DB")


class _Progress:
    """A one-line progress display on a terminal; plain log lines otherwise."""

    def __init__(self, total_feeds: int):
        self.total, self.feeds, self.articles = total_feeds, 0, 0
        self.tty = interactive()

    def __call__(self, event: str, detail: dict) -> None:
        if event == "feed":
            self.feeds += 1
            if not self.tty:
                extra = detail.get("error") or (
                    f"{detail['entries']} entries" if "entries" in detail else "")
                click.echo(f"feed {detail['feed']}: {detail['status']}"
                           + (f" ({truncate(extra, 120)})" if extra else ""), err=True)
        elif event == "article":
            self.articles += 1
        if self.tty:
            click.echo(f"\r  feeds {self.feeds}/{self.total}  articles {self.articles}   ",
                       nl=False, err=True)

    def close(self) -> None:
        if self.tty:
            click.echo("", err=True)


def print_summary(summary: RunSummary, db_path: str, seconds: float) -> None:
    s = summary
    click.echo(f"Run finished in {seconds:.1f}s{' (interrupted)' if s.interrupted else ''}: "
               f"{s.feeds_ok}/{s.feeds_total} feeds fetched, {s.feeds_not_modified} unchanged, "
               f"{s.feeds_failed} failed, {s.feeds_skipped} backing off.")
    click.echo(f"  {s.entries_seen} entries; {s.articles_new} new articles, "
               f"{s.articles_linked} already stored (linked), {s.pages_failed} pages failed; "
               f"{s.allegations_new} allegations found.")
    if s.full_read:
        click.echo("  The previous run did not finish, so every feed was read in full "
                   "(entries it had queued but not stored are fetched now).")
    feed_errors = [e for e in s.errors if "feed" in e]
    if feed_errors:
        click.echo("  Feed problems:")
        for e in feed_errors:
            click.echo(f"    - {e['feed']}: {truncate(e['error'], 150)}")
    click.echo(f"  Database: {db_path}")
    if s.allegations_new:
        _print_new_allegations(db_path, s.started.isoformat())


def _print_new_allegations(db_path: str, since: str, limit: int = 10) -> None:
    """What the run found: the allegations it stored, one line each."""
    from tracker.search import allegation_rows

    db = store.open_db(db_path, readonly=True)
    try:
        found = allegation_rows(db, "al.created >= ?", [since])
    finally:
        db.conn.close()
    if not found:
        return
    click.echo(f"  New allegations ({len(found)}):")
    for row in found[-limit:]:
        click.echo(f"    - {truncate(row['summary'], 110)}")
    if len(found) > limit:
        click.echo(f"    ... and {len(found) - limit} more: tracker digest --since {since} "
                   f"--db {db_path}")


def _exit_code(summary: RunSummary) -> int:
    # Healthy feeds are always due, so a run where every feed failed or is still
    # backing off from earlier failures fetched nothing: that is exit 1.
    fetched = summary.feeds_ok + summary.feeds_not_modified
    if summary.feeds_total and fetched == 0:
        return 1
    return 0


@main.command("run")
@feeds_option
@db_option
@click.option("--force", is_flag=True, help="Fetch every feed now, even those backing off.")
@click.option("--no-nlp", is_flag=True, help="Store articles without running the NLP step.")
@click.option("--wait", is_flag=True, help="Wait for another running `tracker run` to finish.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("-v", "--verbose", is_flag=True, help="Log every failed page.")
@handle_errors
def run_cmd(feeds_path, db_path, force, no_nlp, wait, as_json, verbose):
    """Fetch every feed in feeds.yaml into the database and print what was found.

    Exit code 0 when the run completed (failed feeds are reported and stored),
    1 when nothing could be fetched, 2 for usage or configuration errors,
    3 when another run holds the database.

    \b
    Example:
      tracker run --feeds feeds.yaml --db tracker.db
    """
    setup_logging(verbose)
    config, db = _load(feeds_path, db_path)
    progress = _Progress(len([f for f in config.feeds if f.enabled]))
    t0 = time.monotonic()
    try:
        summary = pipeline.run(config, db, force=force, nlp=not no_nlp, wait=wait,
                               progress=progress)
    finally:
        progress.close()
    if as_json:
        echo_json(summary.to_dict())
    else:
        print_summary(summary, db, time.monotonic() - t0)
    sys.exit(130 if summary.interrupted else _exit_code(summary))


@main.command("add")
@click.argument("urls", nargs=-1, required=True)
@feeds_option
@db_option
@click.option("--no-nlp", is_flag=True, help="Store without running the NLP step.")
@handle_errors
def add_cmd(urls, feeds_path, db_path, no_nlp):
    """Fetch single article pages and store them.

    \b
    Example:
      tracker add https://example.com/news/anthropic-alibaba.html
    """
    settings, db = _settings_for(feeds_path, db_path)
    results = pipeline.add_urls(list(urls), db, settings, nlp=not no_nlp)
    failed = 0
    for r in results:
        if r["stored"]:
            click.echo(f"{'added' if r['new'] else 'already stored'}: {r['url']}")
        else:
            failed += 1
            click.echo(f"failed: {r['url']}: {r['error']}", err=True)
    sys.exit(1 if failed == len(results) else 0)


def _settings_for(feeds_path, db_path) -> tuple[Settings, str]:
    """Settings from feeds.yaml when there is one; defaults otherwise (add/import need none)."""
    from tracker.config import resolve_paths

    db, feeds = resolve_paths(db_path, feeds_path)
    if Path(feeds).exists():
        config, db = _load(feeds_path, db_path)
        return config.settings, db
    return Settings(), db


@main.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=True))
@feeds_option
@db_option
@click.option("--no-nlp", is_flag=True, help="Store without running the NLP step.")
@handle_errors
def import_cmd(source, feeds_path, db_path, no_nlp):
    """Import existing articles from a JSONL file or a folder of .html files.

    JSONL records have `url`, `title`, `text` or `html`, and `published`.
    Bad records are reported and skipped; the rest are imported.

    \b
    Examples:
      tracker import articles.jsonl
      tracker import saved-pages/
    """
    settings, db = _settings_for(feeds_path, db_path)
    counts = pipeline.import_records(pipeline.read_import_source(source), db, settings,
                                     nlp=not no_nlp)
    for e in counts["errors"]:
        click.echo(f"skipped {e['record']}: {e['error']}", err=True)
    click.echo(f"Imported {counts['new']} new articles, {counts['duplicate']} already stored, "
               f"{counts['failed']} failed.")
    sys.exit(1 if counts["failed"] and not (counts["new"] or counts["duplicate"]) else 0)


@main.command("reanalyze")
@feeds_option
@db_option
@click.option("--all", "everything", is_flag=True,
              help="Redo every article, not only those another extractor version analysed.")
@click.option("--limit", type=click.IntRange(0), default=None,
              help="Redo at most this many (first stored first); run again for the rest.")
@click.option("-w", "--workers", type=click.IntRange(1, 64), default=None,
              help="NLP worker processes (default: settings.nlp_workers in feeds.yaml).")
@click.option("--wait", is_flag=True, help="Wait for a running `tracker run` to finish.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@handle_errors
def reanalyze_cmd(feeds_path, db_path, everything, limit, workers, wait, as_json):
    """Run the current extractor again over stored articles (after an upgrade).

    Articles analysed by another extractor version, or stored with --no-nlp,
    are analysed again; what was found in them before (companies, allegations,
    figures, responses) is replaced, and their incidents are recomputed. Safe
    to interrupt: the next call carries on where this one stopped.

    Exit code 0 when every article it took up was redone, 1 when some failed
    (they keep their old analysis), 3 when a run holds the database.

    \b
    Examples:
      tracker reanalyze
      tracker reanalyze --all --limit 5000 --workers 2
    """
    settings, db = _settings_for(feeds_path, db_path)
    store.require_db(db)

    def progress(done: int, total: int) -> None:
        if interactive():
            click.echo(f"\rre-analysed {done:,} of {total:,} articles", nl=done == total, err=True)

    summary = pipeline.reanalyze(db, settings, everything=everything, limit=limit,
                                 workers=workers or settings.nlp_workers, wait=wait,
                                 progress=progress)
    if as_json:
        echo_json(summary.to_dict())
    else:
        for f in summary.failed:
            click.echo(f"article {f['article_id']}: {f['error']}", err=True)
        left = summary.due - summary.reanalyzed - len(summary.failed)
        click.echo(f"Re-analysed {summary.reanalyzed:,} of {summary.due:,} articles due with "
                   f"extractor {summary.version} ({len(summary.failed)} failed"
                   + (f", {left:,} left for the next call" if left > 0 else "")
                   + f"); {summary.incidents:,} incidents recomputed.")
    sys.exit(1 if summary.failed else 0)


@main.command("feeds")
@feeds_option
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@handle_errors
def feeds_cmd(feeds_path, db_path, fmt):
    """Show each feed's health: last status, error, error count, next fetch.

    \b
    Example:
      tracker feeds --format json
    """
    from tracker.config import load_config, resolve_paths

    db_file, feeds_file = resolve_paths(db_path, feeds_path)
    configured = []
    if Path(feeds_file).exists():
        configured = [f.url for f in load_config(feeds_file).feeds]
    stored = {}
    if Path(db_file).exists():
        db = store.open_db(db_file, readonly=True)
        stored = {r["url"]: r for r in store.rows(db.execute("SELECT * FROM feeds ORDER BY id"))}
    urls = list(dict.fromkeys(configured + list(stored)))
    out = []
    for url in urls:
        r = stored.get(url, {})
        out.append({
            "url": url, "name": r.get("name"), "configured": url in configured,
            "last_fetched": r.get("last_fetched"), "last_ok": r.get("last_ok"),
            "last_status": r.get("last_status"), "last_error": r.get("last_error"),
            "error_count": r.get("error_count", 0), "next_fetch": r.get("next_fetch"),
            "entries_total": r.get("entries_total", 0),
        })
    if fmt == "json":
        echo_json(out)
        return
    if not out:
        click.echo("No feeds configured or stored.")
        return
    for f in out:
        state = "never fetched" if not f["last_fetched"] else (
            f"ERROR x{f['error_count']}: {truncate(f['last_error'], 60)}" if f["error_count"]
            else f"ok ({f['last_status']})")
        click.echo(f"{truncate(f['name'] or f['url'], 40):40}  {state}")
        if f["error_count"] and f["next_fetch"]:
            click.echo(f"{'':40}  next try {f['next_fetch']}")


@main.command("stats")
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@handle_errors
def stats_cmd(db_path, fmt):
    """Counts of what the database holds (opening it upgrades an old schema in place).

    \b
    Example:
      tracker stats --db tracker.db
    """
    from tracker.cli.common import resolve_db

    path = resolve_db(db_path)
    store.require_db(path)
    s = store.stats(store.open_db(path))
    if fmt == "json":
        echo_json(s)
        return
    click.echo(f"Database {path} (schema v{s['schema_version']})")
    for key in ("articles", "feeds", "companies", "allegations", "figures", "responses"):
        click.echo(f"  {key:12} {s[key]}")
    click.echo(f"  published    {s['published_first']} .. {s['published_last']}")
    if s["allegations_by_type"]:
        click.echo("  allegation types: " + ", ".join(
            f"{k} {v}" for k, v in s["allegations_by_type"].items()))
    if s["articles_by_extractor"]:
        click.echo("  analysed by: " + ", ".join(
            f"{k} {v}" for k, v in s["articles_by_extractor"].items())
            + " (`tracker reanalyze` brings older ones up to date)")
    if s["top_companies"]:
        click.echo("  most mentioned: " + ", ".join(
            f"{c['name']} ({c['articles']})" for c in s["top_companies"]))


@main.command("demo")
@db_option
@click.option("--keep-serving", is_flag=True, help="Keep the sample server up until Ctrl-C.")
@handle_errors
def demo_cmd(db_path, keep_serving):
    """Offline demo: serve the shipped sample feeds on loopback and run the real pipeline.

    \b
    Example:
      tracker demo --db demo.db && tracker search "fake accounts" --db demo.db
    """
    from tracker.config import load_config
    from tracker.demo.server import DemoServer, demo_feeds_yaml

    setup_logging()
    db = db_path or _env_db() or "tracker.db"
    with DemoServer() as server, tempfile.TemporaryDirectory() as tmp:
        feeds_file = Path(tmp) / "demo-feeds.yaml"
        feeds_file.write_text(demo_feeds_yaml(server), encoding="utf-8")
        config = load_config(feeds_file)
        click.echo(f"Serving {len(config.feeds)} sample feeds at {server.base_url}", err=True)
        t0 = time.monotonic()
        progress = _Progress(len(config.feeds))
        try:
            summary = pipeline.run(config, db, force=True, progress=progress)
        finally:
            progress.close()
        print_summary(summary, db, time.monotonic() - t0)
        _demo_sample_search(db)
        if keep_serving:
            click.echo("Serving until Ctrl-C...", err=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass


def _demo_sample_search(db: str) -> None:
    from tracker.search import SearchFilters, search

    conn = store.open_db(db, readonly=True)
    s = store.stats(conn)
    click.echo(f"\nThe database now holds {s['articles']} articles, {s['companies']} "
               f"organisations and {s['allegations']} allegations.")
    query = "accounts"
    result = search(conn, SearchFilters(query=query), limit=5, facets=False)
    click.echo(f'Sample search for "{query}" ({result.total} articles):')
    for hit in result.hits:
        click.echo(f"  - {truncate(hit.title, 70)} ({hit.source}, {(hit.published or '')[:10]})")
        for line in hit.allegations[:1]:
            click.echo(f"      {truncate(line, 90)}")
    click.echo(f'Try: tracker search "distillation" --db {db}   or   tracker serve --db {db}')
