"""Validate the shipped gazetteer data files: schema, kinds, aliases, parents and coverage.

These tests read the YAML directly with PyYAML so that a broken data file is caught here,
with the file and entity named, before any loader code sees it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from importlib import resources
from pathlib import Path

import pytest
import yaml

GAZETTEER_DIR = Path(str(resources.files("tracker") / "data" / "gazetteer"))
FILES = ("companies.yaml", "regulators.yaml", "products.yaml")

KINDS = {"company", "regulator", "court", "government", "university", "product", "person", "other"}
# Which kinds each shipped file may hold; a company in products.yaml is a filing mistake.
FILE_KINDS = {
    "companies.yaml": {"company"},
    "products.yaml": {"product"},
    "regulators.yaml": {"regulator", "court", "government", "university", "person", "other"},
}
KEYS = {"name", "kind", "aliases", "weak_aliases", "country", "sector", "parent", "case_sensitive"}
SECTORS = set(
    """ai tech software cloud semiconductors hardware internet social_media ecommerce retail
    telecom finance banking payments insurance crypto investment credit_reporting media
    entertainment games auto mobility pharma health energy security consulting travel
    hospitality aerospace defense logistics food consumer industrial data education
    real_estate""".split()
)
# ISO 3166-1 alpha-2, plus EU (an ISO "exceptionally reserved" code) for EU institutions.
ISO_COUNTRIES = set(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA
    ZM ZW EU""".split()
)
# Ordinary English words (and word pairs) that are also names in the gazetteer. An entity with
# such a strong name or alias must set case_sensitive, or "an apple" would become Apple Inc.
COMMON_WORDS = set(
    """apple amazon meta alphabet oracle slack adobe zoom snap discord bumble rumble workday
    snowflake block square stripe visa discover affirm chime plaid wise bolt grab ring twitch
    audible honor moonshot mistral cohere inflection perplexity writer lambda glean runway poolside
    upstage scale arm micron intel cadence shell target chevron orange sprint lumen fidelity
    vanguard citadel kraken tether ripple circle genesis sequoia lightspeed marvel paramount epic
    valve rockstar unity chewy peloton telegram yelp tinder yahoo oath cruise ford caterpillar
    emirates ascension grail amnesty pentagon congress treasury senate house commission council
    copilot azure outlook bing windows chrome safari pixel mac echo kindle galaxy steam orion
    falcon pegasus predator ether firefly java horizon nest spectrum peacock max flux cursor
    threads messenger autopilot whisper codex grok bard llama palm snapdragon ascend prime dell
    intuit synchrony avast sharp delta universal sky fox blizzard minimax conti
    claude gemini gemma watson devin alexa sora ernie kimi wing verily nest signal box""".split()
) | {
    phrase.strip()
    for phrase in """best buy, whole foods, thinking machines, physical intelligence, silver lake,
    state street, just eat, check point, app store, cash app, stable diffusion, full self-driving,
    model 3, model y, vision pro, le chat, command r, exchange online, game pass, general court,
    supreme court, high court""".split(",")
}
LEGAL_SUFFIXES = set(
    """inc ltd co corp corporation llc plc ag sa gmbh limited group holdings holding company nv
    se lp sarl pte oyj""".split()
)


