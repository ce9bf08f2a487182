"""Countries for the search filters: the codes the gazetteer stores, the names people type."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tracker.errors import ConfigError, QueryError

COUNTRIES_FILE = Path(__file__).resolve().parent / "data" / "countries.yaml"
_CODE_RE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Countries:
    names: dict[str, str]  # folded name or code -> code
    members: dict[str, tuple[str, ...]]  # region code -> member codes
    # folded names of countries, their peoples and their cities as articles write them (no
    # bare codes but "U.S.", no regions) -> code: "a Chinese startup", "the London-based fintech"
    places: dict[str, str] = field(default_factory=dict)


def _fold(text: str) -> str:
    # "U.S." and "us", "People's Republic of China" and "people's republic of china"
    return " ".join(text.replace(".", "").split()).casefold()


@functools.lru_cache(maxsize=4)
def load_countries(path: Path = COUNTRIES_FILE) -> Countries:
    """The codes, names and regions of tracker/data/countries.yaml (read once)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping with `countries` and `regions`", path=str(path))
    names: dict[str, str] = {}
    members: dict[str, tuple[str, ...]] = {}
    places: dict[str, str] = {}

    def checked(code, forms, key: str) -> list[str]:
        """`forms` of one code, after checking both (the message names the entry)."""
        if not isinstance(code, str) or not _CODE_RE.match(code):
            raise ConfigError("a code must be two capital letters (quote NO: YAML reads it "
                              "as false)", path=str(path), key=f"{key}.{code}")
        if not isinstance(forms, list) or not all(isinstance(f, str) and f.strip()
                                                  for f in forms):
            raise ConfigError("needs a list of names", path=str(path), key=f"{key}.{code}")
        return forms

    for code, forms in (data.get("countries") or {}).items():
        for form in [code, *checked(code, forms, "countries")]:
            names.setdefault(_fold(form), code)
        for form in forms:
            places.setdefault(_fold(form), code)
    for code, spec in (data.get("regions") or {}).items():
        if not isinstance(spec, dict):
            raise ConfigError("a region needs `names` and `members`", path=str(path),
                              key=f"regions.{code}")
        for form in [code, *checked(code, spec.get("names") or [], "regions")]:
            names.setdefault(_fold(form), code)
        listed = spec.get("members") or []
        if not all(isinstance(m, str) and _CODE_RE.match(m) for m in listed):
            raise ConfigError("members must be two-letter codes", path=str(path),
                              key=f"regions.{code}.members")
        members[code] = tuple(listed)
    for code, cities in (data.get("cities") or {}).items():
        for city in checked(code, cities, "cities"):
            places.setdefault(_fold(city), code)
    return Countries(names=names, members=members, places=places)


def place_country(text: str) -> str | None:
    """The country code of a country, people or city as an article writes it ("Chinese",
    "U.S.", "South Korea", "London"); None for anything else, regions and bare codes
    included ("IT" in "IT firm" is no Italy)."""
    return load_countries().places.get(_fold(text))


def country_codes(values, *, name: str = "country") -> tuple[str, ...]:
    """The stored codes that `values` (codes or names, e.g. "CN", "Chinese", "EU") stand for.

    A region gives itself and its members. An unknown name raises QueryError
    saying what to type instead; an unknown two-letter code is taken as written.
    """
    countries = load_countries()
    out: list[str] = []
    for value in values:
        text = (value or "").strip()
        if not text:
            continue
        code = countries.names.get(_fold(text))
        if code is None and _CODE_RE.match(text.upper()) and len(text) == 2:
            code = text.upper()
        if code is None:
            raise QueryError(
                f"unknown {name} {text!r}: give a two-letter code (CN, US, GB, EU) or a "
                "name such as China, Chinese or European Union")
        out += [code, *countries.members.get(code, ())]
    return tuple(dict.fromkeys(out))
