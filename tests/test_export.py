"""Exports: every table read back and compared with the database, Data Package validity,
filtered subsets, --no-text and the missing-pyarrow message."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import frictionless
import pytest
from click.testing import CliRunner

import tracker
from tests.support.digestdb import build_sample
from tracker.cli import main
from tracker.errors import QueryError, UsageError
from tracker.export import PARQUET_HINT, export_dataset, table_specs
from tracker.search import SearchFilters

TABLES = ["feeds", "articles", "article_copies", "companies", "allegations",
          "allegation_parties", "figures", "responses", "mentions", "incidents",
          "incident_articles"]


@pytest.fixture
def sample(db_path):
    d = build_sample(db_path, incidents=True)
    yield d
    d.close()


def _typed(value, ftype: str):
    """A cell as the database would give it after JSON decoding, for comparison."""
    if value in (None, ""):
        return None
    if ftype == "integer":
        return int(value)
    if ftype == "number":
        return float(value)
    if ftype == "boolean":
        return value in (True, 1, "true")
    if ftype == "array":
        return json.loads(value) if isinstance(value, str) else list(value)
    if ftype == "datetime" and not isinstance(value, str):
        return value.isoformat()
    return value


def read_back(out: Path) -> tuple[dict, dict[str, list[dict]]]:
    """The descriptor and every resource's rows, read with a plain reader for its format."""
    package = json.loads((out / "datapackage.json").read_text())
    tables = {}
    for res in package["resources"]:
        path = out / res["path"]
        if res["format"] == "csv":
            with path.open(newline="", encoding="utf-8") as fh:
                raw = list(csv.DictReader(fh))
        elif res["format"] == "jsonl":
            raw = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        else:
            import pyarrow.parquet as pq
            raw = pq.read_table(path).to_pylist()
        types = {f["name"]: f["type"] for f in res["schema"]["fields"]}
        for row in raw:
            assert set(row) == set(types), res["name"]
        tables[res["name"]] = [{k: _typed(v, types[k]) for k, v in row.items()} for row in raw]
    return package, tables


def db_rows(db, table: str, names: list[str], types: dict, where: str = "") -> list[dict]:
    pk = ", ".join(f'"{c}"' for c in table_specs()[table]["primaryKey"])
    cols = ", ".join(f'"{c}"' for c in names)
    cur = db.execute(f"SELECT {cols} FROM {table} {where} ORDER BY {pk}")
    return [{n: _typed(v, types[n]) for n, v in zip(names, r, strict=True)} for r in cur]


def assert_keys_resolve(package: dict, tables: dict[str, list[dict]]) -> None:
    for res in package["resources"]:
        schema = res["schema"]
        rows = tables[res["name"]]
        keys = [tuple(r[k] for k in schema["primaryKey"]) for r in rows]
        assert len(keys) == len(set(keys)), f"duplicate primary key in {res['name']}"
        for fk in schema.get("foreignKeys", []):
            target = fk["reference"]["resource"] or res["name"]
            wanted = {tuple(r[k] for k in fk["reference"]["fields"]) for r in tables[target]}
            for r in rows:
                value = tuple(r[k] for k in fk["fields"])
                if None not in value:
                    assert value in wanted, f"{res['name']}.{fk['fields']} = {value} dangles"


def validate_inline(package: dict, tables: dict[str, list[dict]]) -> frictionless.Report:
    """Validate rows read from any format against the descriptor (types, keys, foreign keys)."""
    resources = []
    for res in package["resources"]:
        names = [f["name"] for f in res["schema"]["fields"]]
        data = [names] + [[row[n] for n in names] for row in tables[res["name"]]]
        resources.append(frictionless.Resource(name=res["name"], data=data,
                                                schema=frictionless.Schema.from_descriptor(
                                                    res["schema"])))
    return frictionless.Package(resources=resources).validate()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_round_trip_matches_database(sample, tmp_path, fmt):
    result = export_dataset(sample.db, tmp_path / fmt, fmt=fmt, chunk_rows=3)
    package, tables = read_back(tmp_path / fmt)
    assert [r["name"] for r in package["resources"]] == TABLES
    for res in package["resources"]:
        types = {f["name"]: f["type"] for f in res["schema"]["fields"]}
        expected = db_rows(sample.db, res["name"], list(types), types)
        assert tables[res["name"]] == expected, res["name"]
        assert result.counts[res["name"]] == len(expected) > 0
    assert_keys_resolve(package, tables)
    # Joins across files give the database's answer: who accused Alibaba, from which URLs.
    companies = {c["id"]: c["name"] for c in tables["companies"]}
    articles = {a["id"]: a["url"] for a in tables["articles"]}
    joined = sorted(
        (companies[al["accuser_id"]], articles[al["article_id"]])
        for al in tables["allegations"] for p in tables["allegation_parties"]
        if p["allegation_id"] == al["id"] and p["role"] == "accused"
        and companies[p["company_id"]] == "Alibaba")
    assert joined == sorted(sample.db.execute(
        "SELECT ac.name, a.url FROM allegations al JOIN companies ac ON ac.id = al.accuser_id "
        "JOIN articles a ON a.id = al.article_id JOIN allegation_parties p ON p.allegation_id = "
        "al.id AND p.role = 'accused' JOIN companies c ON c.id = p.company_id "
        "WHERE c.name = 'Alibaba'").fetchall())
    report = validate_inline(package, tables)
    assert report.valid, report.flatten(["resource_name", "type", "note"])


