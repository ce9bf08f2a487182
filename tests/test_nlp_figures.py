"""Figures: number forms, money, qualifiers, units through adjectives, and what is not a figure."""

from __future__ import annotations

import pytest

from tests.support.nlp import shared_analyzer


@pytest.fixture(scope="module")
def analyzer():
    return shared_analyzer()


def figs(analyzer, text):
    return {(f.value, f.unit, f.qualifier) for f in analyzer.analyze(text).figures}


@pytest.mark.parametrize(
    "text,value,unit,qualifier",
    [
        (
            "Regulators said Zeta was fined over a hack that exposed 25,000 accounts.",
            25000,
            "accounts",
            None,
        ),
        ("Regulators said the hack exposed 25k user accounts.", 25000, "accounts", None),
        (
            "Regulators said the hack exposed twenty-five thousand accounts.",
            25000,
            "accounts",
            None,
        ),
        (
            "The breach exposed about 1.2 million customers, regulators said.",
            1200000,
            "customers",
            "about",
        ),
        (
            "Officials said the attackers used more than 24,000 fraudulent accounts.",
            24000,
            "accounts",
            "over",
        ),
        (
            "The regulator said at least 3 billion records were stolen in the breach.",
            3e9,
            "records",
            "at_least",
        ),
        ("The watchdog imposed a fine of $1.2bn on the firm.", 1.2e9, "USD", None),
        ("The watchdog imposed a fine of EUR 290 million on the firm.", 2.9e8, "EUR", None),
        ("The company was fined €1.8 billion by the commission.", 1.8e9, "EUR", None),
        ("It must pay a penalty of £2.31m, the regulator said.", 2.31e6, "GBP", None),
        ("It was fined 1.2 billion dollars for the breach.", 1.2e9, "USD", None),
        ("The firm agreed to pay US$30m to settle the claims.", 3e7, "USD", None),
        ("The bank was fined Rs 500 crore by the regulator.", 5e9, "INR", None),
        ("The firm will pay up to $700 million to settle the probe.", 7e8, "USD", "up_to"),
    ],
)
def test_number_forms(analyzer, text, value, unit, qualifier):
    found = figs(analyzer, text)
    assert any(
        abs(v - value) <= value * 0.005 and u == unit and q == qualifier for v, u, q in found
    ), found


def test_not_figures(analyzer):
    text = (
        "On March 3, 2021 the 45-year-old founder said revenue rose 12% in the second quarter "
        "of 2020, "
        "its 3rd straight gain. Tens of millions of users were affected, the regulator said."
    )
    assert figs(analyzer, text) == set()


def test_unit_inherited_within_sentence(analyzer):
    text = (
        "The regulator said about 100 million people in the US and roughly six million in "
        "Canada were hit."
    )
    found = figs(analyzer, text)
    assert (1e8, "people", "about") in found
    assert (6e6, "people", "about") in found


def test_business_money_is_not_a_figure(analyzer):
    text = "Acme reported revenue of $65 billion and announced a $5 billion investment in chips."
    assert not any(u == "USD" for _, u, _ in figs(analyzer, text))


def test_figure_offsets_and_link(analyzer):
    a = analyzer.analyze(
        "The FTC fined Zorbix Inc $5 million after it exposed 40,000 customer records."
    )
    assert a.allegations
    for f in a.figures:
        assert a.text[f.start : f.end] == f.text
        assert f.allegation == 0
