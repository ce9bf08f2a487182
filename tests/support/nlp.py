"""Shared helpers for the NLP tests: one Analyzer per test session (the model loads once)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def shared_analyzer():
    from tracker.nlp import Analyzer

    return Analyzer()


def company_names(analysis) -> set[str]:
    return {e.name for e in analysis.entities if e.kind == "company"}


def kinds(analysis) -> dict[str, str]:
    return {e.name: e.kind for e in analysis.entities}


def pairs_of(analysis) -> set[tuple[str | None, str]]:
    """(accuser, accused) pairs of an analysis."""
    return {(al.accuser, x) for al in analysis.allegations for x in al.accused}
