"""Parties that are not companies as the accused: hacking groups and the countries an attack is
tied to. They keep their own kinds (other, government) and are never counted as companies."""

from __future__ import annotations

from tests.support.nlp import kinds, pairs_of, shared_analyzer


def test_country_tied_to_hackers_is_accused_by_the_agency_that_says_so():
    text = (
        "Brindle Telecom said on Tuesday that its customer database had been copied. "
        "The National Security Agency said last week that hackers linked to Russia had "
        "breached several European telecom operators and stolen call records."
    )
    a = shared_analyzer().analyze(text)
    assert ("National Security Agency", "Russia") in pairs_of(a)
    assert kinds(a)["Russia"] == "government"


def test_country_named_as_a_people_maps_to_the_country():
    text = (
        "The Department of Homeland Security said Iranian state-sponsored hackers had "
        "infiltrated the billing systems of Copperfield Water, a utility in Ohio."
    )
    a = shared_analyzer().analyze(text)
    accused = {x for al in a.allegations for x in al.accused}
    assert "Iran" in accused
    assert "Iran" not in {e.name for e in a.entities if e.kind == "company"}


def test_a_country_as_a_place_is_not_accused():
    text = (
        "The Federal Trade Commission sued Palomar Foods Inc in Texas, accusing the company of "
        "misleading customers in China and Canada about the origin of its products."
    )
    a = shared_analyzer().analyze(text)
    accused = {x for al in a.allegations for x in al.accused}
    assert accused and not accused & {"China", "Canada", "Texas"}


def test_group_claiming_responsibility_is_accused():
    text = (
        "Harlow Insurance said hackers had stolen the records of 2 million policyholders. "
        "A ransomware gang calling itself Velvet Marten claimed responsibility for the attack "
        "on its leak site, according to researchers who track the group."
    )
    a = shared_analyzer().analyze(text)
    assert (None, "Velvet Marten") in pairs_of(a)
    assert kinds(a).get("Velvet Marten") != "company"


def test_person_filing_a_complaint_accuses_the_company():
    text = (
        "Corvane Systems' former chief engineer, Dana Whitlow, has gone to federal "
        "investigators with a whistleblower complaint alleging the company hid a data breach "
        "from its customers."
    )
    a = shared_analyzer().analyze(text)
    assert ("Dana Whitlow", "Corvane Systems") in pairs_of(a)
    assert kinds(a)["Dana Whitlow"] == "person"


def test_person_named_with_a_nickname_is_still_that_person():
    text = (
        "Lisbeth Ørn said she was fired from Kestrel Analytics after raising concerns. "
        'The security researcher Tomasz "Frost" Halvorsen, has filed a lawsuit claiming '
        "Kestrel Analytics sold location data without consent. Halvorsen said he had "
        "warned managers for months."
    )
    a = shared_analyzer().analyze(text)
    assert ("Halvorsen", "Kestrel Analytics") in pairs_of(a)


def test_officers_listed_in_a_filed_complaint_are_accused():
    text = (
        "Ravi Menon, an early backer, is suing Tidewell Robotics. According to a complaint "
        "filed on Monday, Tidewell Robotics, chief executive Mara Quist and president Olin "
        "Fairbanks misled early investors about the company's revenue."
    )
    a = shared_analyzer().analyze(text)
    accused = {x for al in a.allegations for x in al.accused}
    assert {"Mara Quist", "Olin Fairbanks"} <= accused


def test_firm_hired_to_investigate_is_not_accused():
    text = (
        "Greystone Bank said hackers stole the records of 3 million customers. The bank has "
        "hired cybersecurity firm Brightwater Labs to investigate the breach."
    )
    a = shared_analyzer().analyze(text)
    accused = {x for al in a.allegations for x in al.accused}
    assert "Greystone Bank" in accused
    assert "Brightwater Labs" not in accused


def test_a_region_where_users_live_does_not_accuse():
    text = (
        "The Data Protection Commission fined Pellucid Media Limited €40 million on Tuesday. "
        "The decision, which affects about 9 million users in the European Economic Area, "
        "found that Pellucid Media Limited had transferred personal data unlawfully."
    )
    a = shared_analyzer().analyze(text)
    accusers = {al.accuser for al in a.allegations}
    assert "European Economic Area" not in accusers


def test_officer_listed_after_the_company_possessive_is_charged():
    text = (
        "Federal prosecutors on Tuesday unsealed an indictment that charges Norvik Shipping Ltd, "
        "its affiliate Tessaro Freight Inc and the company's chief operating officer, Daniel "
        "Cho, "
        "with wire fraud and conspiracy to violate sanctions."
    )
    a = shared_analyzer().analyze(text)
    accused = {x for al in a.allegations for x in al.accused}
    assert {"Norvik Shipping Ltd", "Daniel Cho"} <= accused
