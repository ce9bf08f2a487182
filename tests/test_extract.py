"""Content extraction: body text and metadata from sample pages, bad bytes and bad input."""

from __future__ import annotations

import gzip
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.extract import _iso, extract_article, extract_body, guess_language
from tracker.records import ExtractedArticle

PAGES = Path(__file__).parent / "data" / "pages"
ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "article_body.py"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


# --- a news page with JSON-LD and OpenGraph ---------------------------------------------------


@pytest.fixture(scope="module")
def news() -> ExtractedArticle:
    return extract_article(page("news_jsonld.html"),
                           "https://ledger.example/tech/2024/03/05/northwind-cloud-fine?utm_source=x")


def test_news_body_is_the_article_and_nothing_else(news):
    paragraphs = news.text.split("\n")
    assert paragraphs[0].startswith("The national data protection authority on Tuesday fined")
    assert paragraphs[-1].endswith("seek damages in a separate civil case.")
    assert len(paragraphs) == 5
    for junk in ("Related stories", "Sign up", "newsletter", "Copyright", "cookies",
                 "Share on", "Finally someone", "Twelve million is nothing", "Home", "Privacy",
                 "Regulator fines Northwind Cloud over data retention"):
        assert junk not in news.text, junk


def test_news_metadata_prefers_json_ld(news):
    assert news.title == "Regulator fines Northwind Cloud & partner over data retention"
    assert news.authors == ("Maria Okafor", "Jonas Berg")
    assert news.published == "2024-03-05T08:30:00Z"
    assert news.canonical_url == "https://ledger.example/tech/2024/03/05/northwind-cloud-fine"
    assert news.site_name == "The Ledger Daily"
    assert news.language == "en"
    assert news.method == "page"
    assert news.url.endswith("?utm_source=x")  # the fetched URL is kept as given


def test_news_keeps_every_date_candidate(news):
    candidates = dict(news.date_candidates)
    assert candidates["json-ld:datePublished"] == "2024-03-05T08:30:00Z"
    assert candidates["json-ld:dateModified"] == "2024-03-06T10:00:00Z"
    assert candidates["og:published_time"] == "2024-03-05T08:30:00Z"  # +01:00 made UTC
    assert candidates["time"] == "2024-03-05T08:30:00Z"
    assert candidates["url"] == "2024-03-05"


# --- a page with OpenGraph only -----------------------------------------------------------------


def test_og_only_page():
    art = extract_article(page("og_only.html"), "https://review.example/news/watchdog?ref=feed")
    assert art.title == "Watchdog opens probe into ticket reseller"
    assert art.authors == ("Sam Lee",)  # article:author holds a profile URL: not a name
    assert art.published == "2023-11-20T21:45:00Z"  # 16:45 at -05:00
    assert art.canonical_url == "https://review.example/news/watchdog-ticket-probe"
    assert art.site_name == "Marketwire Review"
    assert art.language == "en"  # from lang="en-GB"
    assert art.text.startswith("The competition watchdog has opened a formal investigation")
    assert art.text.endswith("fines of up to 10 percent of global turnover.")
    for junk in ("Read more", "Log in", "Follow us", "Deals", "Marketwire Ltd"):
        assert junk not in art.text, junk


# --- aggregator junk shaped like ../shared/seed/article.txt -------------------------------------


def test_aggregator_junk_page_gives_a_clean_body():
    art = extract_article(page("aggregator_junk.html"),
                          "http://urbanhub.example/encyclopedia/paylane.html")
    lines = art.text.split("\n")
    assert lines[0].startswith("A consumer group has accused the payment app Paylane")
    assert lines[-1].endswith("stop sharing location data altogether.")
    assert "Key Developments" in lines  # the article's own section heads stay
    for junk in ("Time:", "Author:", "Views:", "Comments:", "Summary:", "referrerpolicy",
                 "style=", "copyright", "powered by", "sitemap", "Encyclopedia",
                 "Fintech app Paylane accused of selling location data"):
        assert junk not in art.text, junk
    assert art.title == "Fintech app Paylane accused of selling location data"
    # the page's "Time:2010-12-5" is implausible, but it is what the page says: a candidate
    assert ("trafilatura", "2010-12-05") in art.date_candidates


