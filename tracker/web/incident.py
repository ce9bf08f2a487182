"""The incident pages: one incident (articles, copies, timeline, contested figures) and the list."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tracker import incidents
from tracker.search import INCIDENT_SORTS, incident_detail, incident_list
from tracker.web.app import BadRequest, Site
from tracker.web.search_page import _int, _one

PER_PAGE = 25
ORDERS = ("desc", "asc")


def _load(site: Site, incident_id: int) -> tuple[int | None, dict | None]:
    """(surviving id, incident) — the incident only when `incident_id` is the survivor."""
    with site.db() as db:
        if "incidents" not in db.table_names():
            return None, None
        survivor = incidents.resolve(db, incident_id)
        if survivor is None or survivor != incident_id:
            return survivor, None
        return survivor, incident_detail(db, survivor)


async def _incident_or_redirect(site: Site, request: Request, route: str):
    incident_id = request.path_params["id"]
    survivor, inc = await run_in_threadpool(_load, site, incident_id)
    if survivor is None:
        raise HTTPException(404, f"There is no incident with id {incident_id}.")
    if inc is None:
        # Merged away: the surviving incident holds its articles now; permanent, keeps GET.
        return None, RedirectResponse(request.url_for(route, id=survivor).path, status_code=308)
    return inc, None


def page(site: Site):
    async def handler(request: Request) -> Response:
        inc, redirect = await _incident_or_redirect(site, request, "incident")
        if redirect is not None:
            return redirect
        by_id = {a["id"]: a for a in inc["articles"]}
        return site.render(request, "incident.html", title=inc["title"], incident=inc,
                           by_id=by_id)
    return handler


def api(site: Site):
    async def handler(request: Request) -> Response:
        inc, redirect = await _incident_or_redirect(site, request, "api_incident")
        if redirect is not None:
            return redirect
        return JSONResponse(inc)
    return handler


def _list_params(request: Request) -> dict:
    sort = _one(request, "sort") or "last_seen"
    if sort not in INCIDENT_SORTS:
        raise BadRequest(f"parameter 'sort' must be one of {', '.join(INCIDENT_SORTS)}, "
                         f"not {sort!r}")
    order = _one(request, "order") or "desc"
    if order not in ORDERS:
        raise BadRequest(f"parameter 'order' must be asc or desc, not {order!r}")
    return {"company": _one(request, "company"), "since": _one(request, "since", max_len=10),
            "sort": sort, "descending": order == "desc"}


def _list(site: Site, params: dict, limit: int, offset: int) -> tuple[list[dict], int]:
    with site.db() as db:
        if "incidents" not in db.table_names():
            return [], 0
        return incident_list(db, limit=limit, offset=offset, **params)


def list_page(site: Site):
    async def handler(request: Request) -> Response:
        params = _list_params(request)
        page_no = _int(request, "page", 1, 1, 10_000)
        found, total = await run_in_threadpool(_list, site, params, PER_PAGE,
                                               (page_no - 1) * PER_PAGE)
        pages = (total + PER_PAGE - 1) // PER_PAGE
        keep = [(k, v) for k, v in request.query_params.multi_items()
                if k in ("company", "since", "sort", "order") and v]
        return site.render(request, "incidents.html", title="Incidents", incidents=found,
                           total=total, page=page_no, pages=pages, params=keep,
                           company=params["company"] or "", since=params["since"] or "",
                           sort=params["sort"], order="desc" if params["descending"] else "asc")
    return handler


def api_list(site: Site):
    async def handler(request: Request) -> Response:
        params = _list_params(request)
        limit = _int(request, "limit", PER_PAGE, 0, 500)
        offset = _int(request, "offset", 0, 0, 10_000_000)
        found, total = await run_in_threadpool(_list, site, params, limit, offset)
        return JSONResponse({"total": total, "limit": limit, "offset": offset,
                             "sort": params["sort"],
                             "order": "desc" if params["descending"] else "asc",
                             "results": found})
    return handler
