"""Reading JSON Lines input tolerantly: each line is a record or an error that names it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

from tracker.errors import UsageError


def iter_jsonl(path: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """Yield (line number, record, error) for each non-blank line; '-' reads stdin.

    A bad line becomes an error string instead of stopping the read, so callers
    can report it and go on with the rest.
    """
    try:
        fh = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, None, f"line {n}: not JSON ({exc.msg} at column {exc.colno})"
                continue
            if isinstance(rec, dict):
                yield n, rec, None
            else:
                yield n, None, f"line {n}: expected a JSON object"
    finally:
        if fh is not sys.stdin:
            fh.close()
