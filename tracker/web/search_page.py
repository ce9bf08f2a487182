"""The search page, its JSON API (/api/search) and its CSV/JSON downloads (/search.csv|json)."""

from __future__ import annotations

import csv
import io
import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tracker.errors import QueryError
from tracker.records import COMPANY_KINDS
from tracker.search import SORTS, SearchFilters, parse_figure_filter, search
from tracker.web.app import BadRequest, Site

PER_PAGE = 20
MAX_PER_PAGE = 100
DOWNLOAD_MAX = 5000  # rows in one CSV/JSON download
DOWNLOAD_COLUMNS = ["id", "url", "title", "published", "date_warning", "source", "language",
                    "snippet", "companies", "allegations", "incident_id", "incident", "copy_of",
                    "copies"]
# Query-string keys the filters use; anything else is ignored.
FILTER_KEYS = ("q", "company", "subsidiaries", "accuser", "accused", "type", "status", "since",
               "until", "source", "tag", "language", "figure", "sort", "incident", "collapse",
               "accuser_country", "accused_country", "accuser_kind", "accused_kind")


def _one(request: Request, key: str, *, max_len: int = 500) -> str | None:
    values = request.query_params.getlist(key)
    if len(values) > 1:
        raise BadRequest(f"parameter {key!r} was given {len(values)} times; give it once")
    value = (values[0] if values else "").strip()
    if len(value) > max_len:
        raise BadRequest(f"parameter {key!r} is longer than {max_len} characters")
    return value or None


def _many(request: Request, key: str) -> tuple[str, ...]:
    out = []
    for value in request.query_params.getlist(key):
        out += [v.strip() for v in value.split(",") if v.strip()]
    if len(out) > 20:
        raise BadRequest(f"too many values for {key!r} (at most 20)")
    return tuple(dict.fromkeys(out))


def _int(request: Request, key: str, default: int, low: int, high: int) -> int:
    raw = _one(request, key, max_len=12)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"parameter {key!r} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"parameter {key!r} must be between {low} and {high}, not {value}")
    return value


def parse_filters(request: Request) -> tuple[SearchFilters, str]:
    """SearchFilters and sort order from the query string; BadRequest names a wrong parameter."""
    sort = _one(request, "sort") or "relevance"
    if sort not in SORTS:
        raise BadRequest(f"parameter 'sort' must be one of {', '.join(SORTS)}, not {sort!r}")
    subs = (_one(request, "subsidiaries") or "").lower()
    if subs not in ("", "0", "1", "on", "true", "false", "yes", "no"):
        raise BadRequest(f"parameter 'subsidiaries' must be 1 or 0, not {subs!r}")
    try:
        figures = tuple(parse_figure_filter(f) for f in request.query_params.getlist("figure")
                        if f.strip())
    except QueryError as exc:
        raise BadRequest(exc.message) from None
    filters = SearchFilters(
        query=_one(request, "q", max_len=1000), company=_one(request, "company"),
        include_subsidiaries=subs in ("1", "on", "true", "yes"),
        accuser=_one(request, "accuser"), accused=_one(request, "accused"),
        types=_many(request, "type"), status=_many(request, "status"),
        since=_one(request, "since", max_len=10), until=_one(request, "until", max_len=10),
        source=_one(request, "source"), feed_tag=_one(request, "tag"),
        language=_one(request, "language", max_len=20), figures=figures,
        incident=_optional_int(request, "incident"),
        accuser_country=_many(request, "accuser_country"),
        accused_country=_many(request, "accused_country"),
        accuser_kind=_many(request, "accuser_kind"), accused_kind=_many(request, "accused_kind"),
    )
    return filters, sort


def _optional_int(request: Request, key: str) -> int | None:
    raw = _one(request, key, max_len=12)
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest(f"parameter {key!r} must be a whole number (an id), not {raw!r}")
    return int(raw)


