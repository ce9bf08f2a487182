"""Evaluation of the NLP step: score predictions against a gold file in the SCHEMA.md format.

The metrics and their names match ../shared/eval/score.py, so `tracker eval GOLD.jsonl`
prints the same numbers the shared scorer does.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from tracker.errors import UsageError

LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "co",
        "corp",
        "corporation",
        "company",
        "group",
        "holdings",
        "holding",
        "llc",
        "plc",
        "ag",
        "sa",
        "gmbh",
        "nv",
        "bv",
        "se",
        "lp",
        "llp",
        "pte",
        "pty",
        "the",
    }
)
COUNT_UNITS = frozenset(
    {
        "accounts",
        "users",
        "customers",
        "people",
        "records",
        "employees",
        "exchanges",
        "queries",
        "requests",
        "prompts",
        "devices",
        "files",
        "documents",
        "emails",
        "messages",
        "chips",
        "books",
        "works",
        "patients",
        "subscribers",
        "transactions",
        "websites",
    }
)
METRIC_NAMES = (
    "company_precision",
    "company_recall",
    "company_f1",
    "accused_precision",
    "accused_recall",
    "accused_f1",
    "pair_precision",
    "pair_recall",
    "pair_f1",
    "figure_precision",
    "figure_recall",
    "figure_f1",
    "type_acc",
    "status_acc",
    "response_acc",
    "negative_precision",
    "articles",
    "missing_predictions",
)


def fold(name) -> str:
    """Fold a name for matching: case, accents, punctuation, possessive, legal suffixes and a
    leading 'the'."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", " and ")
    text = re.sub(r"'s\b", "", text)
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def _names(aliases) -> set[str]:
    if aliases is None:
        return set()
    if isinstance(aliases, str):
        aliases = [aliases]
    return {f for f in (fold(a) for a in aliases) if f}


def _unit(unit) -> str:
    if not unit:
        return ""
    unit = str(unit).strip()
    if re.fullmatch(r"[A-Z]{3}", unit):
        return unit
    low = unit.lower()
    for candidate in (low, low + "s", low[:-1] + "ies" if low.endswith("y") else None):
        if candidate in COUNT_UNITS:
            return candidate
    return low


def _scorable(unit: str) -> bool:
    return unit in COUNT_UNITS or bool(re.fullmatch(r"[A-Z]{3}", unit))


