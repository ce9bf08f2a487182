"""`tracker search`: the search library on the command line (table, JSON or CSV)."""

from __future__ import annotations

import shutil
import textwrap

import click

from tracker.cli import main
from tracker.cli.common import db_option, echo_csv, echo_json, handle_errors, truncate
from tracker.records import COMPANY_KINDS
from tracker.search import SORTS, SearchFilters, SearchResult, parse_figure_filter, search

CSV_COLUMNS = ["id", "url", "title", "published", "date_warning", "source", "snippet",
               "companies", "allegations", "incident_id", "incident", "copy_of", "copies"]


def filter_options(fn):
    """The filter options shared by every command that selects articles."""
    options = [
        click.option("--company", metavar="NAME",
                     help="Articles naming this organisation (canonical name or any alias)."),
        click.option("--subsidiaries/--no-subsidiaries", "include_subsidiaries", default=False,
                     help="With --company/--accuser/--accused, also match subsidiaries."),
        click.option("--accuser", metavar="NAME", help="An allegation made by this organisation."),
        click.option("--accused", metavar="NAME", help="An allegation against this organisation."),
        click.option("--accuser-country", "accuser_country", multiple=True, metavar="COUNTRY",
                     help="An allegation made by an organisation of this country: code or "
                          "name (US, China, EU = the Union and its members; repeat for any of)."),
        click.option("--accused-country", "accused_country", multiple=True, metavar="COUNTRY",
                     help="An allegation against an organisation of this country, e.g. "
                          "--accused-country Chinese."),
        click.option("--accuser-kind", "accuser_kind", multiple=True, metavar="KIND",
                     type=click.Choice(COMPANY_KINDS, case_sensitive=False),
                     help=f"The accuser's kind: {', '.join(COMPANY_KINDS)} (repeat for "
                          "any of)."),
        click.option("--accused-kind", "accused_kind", multiple=True, metavar="KIND",
                     type=click.Choice(COMPANY_KINDS, case_sensitive=False),
                     help="The accused party's kind, e.g. company."),
        click.option("--type", "types", multiple=True, metavar="TYPE",
                     help="Allegation type id, e.g. model_distillation (repeat for any of)."),
        click.option("--status", "statuses", multiple=True, metavar="STATUS",
                     help="Allegation status: alleged, investigating, charged, fined, settled..."),
        click.option("--since", metavar="DATE", help="Published on or after YYYY[-MM[-DD]]."),
        click.option("--until", metavar="DATE", help="Published on or before YYYY[-MM[-DD]]."),
        click.option("--source", metavar="NAME", help="Site name, or a feed's name or URL."),
        click.option("--feed-tag", "--tag", "feed_tag", metavar="TAG",
                     help="Articles from feeds with this tag (feeds.yaml `tags:`)."),
        click.option("--language", metavar="LANG", help="Language code; 'en' matches en-GB too."),
        click.option("--figure", "figures", multiple=True, metavar="EXPR",
                     help="Figure condition, e.g. 'accounts>=1000000' or 'EUR>=100m' "
                          "(repeat: all must hold)."),
        click.option("--incident", type=click.IntRange(1), metavar="ID",
                     help="Articles of this incident (`tracker incidents` lists them; a "
                          "merged id means the incident it was merged into)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build_filters(query, *, company=None, include_subsidiaries=False, accuser=None,
                  accused=None, types=(), statuses=(), since=None, until=None, source=None,
                  feed_tag=None, language=None, figures=(), incident=None,
                  accuser_country=(), accused_country=(), accuser_kind=(),
                  accused_kind=()) -> SearchFilters:
    """SearchFilters from the options of `filter_options` (as click passes them)."""
    return SearchFilters(
        query=query or None, company=company, include_subsidiaries=include_subsidiaries,
        accuser=accuser, accused=accused, types=tuple(types), status=tuple(statuses),
        since=since, until=until, source=source, feed_tag=feed_tag, language=language,
        figures=tuple(parse_figure_filter(f) for f in figures), incident=incident,
        accuser_country=tuple(accuser_country), accused_country=tuple(accused_country),
        accuser_kind=tuple(accuser_kind), accused_kind=tuple(accused_kind),
    )


@main.command("search")
@click.argument("query", required=False)
@filter_options
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True,
              help="relevance (BM25; date when there is no QUERY) or date (newest first).")