def test_seed_article_text_cleans_up(shared_dir):
    """The shared seed (aggregator copy as text) wrapped the way such pages serve it."""
    seed = (shared_dir / "seed" / "article.txt").read_text(encoding="utf-8")
    html = ("<html><body><div class='content'>" + seed.replace("\n", "<br>\n")
            + "</div></body></html>")
    body = extract_body(html)
    assert "Anthropic" in body
    for junk in ("Views:", "Comments:0", "Summary:", "referrerpolicy", "powered by"):
        assert junk not in body, junk


# --- article split over several containers --------------------------------------------------------


def test_article_split_over_sibling_containers_is_stitched_in_order():
    body = extract_body(page("split_chunks.html"), "https://mag.example/orbit")
    starts = ["Government lawyers say", "The complaint, filed", "Orbit argues", "Economists hired",
              "The company's own documents", "A ruling against Orbit", "Orbit said in a statement"]
    positions = [body.find(s) for s in starts]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)
    assert "Advertisement" not in body and "All rights reserved" not in body


# --- charsets ------------------------------------------------------------------------------------

FRENCH = ("<html><head>{meta}<title>Enquête</title></head><body><article>"
          "<p>L'autorité de la concurrence a infligé une amende de 150 millions d'euros à la "
          "société Éditions Générales, accusée d'avoir évincé ses concurrents du marché des "
          "manuels scolaires pendant près de dix ans.</p>"
          "<p>Selon la décision, l'éditeur a imposé des remises exclusives aux libraires et "
          "a menacé de retirer ses titres à ceux qui vendaient des ouvrages concurrents. "
          "La société conteste ces accusations et a annoncé qu'elle ferait appel.</p>"
          "</article></body></html>")


def test_utf8_bytes_under_a_wrong_latin1_label():
    data = FRENCH.format(meta='<meta charset="iso-8859-1">').encode("utf-8")
    art = extract_article(data, "https://fr.example/a")
    assert "infligé une amende de 150 millions d'euros" in art.text
    assert "Ã" not in art.text
    assert art.language == "fr"  # guessed from the text: the page declares none


def test_undeclared_cp1252_bytes_are_detected():
    data = FRENCH.format(meta="").encode("cp1252")
    body = extract_body(data)
    assert "Éditions Générales, accusée d'avoir évincé" in body


def test_encoding_argument_beats_a_wrong_meta_declaration():
    data = FRENCH.format(meta='<meta charset="utf-8">').encode("cp1252")
    body = extract_body(data, encoding="windows-1252")
    assert "décision, l'éditeur a imposé des remises" in body


def test_declared_cyrillic_charset():
    html = ("<html><head><meta http-equiv='Content-Type' content='text/html; "
            "charset=windows-1251'></head><body><p>Федеральная антимонопольная служба "
            "возбудила дело против компании из-за завышенных цен на услуги связи для "
            "миллионов абонентов в нескольких регионах страны.</p></body></html>")
    art = extract_article(html.encode("windows-1251"), "https://ru.example/a")
    assert "антимонопольная служба возбудила дело" in art.text
    assert art.language == "ru"


def test_bad_bytes_are_replaced_not_raised():
    data = FRENCH.format(meta='<meta charset="utf-8">').encode("utf-8")
    data = data.replace(b"amende", b"am\xff\xfeende")
    body = extract_body(data)
    assert "150 millions d'euros" in body
    assert "\ufffd" in body


# --- empty and garbage input ---------------------------------------------------------------------


def noise(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(size))


@pytest.mark.parametrize("bad", [
    None, "", b"", "   \n\t", "<html></html>",
    "<html><body><script>var a = 1;</script></body></html>",
    b"\x00" * 1000, b"\x89PNG\r\n\x1a\n" + noise(7, 3000), b"%PDF-1.7\n" + noise(3, 2000),
    noise(11, 8000), "<<<<>>>>&&&&",
], ids=["none", "empty-str", "empty-bytes", "whitespace", "empty-html", "script-only", "nul-bytes",
        "png", "pdf", "random-bytes", "brackets"])
