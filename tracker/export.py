"""Export stage: write the database (or a filtered subset) as a dataset researchers' tools read.

`export_dataset` writes one file per table (CSV, JSON Lines or Parquet) with the
database ids, so files join on them, plus a Frictionless Data Package
descriptor (`datapackage.json`) and a short `README.md`. The tables, their
fields, types, descriptions and keys come from `tracker/data/datapackage_fields.yaml`.

Rows are streamed: each table is read through a cursor in chunks and written as
it is read (Parquet in one row group per chunk), so memory stays flat however
large the database is.

Filters are search's `SearchFilters` (company incl. aliases, allegation type,
publication date range, source, feed tag, incident...) and select articles. Every row derived from
a selected article comes with it (its allegations, parties, figures, responses, mentions,
incident membership and the incident itself, copy links whose both ends are selected),
and so do the companies and feeds those rows refer to, so every foreign key in
the subset resolves.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

import sqlite_utils
import yaml

import tracker
from tracker.errors import QueryError, StorageError, UsageError
from tracker.search import SearchFilters, filter_clause, find_company
from tracker.store import now_iso

FORMATS = ("csv", "jsonl", "parquet")
PARQUET_HINT = (
    "Parquet export needs pyarrow: pip install 'allegation-tracker[parquet]' "
    "(or use --format csv or --format jsonl)"
)
_MEDIATYPES = {"csv": "text/csv", "jsonl": "application/jsonl",
               "parquet": "application/vnd.apache.parquet"}


def describe_filters(filters: SearchFilters) -> list[str]:
    """One human-readable line per filter in use, for the dataset README and descriptor."""
    lines = []
    for name, value in sorted(asdict(filters).items()):
        if name == "include_subsidiaries" or value in (None, "", (), [], False):
            continue
        if name == "figures":
            value = [f"{f['unit']} {f['op']} {f['value']:g}" for f in value]
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        if name == "company" and filters.include_subsidiaries:
            value += " (and subsidiaries)"
        lines.append(f"{name}: {value}")
    return lines


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    format: str
    exported: str  # ISO time of the export
    counts: dict[str, int]  # table -> rows written
    files: tuple[str, ...]  # file names inside out_dir, data files first
    filters: SearchFilters
    text: bool  # article bodies included
    extractor_versions: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        return d


@cache
def table_specs() -> dict[str, dict]:
    """The tables of an export with their fields, types, descriptions and keys (from YAML)."""
    text = resources.files("tracker").joinpath("data/datapackage_fields.yaml").read_text("utf-8")
    return yaml.safe_load(text)


# --- selecting rows ------------------------------------------------------------------------


def check_filters(db: sqlite_utils.Database, filters: SearchFilters) -> None:
    """Refuse names that match nothing, so a typo is not taken for an empty subset."""
    for role in ("company", "accuser", "accused"):
        name = getattr(filters, role)
        if name and find_company(db, name) is None:
            raise QueryError(f"no company or alias named {name!r} in the database; check the "
                             "spelling (`tracker search` lists the companies it knows)")


def _prepare_subset(db: sqlite_utils.Database, filters: SearchFilters) -> dict[str, str]:
    """Fill temp tables with the selected ids; returns each table's WHERE clause."""
    if filters.is_empty():
        return {}
    check_filters(db, filters)
    where, params = filter_clause(filters)
    conn = db.conn
    for name in ("x_articles", "x_companies", "x_feeds"):
        conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
        conn.execute(f"CREATE TEMP TABLE {name} (id INTEGER PRIMARY KEY)")
    conn.execute(f"INSERT INTO temp.x_articles SELECT a.id FROM articles a WHERE {where}", params)
    in_articles = "article_id IN (SELECT id FROM temp.x_articles)"
    conn.execute(f"""
        INSERT OR IGNORE INTO temp.x_companies
        SELECT company_id FROM mentions WHERE {in_articles}
        UNION SELECT company_id FROM article_companies WHERE {in_articles}
        UNION SELECT accuser_id FROM allegations WHERE {in_articles} AND accuser_id IS NOT NULL
        UNION SELECT company_id FROM responses WHERE {in_articles} AND company_id IS NOT NULL
        UNION SELECT p.company_id FROM allegation_parties p JOIN allegations al
              ON al.id = p.allegation_id WHERE al.{in_articles}""")
    # Parents too, so companies.parent_id always resolves inside the export.
    while conn.execute(
            "INSERT OR IGNORE INTO temp.x_companies SELECT c.parent_id FROM companies c "
            "WHERE c.id IN (SELECT id FROM temp.x_companies) AND c.parent_id IS NOT NULL "
            "AND c.parent_id NOT IN (SELECT id FROM temp.x_companies)").rowcount > 0:
        pass
    conn.execute("INSERT OR IGNORE INTO temp.x_feeds SELECT feed_id FROM articles "
                 "WHERE id IN (SELECT id FROM temp.x_articles) AND feed_id IS NOT NULL")
    return {
        "feeds": "id IN (SELECT id FROM temp.x_feeds)",
        "articles": "id IN (SELECT id FROM temp.x_articles)",
        "companies": "id IN (SELECT id FROM temp.x_companies)",
        "allegations": in_articles,
        "allegation_parties": "allegation_id IN (SELECT id FROM allegations WHERE "
                              f"{in_articles})",
        "figures": in_articles,
        "responses": in_articles,
        "mentions": in_articles,
        # Both ends of a copy link must be in the subset for the foreign keys to resolve.
        "article_copies": f"{in_articles} AND copy_of IN (SELECT id FROM temp.x_articles)",
        # Merging moves every article to the survivor, so selected incidents are never
        # merged ones and merged_into stays empty (it resolves trivially).
        "incidents": f"id IN (SELECT incident_id FROM incident_articles WHERE {in_articles})",
        "incident_articles": in_articles,
    }