class _PRF:
    def __init__(self):
        self.tp = self.fp = self.fn = 0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn

    def values(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _article(gold: dict, pred: dict, t: dict) -> None:
    gold_companies = [_names(a) for a in gold.get("companies") or []]
    predicted = [
        c.get("name", "")
        for c in pred.get("companies") or []
        if (c.get("kind") or "company") == "company"
    ]
    folded = list(dict.fromkeys(f for f in (fold(n) for n in predicted) if f))
    used: set[int] = set()
    for g in gold_companies:
        hit = next((i for i, f in enumerate(folded) if i not in used and f in g), None)
        if hit is not None:
            used.add(hit)
    t["company"].add(len(used), len(folded) - len(used), len(gold_companies) - len(used))

    # parties: gold companies first, then every alias set the gold allegations name
    parties = list(gold_companies)

    def gold_party(aliases) -> int:
        names = _names(aliases)
        for i, known in enumerate(parties):
            if names & known:
                return i
        parties.append(names)
        return len(parties) - 1

    gold_pairs, gold_by_accused = set(), {}
    for a in gold.get("allegations") or []:
        accuser = gold_party(a["accuser"]) if a.get("accuser") else None
        for accused in a.get("accused") or []:
            j = gold_party(accused)
            gold_pairs.add((accuser, j))
            gold_by_accused.setdefault(j, []).append(a)

    def resolve(name):
        if not name:
            return None
        f = fold(name)
        return next((i for i, known in enumerate(parties) if f in known), "x:" + f)

    pred_pairs, pred_by_accused = set(), {}
    for a in pred.get("allegations") or []:
        accuser = resolve(a.get("accuser"))
        accused_list = a.get("accused") or []
        if isinstance(accused_list, str):
            accused_list = [accused_list]
        for accused in accused_list:
            j = resolve(accused)
            if j is None:
                continue
            pred_pairs.add((accuser, j))
            pred_by_accused.setdefault(j, []).append(a)

    ga, pa = set(gold_by_accused), set(pred_by_accused)
    t["accused"].add(len(ga & pa), len(pa - ga), len(ga - pa))
    t["pair"].add(
        len(gold_pairs & pred_pairs), len(pred_pairs - gold_pairs), len(gold_pairs - pred_pairs)
    )
    for j in ga & pa:
        g_types = {x for a in gold_by_accused[j] for x in a.get("types") or []}
        g_status = {a["status"] for a in gold_by_accused[j] if a.get("status")}
        p_types = {x for a in pred_by_accused[j] for x in a.get("types") or []}
        p_status = {a["status"] for a in pred_by_accused[j] if a.get("status")}
        t["type"].append(bool(g_types & p_types))
        t["status"].append(bool(g_status & p_status))

    gold_figs = [(float(f["value"]), _unit(f["unit"])) for f in gold.get("figures") or []]
    pred_figs = []
    for f in pred.get("figures") or []:
        unit = _unit(f.get("unit"))
        if _scorable(unit):
            try:
                pred_figs.append((float(f["value"]), unit))
            except (TypeError, ValueError, KeyError):
                continue
    used = set()
    for gv, gu in gold_figs:
        for i, (pv, pu) in enumerate(pred_figs):
            if i not in used and pu == gu and abs(pv - gv) <= 0.005 * max(abs(gv), 1.0):
                used.add(i)
                break
    matched = {pred_figs[i] for i in used}
    extra = sum(1 for i, f in enumerate(pred_figs) if i not in used and f not in matched)
    t["figure"].add(len(used), extra, len(gold_figs) - len(used))

    for r in gold.get("responses") or []:
        want = _names(r["company"])
        t["response"].append(
            any(
                fold(p.get("company")) in want and p.get("response") == r["response"]
                for p in pred.get("responses") or []
            )
        )
    if not gold.get("allegations"):
        t["negative"].append(not pred.get("allegations"))


def evaluate(gold_records: Iterable[dict], pred_records: Iterable[dict]) -> dict:
    """Score prediction records against gold records (matched by `id`): score.py's metrics."""
    preds = {p["id"]: p for p in pred_records}
    t = {
        "company": _PRF(),
        "accused": _PRF(),
        "pair": _PRF(),
        "figure": _PRF(),
        "type": [],
        "status": [],
        "response": [],
        "negative": [],
    }
    articles = missing = 0
    for g in gold_records:
        articles += 1
        p = preds.get(g.get("id"))
        if p is None:
            missing += 1
            p = {}
        _article(g, p, t)
    out: dict = {}
    for k in ("company", "accused", "pair", "figure"):
        p, r, f = t[k].values()
        out[f"{k}_precision"], out[f"{k}_recall"], out[f"{k}_f1"] = (
            round(p, 4),
            round(r, 4),
            round(f, 4),
        )
    for k, name in (
        ("type", "type_acc"),
        ("status", "status_acc"),
        ("response", "response_acc"),
        ("negative", "negative_precision"),
    ):
        xs = t[k]
        out[name] = round(sum(xs) / len(xs), 4) if xs else 1.0
    out["articles"], out["missing_predictions"] = articles, missing
    return out


def read_jsonl(path) -> list[dict]:
    """Read a JSONL file; a bad line raises UsageError naming the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(rec, dict) or "id" not in rec:
            raise UsageError(f"{path}:{n}: each line must be a JSON object with an `id`")
        records.append(rec)
    return records


def predict(gold_records: list[dict], analyzer, batch_size: int = 16) -> list[dict]:
    """Run the analyzer over gold articles (title + text) and return prediction records."""
    pairs = ((g.get("text") or "", g.get("title")) for g in gold_records)
    return [
        a.to_prediction(g["id"])
        for g, a in zip(gold_records, analyzer.analyze_many(pairs, batch_size), strict=True)
    ]


def evaluate_file(gold_path, analyzer=None, pred_path=None) -> dict:
    """Score a gold file: against `pred_path` when given, else against fresh analyzer output."""
    gold = read_jsonl(gold_path)
    if pred_path is not None:
        preds = read_jsonl(pred_path)
    else:
        if analyzer is None:
            from tracker.nlp import Analyzer

            analyzer = Analyzer()
        preds = predict(gold, analyzer)
    return evaluate(gold, preds)


def format_metrics(metrics: dict) -> str:
    """The metrics as score.py prints them: one `name value` line each."""
    return "\n".join(f"{k:22} {v}" for k, v in metrics.items())
