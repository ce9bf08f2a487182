"""Orchestration: feeds -> entries -> pages -> extraction -> NLP -> storage, for one run.

Fetching is asynchronous (httpx through `tracker.fetch.Fetcher`); extraction,
NLP and database writes happen one article at a time in a worker thread, so
pages keep downloading while earlier ones are analysed. Each article is
committed in its own transaction: a run killed at any moment loses at most the
article in hand, and the next run picks up whatever is still missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from tracker import store
from tracker.errors import LockedError, UsageError
from tracker.records import (
    Config,
    ExtractedArticle,
    FeedConfig,
    FeedEntry,
    FetchResult,
    RunSummary,
    Settings,
)

log = logging.getLogger("tracker")

# Called with (event, detail) as the run progresses: "feed", "article", "error".
Progress = Callable[[str, dict], None]

QUEUE_SIZE = 64  # fetched pages queued for the writer thread
NLP_BATCH = 16  # articles analysed together by nlp.pipe


# --- the run lock ---------------------------------------------------------------------------


@contextlib.contextmanager
def run_lock(db_path: str, *, wait: bool = False) -> Iterator[None]:
    """Hold an exclusive lock beside the database for the length of a run.

    flock is released by the kernel when the process dies, so a run killed with
    SIGKILL never leaves a stale lock behind.
    """
    lock_path = f"{db_path}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LockedError(
                f"another `tracker run` (or `tracker reanalyze`) is using {db_path}; wait for "
                "it to finish or pass --wait"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


# --- helpers shared by run, add and import ---------------------------------------------------


def safe_analyze(analyzer, items: list[tuple[str, str | None]]) -> list:
    """Analyses of (text, title) pairs; one the analyzer chokes on becomes its exception.

    The batch runs through nlp.pipe first; only when it fails are the articles
    redone one by one, so one bad article costs its own result, not the batch's.
    """
    try:
        return list(analyzer.analyze_many(items))
    except Exception:
        out = []
        for text, title in items:
            try:
                out.append(analyzer.analyze(text, title=title))
            except Exception as exc:
                out.append(exc)
        return out


class Analyzer:
    """Loads the NLP analyzer on first use: runs with nothing new never pay for the model."""

    def __init__(self, settings: Settings, *, enabled: bool = True):
        self.settings, self.enabled, self._analyzer = settings, enabled, None

    def analyze_batch(self, articles: list[ExtractedArticle]) -> list:
        """One analysis (or None, or the exception it raised) per article, batched."""
        todo = [i for i, a in enumerate(articles) if a.text or a.title]
        out: list = [None] * len(articles)
        if not self.enabled or not todo:
            return out
        items = [(articles[i].text or "", articles[i].title) for i in todo]
        for i, result in zip(todo, self.analyze_items(items), strict=True):
            out[i] = result
        return out

    def analyze_items(self, items: list[tuple[str, str | None]]) -> list:
        """Analyses (or the exceptions they raised) of (text, title) pairs, as one batch."""
        if self._analyzer is None:
            from tracker.nlp import Analyzer as NlpAnalyzer

            self._analyzer = NlpAnalyzer(gazetteer_paths=self.settings.gazetteer,
                                         taxonomy_paths=self.settings.taxonomy)
        # Strings spaCy interns for these texts are freed when the zone closes, so a
        # long run's memory does not grow with every new word it meets. The analyses
        # are plain Python records and hold nothing from the zone.
        with self._analyzer.nlp.memory_zone():
            return safe_analyze(self._analyzer, items)


def html_to_text(html: str) -> str:
    """Plain text of a feed's HTML summary or content (paragraphs kept)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style"]):
        tag.decompose()
    blocks = [" ".join(b.get_text(" ").split()) for b in soup.find_all(["p", "li", "h2", "h3"])]
    blocks = [b for b in blocks if b]
    if not blocks:
        return " ".join(soup.get_text(" ").split())
    return "\n\n".join(blocks)


