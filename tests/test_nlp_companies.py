"""Company recognition: gazetteer, NER, context rules, kinds, consistency, user gazetteers."""

from __future__ import annotations

import pytest

from tests.support.nlp import company_names, kinds, shared_analyzer
from tracker.errors import ConfigError
from tracker.nlp import Analyzer, load_gazetteer


@pytest.fixture(scope="module")
def analyzer():
    return shared_analyzer()


def test_products_and_regulators_are_not_companies(analyzer):
    a = analyzer.analyze(
        "The FTC said on Tuesday that OpenAI had misled users of ChatGPT. Apple, which sells "
        "the iPhone, "
        "was not involved. Anthropic, a San Francisco-based AI startup, makes Claude."
    )
    names = company_names(a)
    assert {"OpenAI", "Anthropic", "Apple"} <= names
    k = kinds(a)
    assert "ChatGPT" not in names and "Claude" not in names and "iPhone" not in names
    assert any(v == "regulator" for n, v in k.items() if "Trade Commission" in n or n == "FTC")


def test_subsidiary_has_parent(analyzer):
    a = analyzer.analyze("Alibaba Cloud, the cloud arm of Alibaba, said demand rose.")
    ents = {e.name: e for e in a.entities}
    cloud = next(e for n, e in ents.items() if n.startswith("Alibaba Cloud"))
    assert cloud.kind == "company"
    assert cloud.parent and cloud.parent.startswith("Alibaba")


def test_unknown_company_from_context_rules(analyzer):
    text = (
        "Zorblax Robotics Inc said on Monday it raised money. Quintary, a Lisbon-based startup, "
        "was founded in 2021. Shares of Zorblax Robotics rose. Vantrel's chief executive "
        "declined to comment."
    )
    names = company_names(analyzer.analyze(text))
    assert any(n.startswith("Zorblax Robotics") for n in names)
    assert "Quintary" in names
    assert "Vantrel" in names


def test_non_company_descriptors(analyzer):
    a = analyzer.analyze(
        "The complaint came from Privacy Now, a Dutch digital rights group, and from "
        "the Federal Trade Commission."
    )
    assert "Privacy Now" not in company_names(a)


def test_consistent_label_and_mentions_offsets(analyzer):
    text = (
        "Frobnitz Corp sued Gadgetron. Gadgetron, a Berlin-based startup, denied it. Frobnitz "
        "Corp said more."
    )
    a = analyzer.analyze(text, title="Frobnitz sues Gadgetron")
    ent = next(e for e in a.entities if e.name == "Gadgetron")
    assert ent.kind == "company"
    assert len(ent.mentions) >= 3  # title + two in the body, all one entity
    for m in ent.mentions:
        assert a.text[m.start : m.end] == m.text
    assert a.text.startswith("Frobnitz sues Gadgetron\n\n")


