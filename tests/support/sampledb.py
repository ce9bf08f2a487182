"""A small test database built through the real storage functions (no NLP model needed).

Each article is hand-written with the records the NLP step would produce, so
search, web and CLI tests know exactly what is stored.
"""

from __future__ import annotations

from pathlib import Path

from tracker.records import (
    Allegation,
    Analysis,
    Entity,
    ExtractedArticle,
    FeedConfig,
    Figure,
    Mention,
    Response,
)
from tracker.store import open_db, save_article, upsert_feed

XSS_TITLE = "<script>alert(1)</script>"


# As the gazetteer gives them (the country filters of search read these).
COUNTRIES = {"Anthropic": "US", "Alibaba": "CN", "Alibaba Cloud": "CN", "PDPC": "SG",
             "Meta": "US", "Data Protection Commission": "IE", "OpenAI": "US",
             "DeepSeek": "CN", "Google": "US", "CNIL": "FR"}


def _analysis(title: str, body: str, *, entities=(), allegations=(), figures=(),
              responses=()) -> Analysis:
    """Build an Analysis whose offsets point into title + "\\n\\n" + body, as the NLP step does."""
    full = f"{title}\n\n{body}"

    def span(phrase: str) -> tuple[int, int]:
        start = full.index(phrase)
        return start, start + len(phrase)

    ents = []
    for name, kind, parent, aliases, words in entities:
        mentions = []
        for word in words:
            s, e = span(word)
            mentions.append(Mention(text=word, start=s, end=e, name=name))
        ents.append(Entity(name=name, kind=kind, parent=parent, aliases=tuple(aliases),
                           mentions=tuple(mentions), country=COUNTRIES.get(name)))
    alls = []
    for accuser, accused, types, status, evidence in allegations:
        s, e = span(evidence)
        alls.append(Allegation(accuser=accuser, accused=tuple(accused), types=tuple(types),
                               status=status, evidence=evidence, start=s, end=e, confidence=0.8))
    figs = []
    for value, unit, qualifier, text, allegation in figures:
        s, e = span(text)
        figs.append(Figure(value=value, unit=unit, qualifier=qualifier, text=text, start=s, end=e,
                           allegation=allegation))
    resps = []
    for company, response, evidence in responses:
        s, e = span(evidence)
        resps.append(Response(company=company, response=response, evidence=evidence, start=s,
                              end=e))
    return Analysis(text=full, entities=tuple(ents), allegations=tuple(alls),
                    figures=tuple(figs), responses=tuple(resps), extractor_version="test-1")