def article_from_entry(entry: FeedEntry) -> ExtractedArticle | None:
    """The entry's own content (or summary) when its page cannot be used."""
    for raw, method in ((entry.content, "feed_content"), (entry.summary, "feed_summary")):
        if raw and raw.strip():
            text = html_to_text(raw) if "<" in raw else raw.strip()
            if text:
                return ExtractedArticle(
                    url=entry.url or entry.feed_url, text=text, title=entry.title,
                    canonical_url=entry.canonical_url, authors=entry.authors,
                    published=entry.published, method=method,
                    date_candidates=(("feed", entry.published),) if entry.published else (),
                )
    return None


def merge_entry_metadata(article: ExtractedArticle, entry: FeedEntry) -> ExtractedArticle:
    """Fill what the page lacked from the feed entry; keep the feed's date as a candidate."""
    candidates = article.date_candidates
    if entry.published:
        candidates = (("feed", entry.published),) + tuple(candidates)
    return replace(
        article,
        title=article.title or entry.title,
        authors=article.authors or entry.authors,
        published=article.published or entry.published,
        date_candidates=candidates,
    )


def store_article(db: sqlite_utils.Database, article: ExtractedArticle, analysis, *,
                  canonical_url: str, feed_id: int | None = None, guid: str | None = None,
                  fetch_error: str | None = None) -> store.StoredArticle:
    """Store the article, then choose its date and link its copies and incident.

    The incidents hook runs in its own transaction after the article's; an
    article stored by a run killed in between is picked up by the next run's
    `incidents.rebuild`.
    """
    from tracker import incidents

    stored = store.save_article(db, article, analysis, canonical_url=canonical_url,
                                feed_id=feed_id, guid=guid, fetch_error=fetch_error)
    if stored.created:
        incidents.on_article_stored(db, stored.id)
    return stored


@dataclass
class PageJob:
    feed_id: int | None
    entry: FeedEntry
    result: FetchResult | None  # None when article pages are not fetched for this feed


def prepare_page(job: PageJob, summary: RunSummary) -> tuple[ExtractedArticle | None, str | None]:
    """The article a job yields (page body, else the entry's own content) and the page error."""
    from tracker.extract import extract_article

    entry = job.entry
    article: ExtractedArticle | None = None
    fetch_error = None
    if job.result is not None and job.result.ok:
        try:
            article = extract_article(job.result.content, job.result.final_url,
                                      encoding=job.result.encoding)
            if not article.text.strip():
                fetch_error, article = "page had no extractable text", None
            else:
                article = merge_entry_metadata(article, entry)
        except Exception as exc:  # extraction must never stop the run
            fetch_error, article = f"extraction failed: {exc}", None
    elif job.result is not None:
        fetch_error = job.result.error or "page not fetched"
    if fetch_error:
        summary.pages_failed += 1
        summary.errors.append({"url": entry.url, "error": fetch_error})
        log.warning("page %s: %s", entry.url, fetch_error)
    if article is None:
        article = article_from_entry(entry)
    if article is None and (job.result is None or fetch_error):
        summary.errors.append({"url": entry.url, "error": "no page and no feed content"})
    return article, fetch_error


@dataclass
class AnalyzedBatch:
    """Phase one of a batch (extraction and NLP), ready to be stored by the writer.

    Plain data, so a worker process can hand it back to the writer through a pipe.
    """

    # per job: (article, page error, analysis or the exception it raised), or None
    items: list[tuple[ExtractedArticle, str | None, object] | None]
    pages_failed: int
    errors: list[dict]


def analyze_pages(analyzer: Analyzer, jobs: list[PageJob]) -> AnalyzedBatch:
    """Extract and analyse (as one nlp.pipe batch) the articles of `jobs`, in order."""
    summary = RunSummary(started=datetime.now(UTC))
    prepared = [prepare_page(job, summary) for job in jobs]
    analyses = iter(analyzer.analyze_batch([a for a, _ in prepared if a is not None]))
    items = [(article, err, next(analyses)) if article is not None else None
             for article, err in prepared]
    return AnalyzedBatch(items, summary.pages_failed, summary.errors)


