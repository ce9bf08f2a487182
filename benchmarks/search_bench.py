"""Search benchmark (not a test): typical analyst queries against a bare FTS5 MATCH, at 100k and 1M.

Builds a synthetic database with the real schema (tracker.store migrations)
using bulk inserts, then times `tracker.search.search` for typical queries
(text + company + date range, facets included) next to a bare
`SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT 20`
for the same text, interleaved in the same run. Prints p50/p95 per query kind
and the ratios the targets are about (p95 within 2x bare FTS5; 100k -> 1M
growth within 3x).

    .venv/bin/python benchmarks/search_bench.py                 # 100k and 1M
    .venv/bin/python benchmarks/search_bench.py --sizes 100000  # 100k only
    .venv/bin/python benchmarks/search_bench.py --keep /tmp/bench  # reuse built DBs
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

from tracker.search import SearchFilters, search  # noqa: E402
from tracker.store import fold_name, open_db  # noqa: E402

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
    conn.execute("DROP TRIGGER articles_ai")  # FTS is rebuilt once at the end instead
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
            text = " ".join(words)
            title = " ".join(words[:8]).capitalize()
            day = rng.randrange(11 * 365)
            published = f"{2015 + day // 365}-{1 + (day % 365) // 31 % 12:02d}-{1 + day % 28:02d}"
            feed = rng.randrange(50) + 1
            arts.append((aid, f"https://news.example.com/{aid}", f"https://news.example.com/{aid}",
                         title, rng.choice(sources), published, now, "en", text, str(aid), feed,
                         "page"))
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
                "language, text, content_hash, feed_id, method) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
        conn.execute(
            "CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN INSERT INTO "
            "articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END")
    conn.execute("ANALYZE")
    conn.close()
    return {"n": n, "companies": n_companies, "seconds": round(time.monotonic() - t0, 1)}


def queries(rng: random.Random, n_companies: int) -> list[tuple[str, SearchFilters]]:
    """Typical analyst questions; companies and dates drawn at random each time."""
    def company() -> str:
        return f"{rng.randrange(n_companies) + 1}"

    def span() -> tuple[str, str]:
        year = rng.randint(2015, 2023)
        return str(year), str(year + rng.randint(1, 2))

    out = []
    for _ in range(1):
        since, until = span()
        out.append(("text+company+dates", SearchFilters(query="breach", company=company(),
                                                         since=since, until=until)))
        since, until = span()
        out.append(("phrase+company+dates", SearchFilters(query='"model distillation"',
                                                           company=company(), since=since)))
        since, until = span()
        out.append(("text+type+dates", SearchFilters(query="privacy OR consent",
                                                      types=("privacy_violation",),
                                                      since=since, until=until)))
        out.append(("prefix+company+subsid", SearchFilters(query="hack* OR attackers",
                                                            company=company(),
                                                            include_subsidiaries=True)))
    return out


def _company_name(db, cid: str) -> str:
    return db.execute("SELECT name FROM companies WHERE id = ?", [int(cid)]).fetchone()[0]


def measure(path: Path, n_companies: int, rounds: int, seed: int = 11) -> dict:
    rng = random.Random(seed)
    db = open_db(path, readonly=True)
    db.execute("PRAGMA cache_size=-400000")
    times: dict[str, list[float]] = {}
    bare: dict[str, list[float]] = {}
    # Warm the page cache once so both sides run against the same warm database.
    for _, f in queries(rng, n_companies):
        search(db, SearchFilters(query=f.query))
    for _ in range(rounds):
        for kind, f in queries(rng, n_companies):
            f = SearchFilters(**{**f.__dict__, "company": _company_name(db, f.company)
                                 if f.company else None})
            t = time.perf_counter()
            db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
                       "ORDER BY rank LIMIT 20", [f.query]).fetchall()
            bare.setdefault(kind, []).append(time.perf_counter() - t)
            t = time.perf_counter()
            search(db, f, limit=20, facets=True)
            times.setdefault(kind, []).append(time.perf_counter() - t)
    db.conn.close()

    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000

    out = {}
    for kind in times:
        out[kind] = {"p50": pct(times[kind], 50), "p95": pct(times[kind], 95),
                     "bare_p50": pct(bare[kind], 50), "bare_p95": pct(bare[kind], 95)}
    all_t = [x for v in times.values() for x in v]
    all_b = [x for v in bare.values() for x in v]
    out["ALL"] = {"p50": pct(all_t, 50), "p95": pct(all_t, 95), "bare_p50": pct(all_b, 50),
                  "bare_p95": pct(all_b, 95)}
    return out


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
    for n in sizes:
        path = workdir / f"bench-{n}.db"
        n_companies = max(200, n // 400)
        if not path.exists():
            print(f"building {n:,} articles into {path}", file=sys.stderr)
            info = build(path, n)
            print(f"  built in {info['seconds']} s", file=sys.stderr)
        results[n] = measure(path, n_companies, args.rounds)
        print(f"\n{n:,} articles ({args.rounds} rounds; ms)")
        print(f"  {'query':24} {'p50':>8} {'p95':>8} {'bare p50':>9} {'bare p95':>9} {'p95 x':>6}")
        for kind, r in results[n].items():
            ratio = r["p95"] / r["bare_p95"] if r["bare_p95"] else float("inf")
            print(f"  {kind:24} {r['p50']:8.2f} {r['p95']:8.2f} {r['bare_p50']:9.2f} "
                  f"{r['bare_p95']:9.2f} {ratio:6.2f}")
    if len(sizes) >= 2:
        small, big = results[sizes[0]]["ALL"], results[sizes[-1]]["ALL"]
        print(f"\ngrowth {sizes[0]:,} -> {sizes[-1]:,}: search p95 x{big['p95'] / small['p95']:.2f}"
              f", bare FTS5 p95 x{big['bare_p95'] / small['bare_p95']:.2f}")
    if not args.keep:
        for p in workdir.glob("bench-*"):
            p.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
