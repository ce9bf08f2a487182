"""Article-body benchmark: the tracker's body extraction next to plain trafilatura, same run.

usage: python benchmarks/article_body.py [--data DIR] [--repeat N] [--out DIR] [--json]

Runs `tracker.extract.extract_body` and `trafilatura.extract(html)` (default settings,
the baseline) over every page of ../shared/benchmarks/article-body/, scores both with
that folder's own score.py (4-gram shingle F1) and prints F1 and time per page for
each, with the ratios. Pages are decompressed before timing; each extractor is timed
over all pages `--repeat` times, alternating which goes first, and the fastest pass
counts. Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "benchmarks" / "article-body"

sys.path.insert(0, str(REPO))


def load_pages(data: Path) -> tuple[list[str], dict[str, bytes], dict[str, str]]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    pages = {i: gzip.decompress((data / "html" / f"{i}.html.gz").read_bytes()) for i in ids}
    urls = {i: truth[i].get("url") for i in ids}
    return ids, pages, urls


def time_pass(fn: Callable[[bytes, str | None], str], ids, pages, urls) -> tuple[dict, float]:
    preds = {}
    start = time.perf_counter()
    for i in ids:
        preds[i] = fn(pages[i], urls[i]) or ""
    return preds, time.perf_counter() - start


def score(data: Path, preds: dict[str, str], out: Path, name: str) -> dict:
    """Score predictions with the benchmark's own score.py, exactly as its README says."""
    path = out / f"{name}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, text in preds.items():
            fh.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    done = subprocess.run([sys.executable, str(data / "score.py"), str(path), "--json"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(data: Path, repeat: int = 3, out: Path | None = None) -> dict:
    import trafilatura

    from tracker.extract import extract_body

    extractors: dict[str, Callable] = {
        "tracker": lambda page, url: extract_body(page, url),
        "trafilatura": lambda page, url: trafilatura.extract(page),
    }
    ids, pages, urls = load_pages(data)
    for fn in extractors.values():  # warm-up: imports, lazy tables, caches
        fn(pages[ids[0]], urls[ids[0]])
    best: dict[str, float] = {}
    preds: dict[str, dict] = {}
    names = list(extractors)
    for r in range(max(1, repeat)):
        for name in names if r % 2 == 0 else reversed(names):
            got, seconds = time_pass(extractors[name], ids, pages, urls)
            preds[name] = got
            best[name] = min(best.get(name, seconds), seconds)
    with tempfile.TemporaryDirectory() as tmp:
        folder = out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results = {name: {**score(data, preds[name], folder, name),
                          "ms_per_page": round(1000 * best[name] / len(ids), 2)}
                   for name in names}
    ours, base = results["tracker"], results["trafilatura"]
    return {
        "pages": len(ids),
        "repeat": repeat,
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, "
                   f"Python {platform.python_version()}, trafilatura {trafilatura.__version__}",
        "results": results,
        "f1_delta": round(ours["f1"] - base["f1"], 4),
        "time_ratio": round(ours["ms_per_page"] / base["ms_per_page"], 3),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("ARTICLE_BODY_DATA",
                                                                     DEFAULT_DATA)))
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per extractor (min)")
    ap.add_argument("--out", type=Path, help="keep the prediction JSONL files here")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if not (args.data / "ground-truth.json").exists():
        print(f"article-body benchmark skipped: no data at {args.data} "
              "(needs ../shared/benchmarks/article-body or --data DIR)")
        return 0
    report = run(args.data, args.repeat, args.out)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"article-body benchmark: {report['pages']} pages, best of {report['repeat']} passes")
    print(f"machine: {report['machine']}")
    print(f"{'extractor':<14}{'F1':>8}{'prec':>8}{'recall':>8}{'ms/page':>10}")
    for name, res in report["results"].items():
        print(f"{name:<14}{res['f1']:>8.4f}{res['precision']:>8.4f}{res['recall']:>8.4f}"
              f"{res['ms_per_page']:>10.2f}")
    print(f"F1 delta (tracker - trafilatura): {report['f1_delta']:+.4f}")
    print(f"time ratio (tracker / trafilatura): {report['time_ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