def test_csv_datapackage_validates_with_frictionless(sample, tmp_path):
    export_dataset(sample.db, tmp_path, fmt="csv")
    report = frictionless.validate(tmp_path / "datapackage.json")
    assert report.valid, report.flatten(["resource_name", "type", "note"])
    package = json.loads((tmp_path / "datapackage.json").read_text())
    for res in package["resources"]:
        assert res["schema"]["primaryKey"] and res["description"]
        assert all(f["type"] and f["description"] for f in res["schema"]["fields"])
    fks = {(r["name"], fk["fields"][0]): fk["reference"]["resource"]
           for r in package["resources"] for fk in r["schema"].get("foreignKeys", [])}
    assert fks[("allegations", "article_id")] == "articles"
    assert fks[("allegation_parties", "company_id")] == "companies"


def test_readme_names_versions_time_and_filters(sample, tmp_path):
    filters = SearchFilters(types=("model_distillation",), since="2025-03-02")
    result = export_dataset(sample.db, tmp_path, fmt="jsonl", filters=filters)
    readme = (tmp_path / "README.md").read_text()
    assert f"Tracker version: {tracker.__version__}" in readme
    assert "Extractor version: test-extractor-1" in readme
    assert f"Exported: {result.exported}" in readme
    assert "since: 2025-03-02; types: model_distillation" in readme
    assert result.counts["articles"] == 3  # 1 March and other types left out


def test_filtered_subset_keeps_only_its_rows_and_every_key_resolves(sample, tmp_path):
    result = export_dataset(sample.db, tmp_path, fmt="jsonl",
                            filters=SearchFilters(company="instagram"))
    package, tables = read_back(tmp_path)
    assert [a["title"] for a in tables["articles"]] == ["Instagram accused over scraping"]
    article_ids = {a["id"] for a in tables["articles"]}
    for table in ("allegations", "figures", "responses", "mentions"):
        assert {r["article_id"] for r in tables[table]} <= article_ids
    # Meta comes along as Instagram's parent so companies.parent_id resolves.
    assert sorted(c["name"] for c in tables["companies"]) == ["Clearview", "Instagram", "Meta"]
    assert [f["name"] for f in tables["feeds"]] == ["Privacy news"]
    assert_keys_resolve(package, tables)
    assert result.counts == {t: len(tables[t]) for t in TABLES}
    report = validate_inline(package, tables)
    assert report.valid, report.flatten(["resource_name", "type", "note"])
    with pytest.raises(QueryError, match="no company or alias named 'Nobody'"):
        export_dataset(sample.db, tmp_path / "x", filters=SearchFilters(company="Nobody"))


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_no_text_leaves_article_bodies_out(sample, tmp_path, fmt):
    out = tmp_path / "out"
    export_dataset(sample.db, out, fmt=fmt, text=False)
    package, tables = read_back(out)
    articles = next(r for r in package["resources"] if r["name"] == "articles")
    assert "text" not in [f["name"] for f in articles["schema"]["fields"]]
    assert all("text" not in a for a in tables["articles"])
    secret = "runs to 222 pages"  # only in an article body, never in evidence
    assert sample.db.execute("SELECT COUNT(*) FROM articles WHERE text LIKE ?",
                             [f"%{secret}%"]).fetchone()[0] == 1
    for path in out.iterdir():
        assert secret.encode() not in path.read_bytes(), path.name
    assert "left out (--no-text)" in (out / "README.md").read_text()


