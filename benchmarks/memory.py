"""Memory benchmark (not a test): peak RSS of `pipeline.run` ingesting N articles, for growing N.

A loopback news site (a forked process, 0-10 ms latency, 100 entries per feed)
serves N generated articles; each ingest runs in a fresh child Python process
that runs `tracker.pipeline.run` into a fresh database and reports its own peak
RSS (resource.getrusage ru_maxrss). Nothing about one article should stay in
memory after it is stored, so peak RSS should not grow with N.

Pairs measured (each ingest in one process, `nlp_workers: 1`, so getrusage sees
everything):

* --no-nlp: --small (1,000) vs --large (10,000) articles, like `tracker run --no-nlp`
* with NLP: --nlp-small (1,000) vs --nlp-large (3,000 by default; `make bench` runs
  10,000, about 6 minutes of NLP on one core)

    .venv/bin/python benchmarks/memory.py
    .venv/bin/python benchmarks/memory.py --small 50 --large 150 --nlp-small 20 --nlp-large 40
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, emit, machine, ratio, serve_in_process, write_feeds_yaml  # noqa: E402

PER_FEED = 100

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from tracker import pipeline
from tracker.config import load_config
config = load_config({feeds!r})
t = time.perf_counter()
s = pipeline.run(config, {db!r}, nlp={nlp!r})
print(json.dumps({{"seconds": time.perf_counter() - t,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "new": s.articles_new, "failed": s.pages_failed, "errors": len(s.errors)}}))
"""

BASELINE = """
import json, resource, sys
sys.path.insert(0, {root!r})
from tracker import pipeline, store
from tracker.config import load_config
import tracker.extract, tracker.fetch, tracker.feeds
{nlp_import}
print(json.dumps({{"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def ingest(n: int, nlp: bool, tmp: Path) -> dict:
    """Peak RSS and time of one child process ingesting n articles into a fresh database."""
    feeds = max(1, -(-n // PER_FEED))
    urls, _control, stop = serve_in_process(n, feeds, min_latency=0.0, max_latency=0.01, seed=n)
    try:
        run_dir = tmp / f"{n}-{'nlp' if nlp else 'nonlp'}"
        run_dir.mkdir()
        feeds_yaml = write_feeds_yaml(
            run_dir / "feeds.yaml",
            urls,
            allow_private_networks=True,
            respect_robots=False,
            min_host_delay=0,
            per_host=16,
            concurrency=16,
            max_articles_per_feed=PER_FEED,
        )
        code = CHILD.format(
            root=str(ROOT), feeds=str(feeds_yaml), db=str(run_dir / "bench.db"), nlp=nlp
        )
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"ingest of {n} articles failed:\n{proc.stderr[-3000:]}")
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        out["wall_seconds"] = round(time.perf_counter() - started, 1)
        out["articles"], out["nlp"] = n, nlp
        db_file = run_dir / "bench.db"
        out["db_mib"] = round(db_file.stat().st_size / 2**20, 1) if db_file.exists() else None
        os.remove(db_file)
        print(
            f"  {n:>6,} articles, nlp={nlp}: peak RSS {out['peak_rss_mib']:.1f} MiB, "
            f"{out['seconds']:.1f} s, {out['new']} new, {out['failed']} failed",
            flush=True,
        )
        return out
    finally:
        stop()


def baseline(nlp: bool) -> float:
    """Peak RSS of a process that only imports the pipeline (and loads the model)."""
    code = BASELINE.format(
        root=str(ROOT), nlp_import="from tracker.nlp import Analyzer; Analyzer()" if nlp else ""
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_mib"]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=1000, help="articles, no NLP")
    ap.add_argument("--large", type=int, default=10000, help="articles, no NLP")
    ap.add_argument("--nlp-small", type=int, default=1000, help="articles, with NLP")
    ap.add_argument(
        "--nlp-large", type=int, default=3000, help="articles, with NLP (0 skips the NLP pair)"
    )
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="tracker-mem-"))
    try:
        return _measure(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _measure(args, tmp: Path) -> dict:
    base = {"no_nlp": baseline(False)}
    print(f"baseline (imports only): {base['no_nlp']:.1f} MiB", flush=True)
    runs = {
        "no_nlp_small": ingest(args.small, False, tmp),
        "no_nlp_large": ingest(args.large, False, tmp),
    }
    ratios = {
        f"no_nlp_{args.large}_vs_{args.small}": ratio(
            runs["no_nlp_large"]["peak_rss_mib"], runs["no_nlp_small"]["peak_rss_mib"]
        )
    }
    targets = {f"no_nlp_{args.large}_vs_{args.small}": "<= 1.2"}
    if args.nlp_large:
        base["nlp"] = baseline(True)
        print(f"baseline (imports + model): {base['nlp']:.1f} MiB", flush=True)
        runs["nlp_small"] = ingest(args.nlp_small, True, tmp)
        runs["nlp_large"] = ingest(args.nlp_large, True, tmp)
        key = f"nlp_{args.nlp_large}_vs_{args.nlp_small}"
        ratios[key] = ratio(runs["nlp_large"]["peak_rss_mib"], runs["nlp_small"]["peak_rss_mib"])
        targets[key] = "<= 1.2"
    # Growth above the fixed cost of imports and model: what the corpus itself adds.
    growth = {}
    for label, small, large, b in (
        ("no_nlp", "no_nlp_small", "no_nlp_large", base["no_nlp"]),
        ("nlp", "nlp_small", "nlp_large", base.get("nlp")),
    ):
        if large in runs:
            growth[label] = {
                "small_above_baseline_mib": round(runs[small]["peak_rss_mib"] - b, 1),
                "large_above_baseline_mib": round(runs[large]["peak_rss_mib"] - b, 1),
            }
    result = {
        "benchmark": "memory",
        "baseline_peak_rss_mib": base,
        "runs": runs,
        "growth": growth,
        "ratios": ratios,
        "targets": targets,
        "machine": machine(),
    }
    for k, v in ratios.items():
        print(f"{k}: peak RSS x{v} (target <= 1.2)")
    emit(result)
    return result


if __name__ == "__main__":
    main()
