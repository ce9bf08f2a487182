"""The analyzer never raises on odd input: empty, blank, huge, control characters, languages."""

from __future__ import annotations

import pytest

from tests.support.nlp import shared_analyzer
from tracker.nlp import join_title

ODD_TEXTS = {
    "empty": "",
    "whitespace": "  \n\t \r\n \u00a0 ",
    "control": "Acme Inc\x00 was \x07fined $5 million\x1b[31m by the FTC.\r\n\x0c\x7f",
    "non_english": "Die Europäische Kommission hat gegen Google eine Geldbuße von 2,42 "
    "Milliarden Euro verhängt. "
    "中国监管机构对阿里巴巴处以罚款。 Компания отрицает обвинения.",
    "punctuation": "!!!???... ,,,, $$$ €€€ 123456789012345678901234567890 " * 50,
    "newlines": "\n" * 3000,
    "lone_surrogate": "Acme Inc \ud800 sued Bolt Corp, alleging it stole trade secrets.",
    "emoji": "🚨🚨 Acme Inc accused of fraud 💸 by the SEC 🚨",
}


@pytest.mark.parametrize("name", sorted(ODD_TEXTS))
def test_odd_text_gives_an_analysis(name):
    text = ODD_TEXTS[name]
    analysis = shared_analyzer().analyze(text, title=None if name != "control" else "\x00\x01")
    assert isinstance(analysis.to_prediction("x"), dict)
    for e in analysis.entities:
        for m in e.mentions:
            assert analysis.text[m.start : m.end] == m.text
    for a in analysis.allegations:
        assert 0 <= a.start <= a.end <= len(analysis.text)


def test_blank_text_is_empty_analysis():
    for text in ("", "   ", "\n\n\t"):
        a = shared_analyzer().analyze(text)
        assert (a.entities, a.allegations, a.figures, a.responses) == ((), (), (), ())


def test_lone_surrogate_keeps_offsets():
    joined = join_title("a \ud800 b", "T")
    assert len(joined) == len("T\n\na \ud800 b") and "\ufffd" in joined


@pytest.mark.slow
def test_200k_character_text():
    text = ("The FTC sued Acme Inc, alleging it misled 24,000 customers. Acme denied it. " * 2700)[
        :200_000
    ]
    analysis = shared_analyzer().analyze(text, title="Acme sued")
    assert "Acme Inc" in {e.name for e in analysis.companies} or analysis.companies
    assert analysis.allegations and analysis.figures


def test_analyze_many_with_odd_items_keeps_order():
    items = [
        (ODD_TEXTS["empty"], None),
        ("The SEC charged Acme Inc with fraud.", "SEC charges Acme"),
        (ODD_TEXTS["lone_surrogate"], ""),
        (ODD_TEXTS["non_english"], None),
    ]
    out = list(shared_analyzer().analyze_many(items))
    assert len(out) == 4 and out[0].allegations == () and out[1].allegations


def test_large_blocks_go_back_to_the_system_on_glibc():
    import platform
    import sys

    from tracker.nlp.model import return_large_blocks

    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert return_large_blocks() is True


GERMAN = ("Die Digitalisierung als Wachstumstreiber zieht sich durch alle Branchen. Auf der Messe "
          "in Köln zeigen Anbieter wie Velmora ihre Plattformen, und die Besucher erwarten "
          "Vorträge über Datenschutz, Impfungen in Kliniken, Prozesse in Einrichtungen und "
          "Effizienz. Nach Angaben der Veranstalter kommen mehr Aussteller als im Vorjahr; viele "
          "Gespräche drehen sich um Informationen, Primärsysteme und die Anbindung an Netze.")
ENGLISH = ("Velmora said on Monday that Corvane Systems used 12,000 fake accounts to copy its "
           "models, and it has asked regulators in Brussels to look into the matter. Corvane "
           "Systems denied the claims and said it would fight any case brought against it, "
           "adding that its own engineers had built every one of its products from scratch.")


def test_a_text_in_another_language_is_not_read_as_english():
    from tracker.nlp.pipeline import looks_english

    words = shared_analyzer().english_words
    assert looks_english(ENGLISH, words)
    assert not looks_english(GERMAN, words)
    assert not looks_english("Сегодня компания объявила о новых правилах. " * 10, words)
    assert looks_english("Velmora Corvane Impfungen", words)  # too short to tell


def test_a_text_in_another_language_gets_an_empty_analysis_in_its_place():
    out = list(shared_analyzer().analyze_many([(ENGLISH, None), (GERMAN, "Messe"),
                                               (ENGLISH, "Velmora v Corvane")]))
    assert [bool(a.entities) for a in out] == [True, False, True]
    assert out[1].text == join_title(GERMAN, "Messe")  # offsets still index the article
    assert not (out[1].allegations or out[1].figures or out[1].responses)
    assert out[2].text == join_title(ENGLISH, "Velmora v Corvane")
