"""Benchmark: peak memory of `export_dataset` on a large synthetic database.

Builds (or reuses) a synthetic database of N articles with bulk inserts: each
article has a ~2 KB body, one allegation with an accuser and an accused, a
figure, two mentions and, for one in three, a response; 5,000 companies (one
in ten with a parent) and 50 feeds. The FTS triggers are dropped while
loading (the export never reads the full-text index, and indexing gigabytes of
text would dominate the build time) and put back afterwards.

Each export then runs in a fresh subprocess, which reports its own peak
resident set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss`), next to a
baseline subprocess that only imports the tracker and opens the database.

    .venv/bin/python benchmarks/export_memory.py --articles 100000
    .venv/bin/python benchmarks/export_memory.py --articles 1000000 --formats csv parquet
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.store import open_db  # noqa: E402

WORDS = ("regulator company accused alleged data accounts users breach model training "
         "copyright settlement investigation court filing statement spokesperson denied "
         "the a of to and in on for with by said according report million fine").split()
TYPES = ("model_distillation", "data_breach", "privacy_violation", "antitrust", "fraud",
         "copyright_infringement", "patent_infringement", "ip_theft")
STATUSES = ("alleged", "investigating", "charged", "settled", "fined")
BATCH = 10_000


def _paragraphs(rng: random.Random, count: int, size: int) -> list[str]:
    out = []
    for _ in range(count):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < size:
            words.append(rng.choice(WORDS))
        out.append(" ".join(words).capitalize() + ".")
    return out


def build(path: Path, articles: int, text_bytes: int) -> None:
    """Create the synthetic database at `path` with bulk inserts."""
    started = time.perf_counter()
    path.unlink(missing_ok=True)
    db = open_db(path)  # the real schema, migrations included
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                          "AND tbl_name = 'articles'").fetchall()
    db.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    rng = random.Random(42)
    pool = _paragraphs(rng, 500, text_bytes)
    now = "2025-01-01T00:00:00+00:00"
    with conn:
        conn.executemany(
            "INSERT INTO feeds (id, url, name, tags, added, last_fetched, error_count) "
            "VALUES (?,?,?,?,?,?,0)",
            [(i, f"https://feed{i}.example/rss", f"Feed {i}", json.dumps(["news"]), now, now)
             for i in range(1, 51)])
        conn.executemany(
            "INSERT INTO companies (id, name, kind, parent_id, first_seen) VALUES (?,?,?,?,?)",
            [(i, f"Company {i}", "company", (i // 10) if i % 10 == 0 and i > 10 else None, now)
             for i in range(1, 5001)])
        conn.executemany(
            "INSERT INTO company_aliases (key, alias, company_id) VALUES (?,?,?)",
            [(f"company {i}", f"Company {i}", i) for i in range(1, 5001)])
    fig_id = men_id = res_id = 0
    for start in range(1, articles + 1, BATCH):
        arts, als, types, parties, figs, mens, ress = [], [], [], [], [], [], []
        for i in range(start, min(start + BATCH, articles + 1)):
            day = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
            text = pool[i % len(pool)] + f" Story {i}."
            accuser, accused = 1 + (i * 7) % 5000, 1 + (i * 13) % 5000
            if accuser == accused:
                accused = accused % 5000 + 1
            kind = TYPES[i % len(TYPES)]
            arts.append((i, f"https://news{i % 300}.example/a/{i}", f"https://news{i % 300}"
                         f".example/a/{i}", f"guid-{i}", f"Story {i} about Company {accused}",
                         "[]", f"news{i % 300}.example", day, now, "en", text,
                         hashlib.sha256(str(i).encode()).hexdigest(), 1 + i % 50, "page",
                         "synthetic-1", "[]"))
            als.append((i, i, accuser, f"Company {accuser}", json.dumps([kind]), kind,
                        STATUSES[i % len(STATUSES)], text[:200], 0, 200, "said",
                        round(0.3 + (i % 7) / 10, 2), now))
            types.append((i, kind))
            parties += [(i, accuser, "accuser"), (i, accused, "accused")]
            fig_id += 1
            figs.append((fig_id, i, i, float(1000 * (i % 97 + 1)), "accounts", "over", 0,
                         f"over {1000 * (i % 97 + 1):,} accounts", 10, 30))
            for cid in (accuser, accused):
                men_id += 1
                mens.append((men_id, i, cid, f"Company {cid}", 0, 10, "gazetteer"))
            if i % 3 == 0:
                res_id += 1
                ress.append((res_id, i, accused, f"Company {accused}", "denied",
                             "It denied the claims.", 40, 60))
        with conn:
            conn.executemany("INSERT INTO articles (id, url, canonical_url, guid, title, "
                             "authors, source, published, fetched, language, text, content_hash,"
                             " feed_id, method, extractor_version, date_candidates) VALUES "
                             "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", arts)
            conn.executemany("INSERT INTO allegations (id, article_id, accuser_id, accuser_name,"
                             " types, type, status, evidence, start, \"end\", cue, confidence, "
                             "created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", als)
            conn.executemany("INSERT INTO allegation_types VALUES (?,?)", types)
            conn.executemany("INSERT INTO allegation_parties VALUES (?,?,?)", parties)
            conn.executemany("INSERT INTO figures (id, article_id, allegation_id, value, unit, "
                             "qualifier, is_money, text, start, \"end\") VALUES "
                             "(?,?,?,?,?,?,?,?,?,?)", figs)
            conn.executemany("INSERT INTO mentions (id, article_id, company_id, text, start, "
                             "\"end\", source) VALUES (?,?,?,?,?,?,?)", mens)
            conn.executemany("INSERT INTO responses (id, article_id, company_id, company_name, "
                             "response, evidence, start, \"end\") VALUES (?,?,?,?,?,?,?,?)",
                             ress)
    with conn:
        for _, sql in triggers:
            conn.execute(sql)
    conn.close()
    print(f"built {path} ({articles:,} articles, {path.stat().st_size / 2**20:,.0f} MiB) in "
          f"{time.perf_counter() - started:,.0f} s", flush=True)


def _article_count(path: Path) -> int | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        count = conn.execute("SELECT MAX(id) FROM articles").fetchone()[0]
        conn.close()
        return count
    except sqlite3.Error:
        return None


_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from tracker.store import open_db
db = open_db({db!r}, readonly=True)
started = time.perf_counter()
counts = None
if {fmt!r}:
    from tracker.export import export_dataset
    counts = export_dataset(db, {out!r}, fmt={fmt!r}, text={text!r}).counts
print(json.dumps({{"seconds": time.perf_counter() - started, "counts": counts,
                  "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def measure(db: Path, fmt: str | None, out: Path, text: bool) -> dict:
    code = _CHILD.format(root=str(ROOT), db=str(db), fmt=fmt or "", out=str(out), text=text)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"export subprocess failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="database (default: in benchmarks/out/)")
    parser.add_argument("--formats", nargs="+", default=["csv", "jsonl", "parquet"])
    parser.add_argument("--text-bytes", type=int, default=2000, help="body size per article")
    parser.add_argument("--no-text", action="store_true", help="export with --no-text")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "export")
    parser.add_argument("--keep", action="store_true", help="keep the exported files")
    args = parser.parse_args()
    db = args.db or ROOT / "benchmarks" / "out" / f"synthetic-{args.articles}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    if _article_count(db) != args.articles:
        build(db, args.articles, args.text_bytes)
    else:
        open_db(db).close()  # bring a reused database up to the current schema
        print(f"reusing {db}", flush=True)
    base = measure(db, None, args.out, True)
    print(f"baseline (import + open): peak RSS {base['peak_rss_kib'] / 1024:,.1f} MiB")
    for fmt in args.formats:
        out = args.out / fmt
        shutil.rmtree(out, ignore_errors=True)
        r = measure(db, fmt, out, not args.no_text)
        size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
        rows = sum(r["counts"].values())
        print(f"{fmt:8} {args.articles:>9,} articles  {rows:>10,} rows  {r['seconds']:7.1f} s  "
              f"peak RSS {r['peak_rss_kib'] / 1024:7.1f} MiB  output {size:,.0f} MiB", flush=True)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