def fold(text: str) -> str:
    """Fold a surface form the way a lenient matcher would: case, accents, punctuation, suffixes."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ")
    # "+" is kept: Disney+ is a product, Disney a company.
    tokens = re.sub(r"[^\w+]+", " ", text).split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    while len(tokens) > 1 and (tokens[-1] in LEGAL_SUFFIXES or tokens[-1] == "and"):
        tokens = tokens[:-1]
    return " ".join(tokens)


def load(name: str) -> object:
    with open(GAZETTEER_DIR / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def entities() -> list[tuple[str, dict]]:
    """Every entity of every shipped file, tagged with its file name."""
    out = []
    for name in FILES:
        out.extend((name, entity) for entity in load(name)["entities"])
    return out


def strong_forms(entity: dict) -> list[str]:
    return [entity["name"], *entity.get("aliases", [])]


def where(file: str, entity: dict) -> str:
    return f"{file}: {entity.get('name')!r}"


@pytest.mark.parametrize("file", FILES)
def test_file_loads_as_mapping_of_entities(file: str) -> None:
    data = load(file)
    assert isinstance(data, dict), f"{file}: top level must be a mapping with key 'entities'"
    extra = set(data) - {"entities"}
    assert not extra, f"{file}: unexpected top-level keys {sorted(extra)}"
    assert isinstance(data["entities"], list) and data["entities"], f"{file}: 'entities' is empty"
    assert all(isinstance(e, dict) for e in data["entities"]), f"{file}: every entity is a mapping"


@pytest.mark.parametrize("file", FILES)
def test_entities_follow_the_schema(file: str) -> None:
    problems = []
    for entity in load(file)["entities"]:
        at = where(file, entity)
        unknown = set(entity) - KEYS
        if unknown:
            problems.append(f"{at}: unknown keys {sorted(unknown)}")
        name = entity.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{at}: 'name' must be a non-empty string")
            continue
        if entity.get("kind") not in FILE_KINDS[file]:
            problems.append(f"{at}: kind {entity.get('kind')!r} not allowed here")
        for key in ("aliases", "weak_aliases"):
            values = entity.get(key, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                problems.append(f"{at}: {key} must be a list of strings")
                continue
            if any(not v.strip() for v in values):
                problems.append(f"{at}: {key} holds an empty string")
        for key in ("country", "sector", "parent"):
            if key in entity and not isinstance(entity[key], str):
                problems.append(f"{at}: {key} must be a string")
        if "country" in entity and entity["country"] not in ISO_COUNTRIES:
            problems.append(f"{at}: country {entity['country']!r} is not ISO 3166 alpha-2")
        if "sector" in entity and entity["sector"] not in SECTORS:
            problems.append(f"{at}: sector {entity['sector']!r} is not in the sector list")
        if "case_sensitive" in entity and not isinstance(entity["case_sensitive"], bool):
            problems.append(f"{at}: case_sensitive must be true or false")
        for form in [name, *entity.get("aliases", []), *entity.get("weak_aliases", [])]:
            if isinstance(form, str) and (form != form.strip() or "  " in form or "\n" in form):
                problems.append(f"{at}: stray whitespace in {form!r}")
    assert not problems, "\n".join(problems)


def test_all_kinds_are_known(entities: list[tuple[str, dict]]) -> None:
    assert {e["kind"] for _, e in entities} <= KINDS


def test_names_are_unique_across_files(entities: list[tuple[str, dict]]) -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for file, entity in entities:
        key = entity["name"].casefold()
        if key in seen:
            duplicates.append(f"{entity['name']!r} in {file} and {seen[key]}")
        seen[key] = file
    assert not duplicates, "\n".join(duplicates)


def test_no_alias_repeats_within_an_entity(entities: list[tuple[str, dict]]) -> None:
    problems = []
    for file, entity in entities:
        forms = strong_forms(entity) + entity.get("weak_aliases", [])
        keys = [f if entity.get("case_sensitive") else f.casefold() for f in forms]
        repeated = {f for f in keys if keys.count(f) > 1}
        if repeated:
            problems.append(f"{where(file, entity)}: repeated {sorted(repeated)}")
    assert not problems, "\n".join(problems)


def test_strong_aliases_belong_to_one_entity(entities: list[tuple[str, dict]]) -> None:
    """A name or alias must not point at two entities, even after folding case and suffixes.

    Deliberately ambiguous forms ("the Commission", "CNPD") go in weak_aliases instead, which
    may be shared by several entities but must not equal another entity's strong form.
    """
    owners: dict[str, set[str]] = defaultdict(set)
    for _, entity in entities:
        for form in strong_forms(entity):
            owners[fold(form)].add(entity["name"])
    clashes = [f"{form!r}: {sorted(names)}" for form, names in owners.items() if len(names) > 1]
    for file, entity in entities:
        for form in entity.get("weak_aliases", []):
            others = owners.get(fold(form), set()) - {entity["name"]}
            if others:
                clashes.append(f"{where(file, entity)}: weak alias {form!r} is strong for {others}")
    assert not clashes, "\n".join(clashes)


def test_short_strong_aliases_are_guarded(entities: list[tuple[str, dict]]) -> None:
    """One-character forms are never strong; two-character Latin ones ("LG", "EU") need
    case_sensitive. Two CJK characters (华为) are a complete name and are fine."""
    problems = []
    for file, entity in entities:
        for form in strong_forms(entity):
            chars = form.replace(" ", "")
            short = len(chars) == 2 and chars.isascii() and not entity.get("case_sensitive")
            if len(chars) < 2 or short:
                problems.append(f"{where(file, entity)}: {form!r} is too short to be strong")
    assert not problems, "\n".join(problems)


def test_common_words_are_case_sensitive(entities: list[tuple[str, dict]]) -> None:
    problems = []
    for file, entity in entities:
        for form in strong_forms(entity):
            if form.casefold() in COMMON_WORDS and not entity.get("case_sensitive"):
                problems.append(f"{where(file, entity)}: {form!r} is an ordinary word")
    assert not problems, "\n".join(problems)


def test_parents_exist_and_make_sense(entities: list[tuple[str, dict]]) -> None:
    by_name = {e["name"]: e for _, e in entities}
    problems = []
    for file, entity in entities:
        parent = entity.get("parent")
        if parent is None:
            continue
        at = where(file, entity)
        if parent == entity["name"]:
            problems.append(f"{at}: is its own parent")
        elif parent not in by_name:
            problems.append(f"{at}: parent {parent!r} is not a canonical name in any file")
        elif entity["kind"] == "company" and by_name[parent]["kind"] != "company":
            problems.append(f"{at}: a company's parent must be a company")
        elif entity["kind"] == "product" and by_name[parent]["kind"] not in {"company", "product"}:
            problems.append(f"{at}: a product's maker must be a company or product")
    for name in by_name:
        chain, node = [name], by_name[name].get("parent")
        while node is not None and node in by_name:
            if node in chain:
                problems.append(f"parent cycle: {' -> '.join(chain + [node])}")
                break
            chain.append(node)
            node = by_name[node].get("parent")
    assert not problems, "\n".join(problems)


def test_coverage_targets(entities: list[tuple[str, dict]]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for _, entity in entities:
        counts[entity["kind"]] += 1
    assert counts["company"] >= 450
    assert counts["product"] >= 120
    assert counts["regulator"] >= 100
    assert counts["court"] >= 20
    assert counts["government"] >= 20
    assert counts["university"] >= 10
    countries = {e.get("country") for _, e in entities if e["kind"] == "regulator"}
    markets = {"US", "EU", "GB", "CN", "IN", "JP", "KR", "AU", "CA", "BR", "FR", "DE", "IT"}
    assert markets <= countries, f"no regulator for {markets - countries}"


def resolve(entities: list[tuple[str, dict]], form: str) -> dict:
    """Find the one entity whose strong forms include `form` (exact match)."""
    hits = [e for _, e in entities if form in strong_forms(e)]
    assert len(hits) == 1, f"{form!r} resolves to {[e['name'] for e in hits]}"
    return hits[0]


@pytest.mark.parametrize(
    ("form", "name", "kind", "parent"),
    [
        ("Anthropic", "Anthropic", "company", None),
        ("Alibaba", "Alibaba Group", "company", None),
        ("Aliyun", "Alibaba Cloud", "company", "Alibaba Group"),
        ("Ticketmaster", "Ticketmaster", "company", "Live Nation Entertainment"),
        ("Live Nation", "Live Nation Entertainment", "company", None),
        ("Instagram", "Instagram", "company", "Meta Platforms"),
        ("Meta", "Meta Platforms", "company", None),
        ("Facebook", "Facebook", "company", "Meta Platforms"),
        ("AWS", "Amazon Web Services", "company", "Amazon"),
        ("LinkedIn", "LinkedIn", "company", "Microsoft"),
        ("YouTube", "YouTube", "company", "Google"),
        ("Google", "Google", "company", "Alphabet"),
        ("DeepMind", "Google DeepMind", "company", "Google"),
        ("TikTok", "TikTok", "company", "ByteDance"),
        ("Moonshot", "Moonshot AI", "company", None),
        ("Starwood", "Starwood Hotels and Resorts Worldwide", "company", "Marriott International"),
        ("Claude", "Claude", "product", "Anthropic"),
        ("ChatGPT", "ChatGPT", "product", "OpenAI"),
        ("iPhone", "iPhone", "product", "Apple"),
        ("WeChat", "WeChat", "product", "Tencent"),
        ("Azure", "Microsoft Azure", "product", "Microsoft"),
        ("Qwen", "Qwen", "product", "Alibaba Cloud"),
        ("FTC", "Federal Trade Commission", "regulator", None),
        ("Justice Department", "U.S. Department of Justice", "regulator", None),
        ("CNIL", "CNIL", "regulator", None),
        ("SAMR", "State Administration for Market Regulation", "regulator", None),
        ("CJEU", "Court of Justice of the European Union", "court", None),
        ("White House", "White House", "government", None),
        ("Stanford", "Stanford University", "university", None),
    ],
)
def test_well_known_entities(
    entities: list[tuple[str, dict]], form: str, name: str, kind: str, parent: str | None
) -> None:
    entity = resolve(entities, form)
    assert (entity["name"], entity["kind"], entity.get("parent")) == (name, kind, parent)


@pytest.mark.parametrize("form", ["Apple", "Amazon", "Meta", "Block", "Square", "Uber", "Claude"])
def test_flagged_case_sensitive(entities: list[tuple[str, dict]], form: str) -> None:
    assert resolve(entities, form).get("case_sensitive") is True


def test_ambiguous_forms_are_weak_only(entities: list[tuple[str, dict]]) -> None:
    for form in ("Commission", "the Commission", "BIS", "CNPD", "X", "Universal"):
        weak_owners = [e["name"] for _, e in entities if form in e.get("weak_aliases", [])]
        strong_owners = [e["name"] for _, e in entities if form in strong_forms(e)]
        assert weak_owners and not strong_owners, form


def test_readme_documents_the_format() -> None:
    readme = (GAZETTEER_DIR / "README.md").read_text(encoding="utf-8")
    for word in sorted(KEYS | KINDS | set(FILES)):
        assert word in readme, f"README.md does not mention {word!r}"
    for sector in sorted(SECTORS):
        assert sector in readme, f"README.md does not list sector {sector!r}"


def test_places_file_is_valid_and_names_no_known_organisation():
    from tracker.nlp.resources import load_gazetteer, load_places

    places = load_places()
    assert set(places) == {"GPE", "NORP"} and all(len(v) > 20 for v in places.values())
    names = [n for v in places.values() for n in v]
    assert len(names) == len(set(names)), "a place is listed twice"
    # a gazetteer name always wins, but a place spelled exactly like one is a filing mistake
    known = set(load_gazetteer(()).surface_forms())
    assert not known & set(names)


def test_places_file_errors_name_the_problem(tmp_path):
    from tracker.errors import ConfigError
    from tracker.nlp.resources import load_places

    bad = tmp_path / "places.yaml"
    bad.write_text("CITY: [Paris]\n")
    with pytest.raises(ConfigError, match="unknown label"):
        load_places(bad)
    bad.write_text("GPE: Paris\n")
    with pytest.raises(ConfigError, match="list of names"):
        load_places(bad)
