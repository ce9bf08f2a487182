"""Databases at an older schema version, holding articles the current store wrote.

Migration tests need old databases with real content. The current `save_article`
writes columns an old schema lacks, so the articles are stored in a current database
first and then copied, column by column, into one built from the first `version`
migrations (its own triggers index and file them as that version's store did).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tracker import store


def old_schema(path: str | Path, version: int) -> sqlite3.Connection:
    """A new database at schema `version` (migrations 1..version applied)."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                 "name TEXT NOT NULL, applied TEXT NOT NULL)")
    for number, name, script in store.MIGRATIONS[:version]:
        conn.executescript(script)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 'x')", [number, name])
    conn.commit()
    return conn


def copy_into_old(source: str | Path, path: str | Path, version: int) -> None:
    """Copy every row of the current database `source` into a new one at `version`."""
    conn = old_schema(path, version)
    conn.execute("ATTACH DATABASE ? AS src", [str(source)])
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND sql NOT LIKE "
        "'CREATE VIRTUAL%' AND name NOT LIKE 'articles_fts%' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'schema_migrations'")]
    with conn:
        for table in tables:
            old = [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})")]
            new = {r[1] for r in conn.execute(f"PRAGMA src.table_info({table})")}
            cols = ", ".join(f'"{c}"' for c in old if c in new)
            conn.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM src.{table}")
    conn.execute("DETACH DATABASE src")
    conn.close()