@click.option("--limit", type=click.IntRange(0, 500), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True,
              help="Skip this many results (paging).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@click.option("--collapse-copies", is_flag=True,
              help="Show each story once: leave out near-duplicate copies whose earliest "
                   "version also matches (the original's line counts its copies).")
@click.option("--facets", is_flag=True,
              help="Add facet counts (type, company, source, year): in json the output becomes "
                   "an object with total, results and facets; in table they follow the results.")
@db_option
@handle_errors
def search_cmd(query, sort, limit, offset, fmt, collapse_copies, facets, db_path,
               **filter_args):
    """Search stored articles: free text (FTS5) plus filters, BM25 or date order.

    QUERY uses FTS5 syntax: words, "exact phrases", prefix*, AND / OR / NOT
    (upper case) and parentheses; title:word or title:"a phrase" searches
    titles only. Leave it out
    to list articles by the filters alone. Matched words are shown in [brackets].

    \b
    --format json prints a JSON array of results (url, title, published,
    source, snippet, companies, allegations...); with --facets it prints one
    object {"total", "limit", "offset", "sort", "results", "facets"}.

    \b
    Examples:
      tracker search distillation --company Alibaba --since 2025
      tracker search --type privacy_violation --figure 'EUR>=100m' --sort date
      tracker search "fake accounts" --accused "Alibaba Group" --subsidiaries --format json
      tracker search --type model_distillation --accused-country China --since 2025
      tracker search --status fined --accuser-country EU --accuser-kind regulator
      tracker search --incident 12 --collapse-copies --sort date
    """
    from tracker.config import resolve_paths
    from tracker.store import open_db

    filters = build_filters(query, **filter_args)
    db = open_db(resolve_paths(db_path, None)[0], readonly=True)
    result = search(db, filters, sort=sort, limit=limit, offset=offset,
                    facets=facets, collapse_copies=collapse_copies)
    if fmt == "json":
        if facets:
            echo_json(result.to_dict())
        else:
            echo_json([h.to_dict() for h in result.hits])
    elif fmt == "csv":
        echo_csv([h.to_dict() for h in result.hits], CSV_COLUMNS)
    else:
        print_table(result, show_facets=facets)


def print_table(result: SearchResult, *, show_facets: bool = False) -> None:
    """Results for a person, wrapped to the terminal (at most 80 columns)."""
    width = min(80, shutil.get_terminal_size((80, 24)).columns)
    if not result.hits:
        more = " on this page" if result.total else ""
        click.echo(f"No results{more} (total {result.total}).")
        return
    first = result.offset + 1
    last = result.offset + len(result.hits)
    click.echo(f"Results {first}-{last} of {result.total}:")
    pad = " " * 5
    for n, hit in enumerate(result.hits, start=first):
        click.echo("")
        warn = " ⚠" if hit.date.warning else ""
        head = f"{n:>3}. {hit.date.day}{warn}  {hit.source or ''}"
        click.echo(truncate(head, width))
        click.echo(pad + truncate(hit.title or "(untitled)", width - len(pad)))
        click.echo(textwrap.fill(" ".join(hit.snippet.split()), width=width,
                                 initial_indent="     ", subsequent_indent="     ",
                                 max_lines=3, placeholder=" …"))
        if hit.companies:
            click.echo(pad + truncate("companies: " + ", ".join(hit.companies), width - len(pad)))
        for summary in hit.allegations[:3]:
            click.echo(pad + truncate("! " + summary, width - len(pad)))
        if hit.date.warning:
            click.echo(pad + truncate("⚠ date: " + hit.date.warning, width - len(pad)))
        links = []
        if hit.copy_of is not None:
            links.append(f"copy of article {hit.copy_of}")
        if hit.copies:
            links.append(f"{hit.copies} cop{'ies' if hit.copies != 1 else 'y'}")
        if hit.incident_id is not None:
            links.append(f"incident {hit.incident_id}: {hit.incident or ''}")
        if links:
            click.echo(pad + truncate("; ".join(links), width - len(pad)))
        click.echo(pad + truncate(hit.url, width - len(pad)))
    if result.total > last:
        click.echo(f"\nMore: --offset {last}")
    if show_facets:
        for name, items in result.facets.items():
            if items:
                line = ", ".join(f"{v} ({c})" for v, c in items)
                click.echo("")
                click.echo(textwrap.fill(f"{name}: {line}", width=width, subsequent_indent="  "))
