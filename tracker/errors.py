"""Exceptions the tracker raises on purpose, each with a message that says what to do.

    TrackerError                 base; the CLI prints "Error: <message>" and exits with .exit_code
    ├── ConfigError              bad feeds.yaml / settings (exit 2); names file, key and line
    ├── UsageError               bad command-line input or input file (exit 2)
    ├── ModelMissingError        no spaCy model installed (exit 2); names the install command
    ├── QueryError               malformed search query or filter (exit 2)
    ├── StorageError             the database cannot be opened, migrated or written (exit 1)
    ├── LockedError              another run or re-analysis holds the database (exit 3)
    └── FetchError               one URL could not be fetched; caught per feed/page, recorded
        └── BlockedError         refused on purpose: private address, robots.txt, size cap...
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base class: an error the tracker expected and can explain in one line."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(TrackerError):
    """feeds.yaml or a setting is wrong. The message names the file, key and line."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 key: str | None = None):
        where = ""
        if path:
            where = f"{path}"
            if line:
                where += f":{line}"
            where += ": "
        if key:
            where += f"{key}: "
        super().__init__(where + message)
        self.path, self.line, self.key = path, line, key


class UsageError(TrackerError):
    exit_code = 2


class ModelMissingError(TrackerError):
    exit_code = 2


class QueryError(TrackerError):
    exit_code = 2


class StorageError(TrackerError):
    exit_code = 1


class LockedError(TrackerError):
    exit_code = 3


class FetchError(TrackerError):
    """A single fetch failed. `reason` is a short machine-readable tag stored in the database."""

    def __init__(self, message: str, *, url: str | None = None, reason: str = "error",
                 status: int | None = None):
        super().__init__(message)
        self.url, self.reason, self.status = url, reason, status


class BlockedError(FetchError):
    """The tracker refused to fetch on purpose (private address, robots.txt, size cap, type)."""
