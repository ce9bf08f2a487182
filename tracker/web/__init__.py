"""Web stage: a read-only, server-rendered search site over the database (Starlette + Jinja2).

`create_app(db_path)` builds the ASGI app; `tracker serve` runs it with uvicorn.
One module per page type: search (with its JSON API and downloads), article,
company, incident (one incident and the list); `app` holds the factory, templates
and error pages.
"""

from tracker.web.app import create_app

__all__ = ["create_app"]