def store_pages(db: sqlite_utils.Database, jobs: list[PageJob], batch: AnalyzedBatch,
                summary: RunSummary) -> None:
    """Store analysed articles, each in its own transaction; failures are recorded."""
    from tracker.urls import canonical_url

    summary.pages_failed += batch.pages_failed
    summary.errors.extend(batch.errors)
    for job, item in zip(jobs, batch.items, strict=True):
        if item is None:
            continue
        article, fetch_error, analysis = item
        entry = job.entry
        if isinstance(analysis, Exception):
            # A model error is recorded and the text still stored, so nothing is lost.
            log.warning("analysis of %s failed: %s", entry.url, analysis)
            summary.errors.append({"url": entry.url, "error": f"analysis failed: {analysis}"})
            analysis = None
        canonical = entry.canonical_url or canonical_url(article.canonical_url or article.url)
        stored = store_article(db, article, analysis, canonical_url=canonical,
                               feed_id=job.feed_id, guid=entry.guid, fetch_error=fetch_error)
        if stored.created:
            summary.articles_new += 1
            if analysis is not None:
                summary.allegations_new += len(analysis.allegations)
                summary.companies_seen += len(analysis.companies)
        else:
            summary.articles_linked += 1


def process_pages(db: sqlite_utils.Database, analyzer: Analyzer, jobs: list[PageJob],
                  summary: RunSummary) -> None:
    """Extract, analyse and store articles in this thread; failures are recorded, never raised."""
    store_pages(db, jobs, analyze_pages(analyzer, jobs), summary)


# Worker processes: `tracker run` with settings.nlp_workers > 1 and `tracker analyze
# --workers`. Each loads the model once; the parent hands them batches.
_pool_analyzer: Analyzer | None = None


def _init_pool_worker(settings: Settings) -> None:
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    parent = os.getppid()

    def watch_parent() -> None:
        # A parent killed with SIGKILL cannot stop its workers; they notice that they
        # were orphaned (re-parented) and leave instead of lingering.
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    global _pool_analyzer
    _pool_analyzer = Analyzer(settings)