def test_empty_or_garbage_input_gives_empty_text(bad):
    assert extract_body(bad) == ""
    art = extract_article(bad, "https://x.example/a", fallback_title="From the feed",
                          fallback_published="2024-01-02T03:04:05+02:00")
    assert art.text == ""
    assert art.title == "From the feed"
    assert art.published == "2024-01-02T01:04:05Z"
    assert art.date_candidates == (("fallback", "2024-01-02T01:04:05Z"),)


def test_fragment_and_plain_text_inputs():
    assert extract_body("<p>The regulator fined Acme 5 million dollars on Monday.</p>") == \
        "The regulator fined Acme 5 million dollars on Monday."
    assert extract_body("Acme was fined on Monday.\n\nAcme said it would appeal.") == \
        "Acme was fined on Monday.\nAcme said it would appeal."


def test_page_without_metadata_uses_fallbacks_and_guesses():
    html = ("<html><body><div><p>Die Bundesnetzagentur hat gegen den Anbieter ein Bußgeld "
            "verhängt, weil er Kunden mit unerlaubten Werbeanrufen belästigt haben soll. Das "
            "Unternehmen weist die Vorwürfe zurück und prüft rechtliche Schritte.</p>"
            "</div></body></html>")
    art = extract_article(html, "https://de.example/2023/07/14/bussgeld",
                          fallback_title="Bußgeld gegen Anbieter")
    assert art.title == "Bußgeld gegen Anbieter"
    assert art.language == "de"
    assert art.published == "2023-07-14"  # from the URL
    assert ("url", "2023-07-14") in art.date_candidates
    assert art.authors == () and art.canonical_url is None


def test_extract_body_matches_extract_article_text(news):
    assert extract_body(page("news_jsonld.html"), news.url) == news.text


# --- small parts -------------------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [
    ("2024-03-05", "2024-03-05"),
    ("2024-03-05T10:00:00+02:00", "2024-03-05T08:00:00Z"),
    ("2024-03-05T10:00:00.000+0000", "2024-03-05T10:00:00Z"),
    ("2024-03-05 10:00", "2024-03-05T10:00:00"),
    ("Tue, 05 Mar 2024 10:00:00 GMT", "2024-03-05T10:00:00Z"),
    ("1709632800", "2024-03-05T10:00:00Z"),
    ("not a date", None),
    ("2024-13-45", None),
])
def test_iso_dates(value, expected):
    assert _iso(value) == expected


@pytest.mark.parametrize("text,lang", [
    ("The company said that it was not aware of the complaint and would respond to the "
     "regulator in due course.", "en"),
    ("La empresa dijo que no tenía conocimiento de la denuncia y que respondería al "
     "regulador en su momento.", "es"),
    ("公正取引委員会は、同社が下請け業者に不当な値引きを求めたとして勧告を出した。", "ja"),
    ("12345 67890", None),
])
def test_guess_language(text, lang):
    assert guess_language(text) == lang


def test_byline_authors_are_split_and_cleaned():
    html = ('<html><head><meta name="author" content="By Ana Ruiz and Tom Krisher, AP Auto '
            'Writer"></head><body><p>' + "A long enough paragraph about a recall. " * 5
            + "</p></body></html>")
    assert extract_article(html, "https://x.example/a").authors == ("Ana Ruiz", "Tom Krisher")
    html = html.replace("By Ana Ruiz and Tom Krisher, AP Auto Writer", "Sarah E. Needleman")
    assert extract_article(html, "https://x.example/a").authors == ("Sarah E. Needleman",)


def test_closing_prose_that_mentions_subscriptions_is_kept():
    last = ("Analysts said the price rise would test how many readers are willing to keep "
            "paying for a subscription when free alternatives are a click away.")
    html = ("<html><body><article>" + "<p>Paragraph of reporting on the newspaper business "
            "and its digital revenue, with enough words to count as prose.</p>" * 4
            + f"<p>{last}</p><p>Sign up for our newsletter</p></article></body></html>")
    body = extract_body(html)
    assert body.endswith(last)


# --- the benchmark script -----------------------------------------------------------------------


def test_benchmark_exits_cleanly_without_data(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH), "--data", str(tmp_path / "absent")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "skipped" in done.stdout and "absent" in done.stdout


