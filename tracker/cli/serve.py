"""`tracker serve`: the read-only web app (search, articles, companies, JSON API) under uvicorn."""

from __future__ import annotations

import click

from tracker.cli import main
from tracker.cli.common import db_option, handle_errors


@main.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. The default serves this machine only; 0.0.0.0 opens it to "
                   "the network (the site has no login).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@handle_errors
def serve_cmd(db_path, host, port):
    """Serve the search web site over the database, opened read-only.

    \b
    Pages: /  (search, filters, facets, CSV/JSON download)
           /article/ID, /company/ID, /company?name=NAME
           /api/search?q=...  (JSON, same parameters as the page)

    \b
    Example:
      tracker serve --db demo.db --port 8080   # then open http://127.0.0.1:8080/
    """
    import uvicorn

    from tracker.config import resolve_paths
    from tracker.store import open_db
    from tracker.web import create_app

    path = resolve_paths(db_path, None)[0]
    open_db(path, readonly=True).conn.close()  # fail now, with a clear message, if unusable
    click.echo(f"Serving {path} at http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    uvicorn.run(create_app(path), host=host, port=port, log_level="warning")