def test_user_gazetteer_extends_and_validates(tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text(
        "entities:\n  - {name: Blorpco Holdings, kind: company, aliases: [Blorpco], country: NL}\n"
        "  - {name: Widget Watch, kind: regulator}\n",
        encoding="utf-8",
    )
    gaz = load_gazetteer([extra])
    assert gaz.entries["Blorpco Holdings"].aliases == ("Blorpco",)
    a = Analyzer(gazetteer_paths=[extra], nlp=shared_analyzer().nlp).analyze(
        "Widget Watch said Blorpco broke the rules."
    )
    k = kinds(a)
    assert k.get("Blorpco Holdings") == "company"
    assert k.get("Widget Watch") == "regulator"

    bad = tmp_path / "bad.yaml"
    bad.write_text("entities:\n  - {name: X, kind: planet}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="planet"):
        load_gazetteer([bad])
    broken = tmp_path / "broken.yaml"
    broken.write_text("entities: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.yaml"):
        load_gazetteer([broken])
    with pytest.raises(ConfigError, match="missing.yaml"):
        load_gazetteer([tmp_path / "missing.yaml"])


def test_empty_text(analyzer):
    a = analyzer.analyze("   ")
    assert a.entities == () and a.allegations == () and a.figures == ()


def _ner_reads(analyzer, text):
    """The docs the statistical NER is given for one article, and the article's doc."""
    doc = next(analyzer.nlp.pipe([text], disable=["ner"]))
    given = []
    real = analyzer.ner

    class Spy:
        def pipe(self, docs, batch_size=256):
            docs = list(docs)
            given.extend(docs)
            return real.pipe(docs, batch_size=batch_size)

    analyzer.ner = Spy()
    try:
        analyzer.recognise([(doc, text, list(doc.sents), analyzer.companies.gazetteer_spans(doc))])
    finally:
        analyzer.ner = real
    return given, doc


def test_ner_reads_windows_around_unknown_names_and_finds_what_a_full_reading_finds(analyzer):
    text = (
        "The regulator said on Tuesday that it had opened a formal investigation into the "
        "way the company handled the personal data of millions of its customers last year. "
        "Officials added that the review would take several months to complete and that "
        "fines could follow. Separately, Harbin Quillsoft Ltd was accused of copying the "
        "code by a former engineer, according to a complaint filed in a federal court in "
        "the state, which said the damage ran to hundreds of millions of dollars."
    )
    given, doc = _ner_reads(analyzer, text)
    read = sum(len(d) for d in given)
    # one window around the one unknown name, not the whole text
    assert 0 < read < len(doc) // 2
    full = next(analyzer.nlp.pipe([text]))
    windowed = {(e.start_char, e.end_char, e.label_) for e in doc.ents}
    real_ents = {(e.start_char, e.end_char, e.label_) for e in full.ents}
    quill = [e for e in real_ents if "Quillsoft" in text[e[0] : e[1]]]
    assert quill and set(quill) <= windowed


def test_ner_skips_text_whose_names_the_gazetteer_covers(analyzer):
    given, _ = _ner_reads(
        analyzer, "Anthropic accused Alibaba of distilling its models. Alibaba did not reply."
    )
    assert given == []


def test_places_are_labelled_from_the_data_file_without_the_model(analyzer):
    given, doc = _ner_reads(
        analyzer, "Anthropic said Chinese labs in Beijing and SAN FRANCISCO copied Claude."
    )
    assert given == []
    assert {(e.text, e.label_) for e in doc.ents} == {
        ("Chinese", "NORP"),
        ("Beijing", "GPE"),
        ("SAN FRANCISCO", "GPE"),
    }


def test_a_place_inside_a_longer_name_is_left_to_the_model(analyzer):
    given, doc = _ner_reads(analyzer, "Anthropic told the Washington Post that it had sued.")
    assert given, "the unknown word next to the place sends the window to the model"
    assert ("Washington", "GPE") not in {(e.text, e.label_) for e in doc.ents}


def test_a_country_and_its_field_is_not_a_company(analyzer):
    text = (
        "Anthropic said the case could speed up new rules on who gets access to American AI. "
        "Nortavia Airlines, a Dublin-based carrier, and Japan Airlines said nothing."
    )
    a = analyzer.analyze(text)
    companies = {e.name for e in a.entities if e.kind == "company"}
    assert "American AI" not in companies
    # a place and a kind of business is still a company's name
    assert {"Anthropic", "Nortavia Airlines", "Japan Airlines"} <= companies


def test_a_company_shortened_to_its_first_word_is_the_same_company(analyzer):
    text = (
        "Kestrelon Semiconductor, a chipmaker based in Austin, will pay a $9 million penalty "
        "to settle charges that it shipped chips to a blacklisted firm, the Commerce "
        "Department said. Kestrelon admitted the conduct. Global Predictions, an adviser, "
        "settled too; global demand was strong."
    )
    a = analyzer.analyze(text)
    (k,) = [e for e in a.entities if e.name.startswith("Kestrelon")]
    assert [m.text for m in k.mentions] == ["Kestrelon Semiconductor", "Kestrelon"]
    assert ("Kestrelon Semiconductor", "admitted") in {(r.company, r.response) for r in a.responses}
    # a generic first word stands for nobody
    assert all(m.text != "Global" for e in a.entities for m in e.mentions)


@pytest.mark.parametrize(
    "title,name",
    [
        ("Authors Sue Quillmark AI, Saying It Trained On 190,000 Pirated Books", "Quillmark AI"),
        ("Novelists Sue Inkwell Labs, Saying It Trained On Pirated Books", "Inkwell Labs"),
    ],
)
def test_a_headline_verb_is_not_part_of_the_name(analyzer, title, name):
    a = analyzer.analyze(
        "A group of authors led by novelist Jane Doe sued the startup on Tuesday, accusing it "
        "of training its language models on pirated books.",
        title=title,
    )
    names = {e.name for e in a.entities}
    assert name in names
    assert not any(n.lower().startswith("sue ") for n in names)


@pytest.mark.parametrize(
    "text,name",
    [
        (
            "Britain's competition regulator fines Marlow Labs £2 million over fake reviews. "
            "Marlow Labs said it would appeal.",
            "Marlow Labs",
        ),
        (
            "The CNIL fines Elena Labs €4 million over cookie banners. Elena Labs said it "
            "would appeal the decision.",
            "Elena Labs",
        ),
    ],
)
def test_a_name_ending_in_a_company_word_is_no_person(analyzer, text, name):
    kinds = {e.name: e.kind for e in analyzer.analyze(text).entities}
    assert kinds.get(name) == "company"


def test_a_company_the_model_took_for_a_person_by_its_first_word(analyzer):
    a = analyzer.analyze(
        "The FTC sued on Tuesday to block Corvane Systems' purchase of Pelloran Inc. The lawsuit "
        "says Corvane and Pelloran Inc make most of the tools used to test batteries. Corvane "
        "said it would fight the lawsuit in court."
    )
    kinds = {e.name: e.kind for e in a.entities}
    assert "Corvane" not in kinds
    assert kinds["Corvane Systems"] == "company"
    assert all(al.accuser != "Corvane" for al in a.allegations)


def test_a_name_with_the_full_stop_of_its_sentence_is_one_company(analyzer):
    a = analyzer.analyze(
        "The FTC sued on Tuesday to block Corvane Systems' purchase of Pelloran Inc. The lawsuit "
        "says Pelloran Inc makes most of the tools used to test batteries."
    )
    names = [e.name for e in a.entities if e.name.startswith("Pelloran")]
    assert len(names) == 1


def test_a_headlines_capitalised_nouns_are_not_part_of_the_name(analyzer):
    a = analyzer.analyze(
        "The Federal Communications Commission said on Monday it has opened an investigation "
        "into the data breach disclosed by Halvard Telecom last week.",
        title="FCC Opens Investigation into Halvard Telecom Data Breach",
    )
    names = {e.name for e in a.entities}
    assert "Halvard Telecom" in names
    assert not any("Breach" in n for n in names)


def _surname_doc(text):
    from tracker.nlp.companies import Party, _surname_mentions

    doc = shared_analyzer().nlp(text)
    start = text.index("Tomas Park")
    person = Party("Tomas Park", "person", mentions=[(start, start + 10, "Tomas Park", "ner")])
    company = Party("Brindle Labs", "company", mentions=[(0, 12, "Brindle Labs", "ner")])
    parties = {"Tomas Park": person, "Brindle Labs": company}
    _surname_mentions(doc, text, parties, set())
    return [m[2] for m in person.mentions]


def test_a_surname_after_the_full_name_is_that_person():
    text = ("Brindle Labs was fined on Monday. Its founder Tomas Park spoke to reporters. Park "
            "said the fine was unfair, and investors backed Park.")
    assert _surname_doc(text) == ["Tomas Park", "Park", "Park"]


def test_a_surname_that_is_also_a_common_word_here_is_not_taken():
    # 'park' in lower case: the word is the article's own vocabulary, not only a name
    text = ("Brindle Labs was fined on Monday. Its founder Tomas Park spoke to reporters. Park "
            "said the company would open a park.")
    assert _surname_doc(text) == ["Tomas Park"]


def test_a_surname_opening_a_sentence_must_be_its_subject():
    text = ("Brindle Labs was fined on Monday. Its founder Tomas Park spoke to reporters. "
            "Park rangers closed the site. Investors backed Park.")
    assert _surname_doc(text) == ["Tomas Park", "Park"]


@pytest.mark.parametrize("name,kind", [
    ("Consumer Data Protection Regulation", "other"),
    ("Online Harms Act", "other"),
    ("Data Protection Authority", "regulator"),
    ("Harbor Data Protection Commission", "regulator"),
    ("Actuarial Systems", None),  # "Act" only as a whole last word
])
def test_a_law_named_after_what_it_governs_is_no_regulator(analyzer, name, kind):
    assert analyzer.companies.kind_from_name(name) == kind


def test_function_words_letters_and_roles_name_nobody(analyzer):
    finder = analyzer.companies
    doc = analyzer.nlp.make_doc("However WHO E CEO Founder Brightmoor I.")
    verdicts = {t.text: finder._no_name(doc[t.i:t.i + 1]) for t in doc}
    assert verdicts == {"However": True, "WHO": False, "E": True, "CEO": True, "Founder": True,
                        "Brightmoor": False, "I.": True}


@pytest.mark.parametrize("text,not_names", [
    ("Brightmoor Robotics signed the lease in March. However, the group raised alarm at the "
     "terms of the deal, which it called unfair.", {"However"}),
    ("The sensors were tested on rats first. In 2019, a research group led by Halvard Stene "
     "found the same receptors in people.", {"In 2019", "In"}),
    ("“We will not gamble on safety,” company CEO Orla Brandt said on Tuesday.", {"CEO"}),
])
def test_an_opening_function_word_or_a_role_is_no_company(analyzer, text, not_names):
    names = set(kinds(analyzer.analyze(text)))
    assert not names & not_names, names


def test_a_role_before_of_is_not_part_of_the_name(analyzer):
    a = analyzer.analyze("“The market is wide open,” said Dana Reyes, CEO and Founder of "
                         "Brightmoor Robotics Inc.\n\nBrightmoor Robotics Inc. builds lunar "
                         "landers.")
    names = set(kinds(a))
    assert "Brightmoor Robotics Inc." in names
    assert not any(n.startswith("Founder") for n in names)


def test_a_descriptor_shared_with_people_leaves_a_person_a_person(analyzer):
    a = analyzer.analyze("The fund was backed by investor Carl Danvers, who said bubbles do not "
                         "grow out of thin air. Rival Dana Whitcombe disagreed.")
    k = kinds(a)
    assert k.get("Carl Danvers") == "person" and k.get("Dana Whitcombe") == "person", k


@pytest.mark.parametrize("words,cut", [
    ("Harbor Music Awards after Delvin", "Harbor Music Awards"),
    ("Velmora Labs against Corvane", "Velmora Labs"),
    ("Council on Energy Policy", "Council on Energy Policy"),  # a name's own small word
    ("Society for the Prevention of Cruelty to Children", "Society for the Prevention of "
     "Cruelty to Children"),
])
def test_a_lower_case_preposition_between_two_names_ends_the_first(analyzer, words, cut):
    from spacy.tokens import Span

    doc = analyzer.nlp.make_doc(words + " said.")
    span = analyzer.companies._clean(doc, Span(doc, 0, len(doc) - 2, label="ORG"))
    assert span is not None and span.text == cut


def test_a_role_of_the_institution_leaves_the_institution(analyzer):
    from spacy.tokens import Span

    doc = analyzer.nlp.make_doc("Chairman of the Harbor Reserve Board said.")
    span = analyzer.companies._clean(doc, Span(doc, 0, 6, label="ORG"))
    assert span is not None and span.text == "Harbor Reserve Board"