def test_missing_pyarrow_names_the_extra(sample, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(UsageError) as err:
        export_dataset(sample.db, tmp_path / "pq", fmt="parquet")
    assert "pip install 'allegation-tracker[parquet]'" in str(err.value)
    assert not (tmp_path / "pq").exists()
    res = CliRunner().invoke(main, ["export", "--db", str(sample.path), "--format", "parquet",
                                    "--out", str(tmp_path / "pq")])
    assert res.exit_code == 2 and PARQUET_HINT in res.output


def test_cli_export_with_filters(sample, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["export", "--db", str(sample.path), "--out", str(out),
                                    "--type", "privacy_violation", "--no-text"])
    assert res.exit_code == 0, res.output
    assert "1  articles.csv" in res.output
    _, tables = read_back(out)
    assert [a["title"] for a in tables["articles"]] == ["Meta fined EUR 1.2bn"]
    (tmp_path / "file").write_text("x")
    res = CliRunner().invoke(main, ["export", "--db", str(sample.path), "--out",
                                    str(tmp_path / "file")])
    assert res.exit_code == 2


def test_incidents_copies_and_date_flags_export_and_join(sample, tmp_path):
    from tracker import incidents

    db = sample.db
    # Fold the Instagram incident into Meta's, as `tracker incidents merge` would: the
    # merged incident stays in the export with merged_into set.
    first, second = (db.execute("SELECT id FROM articles WHERE title = ?", [t]).fetchone()[0]
                     for t in ("Meta fined EUR 1.2bn", "Instagram accused over scraping"))
    keep, other = incidents.incident_of(db, first), incidents.incident_of(db, second)
    assert keep != other
    incidents.merge_incidents(db, keep, other)
    export_dataset(db, tmp_path, fmt="jsonl")
    package, tables = read_back(tmp_path)
    assert_keys_resolve(package, tables)
    report = validate_inline(package, tables)
    assert report.valid, report.flatten(["resource_name", "type", "note"])
    by_id = {a["id"]: a for a in tables["articles"]}
    (copy,) = tables["article_copies"]
    assert by_id[copy["article_id"]]["title"] == "Widget Corp patent spat | Aggregator"
    assert by_id[copy["copy_of"]]["title"] == "Widget Corp patent spat"
    # Incident membership joins back to titles; the copy sits in its original's incident.
    member = {r["article_id"]: r["incident_id"] for r in tables["incident_articles"]}
    assert member[copy["article_id"]] == member[copy["copy_of"]]
    patent = next(i for i in tables["incidents"] if i["id"] == member[copy["copy_of"]])
    assert patent["source_count"] == 1 and patent["article_count"] == 2
    merged = [i for i in tables["incidents"] if i["merged_into"] is not None]
    assert [(i["id"], i["merged_into"]) for i in merged] == [(other, keep)]
    assert member[first] == member[second] == keep
    # Date columns: where the date came from and what was wrong, as lists.
    assert all(isinstance(a["date_flags"], list) for a in tables["articles"])
    assert {a["date_source"] for a in tables["articles"]} <= {"stored", "feed", "none", None}
    fields = {f["name"]: f for r in package["resources"] if r["name"] == "articles"
              for f in r["schema"]["fields"]}
    assert fields["date_flags"]["type"] == "array" and "rejected" in fields["date_flags"][
        "description"]


def test_subset_by_incident_keeps_copy_links_only_inside(sample, tmp_path):
    from tracker import incidents

    db = sample.db
    original = db.execute("SELECT id FROM articles WHERE title = 'Widget Corp patent spat'"
                          ).fetchone()[0]
    inc = incidents.incident_of(db, original)
    export_dataset(db, tmp_path / "inc", fmt="csv", filters=SearchFilters(incident=inc))
    package, tables = read_back(tmp_path / "inc")
    assert sorted(a["title"] for a in tables["articles"]) == [
        "Widget Corp patent spat", "Widget Corp patent spat | Aggregator"]
    assert [i["id"] for i in tables["incidents"]] == [inc]
    assert len(tables["article_copies"]) == 1
    assert_keys_resolve(package, tables)
    report = frictionless.validate(tmp_path / "inc" / "datapackage.json")
    assert report.valid, report.flatten(["resource_name", "type", "note"])
    # Only the copy selected: its link to an original outside the subset is left out.
    export_dataset(db, tmp_path / "copy", fmt="csv",
                   filters=SearchFilters(source="aggregator.example"))
    package, tables = read_back(tmp_path / "copy")
    assert len(tables["articles"]) == 1 and tables["article_copies"] == []
    assert_keys_resolve(package, tables)
    readme = (tmp_path / "inc" / "README.md").read_text()
    assert f"incident: {inc}" in readme and "incidents.source_count" in readme