def start_workers(workers: int, settings: Settings, *, start: str = "spawn"):
    """A pool of `workers` NLP processes for `settings`.

    `spawn` is for a parent that runs threads (a run's writer and fetchers), which
    fork would copy mid-flight; a single-threaded parent may `fork` and spare each
    worker the imports.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(start),
                               initializer=_init_pool_worker, initargs=(settings,))


def _analyze_in_worker(jobs: list[PageJob]) -> AnalyzedBatch:
    return analyze_pages(_pool_analyzer, jobs)


def _analyze_items_in_worker(items: list[tuple[str, str | None]]) -> list:
    return _pool_analyzer.analyze_items(items)


@contextlib.contextmanager
def text_analyzer(settings: Settings, *, workers: int = 1, chunk: int = NLP_BATCH
                  ) -> Iterator[Callable[[list[tuple[str, str | None]]], Iterator]]:
    """A function from (text, title) pairs to their analyses (or exceptions), in order.

    The model (or, with `workers` > 1, a pool of processes each holding one) is loaded
    once for every call made while the context is open. Chunks of `chunk` pairs keep
    nlp.pipe batching inside each worker while all the cores stay busy.
    """
    def chunks(items):
        return [items[i:i + chunk] for i in range(0, len(items), chunk)]

    if workers <= 1:
        analyzer = Analyzer(settings)

        def one(items):
            for part in chunks(items):
                yield from analyzer.analyze_items(part)

        yield one
        return
    with start_workers(workers, settings, start="fork") as pool:
        def spread(items):
            for result in pool.map(_analyze_items_in_worker, chunks(items)):
                yield from result

        yield spread


def analyze_texts(items: list[tuple[str, str | None]], settings: Settings | None = None, *,
                  workers: int = 1, chunk: int = NLP_BATCH) -> Iterator:
    """Analyses (or the exceptions they raised) of (text, title) pairs, in order."""
    if len(items) <= chunk:
        workers = 1  # one chunk: a pool would only add its start-up
    with text_analyzer(settings or Settings(), workers=workers, chunk=chunk) as analyse:
        yield from analyse(items)


# --- the run ---------------------------------------------------------------------------------


def _feed_due(state: dict, now: datetime) -> bool:
    nxt = state.get("next_fetch")
    if not nxt:
        return True
    try:
        return datetime.fromisoformat(nxt) <= now
    except ValueError:
        return True


async def _run_async(config: Config, db: sqlite_utils.Database, writer: sqlite_utils.Database,
                     summary: RunSummary, *,
                     analyzer: Analyzer, force: bool, progress: Progress | None,
                     recover: bool = False) -> None:
    from tracker.feeds import parse_feed
    from tracker.fetch import Fetcher, next_fetch_after, next_quiet_fetch
    from tracker.urls import canonical_url

    settings = config.settings
    loop = asyncio.get_running_loop()
    now = datetime.now(UTC)
    feeds = [f for f in config.feeds if f.enabled]
    summary.feeds_total = len(feeds)
    # One writer thread: extraction, NLP (batched) and SQLite, a batch at a time.
    queue: asyncio.Queue[PageJob | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
    # Fetched pages waiting for the writer are bounded too, so memory does not
    # grow with the number of entries a run has to fetch.
    in_flight = asyncio.Semaphore(2 * QUEUE_SIZE)
    # Articles reached through two feeds in the same run are fetched once; the
    # second feed is linked after the first has stored it.
    pending: set[str] = set()
    deferred_links: list[tuple[str, int, FeedEntry]] = []

    # With nlp_workers > 1, worker processes extract and analyse batches while this
    # process fetches and the writer thread stores: both cores work.
    workers = settings.nlp_workers if analyzer.enabled else 1
    pool = start_workers(workers, settings) if workers > 1 else None
    analyzing: deque[tuple[list[PageJob], asyncio.Future]] = deque()

    async def finish(batch: list[PageJob], future: asyncio.Future | None) -> None:
        """Store a batch (analysing it here first when there is no worker pool)."""
        try:
            analyzed = None
            if future is not None:
                try:
                    analyzed = await future
                except Exception as exc:  # a worker died: do this batch here instead
                    log.warning("NLP worker failed (%r); analysing the batch in-process", exc)
            if analyzed is None:
                await loop.run_in_executor(None, process_pages, writer, analyzer, batch,
                                           summary)
            else:
                await loop.run_in_executor(None, store_pages, writer, batch, analyzed, summary)
        finally:
            for item in batch:
                if item.result is not None:
                    in_flight.release()
        if progress:
            for item in batch:
                progress("article", {"url": item.entry.url})

    async def consumer() -> None:
        done = False
        while True:
            # Store finished work before waiting for more, so pages never sit analysed
            # while the fetchers wait for their slots.
            if analyzing and (done or queue.empty() or len(analyzing) >= workers):
                batch, future = analyzing.popleft()
                await finish(batch, future)
                continue
            if done:
                return
            job = await queue.get()
            if job is None:
                done = True
                continue
            # Whatever else is already waiting joins the batch: nlp.pipe over
            # several articles is faster than one at a time.
            batch = [job]
            while len(batch) < NLP_BATCH and not queue.empty():
                nxt = queue.get_nowait()
                if nxt is None:
                    done = True
                    break
                batch.append(nxt)
            if pool is None:
                await finish(batch, None)
            else:
                analyzing.append((batch, loop.run_in_executor(pool, _analyze_in_worker, batch)))

    async def do_feed(fetcher: Fetcher, feed: FeedConfig) -> None:
        feed_id = store.upsert_feed(db, feed)
        state = store.feed_state(db, feed_id)
        if not force and not _feed_due(state, now):
            summary.feeds_skipped += 1
            if progress:
                progress("feed", {"feed": feed.label, "status": "skipped",
                                  "next": state["next_fetch"]})
            return
        trust = not recover
        result = await fetcher.fetch(feed.url, etag=state.get("etag") if trust else None,
                                     last_modified=state.get("last_modified") if trust else None,
                                     trusted=True, kind="feed")
        body_hash = (hashlib.sha256(result.content).hexdigest()
                     if result.ok and result.content else None)
        if trust and body_hash is not None and body_hash == state.get("body_hash"):
            # the same bytes as last time: nothing new, and nothing to parse
            result = replace(result, not_modified=True)
        if result.not_modified:
            summary.feeds_not_modified += 1
            store.record_feed_fetch(db, feed_id, result, changed=False,
                                    next_fetch=quiet_next(state))
            if progress:
                progress("feed", {"feed": feed.label, "status": "not modified"})
            return
        if result.error:
            await _feed_failed(feed, feed_id, state, result)
            return
        parsed = parse_feed(result.content, result.final_url, content_type=result.content_type,
                            encoding=result.encoding)
        if parsed.error and not parsed.entries:
            await _feed_failed(feed, feed_id, state,
                               replace(result, error=parsed.error, error_reason="parse"))
            return
        summary.feeds_ok += 1
        limit = feed.max_articles or settings.max_articles_per_feed
        entries = parsed.entries[:limit]
        summary.entries_seen += len(entries)
        if parsed.error:
            summary.errors.append({"feed": feed.label, "error": parsed.error})
        if progress:
            progress("feed", {"feed": feed.label, "status": "ok", "entries": len(entries)})
        fetch_pages = (settings.fetch_articles if feed.fetch_articles is None
                       else feed.fetch_articles)
        robots = settings.respect_robots if feed.respect_robots is None else feed.respect_robots
        page_tasks: set[asyncio.Task] = set()
        known = 0
        try:
            for entry in entries:
                canon = entry.canonical_url or (canonical_url(entry.url) if entry.url else None)
                existing = store.find_article(db, canonical_url=canon, guid=entry.guid)
                if existing is not None:
                    known += 1
                    if store.link_feed(db, existing, feed_id, entry.guid, entry.url):
                        summary.articles_linked += 1
                    continue
                if canon:
                    if canon in pending:
                        deferred_links.append((canon, feed_id, entry))
                        continue
                    pending.add(canon)
                if fetch_pages and entry.url:
                    # A slot is taken before the task exists, and finished tasks are
                    # dropped: a feed with 10,000 new entries holds a bounded number
                    # of tasks and pages, not 10,000.
                    await in_flight.acquire()
                    task = asyncio.create_task(fetch_page(fetcher, feed_id, entry, robots))
                    page_tasks.add(task)
                    task.add_done_callback(page_tasks.discard)
                else:
                    await queue.put(PageJob(feed_id, entry, None))
            changed = known < len(entries)
            store.record_feed_fetch(db, feed_id, result, entries=len(entries),
                                    parse_error=parsed.error, changed=changed,
                                    next_fetch=None if changed else quiet_next(state),
                                    body_hash=body_hash)
            while page_tasks:
                await asyncio.gather(*page_tasks)
        finally:
            # On Ctrl-C (cancellation) stop the page fetches still in flight and
            # collect them, so none outlives the HTTP client it uses.
            for task in page_tasks:
                task.cancel()
            await asyncio.gather(*page_tasks, return_exceptions=True)

    def quiet_next(state: dict) -> str | None:
        """The next poll of a feed whose fetch just brought nothing new (None: next run)."""
        nxt = next_quiet_fetch((state.get("unchanged_runs") or 0) + 1, datetime.now(UTC),
                               settings.quiet_feed_max_hours)
        return nxt.isoformat() if nxt else None

    async def fetch_page(fetcher: Fetcher, feed_id: int, entry: FeedEntry, robots: bool) -> None:
        # The caller took an in_flight slot for this page; the writer releases it.
        try:
            try:
                result = await fetcher.fetch(entry.url, trusted=False, kind="page",
                                             check_robots=robots)
            except Exception as exc:  # a bug in fetching must cost one page, not the run
                log.warning("fetching %s failed unexpectedly: %r", entry.url, exc)
                result = FetchResult(url=entry.url, final_url=entry.url,
                                     error=f"unexpected error: {exc!r}", error_reason="error")
            await queue.put(PageJob(feed_id, entry, result))
        except BaseException:
            in_flight.release()  # never handed to the writer, which would release it
            raise

    async def _feed_failed(feed: FeedConfig, feed_id: int, state: dict,
                           result: FetchResult) -> None:
        summary.feeds_failed += 1
        count = (state.get("error_count") or 0) + 1
        nxt = next_fetch_after(count, datetime.now(UTC), result.retry_after)
        store.record_feed_fetch(db, feed_id, result, next_fetch=nxt.isoformat())
        summary.errors.append({"feed": feed.label, "url": feed.url, "error": result.error})
        log.warning("feed %s: %s", feed.label, result.error)
        if progress:
            progress("feed", {"feed": feed.label, "status": "failed", "error": result.error})

    consumer_task = asyncio.create_task(consumer())
    try:
        async with Fetcher(settings) as fetcher:
            await asyncio.gather(*(do_feed(fetcher, f) for f in feeds))
    finally:
        await queue.put(None)
        try:
            await consumer_task
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    # Articles a killed run stored without their incident step.
    from tracker import incidents

    await loop.run_in_executor(None, incidents.rebuild, writer)
    for canon, feed_id, entry in deferred_links:
        existing = store.find_article(db, canonical_url=canon, guid=entry.guid)
        if existing is not None and store.link_feed(db, existing, feed_id, entry.guid, entry.url):
            summary.articles_linked += 1


def run(config: Config, db_path: str, *, force: bool = False, nlp: bool = True,
        wait: bool = False, progress: Progress | None = None) -> RunSummary:
    """Fetch every due feed of `config` into the database at `db_path`; return a summary.

    Feeds that fail are recorded (status, error, next fetch) and the run goes on.
    Ctrl-C stops the run cleanly: what was stored stays stored, and the summary
    says the run was interrupted.
    """
    summary = RunSummary(started=datetime.now(UTC).replace(microsecond=0))
    with run_lock(db_path, wait=wait):
        db = store.open_db(db_path)
        # The worker thread that stores articles gets a connection of its own: a
        # transaction on a shared connection would be committed half-done by the
        # feed bookkeeping the event loop writes meanwhile.
        writer = store.open_db(db_path, migrate=False)
        # After a killed or interrupted run, feeds are fetched and read in full once: what
        # the feeds' ETags and hashes vouch for was queued, but maybe never stored.
        recover = summary.full_read = store.last_run_unfinished(db)
        run_id = store.start_run(db, summary.started.isoformat())
        analyzer = Analyzer(config.settings, enabled=nlp)
        complete = False
        try:
            asyncio.run(_run_async(config, db, writer, summary, analyzer=analyzer, force=force,
                                   progress=progress, recover=recover))
            complete = True
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            summary.finished = datetime.now(UTC).replace(microsecond=0)
            # a run stopped by an error is as unfinished as a killed one (see recover)
            store.finish_run(db, run_id, {**summary.to_dict(), "complete": complete})
            writer.conn.close()
            db.conn.close()
    return summary


# --- single articles: `tracker add` and `tracker import` --------------------------------------


def add_urls(urls: list[str], db_path: str, settings: Settings, *, nlp: bool = True
             ) -> list[dict]:
    """Fetch, extract, analyse and store articles an analyst names by URL."""
    from tracker.fetch import Fetcher
    from tracker.urls import canonical_url

    async def fetch_all() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(u, trusted=True, kind="page")
                                          for u in urls))

    results = asyncio.run(fetch_all())
    db = store.open_db(db_path)
    analyzer = Analyzer(settings, enabled=nlp)
    out = []
    for url, result in zip(urls, results, strict=True):
        summary = RunSummary(started=datetime.now(UTC))
        entry = FeedEntry(feed_url="", guid=None, url=url, canonical_url=canonical_url(url))
        process_pages(db, analyzer, [PageJob(None, entry, result)], summary)
        ok = summary.articles_new + summary.articles_linked > 0
        out.append({"url": url, "stored": ok, "new": summary.articles_new > 0,
                    "error": None if ok else (summary.errors[0]["error"] if summary.errors
                                              else "nothing stored")})
    db.conn.close()
    return out


def import_records(records: Iterator[tuple[str, dict | None, str | None]], db_path: str,
                   settings: Settings, *, nlp: bool = True) -> dict:
    """Store existing articles: (label, record, error) triples from `read_import_source`."""
    from tracker.extract import extract_article
    from tracker.urls import canonical_url

    db = store.open_db(db_path)
    analyzer = Analyzer(settings, enabled=nlp)
    counts = {"new": 0, "duplicate": 0, "failed": 0, "errors": []}
    for label, rec, error in records:
        if error or rec is None:
            counts["failed"] += 1
            counts["errors"].append({"record": label, "error": error})
            continue
        try:
            url = rec.get("url") or f"urn:import:{label}"
            if rec.get("html"):
                article = extract_article(rec["html"], url)
                article = replace(article, title=rec.get("title") or article.title,
                                  published=rec.get("published") or article.published,
                                  method="import_html")
            else:
                article = ExtractedArticle(url=url, text=rec.get("text") or "",
                                           title=rec.get("title"),
                                           published=rec.get("published"), method="import_text")
            if not (article.text or "").strip():
                raise ValueError("no text (give `text` or `html`)")
            analysis = analyzer.analyze_batch([article])[0]
            if isinstance(analysis, Exception):
                counts["errors"].append({"record": label, "error": f"analysis failed: {analysis}"})
                analysis = None  # the text is stored all the same
            stored = store_article(db, article, analysis,
                                   canonical_url=canonical_url(url) if "://" in url else url)
            counts["new" if stored.created else "duplicate"] += 1
        except Exception as exc:  # one bad record must not stop the import
            counts["failed"] += 1
            counts["errors"].append({"record": label, "error": str(exc)})
    db.conn.close()
    return counts


# --- re-analysis ---------------------------------------------------------------------------


@dataclass
class ReanalyzeSummary:
    """What `reanalyze` did: how many articles were due, redone and failed."""

    version: str  # the extractor version the articles now carry
    due: int  # articles analysed by another version (or never), or all with `everything`
    reanalyzed: int = 0
    failed: list[dict] = field(default_factory=list)  # {"article_id", "error"}
    incidents: int = 0  # incidents recomputed because a member's analysis changed

    def to_dict(self) -> dict:
        return asdict(self)


# Articles read from the database at a time; the NLP still batches NLP_BATCH of them.
REANALYZE_PAGE = 256


def reanalyze(db_path: str, settings: Settings, *, everything: bool = False,
              limit: int | None = None, workers: int = 1, wait: bool = False,
              progress: Callable[[int, int], None] | None = None) -> ReanalyzeSummary:
    """Run the current extractor again over stored articles and replace what was found.

    Without `everything`, only articles another extractor version analysed, or that
    were stored without the NLP step, are redone, so a run after an upgrade picks up
    exactly what is out of date and a second run finds nothing to do. Each article is
    replaced in its own transaction and the incidents of every NLP_BATCH articles are
    recomputed right after them (at Ctrl-C too): a killed run loses at most that much
    incident bookkeeping, never an analysis, and the next run carries on. An
    article the analyzer fails on keeps its old analysis and is reported. Holds the
    run lock: `tracker run` and this never write at once.
    """
    from tracker import incidents
    from tracker.nlp import EXTRACTOR_VERSION

    if limit is not None and limit < 0:
        raise UsageError(f"limit must be 0 or more, not {limit}")
    with run_lock(db_path, wait=wait), text_analyzer(settings, workers=workers) as analyse:
        db = store.open_db(db_path)
        try:
            where, params = ("1", []) if everything else (
                "extractor_version IS NOT ?", [EXTRACTOR_VERSION])
            ids = [r[0] for r in db.execute(
                f"SELECT id FROM articles WHERE {where} ORDER BY id", params)]
            summary = ReanalyzeSummary(version=EXTRACTOR_VERSION, due=len(ids))
            todo = ids if limit is None else ids[:limit]
            done = 0
            touched: set[int] = set()  # incidents of redone articles, not yet recomputed
            try:
                for start in range(0, len(todo), REANALYZE_PAGE):
                    page = todo[start:start + REANALYZE_PAGE]
                    marks = ",".join("?" * len(page))
                    texts = {r[0]: (r[2] or "", r[1]) for r in db.execute(
                        f"SELECT id, title, text FROM articles WHERE id IN ({marks})", page)}
                    page = [aid for aid in page if aid in texts]  # deleted meanwhile
                    results = analyse([texts[aid] for aid in page])
                    for n, (aid, result) in enumerate(zip(page, results, strict=True), 1):
                        if isinstance(result, Exception):
                            summary.failed.append({"article_id": aid,
                                                   "error": f"analysis failed: {result!r}"})
                        else:
                            store.replace_analysis(db, aid, result)
                            summary.reanalyzed += 1
                            incident = incidents.incident_of(db, aid)
                            if incident is not None:
                                touched.add(incident)
                        if n % NLP_BATCH == 0 or n == len(page):
                            summary.incidents += _refresh_incidents(db, touched)
                    done += len(page)
                    if progress:
                        progress(done, len(todo))
            except KeyboardInterrupt:
                # Ctrl-C: what was redone keeps its incidents right before the run stops.
                summary.incidents += _refresh_incidents(db, touched)
                raise
        finally:
            db.conn.close()
    return summary


def _refresh_incidents(db: sqlite_utils.Database, incident_ids: set[int]) -> int:
    """Recompute incidents whose members were re-analysed and empty the set; how many were."""
    from tracker import incidents

    for incident_id in sorted(incident_ids):
        with db.conn:
            incidents.refresh(db, incident_id)
    count = len(incident_ids)
    incident_ids.clear()
    return count


def read_import_source(path: str) -> Iterator[tuple[str, dict | None, str | None]]:
    """Yield (label, record, error) from a JSONL file or a folder of .html files."""
    from tracker.jsonl import iter_jsonl

    p = Path(path)
    if p.is_dir():
        files = sorted(list(p.glob("*.html")) + list(p.glob("*.htm")))
        for f in files:
            try:
                yield f.name, {"html": f.read_bytes(), "url": f.resolve().as_uri()}, None
            except OSError as exc:
                yield f.name, None, str(exc)
        return
    good = bad = 0
    for n, rec, error in iter_jsonl(str(p)):
        good, bad = good + (error is None), bad + (error is not None)
        if bad >= 5 and not good:
            # Five bad lines and not one good: a wrong file, not a file with bad lines.
            raise UsageError(f"{path} does not look like a JSON Lines file ({error}); give a "
                             "JSONL file with one article object per line, or a folder of "
                             ".html files")
        yield f"{p.name}:{n}", rec, error
