"""End-to-end benchmark (not a test): `pipeline.run` over a loopback news site vs analyze-only time.

A forked process serves --feeds RSS feeds listing --articles generated news
pages from 127.0.0.1, each response delayed 50-200 ms. `tracker.pipeline.run`
fetches everything into a fresh database (feeds, pages, extraction, NLP,
SQLite). Then the stored texts are analysed alone through the `tracker
analyze` path (`analyze_texts(workers=1)`) in the same process: the ratio
total / analyze-only says how well fetching and storing hide behind the NLP.
Finally the run is repeated with nothing new, twice: with the feeds answering
304 to the stored ETag, and with the site sending no ETag (feeds re-downloaded;
a feed's unchanged bytes are recognised by their hash, so none is parsed again).

The NLP model is loaded before any timing, so neither side pays for it.

    .venv/bin/python benchmarks/end_to_end.py
    .venv/bin/python benchmarks/end_to_end.py --articles 40 --feeds 2   # smoke size
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Timer, emit, machine, ratio, serve_in_process, words, write_feeds_yaml  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--min-latency", type=float, default=0.05)
    ap.add_argument("--max-latency", type=float, default=0.2)
    ap.add_argument(
        "--per-host", type=int, default=16, help="settings.per_host (all pages are one host)"
    )
    ap.add_argument("--concurrency", type=int, default=16, help="settings.concurrency")
    ap.add_argument(
        "--nlp-workers", type=int, default=1,
        help="settings.nlp_workers (processes for extraction and NLP during the run)",
    )
    ap.add_argument(
        "--profile", action="store_true", help="cProfile the first run; print the top 25"
    )
    args = ap.parse_args(argv)

    urls, control, stop = serve_in_process(
        args.articles, args.feeds, min_latency=args.min_latency, max_latency=args.max_latency
    )
    try:
        return _bench(args, urls, control)
    finally:
        stop()


def _bench(args, urls: list[str], control) -> dict:
    per_feed = -(-args.articles // args.feeds)
    settings = {
        "allow_private_networks": True,
        "respect_robots": False,
        "min_host_delay": 0,
        "per_host": args.per_host,
        "concurrency": args.concurrency,
        "nlp_workers": args.nlp_workers,
        "max_articles_per_feed": max(100, per_feed),
    }
    tmp = Path(tempfile.mkdtemp(prefix="tracker-e2e-"))
    try:
        return _measure(args, control, settings, tmp, urls)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _measure(args, control, settings: dict, tmp: Path, urls: list[str]) -> dict:
    from tracker import pipeline, store
    from tracker.config import load_config
    from tracker.nlp import load_nlp
    from tracker.pipeline import analyze_texts

    config = load_config(write_feeds_yaml(tmp / "feeds.yaml", urls, **settings))
    db_path = str(tmp / "bench.db")
    with Timer() as t_model:
        load_nlp()
    print(
        f"{args.articles} articles in {args.feeds} feeds, latency {args.min_latency * 1000:.0f}-"
        f"{args.max_latency * 1000:.0f} ms; settings {settings}; "
        f"model loaded in {t_model.seconds:.1f} s",
        flush=True,
    )

    profiler = cProfile.Profile() if args.profile else None
    with Timer() as t_run:
        if profiler:
            profiler.enable()
        first = pipeline.run(config, db_path, nlp=True)
        if profiler:
            profiler.disable()
    print(
        f"first run: {t_run.seconds:.1f} s wall, {t_run.cpu:.1f} s CPU in this process; "
        f"{first.articles_new} new, {first.pages_failed} pages failed, {len(first.errors)} errors",
        flush=True,
    )
    if first.errors:
        print(f"  first errors: {first.errors[:3]}")

    db = store.open_db(db_path, readonly=True)
    rows = list(db.execute("SELECT text, title FROM articles ORDER BY id").fetchall())
    n_allegations = db.execute("SELECT count(*) FROM allegations").fetchone()[0]
    db.conn.close()
    items = [(text or "", title) for text, title in rows]
    n_words = sum(words(t) + words(ti or "") for t, ti in items)

    with Timer() as t_an:
        analyses = list(analyze_texts(items, workers=1))
    print(
        f"analyze-only ({len(items)} stored texts, {n_words:,} words): {t_an.seconds:.1f} s wall, "
        f"{t_an.cpu:.1f} s CPU",
        flush=True,
    )
    assert len(analyses) == len(items)

    with Timer() as t_re:
        again = pipeline.run(config, db_path, nlp=True)
    print(
        f"re-run, feeds 304: {t_re.seconds:.2f} s; {again.articles_new} new, "
        f"{again.feeds_not_modified} feeds not modified",
        flush=True,
    )
    control("etags-off")
    with Timer() as t_re2:
        again2 = pipeline.run(config, db_path, nlp=True)
    print(
        f"re-run, feeds re-downloaded: {t_re2.seconds:.2f} s; {again2.articles_new} new, "
        f"{again2.articles_linked} linked",
        flush=True,
    )

    result = {
        "benchmark": "end_to_end",
        "articles": args.articles,
        "feeds": args.feeds,
        "stored": len(items),
        "words": n_words,
        "allegations_stored": n_allegations,
        "latency_ms": [args.min_latency * 1000, args.max_latency * 1000],
        "settings": settings,
        "server_requests": control("requests"),
        "first_run": {
            "seconds": round(t_run.seconds, 2),
            "cpu_seconds": round(t_run.cpu, 2),
            "new": first.articles_new,
            "pages_failed": first.pages_failed,
            "errors": len(first.errors),
        },
        "analyze_only_seconds": round(t_an.seconds, 2),
        "analyze_only_cpu_seconds": round(t_an.cpu, 2),
        "rerun_304_seconds": round(t_re.seconds, 3),
        "rerun_304_new": again.articles_new,
        "rerun_no_etag_seconds": round(t_re2.seconds, 3),
        "rerun_no_etag_new": again2.articles_new,
        "articles_per_s": {
            "pipeline": round(len(items) / t_run.seconds, 2),
            "analyze_only": round(len(items) / t_an.seconds, 2),
        },
        "ratios": {
            "total_vs_analyze_only": ratio(t_run.seconds, t_an.seconds),
            "total_vs_analyze_only_cpu": ratio(t_run.cpu, t_an.cpu),
            "rerun_304_vs_first": ratio(t_re.seconds, t_run.seconds),
            "rerun_no_etag_vs_first": ratio(t_re2.seconds, t_run.seconds),
        },
        "targets": {
            "total_vs_analyze_only": "<= 1.25",
            "rerun_304_vs_first": "<= 0.02",
            "rerun_no_etag_vs_first": "<= 0.02",
        },
        "machine": machine(),
    }
    print(
        f"total / analyze-only: {result['ratios']['total_vs_analyze_only']}x (target <= 1.25); "
        f"re-run / first: {result['ratios']['rerun_304_vs_first']:.4f} with 304s, "
        f"{result['ratios']['rerun_no_etag_vs_first']:.4f} without (target <= 0.02)"
    )
    if profiler:
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(25)
        print(buf.getvalue())
    emit(result)
    return result


if __name__ == "__main__":
    main()
