"""`tracker digest`: what is new since a date or since the last digest of a name."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli import main
from tracker.cli.common import db_option, handle_errors, resolve_db
from tracker.digest import FORMATS, DigestFilters, build_digest, publish, resolve_window
from tracker.store import open_db, require_db


@main.command("digest")
@click.option("--since", metavar="WHEN",
              help="Start: a date (2025-03-01), a date-time, or a length back from now "
                   "(24h, 7d, 2w). With --name it only sets where a new name starts. "
                   "Default 24h.")
@click.option("--until", metavar="WHEN", help="End (excluded); default now.")
@click.option("--name", metavar="NAME",
              help="Continue from where the last digest of this name ended; the cursor is "
                   "stored in the database and moves once the digest is written.")
@click.option("--dry-run", is_flag=True, help="Build and print the digest; never move the cursor.")
@click.option("--company", metavar="NAME",
              help="Only allegations by or against this organisation (or its subsidiaries).")
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Allegation type id, e.g. model_distillation (repeat for any of).")
@click.option("--feed-tag", "--tag", "feed_tag", metavar="TAG",
              help="Only articles from feeds with this tag.")
@click.option("--min-confidence", type=float, metavar="X",
              help="Only allegations with at least this confidence (0-1).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="md (also the plain-text email part), html (email-ready), json, atom.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (atomically) instead of stdout.")
@db_option
@handle_errors
def digest_cmd(since, until, name, dry_run, company, types, feed_tag, min_confidence, fmt,
               output, db_path):
    """What is new: allegations by accused company, status changes, new companies, failed feeds.

    The period is storage time: everything the tracker wrote in it. Exit code 0
    also when there is nothing new (the digest says so).

    \b
    Examples:
      tracker digest --since 7d
      tracker digest --name daily --format html -o digest.html   # from cron
      tracker digest --name daily --format atom -o feed.xml --min-confidence 0.6
      tracker digest --since 2025-03-01 --company Alibaba --format json
    """
    path = resolve_db(db_path)
    require_db(path)
    db = open_db(path, readonly=not name or dry_run)
    try:
        start, end = resolve_window(db, since=since, name=name, until=until)
        filters = DigestFilters(company=company, types=tuple(types), feed_tag=feed_tag,
                                min_confidence=min_confidence)
        digest = build_digest(db, since=start, until=end, filters=filters, name=name)
        publish(db, digest, fmt, output, dry_run=dry_run)
        if output:
            click.echo(f"Wrote {fmt} digest ({digest.counts['items']} items, "
                       f"{start} to {end}) to {output}", err=True)
    finally:
        db.close()