ARTICLES = [
    {
        "url": "https://news.example.com/anthropic-distillation",
        "title": "Anthropic accuses Alibaba of model distillation",
        "body": ("Anthropic said on Monday that Alibaba used over 25,000 accounts to distill its "
                 "Claude models. The company said the fraudulent accounts violated its terms of "
                 "service. Alibaba denied the claims in a statement."),
        "published": "2025-03-10T09:00:00+00:00", "site": "Example News", "lang": "en",
        "feed": "wire",
        "entities": [("Anthropic", "company", None, [], ["Anthropic"]),
                     ("Alibaba", "company", None, ["Alibaba Group", "Alibaba Group Holding"],
                      ["Alibaba"])],
        "allegations": [("Anthropic", ["Alibaba"], ["model_distillation", "unauthorized_access"],
                         "alleged",
                         "Anthropic said on Monday that Alibaba used over 25,000 accounts to "
                         "distill its Claude models.")],
        "figures": [(25000, "accounts", "over", "over 25,000 accounts", 0)],
        "responses": [("Alibaba", "denied", "Alibaba denied the claims in a statement.")],
    },
    {
        "url": "https://cloud.example.org/alibaba-cloud-breach",
        "title": "Alibaba Cloud investigated over data breach",
        "body": ("Regulators in Singapore are investigating Alibaba Cloud after a data breach "
                 "exposed 1,200,000 user records. Alibaba Cloud said it was cooperating."),
        "published": "2024-11-02T12:00:00+00:00", "site": "Cloud Times", "lang": "en",
        "feed": "tech",
        "entities": [("Alibaba Cloud", "company", "Alibaba", ["Aliyun"], ["Alibaba Cloud"]),
                     ("PDPC", "regulator", None, ["Personal Data Protection Commission"], [])],
        "allegations": [("PDPC", ["Alibaba Cloud"], ["data_breach"], "investigating",
                         "Regulators in Singapore are investigating Alibaba Cloud after a data "
                         "breach exposed 1,200,000 user records.")],
        "figures": [(1200000, "records", None, "1,200,000 user records", 0)],
        "responses": [("Alibaba Cloud", "investigating", "Alibaba Cloud said it was cooperating.")],
    },
    {
        "url": "https://eu.example.net/meta-fine",
        "title": "EU regulator fines Meta EUR 1.2 billion over data transfers",
        "body": ("The Irish Data Protection Commission fined Meta EUR 1.2 billion for "
                 "transferring personal data of European users to the United States. "
                 "Meta said it would appeal."),
        "published": "2023-05-22T08:30:00+00:00", "site": "EU Policy Wire", "lang": "en",
        "feed": "policy",
        "entities": [("Meta", "company", None, ["Meta Platforms", "Facebook"], ["Meta"]),
                     ("Data Protection Commission", "regulator", None, ["DPC"],
                      ["Data Protection Commission"])],
        "allegations": [("Data Protection Commission", ["Meta"], ["privacy_violation"], "fined",
                         "The Irish Data Protection Commission fined Meta EUR 1.2 billion for "
                         "transferring personal data of European users to the United States.")],
        "figures": [(1.2e9, "EUR", None, "EUR 1.2 billion", 0)],
        "responses": [("Meta", "disputed", "Meta said it would appeal.")],
    },
    {
        "url": "https://news.example.com/openai-deepseek",
        "title": "OpenAI says DeepSeek distilled its models",
        "body": ("OpenAI told reporters it had evidence that DeepSeek distilled outputs of its "
                 "models to train its own AI. DeepSeek did not respond to a request for comment."),
        "published": "2025-01-29T15:00:00+00:00", "site": "Example News", "lang": "en",
        "feed": "wire",
        "entities": [("OpenAI", "company", None, [], ["OpenAI"]),
                     ("DeepSeek", "company", None, [], ["DeepSeek"])],
        "allegations": [("OpenAI", ["DeepSeek"], ["model_distillation"], "alleged",
                         "OpenAI told reporters it had evidence that DeepSeek distilled outputs of "
                         "its models to train its own AI.")],
        "figures": [],
        "responses": [("DeepSeek", "no_comment",
                       "DeepSeek did not respond to a request for comment.")],
    },
    {
        "url": "https://example.org/xss?a=1&b=<2>",
        "title": XSS_TITLE,
        "body": ("A test article whose title carries markup <b>bold</b> and a script tag, "
                 "about Anthropic's quarterly results."),
        "published": "2022-07-01", "site": "Example <Blog>", "lang": "en-GB",
        "feed": "tech",
        "entities": [("Anthropic", "company", None, [], [])],
        "allegations": [], "figures": [], "responses": [],
    },
    {
        "url": "https://fr.example.fr/amende",
        "title": "La CNIL inflige une amende",
        "body": ("La CNIL a infligé une amende de 50 millions d'euros à Google pour défaut "
                 "de consentement."),
        "published": "2019-01-21", "site": "Exemple FR", "lang": "fr",
        "feed": "policy",
        "entities": [("Google", "company", None, ["Alphabet"], ["Google"]),
                     ("CNIL", "regulator", None, [], ["CNIL"])],
        "allegations": [("CNIL", ["Google"], ["privacy_violation"], "fined",
                         "La CNIL a infligé une amende de 50 millions d'euros à Google pour "
                         "défaut de consentement.")],
        "figures": [(50e6, "EUR", None, "50 millions d'euros", 0)],
        "responses": [],
    },
]

