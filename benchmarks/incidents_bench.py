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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-demo", action="store_true", help="skip the demo pages (no model needed)")
    ap.add_argument(
        "--orders", type=int, default=3, help="arrival orders to try (first: file order)"
    )
    ap.add_argument("--json", action="store_true", help="print the full results as JSON")
    args = ap.parse_args()
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
