"""The company page: allegations against and by it as a timeline, figures, sources, subsidiaries."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tracker.search import company_detail, find_company
from tracker.web.app import BadRequest, Site
from tracker.web.search_page import download_response

ALLEGATION_COLUMNS = ["role", "published", "accuser", "accused", "types", "status", "figures",
                      "summary", "evidence", "article_title", "article_url", "article_id"]


def _load(site: Site, company_id: int) -> dict:
    with site.db() as db:
        comp = company_detail(db, company_id)
    if comp is None:
        raise HTTPException(404, f"There is no company with id {company_id}.")
    return comp


def timeline(comp: dict) -> list[dict]:
    """Allegations against and by the company in one list, oldest first, each with its role."""
    items = [dict(a, role="against") for a in comp["against"]]
    items += [dict(a, role="by") for a in comp["by"]]
    items.sort(key=lambda a: (a["published"] is None, a["published"] or "", a["id"]))
    return items


def page(site: Site):
    async def handler(request: Request) -> Response:
        comp = await run_in_threadpool(_load, site, request.path_params["id"])
        return site.render(request, "company.html", title=comp["name"], company=comp,
                           timeline=timeline(comp))
    return handler


def api(site: Site):
    async def handler(request: Request) -> Response:
        comp = await run_in_threadpool(_load, site, request.path_params["id"])
        return JSONResponse(comp)
    return handler


def lookup(site: Site):
    """/company?name=Alibaba Group -> the company's page, by canonical name or alias."""

    def find(name: str) -> int | None:
        with site.db() as db:
            return find_company(db, name)

    async def handler(request: Request) -> Response:
        name = (request.query_params.get("name") or "").strip()
        if not name:
            raise BadRequest("give a company name: /company?name=Alibaba")
        cid = await run_in_threadpool(find, name)
        if cid is None:
            raise HTTPException(404, f"No company or alias named {name!r} is stored.")
        return RedirectResponse(request.url_for("company", id=cid).path, status_code=303)
    return handler


def download(site: Site):
    async def handler(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "json"):
            raise BadRequest(f"unknown download format {fmt!r}: use .csv or .json")
        comp = await run_in_threadpool(_load, site, request.path_params["id"])
        records = [{k: a.get(k) for k in ALLEGATION_COLUMNS} for a in timeline(comp)]
        return download_response(records, ALLEGATION_COLUMNS, fmt, f"company-{comp['id']}")
    return handler
