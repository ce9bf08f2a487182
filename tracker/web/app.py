"""The web app factory: routes, templates, per-request read-only database, and error pages."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tracker import __version__
from tracker.errors import QueryError, StorageError
from tracker.search import DateNote, date_note
from tracker.store import open_db

HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)


class BadRequest(Exception):
    """A request parameter is wrong; shown as a 400 page (or JSON) with the message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def safe_href(url: str | None) -> str | None:
    """The URL when it is http(s), else None: a stored `javascript:` URL must never be a link."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_href"] = safe_href
    env.filters["day"] = lambda value: (value or "")[:10]
    env.filters["label"] = lambda value: (value or "unspecified").replace("_", " ")
    env.filters["number"] = _number
    env.filters["date_note"] = _date_note
    env.globals["version"] = __version__
    env.globals["qs"] = lambda params: urlencode(params, doseq=True)
    return env


def _date_note(value) -> DateNote:
    """A DateNote from a Hit, an article dict (with "date") or a dict of date fields."""
    if isinstance(value, DateNote):
        return value
    if hasattr(value, "date") and isinstance(value.date, DateNote):
        return value.date
    if isinstance(value, dict) and isinstance(value.get("date"), dict):
        d = value["date"]
        return DateNote(d.get("value"), d.get("source"), tuple(d.get("flags") or ()),
                        tuple((r["source"], r["value"], r["reason"])
                              for r in d.get("rejected") or ()))
    if isinstance(value, dict):
        return date_note(value.get("published"), value.get("date_source"),
                         value.get("date_flags"))
    return date_note(None, None, [])


def _number(value) -> str:
    if value is None:
        return ""
    value = float(value)
    return f"{int(value):,}" if value.is_integer() else f"{value:,.2f}"


class Site:
    """What every page handler needs: the database path and the template environment."""

    def __init__(self, db_path: str | Path):
        self.db_path = str(db_path)
        self.env = _environment()

    @contextmanager
    def db(self):
        """A fresh read-only connection per request: handlers run in worker threads."""
        db = open_db(self.db_path, readonly=True)
        try:
            yield db
        finally:
            db.conn.close()

    def render(self, request: Request, template: str, status_code: int = 200,
               **context) -> HTMLResponse:
        context.setdefault("title", "Allegation tracker")
        html = self.env.get_template(template).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.endswith(".json")


def error_response(site: Site, request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    titles = {400: "Bad request", 404: "Not found", 503: "Database unavailable"}
    return site.render(request, "error.html", status_code=status,
                       title=titles.get(status, "Error"), status=status, message=message)


def create_app(db_path: str | Path) -> Starlette:
    """The ASGI app over the database at `db_path`, opened read-only on every request."""
    from tracker.web import article, company, incident, search_page

    site = Site(db_path)

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", None)
        message = detail if isinstance(detail, str) and detail != "Not Found" else (
            f"There is no page at {request.url.path}.")
        return error_response(site, request, 404, message)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return await not_found(request, exc)
        return error_response(site, request, exc.status_code, str(exc.detail))

    async def bad_request(request: Request, exc: Exception) -> Response:
        return error_response(site, request, 400, str(getattr(exc, "message", exc)))

    async def storage_error(request: Request, exc: Exception) -> Response:
        log.error("database error on %s: %s", request.url.path, exc)
        return error_response(site, request, 503, str(exc))

    async def server_error(request: Request, exc: Exception) -> Response:
        # Logged for the operator; the visitor gets a plain page, never a traceback.
        log.exception("error on %s", request.url.path)
        return error_response(site, request, 500,
                              "Something went wrong on our side; the error has been logged.")

    routes = [
        Route("/", search_page.page(site), name="search"),
        Route("/search.{fmt:str}", search_page.download(site), name="search_download"),
        Route("/api/search", search_page.api(site), name="api_search"),
        Route("/article/{id:int}", article.page(site), name="article"),
        Route("/api/article/{id:int}", article.api(site), name="api_article"),
        Route("/company", company.lookup(site), name="company_lookup"),
        Route("/company/{id:int}", company.page(site), name="company"),
        Route("/company/{id:int}/allegations.{fmt:str}", company.download(site),
              name="company_download"),
        Route("/api/company/{id:int}", company.api(site), name="api_company"),
        Route("/incidents", incident.list_page(site), name="incidents"),
        Route("/api/incidents", incident.api_list(site), name="api_incidents"),
        Route("/incident/{id:int}", incident.page(site), name="incident"),
        Route("/api/incident/{id:int}", incident.api(site), name="api_incident"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        debug=False, routes=routes,
        exception_handlers={
            404: not_found,
            HTTPException: http_error,
            BadRequest: bad_request,
            QueryError: bad_request,
            StorageError: storage_error,
            sqlite3.Error: storage_error,
            Exception: server_error,
        },
    )
