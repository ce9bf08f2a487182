"""Helpers every command shares: option resolution, opening the database, output, errors."""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterable

import click

from tracker.errors import TrackerError


def db_option(fn: Callable) -> Callable:
    return click.option(
        "--db", "db_path", envvar="TRACKER_DB", default=None, metavar="PATH",
        help="SQLite database (env TRACKER_DB; default: settings.database, else tracker.db).",
    )(fn)


def feeds_option(fn: Callable) -> Callable:
    return click.option(
        "--feeds", "feeds_path", envvar="TRACKER_FEEDS", default=None, metavar="PATH",
        help="Feeds file (env TRACKER_FEEDS; default feeds.yaml).",
    )(fn)


def resolve_db(db_path: str | None) -> str:
    """--db, then TRACKER_DB (click reads it), then tracker.db."""
    return db_path or os.environ.get("TRACKER_DB") or "tracker.db"


def handle_errors(fn: Callable) -> Callable:
    """Turn TrackerErrors into `Error: message` on stderr and the error's exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TrackerError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader stopped early (`| head`): nothing is wrong. Point stdout at
            # /dev/null so the interpreter's last flush does not fail again, and exit
            # as a tool killed by SIGPIPE would (128 + 13).
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass  # no real stdout (a test runner): nothing to flush
            sys.exit(141)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            # A bug, not bad input: one line for the user, the traceback on request.
            if os.environ.get("TRACKER_DEBUG"):
                raise
            click.echo(f"Error: unexpected {type(exc).__name__}: {exc} "
                       "(a bug: rerun with TRACKER_DEBUG=1 for the traceback and report it)",
                       err=True)
            sys.exit(1)

    return wrapper


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def echo_csv(records: Iterable[dict], columns: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: _cell(rec.get(k)) for k in columns})
    click.echo(buf.getvalue(), nl=False)


def _cell(value):
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


def truncate(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def setup_logging(verbose: bool = False) -> None:
    """Warnings go to stderr only with -v; the summary already reports every failure."""
    import logging

    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format="%(levelname)s %(message)s")


def interactive() -> bool:
    """True when a person watches: a TTY and no TRACKER_NO_PROGRESS."""
    return sys.stderr.isatty() and not os.environ.get("TRACKER_NO_PROGRESS")
