"""`tracker export`: the database, or a filtered subset, as CSV, JSON Lines or Parquet files."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli import main
from tracker.cli.common import db_option, handle_errors, resolve_db
from tracker.cli.search import build_filters, filter_options
from tracker.export import FORMATS, export_dataset
from tracker.store import open_db, require_db


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="File format; parquet needs pip install 'allegation-tracker[parquet]'.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (created if missing; earlier export files replaced).")
@click.option("--query", metavar="FTS", help="Only articles matching this full-text query.")
@filter_options
@click.option("--no-text", is_flag=True,
              help="Leave out article bodies (for sharing where copyright matters).")
@db_option
@handle_errors
def export_cmd(fmt, out_dir, query, no_text, db_path, **filter_args):
    """Export every table with joinable ids, a datapackage.json and a dataset README.

    \b
    Files: feeds, articles, article_copies, companies, allegations,
    allegation_parties, figures, responses, mentions, incidents,
    incident_articles (one each), datapackage.json (Frictionless Data Package:
    field types, descriptions, primary and foreign keys) and README.md.
    Filters select articles (as `tracker search` does); every row that comes
    from a selected article is exported with it.

    \b
    Examples:
      tracker export --out dataset/
      tracker export --format parquet --out dataset/ --since 2025-01 --no-text
      tracker export --format jsonl --out alibaba/ --company Alibaba --type model_distillation
    """
    path = resolve_db(db_path)
    require_db(path)
    filters = build_filters(query, **filter_args)
    db = open_db(path, readonly=True)
    try:
        result = export_dataset(db, out_dir, fmt=fmt, filters=filters, text=not no_text)
    finally:
        db.close()
    for table, count in result.counts.items():
        click.echo(f"{count:>10}  {table}.{fmt}")
    click.echo(f"Wrote {len(result.files)} files to {result.out_dir} "
               "(datapackage.json describes them).")
