"""Benchmark of tracker.incidents: copy detection and incident grouping against labelled groups.

Two labelled sets:
  - tests/data/incident_groups.jsonl: hand-written articles with hand-made analyses
    (no model needed; measures the grouping rules themselves);
  - tracker/demo/pages + gold.jsonl + groups.jsonl: the demo pages, extracted and
    analysed by the real NLP step (needs the spaCy model; skip with --no-demo).

Each set is stored article by article (store.save_article, then the hook
incidents.on_article_stored), in the file's order and in shuffled orders, and
scored pairwise: copy detection precision/recall over pairs of articles in the
same copy cluster; incident grouping precision/recall/F1 over pairs of articles
in the same incident. Run: .venv/bin/python benchmarks/incidents_bench.py
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker import incidents, store  # noqa: E402
from tracker.records import (  # noqa: E402
    Allegation,
    Analysis,
    Entity,
    ExtractedArticle,
    Figure,
    Mention,
    Response,
)

LABELLED = ROOT / "tests" / "data" / "incident_groups.jsonl"
DEMO = ROOT / "tracker" / "demo"


def analysis_from_record(rec: dict) -> Analysis:
    """A hand-made Analysis from a labelled record (no model)."""
    text = f"{rec.get('title') or ''}\n\n{rec['text']}"
    entities: dict[str, Entity] = {}

    def entity(name: str, kind: str = "company") -> None:
        if name and name not in entities:
            at = text.find(name)
            mentions = (Mention(name, at, at + len(name), name),) if at >= 0 else ()
            entities[name] = Entity(name=name, kind=kind, mentions=mentions)

    for name in rec.get("companies", ()):
        entity(name)
    allegations = []
    for a in rec.get("allegations", ()):
        if a.get("accuser"):
            entity(a["accuser"], a.get("accuser_kind", "company"))
        for name in a["accused"]:
            entity(name)
        allegations.append(
            Allegation(
                accuser=a.get("accuser"),
                accused=tuple(a["accused"]),
                types=tuple(a["types"]),
                status=a.get("status", "alleged"),
                evidence=a.get("evidence", ""),
                start=0,
                end=0,
            )
        )
    # A figure is [value, unit] (tied to the first allegation, when there is one) or
    # [value, unit, index]: the allegation it belongs to, null for none (another case).
    figures = tuple(
        Figure(
            value=float(f[0]),
            unit=f[1],
            qualifier=None,
            text=f"{f[0]} {f[1]}",
            start=i,
            end=i,
            allegation=f[2] if len(f) > 2 else (0 if allegations else None),
        )
        for i, f in enumerate(rec.get("figures", ()))
    )
    responses = tuple(
        Response(company=c, response=r, evidence="", start=0, end=0)
        for c, r in rec.get("responses", ())
    )
    return Analysis(
        text=text,
        entities=tuple(entities.values()),
        allegations=tuple(allegations),
        figures=figures,
        responses=responses,
        extractor_version="bench",
    )


def load_labelled(path: Path = LABELLED) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out.append(
                {
                    "id": rec["id"],
                    "copy_of": rec.get("copy_of"),
                    "incident": rec.get("incident"),
                    "article": ExtractedArticle(
                        url=rec["url"],
                        text=rec["text"],
                        title=rec.get("title"),
                        site_name=rec.get("source"),
                        published=rec.get("published"),
                        date_candidates=(("json-ld:datePublished", rec["published"]),)
                        if rec.get("published")
                        else (),
                    ),
                    "analysis": analysis_from_record(rec),
                }
            )
    return out


def load_demo() -> list[dict]:
    from tracker.extract import extract_article
    from tracker.nlp import Analyzer

    analyzer = Analyzer()
    groups = {
        json.loads(line)["id"]: json.loads(line)
        for line in (DEMO / "groups.jsonl").read_text().splitlines()
        if line.strip()
    }
    out = []
    for line in (DEMO / "gold.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        gold = json.loads(line)
        page = DEMO / "pages" / gold["url"].rsplit("/", 1)[1]
        article = extract_article(page.read_bytes(), gold["url"])
        g = groups.get(gold["id"], {})
        out.append(
            {
                "id": gold["id"],
                "copy_of": g.get("copy_of"),
                "incident": g.get("incident"),
                "article": article,
                "analysis": analyzer.analyze(article.text, title=article.title),
            }
        )
    return out


def run(items: list[dict], db_path: str) -> dict[str, int]:
    """Store items in order, calling the hook after each; map label id -> article id."""
    db = store.open_db(db_path)
    ids = {}
    for it in items:
        stored = store.save_article(
            db, it["article"], it["analysis"], canonical_url=it["article"].url
        )
        incidents.on_article_stored(db, stored.id)
        ids[it["id"]] = stored.id
    db.conn.close()
    return ids


def _pairs(groups: dict[str, str | None]) -> set[frozenset]:
    by: dict[str, list[str]] = {}
    for item, g in groups.items():
        if g is not None:
            by.setdefault(g, []).append(item)
    return {frozenset(p) for members in by.values() for p in combinations(sorted(members), 2)}


def _prf(pred: set, gold: set) -> dict:
    tp = len(pred & gold)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(gold) if gold else 1.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "pairs_predicted": len(pred),
        "pairs_gold": len(gold),
    }


def gold_copy_root(items: list[dict]) -> dict[str, str]:
    parent = {it["id"]: it["copy_of"] for it in items}
    out = {}
    for item in parent:
        cur, seen = item, set()
        while parent.get(cur) and cur not in seen:
            seen.add(cur)
            cur = parent[cur]
        out[item] = cur
    return out


def score(items: list[dict], db_path: str) -> dict:
    ids = run(items, db_path)
    db = store.open_db(db_path)
    # Labels stored as one article (same URL or content hash) share its root: a copy pair.
    pred_copy = {label: incidents.copy_root(db, aid) for label, aid in ids.items()}
    pred_inc = {label: incidents.incident_of(db, aid) for label, aid in ids.items()}
    db.conn.close()
    groots = gold_copy_root(items)
    return {
        "copies": _prf(_pairs(pred_copy), _pairs(groots)),
        "incidents": _prf(
            _pairs({k: v for k, v in pred_inc.items()}),
            _pairs({it["id"]: it["incident"] for it in items}),
        ),
    }


def evaluate(items: list[dict], orders: int = 3, seed: int = 7) -> dict:
    """Scores for the file order and `orders - 1` shuffled arrival orders, and their minimum."""
    rng = random.Random(seed)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(orders):
            order = list(items)
            if n:
                rng.shuffle(order)
            runs.append(score(order, f"{tmp}/bench{n}.db"))
    worst = {
        kind: {m: min(r[kind][m] for r in runs) for m in ("precision", "recall", "f1")}
        for kind in ("copies", "incidents")
    }
    return {"articles": len(items), "runs": runs, "worst": worst}


# --- scale: per-article cost as incidents grow ----------------------------------------------

_SYLL = "ka lo mi ru ze ta vo ni pe su da ri mo ke lu fa go hi ja be".split()


def _word(rng: random.Random, n: int = 3) -> str:
    return "".join(rng.choice(_SYLL) for _ in range(n))


def synthetic_stream(n: int = 2000, big: int = 4, big_share: float = 0.6, seed: int = 11):
    """A stream of `n` generated articles: `big` incidents that grow to hundreds of articles
    (`big_share` of the stream, with occasional reprints), the rest small one-off incidents."""
    rng = random.Random(seed)
    vocab = [_word(rng) for _ in range(3000)]

    def body() -> str:
        return "\n".join(" ".join(rng.choice(vocab) for _ in range(14)) for _ in range(9))

    start = date(2026, 1, 5)
    items: list[dict] = []
    texts: dict[int, list[str]] = {}
    for i in range(n):
        day = (start + timedelta(days=i * 150 // n)).isoformat()
        if rng.random() < big_share:
            k = rng.randrange(big)
            accused, accuser = f"Bigco{k} Systems", f"Watchdog{k} Authority"
            types = [["privacy", "data_breach"][k % 2]]
            figures = [[1_000_000 * (k + 1), "records"], [rng.randrange(1000, 10**6), "users"]]
            if texts.get(k) and rng.random() < 0.1:
                text = rng.choice(texts[k]) + "\n" + body()[:200]
            else:
                text = body()
                texts.setdefault(k, []).append(text)
            companies = [accused, f"Vendor{rng.randrange(40)} Labs"]
        else:
            accused, accuser = f"Small{i} {_word(rng)}", f"Critic{i}"
            types = [rng.choice(["fraud", "antitrust", "labor"])]
            figures = [[rng.randrange(1000, 10**7), "dollars"]]
            text = body()
            companies = [accused]
        items.append(
            {
                "id": f"s{i}",
                "url": f"https://scale.example/{i}",
                "title": f"{accuser} accuses {accused} of {types[0]}",
                "source": f"Source{rng.randrange(30)}",
                "published": day,
                "text": text,
                "companies": companies,
                "allegations": [
                    {
                        "accuser": accuser,
                        "accuser_kind": "regulator" if accuser.startswith("Watch") else "company",
                        "accused": [accused],
                        "types": types,
                        "status": rng.choice(["alleged", "investigating", "fined"]),
                    }
                ],
                "figures": figures,
            }
        )
    return items


def scale(n: int, db_path: str) -> dict:
    """Time `on_article_stored` per article over a synthetic stream of `n` articles."""
    recs = synthetic_stream(n)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("\n".join(json.dumps(r) for r in recs))
    items = load_labelled(Path(fh.name))
    Path(fh.name).unlink()
    db = store.open_db(db_path)
    times = []
    for it in items:
        stored = store.save_article(
            db, it["article"], it["analysis"], canonical_url=it["article"].url
        )
        t = time.perf_counter()
        incidents.on_article_stored(db, stored.id)
        times.append(time.perf_counter() - t)
    sizes = [
        r[0]
        for r in db.execute(
            "SELECT article_count FROM incidents WHERE merged_into IS NULL "
            "ORDER BY article_count DESC LIMIT 5"
        )
    ]
    db.conn.close()
    k = max(1, n // 10)
    return {
        "articles": n,
        "first_ms": round(1000 * sum(times[:k]) / k, 2),
        "last_ms": round(1000 * sum(times[-k:]) / k, 2),
        "total_s": round(sum(times), 2),
        "largest_incidents": sizes,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-demo", action="store_true", help="skip the demo pages (no model needed)")
    ap.add_argument(
        "--orders", type=int, default=3, help="arrival orders to try (first: file order)"
    )
    ap.add_argument("--json", action="store_true", help="print the full results as JSON")
    ap.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help="instead: time the hook per article over N generated articles (big incidents)",
    )
    args = ap.parse_args()
    if args.scale:
        with tempfile.TemporaryDirectory() as tmp:
            r = scale(args.scale, f"{tmp}/scale.db")
        print(
            f"scale: {r['articles']} articles; on_article_stored per article: first 10% "
            f"{r['first_ms']} ms, last 10% {r['last_ms']} ms; total {r['total_s']} s; "
            f"largest incidents {r['largest_incidents']}"
        )
        return 0
    results = {}
    t = time.perf_counter()
    results["labelled"] = evaluate(load_labelled(), args.orders)
    if not args.no_demo:
        results["demo"] = evaluate(load_demo(), args.orders)
    results["seconds"] = round(time.perf_counter() - t, 2)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for name in ("labelled", "demo"):
        if name not in results:
            continue
        r = results[name]
        print(f"{name}: {r['articles']} articles, {len(r['runs'])} arrival orders (worst shown)")
        for kind in ("copies", "incidents"):
            w = r["worst"][kind]
            first = r["runs"][0][kind]
            print(
                f"  {kind:<9} precision {w['precision']:.3f}  recall {w['recall']:.3f}  "
                f"F1 {w['f1']:.3f}  (gold pairs {first['pairs_gold']})"
            )
    print(f"time {results['seconds']} s; targets: copies P>=0.98 R>=0.95, incidents F1>=0.90")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
