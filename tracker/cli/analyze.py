"""Commands for the extractor on its own: `analyze` (batch JSONL in, predictions out) and `eval`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import click

from tracker.cli import main
from tracker.cli.common import echo_json, handle_errors
from tracker.errors import UsageError
from tracker.jsonl import iter_jsonl
from tracker.pipeline import analyze_texts
from tracker.records import ExtractedArticle, Settings


def read_articles(path: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """Input records for `analyze`: JSON objects with `text` or `html`."""
    for n, rec, error in iter_jsonl(path):
        if rec is not None and not (rec.get("text") or rec.get("html")):
            yield n, None, f"line {n}: record has neither `text` nor `html`"
        else:
            yield n, rec, error


def to_article(rec: dict) -> ExtractedArticle:
    """An input record as an article: html goes through body extraction first."""
    if rec.get("html"):
        from tracker.extract import extract_article

        art = extract_article(rec["html"], rec.get("url") or "")
        if rec.get("title") or rec.get("published"):
            from dataclasses import replace

            art = replace(art, title=rec.get("title") or art.title,
                          published=rec.get("published") or art.published)
        return art
    return ExtractedArticle(url=rec.get("url") or "", text=rec["text"], title=rec.get("title"),
                            published=rec.get("published"), method="import_text")


def analyze_records(records: list[dict], *, nlp: bool = True, gazetteer=(), taxonomy=(),
                    workers: int = 1) -> Iterator[dict]:
    """Prediction records (SCHEMA.md) plus title, text and published, one per input record."""
    articles = [to_article(r) for r in records]
    if not nlp:
        for rec, art in zip(records, articles, strict=True):
            yield {"id": rec.get("id"), "title": art.title, "text": art.text,
                   "published": art.published, "url": art.url or None}
        return
    settings = Settings(gazetteer=tuple(gazetteer), taxonomy=tuple(taxonomy))
    analyses = analyze_texts([(a.text, a.title) for a in articles], settings, workers=workers)
    for rec, art, analysis in zip(records, articles, analyses, strict=True):
        if isinstance(analysis, Exception):
            # Keep the record (with its id) so a scorer sees it, and say what failed.
            out = {"id": rec.get("id"), "companies": [], "allegations": [], "figures": [],
                   "responses": [], "error": f"analysis failed: {analysis!r}"}
            click.echo(f"warning: record {rec.get('id')!r}: analysis failed: {analysis}", err=True)
        else:
            out = analysis.to_prediction(rec.get("id"))
        out.update({"title": art.title, "text": art.text, "published": art.published,
                    "url": art.url or None})
        yield out


@main.command("analyze")
@click.argument("input_path", metavar="INPUT.jsonl")
@click.option("-o", "--output", default="-", metavar="OUTPUT.jsonl",
              help="Where to write predictions ('-' for stdout, the default).")
@click.option("--no-nlp", is_flag=True, help="Only extract body and metadata.")
@click.option("--gazetteer", multiple=True, type=click.Path(exists=True),
              help="Extra gazetteer file (YAML, repeatable).")
@click.option("-w", "--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes for the NLP step.")
@handle_errors
def analyze_cmd(input_path, output, no_nlp, gazetteer, workers):
    """Run the extractor over a JSONL file of articles ('-' for stdin).

    Input records have `id` and either `text` (optional `title`, `url`,
    `published`) or `html` (optional `url`). Output records follow the
    prediction format of the eval SCHEMA.md, plus `title`, `text`, `published`.
    Bad records are reported on stderr and skipped.

    \b
    Example:
      tracker analyze articles.jsonl -o predictions.jsonl
    """
    good, bad = [], 0
    for _n, rec, error in read_articles(input_path):
        if error:
            bad += 1
            click.echo(f"skipped {error}", err=True)
        else:
            good.append(rec)
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for pred in analyze_records(good, nlp=not no_nlp, gazetteer=gazetteer, workers=workers):
            out.write(json.dumps(pred, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if bad and not good:
        raise UsageError(f"{input_path}: no usable records ({bad} skipped)")


@main.command("eval")
@click.argument("gold_path", metavar="GOLD.jsonl", type=click.Path(exists=True))
@click.option("--pred", "pred_path", type=click.Path(exists=True),
              help="Score this prediction file instead of running the extractor.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--gazetteer", multiple=True, type=click.Path(exists=True),
              help="Extra gazetteer file (YAML, repeatable).")
@handle_errors
def eval_cmd(gold_path, pred_path, as_json, gazetteer):
    """Score the extractor on a labelled gold file (the eval SCHEMA.md format).

    Prints the same metrics as the shared score.py: company_f1, accused_f1,
    pair_f1, type_acc, status_acc, figure_f1, response_acc, negative_precision.

    \b
    Example:
      tracker eval my-labelled-articles.jsonl
    """
    from tracker.evaluate import evaluate, read_jsonl

    gold = read_jsonl(gold_path)
    if pred_path:
        preds = read_jsonl(pred_path)
    else:
        preds = list(analyze_records(gold, gazetteer=gazetteer))
    metrics = evaluate(gold, preds)
    if as_json:
        echo_json(metrics)
        return
    for key, value in metrics.items():
        click.echo(f"{key:20} {value:.3f}" if isinstance(value, float) else f"{key:20} {value}")

