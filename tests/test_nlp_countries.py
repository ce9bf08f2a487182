"""A company's country from how the article introduces it, when the gazetteer gives none."""

from __future__ import annotations

import pytest

from tests.support.nlp import shared_analyzer
from tracker.countries import place_country
from tracker.nlp.companies import Party


@pytest.fixture(scope="module")
def analyzer():
    return shared_analyzer()


def countries(analysis) -> dict[str, tuple[str, str | None]]:
    return {e.name: (e.kind, e.country) for e in analysis.entities}


@pytest.mark.parametrize(
    "text, name, code",
    [
        ("The Chinese AI startup Zhenlu was sued on Monday by authors who say it copied "
         "their books.", "Zhenlu", "CN"),
        ("Chinese chipmaker Harbor Semi said its sales rose 40%.", "Harbor Semi", "CN"),
        ("British fintech Quillpay Ltd said it would appeal the ruling.", "Quillpay Ltd", "GB"),
        ("U.S.-based Corvane Systems sued a rival over patents on Tuesday.",
         "Corvane Systems", "US"),
        ("Corvane Systems sued a South Korean company, Brindle Labs, over patents.",
         "Brindle Labs", "KR"),
        ("Zhenlu, a Chinese AI startup, denied the claims on Friday.", "Zhenlu", "CN"),
        ("Quillpay Ltd, the London-based payments firm, said it would appeal.",
         "Quillpay Ltd", "GB"),
        ("Nuvera Labs, the San Francisco startup behind the app, was fined on Monday.",
         "Nuvera Labs", "US"),
        ("OpenAI said Kestrel Labs had copied its models. Kestrel Labs, based in Hangzhou, "
         "denied it.", "Kestrel Labs", "CN"),
        ("Regulators questioned Pelmora Systems, a company based in Germany, about the breach.",
         "Pelmora Systems", "DE"),
    ],
)
def test_a_nationality_introducing_the_company_gives_its_country(analyzer, text, name, code):
    found = countries(analyzer.analyze(text))
    assert found.get(name) == ("company", code), found


def test_a_regulators_nationality_is_not_the_companys(analyzer):
    found = countries(analyzer.analyze(
        "US regulators fined Chinese firm Taldrin Robotics $5 million. Taldrin Robotics said "
        "it would appeal."))
    assert found["Taldrin Robotics"] == ("company", "CN")


def test_a_neighbours_nationality_gives_nothing(analyzer):
    # "Alibaba's U.S. rival": a rival in the U.S. market or a U.S. rival? Neither is sure.
    found = countries(analyzer.analyze(
        "Alibaba's U.S. rival Vexorin Inc said it would cooperate. Shares of Vexorin Inc fell."))
    assert found["Vexorin Inc"] == ("company", None)
    # the nationality belongs to the chatbot the company makes, not to the company
    found = countries(analyzer.analyze(
        "Regulators in Italy fined Ostrava Labs, the maker of the Chinese chatbot Lingbo, on "
        "Monday. Ostrava Labs's chief executive declined to comment."))
    assert found["Ostrava Labs"] == ("company", None)


def test_two_nationalities_in_one_article_give_none(analyzer):
    found = countries(analyzer.analyze(
        "Chinese startup Morvane Labs was sued on Monday. Later, Morvane Labs, a British "
        "company, said it would appeal."))
    assert found["Morvane Labs"] == ("company", None)
    # the same nationality twice is no conflict
    found = countries(analyzer.analyze(
        "Chinese startup Morvane Labs was sued on Monday. Later, Morvane Labs, a Chinese "
        "company, said it would appeal."))
    assert found["Morvane Labs"] == ("company", "CN")


def test_the_gazetteers_country_wins(analyzer):
    found = countries(analyzer.analyze("British fintech Alibaba said its sales rose."))
    alibaba = next(v for k, v in found.items() if k.startswith("Alibaba"))
    assert alibaba == ("company", "CN")
    found = countries(analyzer.analyze("The Chinese startup OpenAI said its sales rose."))
    assert found["OpenAI"] == ("company", "US")