def _columns(table: str, text: bool) -> list[tuple[str, dict]]:
    fields = table_specs()[table]["fields"]
    return [(name, spec) for name, spec in fields.items()
            if text or not (table == "articles" and name == "text")]


def _stream(db: sqlite_utils.Database, table: str, columns: list[str], where: str | None,
            chunk_rows: int) -> Iterator[list[tuple]]:
    spec = table_specs()[table]
    order = ", ".join(f'"{c}"' for c in spec["primaryKey"])
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {cols} FROM {table}"
    if where:
        sql += f" WHERE {where}"
    cur = db.conn.execute(sql + f" ORDER BY {order}")
    while True:
        chunk = cur.fetchmany(chunk_rows)
        if not chunk:
            return
        yield chunk


# --- writers -----------------------------------------------------------------------------


def _csv_value(value, ftype: str):
    if value is None:
        return ""
    if ftype == "boolean":
        return "true" if value else "false"
    return value  # arrays are stored as JSON text already, which Table Schema expects


def _json_value(value, ftype: str):
    if value is None:
        return None
    if ftype == "array":
        return json.loads(value) if isinstance(value, str) else value
    if ftype == "boolean":
        return bool(value)
    return value


def _write_csv(path: Path, names: list[str], types: list[str], chunks) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for chunk in chunks:
            writer.writerows([_csv_value(v, t) for v, t in zip(row, types, strict=True)]
                             for row in chunk)
            count += len(chunk)
    return count


def _write_jsonl(path: Path, names: list[str], types: list[str], chunks) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for chunk in chunks:
            fh.writelines(
                json.dumps({n: _json_value(v, t) for n, v, t in zip(names, row, types,
                                                                      strict=True)},
                           ensure_ascii=False) + "\n"
                for row in chunk)
            count += len(chunk)
    return count


def _import_pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(PARQUET_HINT) from None
    return pyarrow, pyarrow.parquet


def _arrow_type(pa, ftype: str):
    return {"integer": pa.int64(), "number": pa.float64(), "string": pa.string(),
            "boolean": pa.bool_(), "array": pa.list_(pa.string()),
            "datetime": pa.timestamp("s", tz="UTC")}[ftype]


def _arrow_value(value, ftype: str):
    if value is None:
        return None
    if ftype == "datetime":
        return datetime.fromisoformat(value)
    return _json_value(value, ftype)


def _write_parquet(path: Path, names: list[str], types: list[str], chunks) -> int:
    pa, pq = _import_pyarrow()
    schema = pa.schema([pa.field(n, _arrow_type(pa, t)) for n, t in zip(names, types,
                                                                         strict=True)])
    count = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for chunk in chunks:
            arrays = [pa.array([_arrow_value(row[i], t) for row in chunk],
                               type=schema.field(i).type) for i, t in enumerate(types)]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            count += len(chunk)
    return count


_WRITERS = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}


# --- descriptor and README -----------------------------------------------------------------


