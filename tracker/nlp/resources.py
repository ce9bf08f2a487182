"""Data files of the NLP step: the gazetteer, the allegation taxonomy and the context rules."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tracker.errors import ConfigError
from tracker.records import COMPANY_KINDS

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GAZETTEER_DIR = DATA_DIR / "gazetteer"
TAXONOMY_FILE = DATA_DIR / "taxonomy.yaml"
RULES_FILE = DATA_DIR / "nlp_rules.yaml"
PLACES_FILE = DATA_DIR / "places.yaml"
PLACE_LABELS = ("GPE", "NORP")


@dataclass(frozen=True)
class GazetteerEntry:
    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    country: str | None = None
    case_sensitive: bool = False  # match only with this exact capitalisation
    weak_aliases: tuple[str, ...] = ()  # count only when a strong name also appears in the article


@dataclass
class Gazetteer:
    """Known organisations and products, keyed by canonical name."""

    entries: dict[str, GazetteerEntry] = field(default_factory=dict)

    def add(self, entry: GazetteerEntry) -> None:
        old = self.entries.get(entry.name)
        if old is not None:
            # A user file that repeats a name refines it: its kind/parent win, aliases merge.
            aliases = tuple(dict.fromkeys(old.aliases + entry.aliases))
            entry = GazetteerEntry(
                entry.name,
                entry.kind,
                aliases,
                entry.parent or old.parent,
                entry.country or old.country,
                entry.case_sensitive or old.case_sensitive,
                tuple(dict.fromkeys(old.weak_aliases + entry.weak_aliases)),
            )
        self.entries[entry.name] = entry

    def surface_forms(self) -> dict[str, str]:
        """Every name and (strong) alias -> canonical name (a name beats another entry's alias)."""
        forms: dict[str, str] = {}
        for entry in self.entries.values():
            for alias in entry.aliases:
                forms.setdefault(alias, entry.name)
        for entry in self.entries.values():
            forms[entry.name] = entry.name
        return forms

    def __len__(self) -> int:
        return len(self.entries)


def _read_structured(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from exc
    try:
        if path.suffix == ".jsonl":
            return {"entities": [json.loads(line) for line in text.splitlines() if line.strip()]}
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError(f"not valid YAML/JSON: {exc}", path=str(path)) from exc


def _gazetteer_files(extra_paths) -> list[Path]:
    files = sorted(GAZETTEER_DIR.glob("*.yaml")) if GAZETTEER_DIR.is_dir() else []
    for p in extra_paths or ():
        path = Path(p).expanduser()
        if path.is_dir():
            files.extend(
                sorted(
                    q for q in path.iterdir() if q.suffix in (".yaml", ".yml", ".json", ".jsonl")
                )
            )
        else:
            files.append(path)
    return files


def load_gazetteer(extra_paths=()) -> Gazetteer:
    """Load the shipped gazetteer (every tracker/data/gazetteer/*.yaml) plus the user's files.

    Each file is `{entities: [{name, kind, aliases, parent, country}, ...]}` (YAML, JSON,
    or JSONL with one entity a line). A bad entry raises ConfigError naming file and entry.
    """
    gaz = Gazetteer()
    for path in _gazetteer_files(extra_paths):
        data = _read_structured(path)
        items = data.get("entities") if isinstance(data, dict) else data
        if items is None:
            items = []
        if not isinstance(items, list):
            raise ConfigError("expected a mapping with an `entities:` list", path=str(path))
        for i, item in enumerate(items):
            where = f"entities[{i}]"
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("name"), str)
                or not item["name"].strip()
            ):
                raise ConfigError("each entity needs a `name` string", path=str(path), key=where)
            kind = item.get("kind") or "company"
            if kind not in COMPANY_KINDS:
                raise ConfigError(
                    f"unknown kind {kind!r}; use one of {', '.join(COMPANY_KINDS)}",
                    path=str(path),
                    key=where,
                )
            lists = {}
            for key in ("aliases", "weak_aliases"):
                values = item.get(key) or []
                if isinstance(values, str):
                    values = [values]
                if not isinstance(values, list) or not all(
                    isinstance(a, (str, int, float)) for a in values
                ):
                    raise ConfigError(
                        f"`{key}` must be a list of strings", path=str(path), key=where
                    )
                lists[key] = tuple(str(a).strip() for a in values if str(a).strip())
            gaz.add(
                GazetteerEntry(
                    name=str(item["name"]).strip(),
                    kind=kind,
                    aliases=lists["aliases"],
                    parent=(item.get("parent") or None),
                    country=(item.get("country") or None),
                    case_sensitive=bool(item.get("case_sensitive")),
                    weak_aliases=lists["weak_aliases"],
                )
            )
    return gaz


