"""Tests for tracker.dates: choosing the publication date and flagging implausible candidates."""

from pathlib import Path

import pytest

from tracker import dates
from tracker.records import Entity

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "article.txt"


def test_page_metadata_beats_weaker_sources():
    chosen = dates.choose_published(
        [
            ("trafilatura", "2026-02-24"),
            ("feed", "2026-02-24T10:00:00Z"),
            ("json-ld:datePublished", "2026-02-23T14:05:00Z"),
        ],
        fetched="2026-03-01T00:00:00+00:00",
    )
    assert (chosen.value, chosen.source, chosen.flags) == (
        "2026-02-23T14:05:00Z",
        "json-ld:datePublished",
        (),
    )


def test_date_before_a_named_product_existed_is_rejected_for_the_feed_date():
    text = "Anthropic said DeepSeek used Claude to train its models."
    chosen = dates.choose_published(
        [
            ("json-ld:datePublished", "2010-12-05T17:23:32Z"),
            ("og:published_time", "2010-12-05"),
            ("feed", "2026-02-24T10:00:00Z"),
        ],
        fetched="2026-03-01",
        text=text,
    )
    assert chosen.value == "2026-02-24T10:00:00Z" and chosen.source == "feed"
    assert chosen.flags == ("before_existence",)
    assert all("Claude dates from 2023" in why for _, _, why in chosen.rejected)
    assert "2010-12-05" in chosen.describe()


def test_entities_count_as_named():
    chosen = dates.choose_published(
        [("trafilatura", "2019-05-01")],
        fetched="2026-03-01",
        text="no names here",
        entities=[Entity("ChatGPT", "product")],
    )
    assert chosen.value is None and "before_existence" in chosen.flags


@pytest.mark.skipif(not SEED.exists(), reason="../shared is not available")
def test_seed_article_2010_date_is_flagged():
    seed = SEED.read_text(encoding="utf-8")
    chosen = dates.choose_published(
        [("trafilatura", "2010-12-05")], fetched="2026-03-01", text=seed
    )
    assert chosen.value is None
    assert chosen.flags == ("before_existence", "no_plausible_date")


def test_after_fetch_is_rejected():
    chosen = dates.choose_published(
        [("trafilatura", "2026-11-20"), ("url", "2026-02")], fetched="2026-03-01T12:00:00Z"
    )
    assert chosen.value == "2026-02" and chosen.source == "url"
    assert chosen.flags == ("after_fetch",)


# "02/11/2026" on a page: trafilatura read it day-first (2 November); the page meant 11 February.
def test_ambiguous_guess_is_read_the_way_the_feed_date_agrees_with():
    chosen = dates.choose_published(
        [("trafilatura", "2026-11-02"), ("feed", "2026-02-10T16:00:00Z")],
        fetched="2026-11-28",
    )
    assert chosen.source == "feed" and "contradicts_page" not in chosen.flags
    assert chosen.rejected == (
        ("trafilatura", "2026-11-02", "other_reading: the page's other dates say 2026-02-10"),
    )
    alone = dates.choose_published(
        [("trafilatura", "2026-11-02"), ("url", "2026-02")], fetched="2026-11-28"
    )
    assert (alone.value, alone.flags) == ("2026-02-11", ("other_reading",))


def test_ambiguous_reading_after_the_fetch_is_impossible():
    chosen = dates.choose_published([("htmldate", "2026-11-02")], fetched="2026-03-01T12:00:00Z")
    assert chosen.value == "2026-02-11" and chosen.flags == ("other_reading",)
    assert "after the fetch" in chosen.rejected[0][2]