# A story told by several outlets, for incidents (tracker.incidents): an original
# report, a syndicated copy wrapped in aggregator junk, an independent rewrite
# that gives another figure (contested: 24,000 vs 25,000 accounts) and a later
# probe; then two pages whose date metadata says 2010 about Claude.
NORTHWIND_BODY = (
    "Contoso said on Monday that Northwind Robotics scraped data from 24,000 accounts on its "
    "customer portal over six months. The complaint, filed in a federal court in Seattle, says "
    "the scraping broke the portal's terms of service and exposed private order histories. "
    "Contoso asked the court to order Northwind Robotics to delete the copied records and to "
    "pay damages. Northwind Robotics denied the claims in a statement.")
_NORTHWIND_ENTITIES = [("Contoso", "company", None, [], ["Contoso"]),
                       ("Northwind Robotics", "company", None, ["Northwind"],
                        ["Northwind Robotics"])]
_NORTHWIND_CLAIM = ("Contoso", ["Northwind Robotics"], ["unauthorized_access", "privacy_violation"],
                    "alleged", "Contoso said on Monday that Northwind Robotics scraped data from "
                    "24,000 accounts on its customer portal over six months.")
INCIDENT_ARTICLES = [
    {
        "url": "https://harbor.example.com/northwind-scraping",
        "title": "Contoso accuses Northwind Robotics of scraping customer data",
        "body": NORTHWIND_BODY, "published": "2025-06-02T07:00:00+00:00",
        "site": "Harbor Post", "lang": "en", "feed": "wire",
        "entities": _NORTHWIND_ENTITIES, "allegations": [_NORTHWIND_CLAIM],
        "figures": [(24000, "accounts", None, "24,000 accounts", 0)],
        "responses": [("Northwind Robotics", "denied",
                       "Northwind Robotics denied the claims in a statement.")],
    },
    {
        "url": "https://aggregate.example.net/2025/06/03/contoso-northwind",
        "title": "Contoso accuses Northwind Robotics of scraping customer data | Daily Aggregate",
        "body": ("Share this story\nSubscribe to our newsletter\n" + NORTHWIND_BODY
                 + "\nCopyright 2025 Daily Aggregate. All rights reserved.\nRead more: related "
                 "stories"),
        "published": "2025-06-03T10:00:00+00:00", "site": "Daily Aggregate", "lang": "en",
        "feed": "tech",
        "entities": _NORTHWIND_ENTITIES, "allegations": [_NORTHWIND_CLAIM],
        "figures": [(24000, "accounts", None, "24,000 accounts", 0)],
        "responses": [("Northwind Robotics", "denied",
                       "Northwind Robotics denied the claims in a statement.")],
    },
    {
        "url": "https://ledger.example.org/northwind-rejects-contoso",
        "title": "Northwind Robotics rejects Contoso scraping claims",
        "body": ("Northwind Robotics has rejected claims by Contoso that it scraped 25,000 "
                 "customer accounts, saying its crawler only read public pages. Contoso says the "
                 "data was taken from behind a login wall over half a year. Lawyers for both "
                 "firms are expected in court next month."),
        "published": "2025-06-04T12:00:00+00:00", "site": "Tech Ledger", "lang": "en",
        "feed": "tech",
        "entities": _NORTHWIND_ENTITIES,
        "allegations": [("Contoso", ["Northwind Robotics"], ["unauthorized_access"], "alleged",
                         "Northwind Robotics has rejected claims by Contoso that it scraped "
                         "25,000 customer accounts, saying its crawler only read public pages.")],
        "figures": [(25000, "accounts", None, "25,000 customer accounts", 0)],
        "responses": [("Northwind Robotics", "denied",
                       "Northwind Robotics has rejected claims by Contoso that it scraped "
                       "25,000 customer accounts, saying its crawler only read public pages.")],
    },
    {
        "url": "https://eu.example.net/northwind-probe",
        "title": "Regulator opens probe into Northwind Robotics over scraping",
        "body": ("The Data Protection Authority opened an investigation into Northwind Robotics "
                 "on Friday over the scraping of Contoso customer accounts. The authority said "
                 "it would examine whether personal data of customers was processed lawfully."),
        "published": "2025-06-20T08:00:00+00:00", "site": "EU Policy Wire", "lang": "en",
        "feed": "policy",
        "entities": [("Northwind Robotics", "company", None, ["Northwind"],
                      ["Northwind Robotics"]),
                     ("Data Protection Authority", "regulator", None, [],
                      ["Data Protection Authority"])],
        "allegations": [("Data Protection Authority", ["Northwind Robotics"],
                         ["unauthorized_access"], "investigating",
                         "The Data Protection Authority opened an investigation into Northwind "
                         "Robotics on Friday over the scraping of Contoso customer accounts.")],
        "figures": [], "responses": [],
    },
    {
        "url": "https://retro.example.com/claude-feature",
        "title": "Claude gets a new feature for developers",
        "body": "Developers can now connect Claude to their own tools, the maker said on Tuesday.",
        "published": None, "site": "Retro Blog", "lang": "en", "feed": "tech",
        "date_candidates": [("json-ld:datePublished", "2010-12-05"), ("feed", "2025-06-06")],
        "entities": [], "allegations": [], "figures": [], "responses": [],
    },
    {
        "url": "https://retro.example.com/claude-archive",
        "title": "Claude archive page",
        "body": "An archive page listing older posts about Claude and its developer tools.",
        "published": None, "site": "Retro Blog", "lang": "en", "feed": "tech",
        "date_candidates": [("json-ld:datePublished", "2010-12-05")],
        "entities": [], "allegations": [], "figures": [], "responses": [],
    },
]

