"""The article page: text with evidence highlighted, companies, allegations, figures, responses."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tracker.search import article_detail, article_segments
from tracker.web.app import Site


def _load(site: Site, article_id: int) -> dict:
    with site.db() as db:
        art = article_detail(db, article_id)
    if art is None:
        raise HTTPException(404, f"There is no article with id {article_id}.")
    return art


def page(site: Site):
    async def handler(request: Request) -> Response:
        art = await run_in_threadpool(_load, site, request.path_params["id"])
        return site.render(request, "article.html", title=art["title"] or "Untitled article",
                           article=art, segments=article_segments(art))
    return handler


def api(site: Site):
    async def handler(request: Request) -> Response:
        art = await run_in_threadpool(_load, site, request.path_params["id"])
        art.pop("date_candidates", None)
        return JSONResponse(art)
    return handler