def datapackage(fmt: str, text: bool, exported: str, filters: SearchFilters,
                extractor_versions: tuple[str, ...], counts: dict[str, int]) -> dict:
    """The Frictionless Data Package descriptor of an export."""
    res = []
    for table, spec in table_specs().items():
        schema: dict = {
            "fields": [{"name": name, "type": f["type"], "description": f["description"]}
                       for name, f in _columns(table, text)],
            "primaryKey": list(spec["primaryKey"]),
        }
        if spec.get("foreignKeys"):
            schema["foreignKeys"] = [
                {"fields": list(fk["fields"]),
                 "reference": {"resource": fk["reference"]["resource"],
                               "fields": list(fk["reference"]["fields"])}}
                for fk in spec["foreignKeys"]]
        resource = {"name": table, "path": f"{table}.{fmt}", "profile": "tabular-data-resource",
                    "format": fmt, "mediatype": _MEDIATYPES[fmt],
                    "description": spec["description"], "schema": schema}
        if fmt != "parquet":
            resource["encoding"] = "utf-8"
        if fmt == "csv":
            resource["dialect"] = {"delimiter": ",", "header": True}
        res.append(resource)
    return {
        "name": "allegation-tracker-export",
        "title": "Allegation tracker dataset",
        "description": "Allegations against companies found in industry news, with the "
                       "articles, organisations, figures and responses they come from.",
        "created": exported,
        "version": tracker.__version__,
        "tracker_version": tracker.__version__,
        "extractor_versions": list(extractor_versions),
        "filters": describe_filters(filters),
        "article_text": text,
        "row_counts": counts,
        "resources": res,
    }


def _readme(result: ExportResult) -> str:
    filters = describe_filters(result.filters) or ["none (the whole database)"]
    lines = [
        "# Allegation tracker dataset",
        "",
        "Allegations against companies found in industry news: who accused whom of what, "
        "with which figures, how far it went and how the company answered.",
        "",
        f"- Tracker version: {tracker.__version__}",
        f"- Extractor version: {', '.join(result.extractor_versions) or 'unknown'}",
        f"- Exported: {result.exported}",
        f"- Format: {result.format}",
        f"- Article text: {'included' if result.text else 'left out (--no-text)'}",
        "- Filters: " + "; ".join(filters),
        "",
        "## Files",
        "",
        "| file | rows | contents |",
        "|---|---|---|",
    ]
    for table, spec in table_specs().items():
        lines.append(f"| {table}.{result.format} | {result.counts[table]} | "
                     f"{spec['description']} |")
    lines += [
        "",
        "Ids are the tracker's database ids and join across files: `article_id` refers to "
        "`articles.id`, `company_id` and `accuser_id` to `companies.id`, `allegation_id` to "
        "`allegations.id`, `feed_id` to `feeds.id`, `incident_id` to `incidents.id`, "
        "`article_copies.copy_of` to the earliest version in `articles.id`. Count independent "
        "sources with `incidents.source_count` (copies are not independent); an incident with "
        "`merged_into` set has been folded into that one. `datapackage.json` describes every field "
        "(type and meaning) and every primary and foreign key (Frictionless Data Package); "
        "`frictionless validate datapackage.json` checks the files against it.",
        "",
        "Character offsets (`start`, `end`) point into the article title, a blank line, then "
        "the text. Times are UTC.",
        "",
        "Article text belongs to its publishers; share an export made with `--no-text` "
        "where copyright matters.",
        "",
    ]
    return "\n".join(lines)


# --- the export ----------------------------------------------------------------------------


def export_dataset(db: sqlite_utils.Database, out_dir: str | Path, *, fmt: str = "csv",
                   filters: SearchFilters | None = None, text: bool = True,
                   chunk_rows: int = 2000) -> ExportResult:
    """Write every table (or the filtered subset) into out_dir; returns what was written."""
    filters = filters or SearchFilters()
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        _import_pyarrow()  # fail before writing anything
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create export folder {out}: {exc}") from exc
    exported = now_iso()
    where = _prepare_subset(db, filters)
    counts: dict[str, int] = {}
    files = []
    for table in table_specs():
        cols = _columns(table, text)
        names = [n for n, _ in cols]
        types = [s["type"] for _, s in cols]
        final = out / f"{table}.{fmt}"
        tmp = out / f".{table}.{fmt}.part"
        try:
            counts[table] = _WRITERS[fmt](
                tmp, names, types, _stream(db, table, names, where.get(table), chunk_rows))
            os.replace(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot write {final}: {exc}") from exc
        files.append(final.name)
    versions_sql = "SELECT DISTINCT extractor_version FROM articles WHERE extractor_version " \
                   "IS NOT NULL"
    if where:
        versions_sql += f" AND {where['articles']}"
    versions = tuple(sorted(r[0] for r in db.conn.execute(versions_sql)))
    result = ExportResult(out, fmt, exported, counts, tuple(files) + ("datapackage.json",
                          "README.md"), filters, text, versions)
    descriptor = datapackage(fmt, text, exported, filters, versions, counts)
    (out / "datapackage.json").write_text(json.dumps(descriptor, indent=2, ensure_ascii=False)
                                          + "\n", encoding="utf-8")
    (out / "README.md").write_text(_readme(result), encoding="utf-8")
    return result