def cue_regex(cues) -> re.Pattern | None:
    """One case-insensitive regex for a list of cue phrases ("stem*" matches any ending)."""
    parts = []
    for cue in cues or ():
        cue = str(cue).strip().lower()
        if not cue:
            continue
        stem = cue.endswith("*")
        body = re.escape(cue.rstrip("*")).replace(r"\ ", r"\s+")
        parts.append(body + (r"[\w-]*" if stem else ""))
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w])", re.IGNORECASE)


@dataclass
class Taxonomy:
    types: dict[str, list[str]]
    statuses: dict[str, tuple[int, list[str]]]
    responses: dict[str, list[str]]
    attribution: list[str]
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.type_res = {t: cue_regex(c) for t, c in self.types.items()}
        # one pass over a sentence says whether any type's cue is there at all (most
        # sentences have none), before each type's own regex counts its cues
        self.any_type_re = cue_regex([c for cues in self.types.values() for c in cues or ()])
        self.status_res = {s: cue_regex(c) for s, (_, c) in self.statuses.items()}
        # the same for the stages past "alleged" (the default, never looked for)
        self.any_status_re = cue_regex(
            [c for s, (_, cues) in self.statuses.items() if s != "alleged" for c in cues or ()])
        self.status_rank = {s: r for s, (r, _) in self.statuses.items()}
        self.response_res = {r: cue_regex(c) for r, c in self.responses.items()}
        self.attribution_re = cue_regex(self.attribution)


def _merge_taxonomy(base: dict, extra: dict, path: Path) -> None:
    if not isinstance(extra, dict):
        raise ConfigError(
            "expected a mapping with `types:` (and optionally statuses/responses)", path=str(path)
        )
    for section in ("types", "statuses", "responses"):
        block = extra.get(section) or {}
        if not isinstance(block, dict):
            raise ConfigError(
                f"`{section}` must be a mapping of id -> {{cues: [...]}}", path=str(path)
            )
        for key, spec in block.items():
            if isinstance(spec, list):
                spec = {"cues": spec}
            if not isinstance(spec, dict) or not isinstance(spec.get("cues", []), list):
                raise ConfigError("needs a `cues:` list", path=str(path), key=f"{section}.{key}")
            target = base.setdefault(section, {}).setdefault(key, {"cues": []})
            target["cues"] = list(target.get("cues") or []) + [str(c) for c in spec.get("cues", [])]
            for k, v in spec.items():
                if k != "cues":
                    target[k] = v
    if extra.get("attribution"):
        base["attribution"] = list(base.get("attribution") or []) + list(extra["attribution"])


def load_taxonomy(extra_paths=()) -> Taxonomy:
    """Load tracker/data/taxonomy.yaml and merge the user's taxonomy files into it."""
    data = _read_structured(TAXONOMY_FILE)
    for p in extra_paths or ():
        path = Path(p).expanduser()
        _merge_taxonomy(data, _read_structured(path), path)
    statuses = {}
    for sid, spec in (data.get("statuses") or {}).items():
        statuses[sid] = (int(spec.get("rank", 0)), list(spec.get("cues") or []))
    return Taxonomy(
        types={t: list(s.get("cues") or []) for t, s in (data.get("types") or {}).items()},
        statuses=statuses,
        responses={r: list(s.get("cues") or []) for r, s in (data.get("responses") or {}).items()},
        attribution=list(data.get("attribution") or []),
        labels={t: s.get("label", t) for t, s in (data.get("types") or {}).items()},
    )


def load_rules() -> dict:
    """The context rules of tracker/data/nlp_rules.yaml."""
    return _read_structured(RULES_FILE)


@functools.lru_cache(maxsize=4)
def load_places(path: Path = PLACES_FILE) -> dict[str, list[str]]:
    """Names of places and peoples by NER label (GPE, NORP), from tracker/data/places.yaml
    (read once: the NER step and the company step both use them; do not mutate)."""
    data = _read_structured(path) or {}
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of GPE/NORP -> list of names", path=str(path))
    out: dict[str, list[str]] = {}
    for label, names in data.items():
        if label not in PLACE_LABELS:
            raise ConfigError(
                f"unknown label; use one of {', '.join(PLACE_LABELS)}",
                path=str(path),
                key=str(label),
            )
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise ConfigError("needs a list of names", path=str(path), key=str(label))
        out[label] = [n.strip() for n in names]
    return out
