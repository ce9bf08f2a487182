"""`tracker incidents`: list incidents, show one (articles, timeline, what is contested), merge."""

from __future__ import annotations

import click

from tracker import incidents
from tracker.cli import main
from tracker.cli.common import db_option, echo_json, handle_errors, resolve_db, truncate
from tracker.store import open_db


@main.command("incidents")
@click.argument("incident_id", type=int, required=False)
@click.option("--company", metavar="NAME", help="Only incidents with this accused party.")
@click.option("--since", metavar="DATE", help="Only incidents seen on or after YYYY-MM-DD.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="First group every stored article not grouped yet (older databases).",
)
@click.option(
    "--merge",
    "merge_id",
    type=int,
    metavar="OTHER",
    help="Merge incident OTHER into INCIDENT_ID; OTHER then redirects to it.",
)
@db_option
@handle_errors
def incidents_cmd(incident_id, company, since, limit, fmt, rebuild, merge_id, db_path):
    """List incidents (one allegation, all its articles), or show one in full.

    An incident groups the articles reporting the same allegation: copies of
    one story (counted once), follow-ups, denials, probes, fines. The source
    count is of independent sources; copies do not count. A merged incident's
    id keeps working: it shows the incident it was merged into.

    \b
    Example:
      tracker incidents                      # newest incidents first
      tracker incidents --company DeepSeek   # incidents accusing DeepSeek
      tracker incidents 3                    # articles, timeline, contested figures/parties
      tracker incidents 3 --format json
      tracker incidents 3 --merge 7          # fold incident 7 into 3
    """
    writes = rebuild or merge_id is not None
    db = open_db(resolve_db(db_path), readonly=not writes)
    try:
        if rebuild:
            done = incidents.rebuild(db)
            click.echo(f"Grouped {done} article(s).", err=True)
        if merge_id is not None:
            if incident_id is None:
                raise click.UsageError("--merge needs the INCIDENT_ID to keep")
            incidents.merge_incidents(db, incident_id, merge_id)
        if incident_id is not None:
            _show(incidents.get_incident(db, incident_id), fmt)
        else:
            _list(incidents.list_incidents(db, company=company, since=since, limit=limit), fmt)
    finally:
        db.conn.close()


def _list(found: list[dict], fmt: str) -> None:
    if fmt == "json":
        echo_json(found)
        return
    if not found:
        click.echo("No incidents. Articles are grouped as they are stored; try --rebuild.")
        return
    click.echo(
        f"{'ID':>5}  {'FIRST':10}  {'LAST':10}  {'SRC':>3}  {'ART':>3}  {'STATUS':13}  TITLE"
    )
    for r in found:
        click.echo(
            f"{r['id']:>5}  {r['first_seen'] or '':10}  {r['last_seen'] or '':10}  "
            f"{r['source_count']:>3}  {r['article_count']:>3}  {r['status'] or '':13}  "
            f"{truncate(r['title'], 70)}"
        )


def _show(inc: dict, fmt: str) -> None:
    if fmt == "json":
        echo_json(inc)
        return
    if inc["requested_id"] != inc["id"]:
        click.echo(f"(incident {inc['requested_id']} was merged into {inc['id']})")
    click.echo(f"Incident {inc['id']}: {inc['title']}")
    click.echo(f"  {inc['label'] or ''}")
    click.echo(
        f"  status {inc['status'] or '-'}; seen {inc['first_seen']} .. {inc['last_seen']}; "
        f"{inc['source_count']} independent source(s), {inc['article_count']} article(s)"
    )
    click.echo("\nTimeline:")
    for e in inc["timeline"]:
        party = f" ({e['party']})" if e.get("party") else ""
        click.echo(f"  {e['date']}  {e['event']}{party}: {truncate(e.get('evidence'), 80)}")
    if inc["contested_figures"]:
        click.echo("\nContested figures:")
        for c in inc["contested_figures"]:
            values = "; ".join(f"{v['value']:,} ({', '.join(v['sources'])})" for v in c["values"])
            click.echo(f"  {c['unit']}: {values}")
    if inc.get("contested_parties"):
        click.echo("\nContested accused parties:")
        for c in inc["contested_parties"]:
            click.echo(f"  {', '.join(c['accused'])}: {', '.join(c['sources'])}")
    click.echo("\nArticles:")
    for a in inc["articles"]:
        note = "" if a["independent"] else f"  [copy of {a['copy_of']}]"
        flags = (
            "  [date: " + ", ".join(f for f in a["date_flags"] if "=" not in f) + "]"
            if a["date_flags"]
            else ""
        )
        click.echo(
            f"  {a['id']:>5}  {(a['published'] or '')[:10]:10}  {truncate(a['source'], 24):24}"
            f"  {truncate(a['title'], 60)}{note}{flags}"
        )
