"""`tracker serve` keeps answering while a `tracker run` writes to the same database."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from tests.support.httpserver import loopback  # noqa: F401  (fixture)
from tests.test_crash import N_ARTICLES, slow_site  # noqa: F401  (fixture)
from tracker import pipeline, store
from tracker.config import load_config
from tracker.web import create_app


def test_web_answers_while_a_run_writes(slow_site, tmp_path):  # noqa: F811
    db = tmp_path / "live.db"
    store.open_db(db).conn.close()  # the database exists before the server opens it
    app = create_app(db)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            pipeline.run(load_config(slow_site), str(db), nlp=False)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    writer = threading.Thread(target=run)
    writer.start()

    async def poll() -> list[tuple[int, float, int]]:
        seen = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            while writer.is_alive():
                t0 = time.monotonic()
                resp = await client.get("/api/search", params={"q": "misled", "limit": 1})
                total = resp.json().get("total", -1) if resp.status_code == 200 else -1
                seen.append((resp.status_code, time.monotonic() - t0, total))
                await asyncio.sleep(0.05)
        return seen

    seen = asyncio.run(poll())
    writer.join(timeout=120)
    assert not errors, errors
    assert seen, "the run finished before the first request"
    assert all(status == 200 for status, _, _ in seen), seen
    assert max(elapsed for _, elapsed, _ in seen) < 5.0  # never blocked behind the writer
    totals = [t for _, _, t in seen]
    assert totals == sorted(totals)  # the reader sees the run's progress, never a step back
    assert totals[-1] <= N_ARTICLES