def test_persons_and_products_get_no_country(analyzer):
    found = countries(analyzer.analyze(
        "Chinese novelist Li Wenhao sued Drevalo Labs Inc on Monday."))
    assert found["Li Wenhao"] == ("person", None)
    found = countries(analyzer.analyze("The Chinese startup ChatGPT was sued."))
    assert found["ChatGPT"] == ("product", None)
    # the rule itself looks only at companies, whatever the words before the name say
    finder = analyzer.companies
    text = "The Chinese startup Wei Lan spoke. The Chinese startup Lingbo Pro sold well."
    person = Party("Wei Lan", "person", mentions=[(20, 27, "Wei Lan", "ner")])
    product = Party("Lingbo Pro", "product", mentions=[(55, 65, "Lingbo Pro", "ner")])
    company = Party("Lingbo Pro Co", "company", mentions=[(55, 65, "Lingbo Pro", "ner")])
    finder._countries(text, {"a": person, "b": product, "c": company})
    assert (person.country, product.country, company.country) == (None, None, "CN")


@pytest.mark.parametrize(
    "before, code",
    [
        ("the Chinese AI startup ", "CN"),
        ("China's AI startup ", "CN"),
        ("Beijing-based ", "CN"),
        ("a Shenzhen-based drone maker called ", "CN"),
        ("Dutch media group ", "NL"),
        ("Chinese ", None),  # a bare adjective: "Chinese Zhenlu" is too weak
        ("its Chinese chipmaker ", None),
        ("Alibaba's U.S. rival ", None),
        ("Alibaba's U.S. chipmaker ", None),
        ("a unit of the Chinese ", None),
        ("Us startup ", None),  # a capitalised pronoun, not the US
        ("IT services firm ", None),  # "IT" is no Italy
        ("European startup ", None),  # a region is no company's country
        ("the Chinese startup. ", None),
        ("Chinese firms, ", None),  # a comma needs "a/an" before the nationality
        ("British-American tobacco firm ", None),
    ],
)
def test_the_phrase_before_a_name(analyzer, before, code):
    assert analyzer.companies._country_before(before) == code


@pytest.mark.parametrize(
    "after, code",
    [
        (", a Chinese AI startup, said", "CN"),
        (", a leading South Korean chipmaker, said", "KR"),
        (", the London-based fintech, said", "GB"),
        (", which is based in Tokyo, said", "JP"),
        (", a U.S.-based maker of drones", "US"),
        (", a unit of Chinese firm Harbor Semi", None),
        (", the rival of Chinese firm Harbor Semi", None),
        (", a Chinese company's rival, said", None),
        (", the Chinese chatbot maker's partner", None),
        (" a Chinese AI startup", None),
        (", said a Chinese startup", None),
    ],
)
def test_the_apposition_after_a_name(analyzer, after, code):
    assert analyzer.companies._country_after(after) == code


def test_places_come_from_the_countries_file():
    assert place_country("Chinese") == "CN"
    assert place_country("U.S.") == place_country("US") == "US"
    assert place_country("London") == "GB"
    assert place_country("EU") is None and place_country("IT") is None


def test_the_store_keeps_the_inferred_country(analyzer, tmp_path):
    from tracker.records import ExtractedArticle
    from tracker.search import SearchFilters, search
    from tracker.store import open_db, save_article

    title = "Authors sue Chinese AI startup Zhenlu over pirated books"
    body = ("A group of authors sued Zhenlu, a Chinese AI startup, on Tuesday, accusing it of "
            "training its models on pirated books. Zhenlu did not respond to a request for "
            "comment.")
    analysis = analyzer.analyze(body, title=title)
    assert countries(analysis)["Zhenlu"] == ("company", "CN")
    db = open_db(tmp_path / "t.db")
    article = ExtractedArticle(url="https://news.example/zhenlu", text=body, title=title,
                               published="2026-02-03", language="en")
    save_article(db, article, analysis, canonical_url=article.url)
    rows = db.execute("SELECT kind, country FROM companies WHERE name = 'Zhenlu'").fetchall()
    assert rows == [("company", "CN")]
    if analysis.allegations:
        assert search(db, SearchFilters(accused_country=("Chinese",))).total == 1
        assert search(db, SearchFilters(accused_country=("US",))).total == 0


def test_a_local_arm_named_after_its_country_does_not_take_its_parents(analyzer):
    found = countries(analyzer.analyze(
        "The regulator fined Pravik Technologies Ireland Limited, the European arm of Palo "
        "Alto-based Pravik Technologies, on Monday. Pravik Technologies Ireland Limited said "
        "it would appeal."))
    arm = next(v for k, v in found.items() if k.startswith("Pravik Technologies Ireland"))
    assert arm == ("company", None)
