"""Search benchmark (not a test): typical analyst queries against a bare FTS5 MATCH, at 100k and 1M.

Builds a synthetic database with the real schema (tracker.store migrations)
using bulk inserts, then times `tracker.search.search` (facets included) next
to a bare `SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY
rank LIMIT 20` for the same text, interleaved in the same run. Prints p50/p95
per query kind and the ratios the targets are about (p95 within 2x bare FTS5;
100k -> 1M growth within 3x), in wall time and in the thread's CPU time (the
steadier figure on a shared machine), with each kind's median match count and
median result count (search's total: the articles it ranks and counts in the facets).

Three groups of queries. The typical ones are the issue's own: free text (a
word, a phrase, an OR, a prefix) + a company + a date range, facets included;
the targets are about them. A company has about as many articles at every size;
the text's match list grows with the corpus. FTS5 skips through it to the company's
articles (their ids are terms of the index, store migration 10), but bm25 still
counts each phrase's documents, a walk of its whole list.
The broad one (text + type + dates, no company) matches a fixed share of the
corpus, so its result set, and even the bare MATCH, grows about tenfold from 100k
to 1M. The constant-match ones look for rare case references that match as
many articles at any size. Search runs on the connection the tool itself opens
(read-only, memory-mapped), not one tuned for the benchmark.

    .venv/bin/python benchmarks/search_bench.py                 # 100k and 1M
    .venv/bin/python benchmarks/search_bench.py --sizes 100000  # 100k only
    .venv/bin/python benchmarks/search_bench.py --keep benchmarks/out/search  # reuse built DBs
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, machine  # noqa: E402

from tracker.search import SearchFilters, search  # noqa: E402
from tracker.store import company_keys, fold_name, open_db  # noqa: E402

TYPES = ["model_distillation", "ip_theft", "copyright_infringement", "patent_infringement",
         "data_breach", "privacy_violation", "unauthorized_access", "antitrust", "fraud",
         "consumer_protection", "export_control", "labor"]
STATUSES = ["alleged", "investigating", "charged", "fined", "settled", "dismissed"]
# Topic words give the text realistic, uneven term frequencies.
TOPICS = {
    "data_breach": "data breach hackers stolen records exposed security attackers customers",
    "model_distillation": "model distillation outputs accounts training chatbot frontier lab",
    "privacy_violation": "privacy regulator fine personal data consent users tracking",
    "antitrust": "antitrust competition market dominance regulators merger probe",
    "copyright_infringement": "copyright lawsuit authors works training licence publishers",
    "fraud": "fraud investors misleading revenue accounting shareholders",
}
SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "pi", "nex", "ta", "ro", "zu",
             "an", "bel", "cor", "di", "fo", "gra", "hin"]


# Build version: kept databases (--keep) from an older generator are rebuilt.
GENERATOR = 3
RARE_CODES = 500
RARE_PER_CODE = 6


def rare_code(i: int) -> str:
    return f"ref{i:03d}x"


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build(path: Path, n: int, seed: int = 7) -> dict:
    """Write a synthetic database of `n` articles; returns facts the queries need."""
    rng = random.Random(seed)
    t0 = time.monotonic()
    db = open_db(path)
    conn = db.conn
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    # FTS is rebuilt once at the end instead; the store's own trigger is put back after.
    trigger = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                           "AND name = 'articles_ai'").fetchone()[0]
    conn.execute("DROP TRIGGER articles_ai")
    vocab = _vocabulary(rng)
    weights = [1 / (i + 1) for i in range(len(vocab))]  # Zipf-like
    cum = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    # More articles, more distinct companies: ~1 company per 400 articles.
    n_companies = max(200, n // 400)
    companies = [f"{rng.choice(SYLLABLES).title()}{rng.choice(SYLLABLES)} Corp {i}"
                 for i in range(n_companies)]
    sources = [f"Source {i}" for i in range(200)]
    now = "2026-01-01T00:00:00+00:00"
    with conn:
        conn.executemany("INSERT INTO feeds (id, url, name, tags, added) VALUES (?,?,?,?,?)",
                         [(i + 1, f"https://feeds.example.com/{i}.xml", f"Feed {i}",
                           json.dumps(["news", f"tag{i % 5}"]), now) for i in range(50)])
        conn.executemany(
            "INSERT INTO companies (id, name, kind, parent_id, first_seen) VALUES (?,?,?,?,?)",
            [(i + 1, name, "company",
              (rng.randrange(n_companies // 10) + 1) if i >= n_companies // 10
              and rng.random() < 0.1 else None, now)
             for i, name in enumerate(companies)])
        conn.executemany("INSERT INTO company_aliases (key, alias, company_id) VALUES (?,?,?)",
                         [(fold_name(name), name, i + 1) for i, name in enumerate(companies)])
    topic_names = list(TOPICS)
    batch = 20_000
    alleg_id = 0
    for start in range(0, n, batch):
        arts, acs, als, ats, aps, figs, afs = [], [], [], [], [], [], []
        for aid in range(start + 1, min(n, start + batch) + 1):
            words = rng.choices(vocab, cum_weights=cum, k=rng.randint(40, 90))
            topic = rng.choice(topic_names) if rng.random() < 0.35 else None
            comp = rng.sample(range(1, n_companies + 1), rng.randint(1, 3))
            if topic:
                tw = TOPICS[topic].split()
                for _ in range(rng.randint(2, 6)):
                    words.insert(rng.randrange(len(words)), rng.choice(tw))
            for c in comp:
                words.insert(rng.randrange(len(words)), companies[c - 1].split()[0])
            # Rare case references: each one in about RARE_PER_CODE articles at any size,
            # so queries for them match as many articles at 100k as at 1M.
            if rng.random() < RARE_CODES * RARE_PER_CODE / n:
                words.insert(rng.randrange(len(words)), rare_code(rng.randrange(RARE_CODES)))
            text = " ".join(words)
            title = " ".join(words[:8]).capitalize()
            day = rng.randrange(11 * 365)
            published = f"{2015 + day // 365}-{1 + (day % 365) // 31 % 12:02d}-{1 + day % 28:02d}"
            feed = rng.randrange(50) + 1
            arts.append((aid, f"https://news.example.com/{aid}", f"https://news.example.com/{aid}",
                         title, rng.choice(sources), published, now, "en", text, str(aid), feed,
                         "page", company_keys(comp)))
            afs.append((aid, feed, now))
            for c in comp:
                acs.append((aid, c, 1))
            if topic or rng.random() < 0.05:
                alleg_id += 1
                t = topic or rng.choice(TYPES)
                accuser = rng.randrange(n_companies) + 1
                als.append((alleg_id, aid, accuser, json.dumps([t]), t, rng.choice(STATUSES),
                            "evidence sentence", now))
                ats.append((alleg_id, t))
                aps.append((alleg_id, accuser, "accuser"))
                aps.append((alleg_id, comp[0], "accused"))
                if rng.random() < 0.4:
                    unit = rng.choice(["accounts", "users", "records", "EUR", "USD"])
                    figs.append((aid, alleg_id, float(10 ** rng.uniform(3, 9)), unit,
                                 int(unit.isupper()), "figure"))
        with conn:
            conn.executemany(
                "INSERT INTO articles (id, url, canonical_url, title, source, published, fetched, "
                "language, text, content_hash, feed_id, method, company_keys) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                arts)
            conn.executemany("INSERT INTO article_feeds (article_id, feed_id, first_seen) "
                             "VALUES (?,?,?)", afs)
            conn.executemany("INSERT INTO article_companies VALUES (?,?,?)", acs)
            conn.executemany(
                "INSERT INTO allegations (id, article_id, accuser_id, types, type, status, "
                "evidence, created) VALUES (?,?,?,?,?,?,?,?)", als)
            conn.executemany("INSERT INTO allegation_types VALUES (?,?)", ats)
            conn.executemany("INSERT INTO allegation_parties VALUES (?,?,?)", aps)
            conn.executemany("INSERT INTO figures (article_id, allegation_id, value, unit, "
                             "is_money, text) VALUES (?,?,?,?,?,?)", figs)
        print(f"  {min(n, start + batch):>9,} articles  {time.monotonic() - t0:6.1f} s",
              file=sys.stderr, end="\r")
    print(file=sys.stderr)
    with conn:
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
        conn.execute(trigger)
    conn.execute("ANALYZE")
    conn.close()
    return {"n": n, "companies": n_companies, "seconds": round(time.monotonic() - t0, 1)}


TYPICAL = ("text+company+dates", "phrase+company+dates", "OR+company+dates",
           "prefix+company+subsid+dates")
BROAD = ("text+type+dates",)
CONSTANT = ("rare", "rare OR rare+dates", "rare+type")
GROUPS = {"typical": TYPICAL, "broad": BROAD, "constant": CONSTANT}


def group_of(kind: str) -> str:
    return next(name for name, kinds in GROUPS.items() if kind in kinds)


def queries(rng: random.Random, n_companies: int) -> list[tuple[str, SearchFilters]]:
    """Analyst questions; companies, dates and codes drawn at random each time.

    The typical kinds are text + company + date range; the broad kind matches
    a fixed share of the corpus (so a bare MATCH grows with it); the constant
    kinds look for rare case references, whose match count is the same at every size.
    """
    def company() -> str:
        return f"{rng.randrange(n_companies) + 1}"

    def span() -> tuple[str, str]:
        year = rng.randint(2015, 2023)
        return str(year), str(year + rng.randint(1, 2))

    def code() -> str:
        return rare_code(rng.randrange(RARE_CODES))

    out = []
    since, until = span()
    out.append(("text+company+dates", SearchFilters(query="breach", company=company(),
                                                     since=since, until=until)))
    since, until = span()
    out.append(("phrase+company+dates", SearchFilters(query='"model distillation"',
                                                       company=company(), since=since)))
    since, until = span()
    out.append(("OR+company+dates", SearchFilters(query="privacy OR consent", company=company(),
                                                   since=since, until=until)))
    since, until = span()
    out.append(("prefix+company+subsid+dates", SearchFilters(
        query="hack* OR attackers", company=company(), include_subsidiaries=True, since=since)))
    since, until = span()
    out.append(("text+type+dates", SearchFilters(query="privacy OR consent",
                                                  types=("privacy_violation",),
                                                  since=since, until=until)))
    out.append(("rare", SearchFilters(query=code())))
    since, until = span()
    out.append(("rare OR rare+dates", SearchFilters(query=f"{code()} OR {code()}", since=since,
                                                    until=until)))
    out.append(("rare+type", SearchFilters(query=code(), types=(rng.choice(TYPES),))))
    return out


def _company_name(db, cid: str) -> str:
    return db.execute("SELECT name FROM companies WHERE id = ?", [int(cid)]).fetchone()[0]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def measure(path: Path, n_companies: int, rounds: int, seed: int = 11) -> dict:
    """p50/p95 (ms) of search() and of the bare MATCH per query kind and per group.

    Wall time is what the targets are about; the thread's CPU time is kept too,
    because on a shared machine it is far less disturbed by other processes.
    """
    rng = random.Random(seed)
    db = open_db(path, readonly=True)
    samples: dict[str, dict[str, list[float]]] = {}
    matches: dict[str, list[int]] = {}
    results: dict[str, list[int]] = {}  # search()'s total: what the facets count
    # Warm the page cache once so both sides run against the same warm database.
    for _, f in queries(rng, n_companies):
        search(db, SearchFilters(query=f.query))
    bare_sql = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT 20"
    for _ in range(rounds):
        for kind, f in queries(rng, n_companies):
            f = SearchFilters(**{**f.__dict__, "company": _company_name(db, f.company)
                                 if f.company else None})
            matches.setdefault(kind, []).append(db.execute(
                "SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH ?",
                [f.query]).fetchone()[0])
            got = {}
            # Alternate which side runs first, so neither always gets the warmer cache.
            order = ("bare", "search") if rng.random() < 0.5 else ("search", "bare")
            for side in order:
                w, c = time.perf_counter(), time.thread_time()
                if side == "bare":
                    db.execute(bare_sql, [f.query]).fetchall()
                else:
                    total = search(db, f, limit=20, facets=True).total
                got[side] = (time.perf_counter() - w, time.thread_time() - c)
            results.setdefault(kind, []).append(total)
            for group in (kind, group_of(kind)):
                bucket = samples.setdefault(group, {})
                for side, (wall, cpu) in got.items():
                    bucket.setdefault(side, []).append(wall)
                    bucket.setdefault(side + "_cpu", []).append(cpu)
    db.conn.close()
    out = {}
    for group, bucket in samples.items():
        out[group] = {"p50": _pct(bucket["search"], 50), "p95": _pct(bucket["search"], 95),
                      "bare_p50": _pct(bucket["bare"], 50), "bare_p95": _pct(bucket["bare"], 95),
                      "cpu_p95": _pct(bucket["search_cpu"], 95),
                      "bare_cpu_p95": _pct(bucket["bare_cpu"], 95)}
        if group in matches:
            out[group]["matches"] = sorted(matches[group])[len(matches[group]) // 2]
            out[group]["results"] = sorted(results[group])[len(results[group]) // 2]
    return out


def _x(a: float, b: float) -> float:
    return a / b if b else float("inf")


def report(n: int, rounds: int, res: dict) -> None:
    print(f"\n{n:,} articles ({rounds} rounds; ms; matches = median FTS5 match count, "
          "results = median search total, the articles ranked and counted in the facets)")
    print(f"  {'query':24} {'matches':>8} {'results':>7} {'p50':>7} {'p95':>7} {'bare p50':>8} "
          f"{'bare p95':>8} {'p95 x':>6} {'cpu p95 x':>9}")
    for kind in (*TYPICAL, "typical", *BROAD, "broad", *CONSTANT, "constant"):
        if kind not in res:
            continue
        r = res[kind]
        label = {"typical": "ALL typical", "broad": "ALL broad",
                 "constant": "ALL constant-match"}.get(kind, kind)
        matches = f"{r['matches']:,}" if "matches" in r else ""
        found = f"{r['results']:,}" if "results" in r else ""
        print(f"  {label:24} {matches:>8} {found:>7} {r['p50']:7.2f} {r['p95']:7.2f} "
              f"{r['bare_p50']:8.2f} {r['bare_p95']:8.2f} {_x(r['p95'], r['bare_p95']):6.2f} "
              f"{_x(r['cpu_p95'], r['bare_cpu_p95']):9.2f}")


def _migrate(path: Path) -> None:
    """Bring a kept database to the current schema (measure() opens it read-only)."""
    db = open_db(path)
    db.execute("PRAGMA journal_mode=DELETE")
    db.conn.close()


def db_path(workdir: Path, n: int) -> Path:
    return workdir / f"bench-{n}-g{GENERATOR}.db"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated article counts (default 100000,1000000)")
    parser.add_argument("--rounds", type=int, default=40, help="query rounds per size")
    parser.add_argument("--keep", metavar="DIR", help="build databases here and reuse them")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="search-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    built = {}
    for n in sizes:
        path = db_path(workdir, n)
        n_companies = max(200, n // 400)
        if not path.exists():
            print(f"building {n:,} articles into {path}", file=sys.stderr)
            info = build(path, n)
            built[n] = info["seconds"]
            print(f"  built in {info['seconds']} s", file=sys.stderr)
        else:
            _migrate(path)
        results[n] = measure(path, n_companies, args.rounds)
        report(n, args.rounds, results[n])
    ratios: dict[str, float] = {}
    targets: dict[str, str] = {}
    for n in sizes:
        label = f"{n // 1000}k" if n % 1_000_000 else f"{n // 1_000_000}M"
        for group in GROUPS:
            r = results[n][group]
            ratios[f"{group} p95 / bare p95 @{label}"] = round(_x(r["p95"], r["bare_p95"]), 3)
            ratios[f"{group} cpu p95 / bare @{label}"] = round(
                _x(r["cpu_p95"], r["bare_cpu_p95"]), 3)
        targets[f"typical p95 / bare p95 @{label}"] = "<= 2"
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        print(f"\ngrowth {lo:,} -> {hi:,} (p95): search / bare FTS5; median results")
        for kind in (*TYPICAL, "typical", *BROAD, "broad", *CONSTANT, "constant"):
            small, big = results[lo][kind], results[hi][kind]
            found = (f"   results x{_x(big['results'], small['results']):5.2f}"
                     if "results" in small else "")
            print(f"  {kind:24} x{_x(big['p95'], small['p95']):5.2f} / "
                  f"x{_x(big['bare_p95'], small['bare_p95']):5.2f}{found}")
        for group in GROUPS:
            small, big = results[lo][group], results[hi][group]
            ratios[f"{group} growth search p95"] = round(_x(big["p95"], small["p95"]), 3)
            ratios[f"{group} growth bare p95"] = round(_x(big["bare_p95"], small["bare_p95"]), 3)
        targets["typical growth search p95"] = "<= 3"
    emit({"benchmark": "search_bench", "ratios": ratios, "targets": targets,
          "machine": machine(), "rounds": args.rounds, "build_seconds": built,
          "results": {str(n): {k: {m: round(v, 3) for m, v in r.items()} for k, r in res.items()}
                      for n, res in results.items()}})
    if not args.keep:
        for p in workdir.glob("bench-*"):
            p.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
