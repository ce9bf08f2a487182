"""Responses: how an accused party answered, told in the phrasings news writing uses (invented
companies and sentences)."""

from __future__ import annotations

import pytest

from tests.support.nlp import shared_analyzer


@pytest.fixture(scope="module")
def analyzer():
    return shared_analyzer()


def answers(analysis) -> set[tuple[str, str]]:
    return {(r.company, r.response) for r in analysis.responses}


def answered(analysis, prefix: str, response: str) -> bool:
    return any(c.startswith(prefix) and r == response for c, r in answers(analysis))


BREACH = (
    "The Federal Trade Commission sued Corvane Telecom on Monday, accusing it of failing to "
    "protect customer data. Corvane Telecom said on Tuesday that hackers had stolen the names and "
    "addresses of about 2 million customers."
)


def test_breach_disclosure_is_an_admission(analyzer):
    assert answered(analyzer.analyze(BREACH), "Corvane", "admitted")


def test_breach_denial_is_not_an_admission(analyzer):
    text = BREACH.replace("hackers had stolen", "it had found no sign that hackers stole")
    assert not answered(analyzer.analyze(text), "Corvane", "admitted")


def test_accepting_that_is_an_admission(analyzer):
    text = (
        "The Securities and Exchange Commission charged Brindle Analytics with fraud, accusing it "
        "of inflating its sales. Brindle Analytics said it had cooperated with the agency and "
        "accepted that some sales should not have been booked."
    )
    assert answered(analyzer.analyze(text), "Brindle", "admitted")


def test_settling_without_admitting_is_settled_only(analyzer):
    text = (
        "Regulators accused Harlow Logistics of hiding a data breach. Harlow Logistics agreed "
        "on Monday to hand customers $12 million, without admitting wrongdoing."
    )
    a = analyzer.analyze(text)
    assert answered(a, "Harlow", "settled")
    assert not answered(a, "Harlow", "admitted")


def test_participle_rejection_belongs_to_the_sentence_subject(analyzer):
    text = (
        "Pinecrest Media sued Arbelo AI for copyright infringement. Arbelo AI said on Friday it "
        "would fight the lawsuit filed by Pinecrest Media, rejecting the publisher's claim that it "
        "copied articles."
    )
    a = analyzer.analyze(text)
    assert answered(a, "Arbelo", "denied")
    assert not answered(a, "Pinecrest", "denied")


def test_short_name_opening_a_sentence_answers(analyzer):
    text = (
        "The Justice Department sued on Tuesday to block Veltrane Systems' purchase of Ostry "
        "Software, accusing Veltrane Systems of trying to corner the market. Veltrane vowed to "
        "fight the lawsuit in court."
    )
    assert answered(analyzer.analyze(text), "Veltrane", "disputed")


def test_staying_silent_is_no_comment_but_paying_for_silence_is_not(analyzer):
    silent = (
        "Regulators accused Quorra Logistics of hiding a data breach. Quorra Logistics has "
        "remained silent."
    )
    assert answered(analyzer.analyze(silent), "Quorra", "no_comment")
    alleged = (
        "Regulators accused Quorra Logistics of hiding a data breach and of keeping quiet about "
        "it for a year."
    )
    assert not answered(analyzer.analyze(alleged), "Quorra", "no_comment")


def test_reported_it_is_the_speaker(analyzer):
    text = (
        "The data protection authority opened an investigation into Lumaro Health over its "
        "handling of patient records. Lumaro Health said it was cooperating with the authority "
        "and was reviewing its data practices."
    )
    assert answered(analyzer.analyze(text), "Lumaro", "investigating")


def test_former_chief_executive_answers_for_the_accused_person(analyzer):
    text = (
        "Prosecutors charged Kestrel Exchange and its founder Marcus Ellery with fraud. Ellery was "
        "arrested on Monday. Since Kestrel Exchange collapsed, the former chief executive has "
        "acknowledged making mistakes but has said he did not knowingly misuse customer funds."
    )
    a = analyzer.analyze(text)
    assert answered(a, "Marcus Ellery", "denied")


def test_first_person_statement_is_its_speaker(analyzer):
    text = (
        "The Federal Trade Commission sued to block Tamsin Robotics from buying Orrin Labs, "
        "accusing Tamsin Robotics of trying to remove a rival. Tamsin Robotics today issued the "
        "following statement about the lawsuit against its purchase of Orrin Labs: \"We are "
        "disappointed that the Commission has chosen to litigate.\""
    )
    assert answered(analyzer.analyze(text), "Tamsin", "disputed")


def test_a_person_with_a_role_at_the_accused_answers_for_it(analyzer):
    text = (
        "Corvane Systems sued Brindle Labs, accusing it of stealing trade secrets. Brindle Labs "
        "chief executive Tomas Ekdahl spoke to reporters on Tuesday. Tomas Ekdahl denied the "
        "claims."
    )
    assert answered(analyzer.analyze(text), "Brindle", "denied")


def test_a_person_answering_by_surname_answers_for_the_accused(analyzer):
    text = (
        "Corvane Systems sued Brindle Labs, accusing it of stealing trade secrets. Brindle Labs "
        "chief executive Tomas Ekdahl spoke to reporters on Tuesday. Ekdahl denied the claims."
    )
    assert answered(analyzer.analyze(text), "Brindle", "denied")