FEEDS = {
    "wire": FeedConfig(url="https://feeds.example.com/wire.xml", name="Wire", tags=("news",)),
    "tech": FeedConfig(url="https://feeds.example.com/tech.xml", name="Tech",
                       tags=("tech", "news")),
    "policy": FeedConfig(url="https://feeds.example.com/policy.xml", name="Policy",
                         tags=("regulators",)),
}


def build(path: str | Path, extra: int = 0, incidents: bool = False) -> Path:
    """Write the sample database at `path`; `extra` adds filler articles for pagination.

    With `incidents`, INCIDENT_ARTICLES are stored too and every article goes
    through `tracker.incidents.on_article_stored`, as the pipeline does (dates
    chosen, copies linked, incidents formed).
    """
    from tracker import incidents as incidents_stage

    db = open_db(path)
    feed_ids = {key: upsert_feed(db, feed) for key, feed in FEEDS.items()}
    for item in ARTICLES + (INCIDENT_ARTICLES if incidents else []):
        analysis = _analysis(item["title"], item["body"], entities=item["entities"],
                             allegations=item["allegations"], figures=item["figures"],
                             responses=item["responses"])
        article = ExtractedArticle(url=item["url"], text=item["body"], title=item["title"],
                                   published=item["published"], site_name=item["site"],
                                   language=item["lang"],
                                   date_candidates=tuple(map(tuple,
                                                             item.get("date_candidates", ()))))
        stored = save_article(db, article, analysis, canonical_url=item["url"],
                              feed_id=feed_ids[item["feed"]])
        if incidents:
            incidents_stage.on_article_stored(db, stored.id)
    for i in range(extra):
        title = f"Filler report number {i} on cloud security"
        body = f"Routine cloud security bulletin {i}. Nothing alleged against anyone in issue {i}."
        article = ExtractedArticle(url=f"https://filler.example.com/{i}", text=body, title=title,
                                   published=f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}",
                                   site_name="Filler Daily", language="en")
        stored = save_article(db, article, _analysis(title, body), canonical_url=article.url,
                              feed_id=feed_ids["tech"])
        if incidents:
            incidents_stage.on_article_stored(db, stored.id)
    db.conn.close()
    return Path(path)