def test_benchmark_runs_on_a_small_dataset(tmp_path):
    """Plumbing on two of our own pages, scored by a stand-in for the benchmark's score.py."""
    data = tmp_path / "bench"
    (data / "html").mkdir(parents=True)
    truth = {}
    for name in ("news_jsonld.html", "og_only.html"):
        key = name.split(".")[0]
        (data / "html" / f"{key}.html.gz").write_bytes(gzip.compress(page(name)))
        truth[key] = {"articleBody": extract_body(page(name)), "url": None}
    (data / "ground-truth.json").write_text(json.dumps(truth))
    # stand-in scorer: the fraction of pages whose prediction equals the truth exactly
    (data / "score.py").write_text(
        "import json, sys\n"
        "here = __import__('pathlib').Path(__file__).parent\n"
        "truth = json.loads((here / 'ground-truth.json').read_text())\n"
        "pred = {json.loads(l)['id']: json.loads(l)['text'] for l in open(sys.argv[1])}\n"
        "ok = sum(pred.get(k) == v['articleBody'] for k, v in truth.items()) / len(truth)\n"
        "print(json.dumps({'f1': ok, 'precision': ok, 'recall': ok, 'pages': len(truth)}))\n")
    done = subprocess.run([sys.executable, str(BENCH), "--data", str(data), "--repeat", "1",
                           "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pages"] == 2
    assert report["results"]["tracker"]["f1"] == 1.0
    assert report["results"]["trafilatura"]["ms_per_page"] > 0
    assert report["time_ratio"] > 0


@pytest.mark.slow
def test_article_body_quality_gate(shared_dir):
    """Regression gate: our body F1 on the shared benchmark stays at or above 0.965."""
    data = shared_dir / "benchmarks" / "article-body"
    if not (data / "score.py").exists():
        pytest.skip("article-body benchmark not present")
    spec = importlib.util.spec_from_file_location("article_body_score", data / "score.py")
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    precisions, recalls = [], []
    for key, gold in truth.items():
        got = extract_body(gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes()),
                           gold.get("url"))
        tp, fp, fn = score.page_counts(gold["articleBody"], got)
        if fp == fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp:
            precisions.append(tp / (tp + fp))
        if tp + fn:
            recalls.append(tp / (tp + fn))
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    assert 2 * p * r / (p + r) >= 0.965


def test_json_ld_article_body_stands_in_for_a_teaser_page():
    paragraphs = [f"Paragraph {i}: the commission found that the platform had ranked its own "
                  "shopping service above rivals in search results for several years."
                  for i in range(8)]
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                     "headline": "Platform fined for self-preferencing",
                     "articleBody": "\n".join(paragraphs)})
    teaser = ("Subscribers can read the full story about the commission's decision on the "
              "platform's search results in our app, which renders the article with scripts.")
    html = (f'<html><head><script type="application/ld+json">{ld}</script></head><body>'
            f'<div id="app"><article><p>{teaser}</p></article></div></body></html>')
    art = extract_article(html, "https://x.example/story")
    assert art.text.split("\n") == paragraphs
    assert art.title == "Platform fined for self-preferencing"


def test_json_ld_teaser_does_not_replace_a_full_page_body(news):
    html = page("news_jsonld.html").decode().replace(
        '"inLanguage": "en"}', '"inLanguage": "en", "articleBody": "The national data '
        'protection authority on Tuesday fined Northwind Cloud..."}')
    assert extract_body(html) == news.text


def test_text_in_another_language_than_the_template_declares():
    html = ('<html lang="en"><body><article><p>Die Datenschutzbehörde hat gegen das Unternehmen '
            "ein Bußgeld in Höhe von 2 Millionen Euro verhängt, weil es die Daten seiner Kunden "
            "ohne Einwilligung an Werbepartner weitergegeben haben soll. Das Unternehmen will "
            "gegen den Bescheid vorgehen und bestreitet die Vorwürfe.</p></article></body></html>")
    assert extract_article(html, "https://x.example/a").language == "de"
    english = html.replace('lang="en"', 'lang="en-US"')
    assert extract_article(english.replace("Die Datenschutzbehörde", "Die Behörde"),
                           "https://x.example/a").language == "de"
    plain = ('<html lang="de"><body><p>The company said that it was not aware of the '
             "complaint and that it would respond to the regulator in due course, adding "
             "that it had always complied with the law.</p></body></html>")
    assert extract_article(plain, "https://x.example/b").language == "en"