def parse_collapse(request: Request) -> bool:
    """The `collapse` parameter: 1 shows each story once (copies left out)."""
    value = (_one(request, "collapse") or "").lower()
    if value not in ("", "0", "1", "on", "true", "false", "yes", "no"):
        raise BadRequest(f"parameter 'collapse' must be 1 or 0, not {value!r}")
    return value in ("1", "on", "true", "yes")


def filter_params(request: Request) -> list[tuple[str, str]]:
    """The filter part of the query string, to rebuild links (pages, facets, downloads)."""
    return [(k, v) for k, v in request.query_params.multi_items() if k in FILTER_KEYS and v]


def _run(site: Site, filters: SearchFilters, **kwargs):
    with site.db() as db:
        return search(db, filters, **kwargs)


def _options(site: Site) -> dict:
    """Values offered in the filter form's drop-downs."""
    with site.db() as db:
        types = [r[0] for r in db.execute(
            "SELECT DISTINCT type FROM allegation_types ORDER BY type LIMIT 200")]
        statuses = [r[0] for r in db.execute(
            "SELECT DISTINCT status FROM allegations ORDER BY status LIMIT 100")]
    return {"types": types, "statuses": statuses, "kinds": COMPANY_KINDS}


def page(site: Site):
    async def handler(request: Request) -> Response:
        filters, sort = parse_filters(request)
        page_no = _int(request, "page", 1, 1, 10_000)
        per_page = _int(request, "per_page", PER_PAGE, 1, MAX_PER_PAGE)
        params = filter_params(request)
        collapse = parse_collapse(request)
        options = await run_in_threadpool(_options, site)
        result = None
        if not filters.is_empty():
            result = await run_in_threadpool(_run, site, filters, sort=sort, limit=per_page,
                                             offset=(page_no - 1) * per_page,
                                             collapse_copies=collapse)
        pages = 0
        if result is not None:
            pages = (result.total + per_page - 1) // per_page
        title = f"Search: {filters.query}" if filters.query else "Search allegations"
        return site.render(request, "search.html", title=title, filters=filters, sort=sort,
                           result=result, page=page_no, pages=pages, per_page=per_page,
                           params=params, options=options, collapse=collapse)
    return handler


def api(site: Site):
    async def handler(request: Request) -> Response:
        filters, sort = parse_filters(request)
        limit = _int(request, "limit", PER_PAGE, 0, 500)
        offset = _int(request, "offset", 0, 0, 10_000_000)
        facets = (_one(request, "facets") or "1") not in ("0", "false", "no")
        result = await run_in_threadpool(_run, site, filters, sort=sort, limit=limit,
                                         offset=offset, facets=facets,
                                         collapse_copies=parse_collapse(request))
        return JSONResponse(result.to_dict())
    return handler


def _all_hits(site: Site, filters: SearchFilters, sort: str,
              collapse: bool = False) -> list[dict]:
    out: list[dict] = []
    while len(out) < DOWNLOAD_MAX:
        result = _run(site, filters, sort=sort, limit=500, offset=len(out), facets=False,
                      collapse_copies=collapse)
        out += [h.to_dict() for h in result.hits]
        if len(result.hits) < 500:
            break
    return out[:DOWNLOAD_MAX]


def hits_csv(records: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else v
                         for k, v in rec.items() if k in columns})
    return buf.getvalue()


def download_response(records: list[dict], columns: list[str], fmt: str, name: str) -> Response:
    if fmt == "csv":
        return Response(hits_csv(records, columns), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "json":
        body = json.dumps(records, ensure_ascii=False, indent=1)
        return Response(body, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    raise BadRequest(f"unknown download format {fmt!r}: use csv or json")


def download(site: Site):
    async def handler(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "json"):
            raise BadRequest(f"unknown download format {fmt!r}: use .csv or .json")
        filters, sort = parse_filters(request)
        records = await run_in_threadpool(_all_hits, site, filters, sort,
                                          parse_collapse(request))
        return download_response(records, DOWNLOAD_COLUMNS, fmt, "search-results")
    return handler