def test_incident_context_decides_an_ambiguous_date_and_nothing_else_keeps_the_nearest():
    alone = dates.choose_published([("trafilatura", "2026-11-02")], fetched="2026-11-28")
    assert alone.value == "2026-11-02" and alone.flags == ("ambiguous_day_month",)
    assert alone.rejected[0][:2] == ("trafilatura", "2026-02-11")
    assert "[trafilatura said 2026-02-11 (ambiguous_day_month" in alone.describe()
    told = dates.choose_published(
        [("trafilatura", "2026-11-02")],
        fetched="2026-11-28",
        context=["2026-02-10", dates.date(2026, 2, 10), "not a date"],
    )
    assert told.value == "2026-02-11" and told.flags == ("other_reading",)
    assert "related stories" in told.rejected[0][2]


def test_incident_context_is_looked_up_only_for_an_ambiguous_date():
    calls = []

    def context():
        calls.append(1)
        return ["2026-02-10"]

    plain = dates.choose_published([("trafilatura", "2026-11-20")], fetched="2026-11-28",
                                   context=context)
    assert plain.value == "2026-11-20" and calls == []
    told = dates.choose_published([("trafilatura", "2026-11-02")], fetched="2026-11-28",
                                  context=context)
    assert told.value == "2026-02-11" and calls == [1]


def test_raw_numeric_dates_and_unambiguous_values():
    # A raw value from any source: its day-first and month-first readings.
    chosen = dates.choose_published(
        [("meta:date", "02/11/2026"), ("url", "2026-02")], fetched="2026-11-28"
    )
    assert chosen.value == "2026-02-11" and chosen.source == "meta:date"
    plain = dates.choose_published([("meta:date", "25.02.2026")], fetched="2026-11-28")
    assert (plain.value, plain.flags) == ("2026-02-25", ())
    # Structured metadata is ISO by definition, and equal day and month read one way.
    for cand in (("json-ld:datePublished", "2026-11-02"), ("trafilatura", "2026-05-05")):
        chosen = dates.choose_published([cand], fetched="2026-11-28")
        assert (chosen.value, chosen.flags) == (cand[1], ())


def test_one_candidate_against_the_others_contradicts_the_page():
    chosen = dates.choose_published(
        [
            ("json-ld:datePublished", "2026-01-02"),
            ("og:published_time", "2026-02-20"),
            ("time", "2026-02-20"),
            ("trafilatura", "2026-02-21"),
        ],
        fetched="2026-03-01",
    )
    assert chosen.source == "og:published_time"
    assert chosen.rejected[0][0] == "json-ld:datePublished"
    assert chosen.flags == ("contradicts_page",)


def test_text_reporting_later_events_contradicts_the_date():
    text = "On February 20, 2026 the regulator opened a probe. By 21 February 2026 it had widened."
    chosen = dates.choose_published(
        [("og:published_time", "2025-06-01")], fetched="2026-03-01", text=text
    )
    assert chosen.value is None and "contradicts_page" in chosen.flags
    assert dates.text_dates(text) == [dates.date(2026, 2, 20), dates.date(2026, 2, 21)]


def test_bad_input_never_raises():
    assert dates.choose_published([], fetched=None).flags == ("no_candidates",)
    chosen = dates.choose_published(
        [("x", None), 5, ("meta:date", "yesterday"), ("feed", "2026-02-30")], fetched="garbage"
    )
    assert chosen.value is None and chosen.flags == ("unparseable", "no_plausible_date")
    assert len(chosen.rejected) == 4


def test_founded_file_loads_and_user_files_add(tmp_path):
    names = {f.name: f.year for f in dates.load_founded()}
    assert names["Anthropic"] == 2021 and names["Claude"] == 2023 and names["ChatGPT"] == 2022
    assert names["OpenAI"] == 2015 and names["DeepSeek"] == 2023
    extra = tmp_path / "mine.yaml"
    extra.write_text("- {name: Quillpad, year: 2024}\n")
    founded = dates.load_founded((str(extra),))
    assert dates.named_since("Quillpad sued", founded=founded) == ("Quillpad", 2024)
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {name: NoYear}\n")
    with pytest.raises(ValueError, match="needs `name` and `year`"):
        dates.load_founded((str(bad),))
