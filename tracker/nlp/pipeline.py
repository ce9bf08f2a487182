"""The NLP step: an article's text becomes an Analysis (companies, allegations, figures and
responses)."""

from __future__ import annotations

import bisect
import re
from collections import deque
from collections.abc import Iterable, Iterator

from spacy.attrs import POS, TAG
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from tracker.nlp.allegations import AUTHORITY_KINDS, AllegationFinder, ArticleContext, SentenceClaim
from tracker.nlp.companies import DATE_WORDS, CompanyFinder, Party
from tracker.nlp.figures import FigureFinder
from tracker.nlp.model import load_nlp
from tracker.nlp.resources import load_gazetteer, load_places, load_rules, load_taxonomy
from tracker.nlp.responses import find_responses
from tracker.records import Allegation, Analysis, Entity, Figure, Mention

# Stored with every analysis. Raise it when a change to the rules, data files or model
# changes what is found: `tracker reanalyze` redoes the articles of every other version.
EXTRACTOR_VERSION = "nlp-0.2"
MAX_TYPES = 3
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
PROPER_TAGS = {"NNP", "NNPS"}
NER_WINDOW = 5
# A legal step told without its actor: a document or an unnamed authority does the accusing.
FURTHER_STEP_RE = re.compile(
    r"\b(?:separate|second|another|related|new|further|additional)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:indictment|complaint|lawsuit|suit|charges?|case|action)\b"
    r"|\b(?:indictment|complaint|charges?)\s+(?:[\w,-]+\s+){0,6}?(?:charges|charged|accuses|accused|alleges)\b"
    r"|\b(?:prosecutors|regulators|authorities|officials)\s+(?:also\s+|have\s+|had\s+)*(?:accus|charg|alleg)\w*",
    re.I,
)  # tokens before a sentence that the NER reads with it


# Under this share of English function words (nlp_rules.yaml `english_words`), a text of
# at least ENGLISH_MIN_WORDS words is not English: the English model would read its
# capitalised nouns as companies ("Impfungen", "Просто"), so it is not analysed. Measured
# on the 181 pages of the article-body benchmark: non-English bodies 0-1.1% (one Italian
# page quoting English, 6.9%), English 7.7-33% apart from a results table (0.9%); the dev
# and demo articles 17-35%.
ENGLISH_MIN_SHARE = 0.03
ENGLISH_MIN_WORDS = 40
_WORD_RE = re.compile(r"[^\W\d_]+")


def looks_english(text: str, english_words: frozenset[str]) -> bool:
    """Whether a text reads as English; one too short to tell counts as English."""
    words = _WORD_RE.findall(text.lower())
    if len(words) < ENGLISH_MIN_WORDS:
        return True
    return sum(w in english_words for w in words) >= ENGLISH_MIN_SHARE * len(words)


def join_title(text: str, title: str | None) -> str:
    """The analysed text: the title, a blank line, then the body (offsets index into this)."""
    title = (title or "").strip()
    joined = f"{title}\n\n{text}" if title else text
    # a lone surrogate (from a broken decode) cannot be encoded and would stop the model;
    # the replacement character keeps every offset where it was
    return LONE_SURROGATE.sub("\ufffd", joined)


def surface_name(p: Party) -> str:
    """The article's own name for a party, so readers and gold labels see its words: the
    longest form it writes (a headline's capitals lose to the body's spelling), except that a
    company's name written more than once wins over a legal name written once."""
    counts: dict[str, int] = {}
    for _, _, text, _ in p.mentions:
        form = re.sub(r"(?:'s|’s|')$", "", " ".join(text.split()))
        form = re.sub(r"^(?:the|The|THE)\s+", "", form)
        if form:
            counts[form] = counts.get(form, 0) + 1
    if not counts:
        return p.name
    # a company's short name used throughout beats the full legal name written once
    often = p.kind == "company"
    return max(
        counts,
        key=lambda f: (
            often and counts[f] > 1,
            len(f.split()),
            len(f),
            not f.isupper(),
            counts[f],
            f == p.name,
        ),
    )


class Analyzer:
    """Loads the model and data files once; analyses any number of articles."""

    def __init__(self, gazetteer_paths=(), taxonomy_paths=(), nlp=None):
        self.nlp = nlp if nlp is not None else load_nlp()
        self.gazetteer = load_gazetteer(gazetteer_paths)
        self.taxonomy = load_taxonomy(taxonomy_paths)
        self.rules = load_rules()
        self.english_words = frozenset(w.lower() for w in self.rules.get("english_words", []))
        self.companies = CompanyFinder(self.nlp, self.gazetteer, self.rules)
        self.allegations = AllegationFinder(self.taxonomy, self.rules)
        self.figures = FigureFinder(self.rules)
        self.parser = self.nlp.get_pipe("parser") if "parser" in self.nlp.component_names else None
        self.ner = self.nlp.get_pipe("ner") if "ner" in self.nlp.pipe_names else None
        self.places = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        for label, names in load_places().items():
            forms = {f for n in names for f in (n, n.upper())}
            self.places.add(label, [self.nlp.make_doc(f) for f in sorted(forms)])

    def analyze(self, text: str, title: str | None = None) -> Analysis:
        """Analyse one article. Empty or whitespace text gives an empty Analysis."""
        return next(self.analyze_many([(text, title)], batch_size=1))

    def analyze_many(
        self, items: Iterable[tuple[str, str | None]], batch_size: int = 16
    ) -> Iterator[Analysis]:
        """Analyse (text, title) pairs in batches through nlp.pipe, yielding in input order.

        A text that is not English (looks_english) gets an empty Analysis: the model
        goes through an empty string in its place, so the order is kept.
        """
        skipped: deque[str | None] = deque()  # per text in flight: itself if not English

        def texts():
            for text, title in items:
                joined = join_title(text or "", title)
                english = not self.english_words or looks_english(joined, self.english_words)
                skipped.append(None if english else joined)
                yield joined if english else ""

        for analysis in self._analyze_texts(texts(), batch_size):
            other = skipped.popleft()
            yield analysis if other is None else Analysis(text=other,
                                                          extractor_version=EXTRACTOR_VERSION)

    def _analyze_texts(self, texts: Iterable[str], batch_size: int) -> Iterator[Analysis]:
        if self.ner is None:
            for doc in self.nlp.pipe(texts, batch_size=batch_size):
                yield self._analyze_doc(doc) if doc.text.strip() else self._empty(doc)
            return
        batch = []
        for doc in self.nlp.pipe(texts, batch_size=batch_size, disable=["ner"]):
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._analyze_batch(batch)
                batch = []
        yield from self._analyze_batch(batch)

    @staticmethod
    def _empty(doc) -> Analysis:
        return Analysis(text=doc.text, extractor_version=EXTRACTOR_VERSION)

    def _analyze_batch(self, docs: list) -> Iterator[Analysis]:
        """Finish a batch: the statistical NER over the sentences that need it, then the rules."""
        prepared = []
        for doc in docs:
            text = doc.text
            if not text.strip():
                prepared.append((doc, text, None, None))
                continue
            prepared.append((doc, text, list(doc.sents), self.companies.gazetteer_spans(doc)))
        self.recognise(
            [(doc, text, sents, gaz) for doc, text, sents, gaz in prepared if sents is not None]
        )
        # every article's candidate sentences go through the parser together: one batch of
        # short docs costs far less than a parser call per article
        contexts = [
            None if sents is None else self._context(doc, text, sents, gaz)
            for doc, text, sents, gaz in prepared
        ]
        self.parse_sentences([c for c in contexts if c is not None])
        for (doc, _, _, _), ctx in zip(prepared, contexts, strict=True):
            yield self._empty(doc) if ctx is None else self._finish(ctx)

    def recognise(self, prepared: list) -> None:
        """Named entities from the statistical NER, run only around the words that could name
        something the gazetteer does not already cover.

        Those words are the capitalised ones outside gazetteer names and outside the names
        of places and peoples in tracker/data/places.yaml, which are labelled from that list
        (an opening word counts only where the article writes it capitalised inside a
        sentence too). The model decides a word's label from a few words either side (its
        tok2vec sees 4), so it reads a window of NER_WINDOW words around each candidate
        (windows that meet are joined), and what it finds is kept where it takes in a
        candidate. NER costs about half of the plain pipeline and most words of a news
        sentence are far from any name, so the batch's windows go through it as short docs
        built from arrays (see parse_sentences).
        """
        jobs = []
        placed: dict[int, list[Span]] = {}
        for doc, _, sents, gaz in prepared:
            covered = {i for sp in gaz for i in range(sp.start, sp.end)}
            places = [
                sp
                for sp in filter_spans(self.places(doc, as_spans=True))
                if not any(i in covered for i in range(sp.start, sp.end))
            ]
            placed[id(doc)] = places
            covered.update(i for sp in places for i in range(sp.start, sp.end))
            names: set[str] = set()  # capitalised words the article writes inside a sentence
            found = []
            for sent in sents:
                at: list[int] = []
                found.append((self._names_in(sent, covered, names, at), at))
            windows: list[list[int]] = []  # [start, end, candidates...]
            n = len(doc)
            for opener, at in found:
                if opener is None or opener and opener not in names:
                    continue
                for i in at:
                    a, b = max(0, i - NER_WINDOW), min(n, i + NER_WINDOW + 1)
                    if windows and windows[-1][1] >= a:
                        windows[-1][1] = max(windows[-1][1], b)
                        windows[-1].append(i)
                    else:
                        windows.append([a, b, i])
            jobs.extend((doc, w[0], w[1], set(w[2:])) for w in windows)
        window_docs = []
        for doc, a, b, _ in jobs:
            toks = doc[a:b]
            window_docs.append(
                Doc(
                    doc.vocab,
                    words=[t.text for t in toks],
                    spaces=[bool(t.whitespace_) for t in toks],
                )
            )
        found_spans: dict[int, list] = {}
        if window_docs:
            for (doc, a, _, cands), parsed in zip(
                jobs, self.ner.pipe(window_docs, batch_size=256), strict=True
            ):
                spans = found_spans.setdefault(id(doc), [])
                spans.extend(
                    Span(doc, a + e.start, a + e.end, label=e.label)
                    for e in parsed.ents
                    if any(a + k in cands for k in range(e.start, e.end))
                )
        for doc, _, _, _ in prepared:
            spans = found_spans.get(id(doc), [])
            # a place the model read as part of a longer name ("New York Times") is that name
            taken = {i for sp in spans for i in range(sp.start, sp.end)}
            spans += [
                sp for sp in placed[id(doc)] if not any(i in taken for i in range(sp.start, sp.end))
            ]
            if spans:
                doc.set_ents(spans, default="outside")

    @staticmethod
    def _names_in(sent, covered: set[int], names: set[str], at: list[int]) -> str | None:
        """Whether a sentence can name something the gazetteer does not cover: "" when it has a
        capitalised word after its opening word (or a proper noun anywhere) outside the
        gazetteer's names, the opening word when that is the only candidate (it counts where
        the article writes it capitalised elsewhere too), else None. Adds the capitalised
        words inside the sentence to `names` and every candidate's index to `at`. Weekdays
        and months name nobody."""
        opener = None
        found = False
        opening = True
        for t in sent:
            if opening and (t.is_space or t.is_punct):
                continue
            first, opening = opening, False
            if not t.text[:1].isupper() or t.i in covered or t.lower_ in DATE_WORDS:
                continue
            at.append(t.i)
            if not first:
                names.add(t.text)
                found = True
            elif t.tag_ in PROPER_TAGS:
                found = True
            elif not t.is_stop:
                opener = t.text
            else:
                at.pop()
        return "" if found else opener

    # -- the steps ---------------------------------------------------------------------

    def _analyze_doc(
        self, doc, text: str | None = None, sents: list | None = None, gaz=None
    ) -> Analysis:
        ctx = self._context(doc, text, sents, gaz)
        self.parse_sentences([ctx])
        return self._finish(ctx)

    def _context(self, doc, text: str | None, sents: list | None, gaz) -> ArticleContext:
        """The article's parties and the sentence slots the accusation rules read."""
        parties, mentions = self.companies(doc, gaz, text)
        return self.allegations.build_context(doc, parties, mentions, sents, text)

    def _finish(self, ctx: ArticleContext) -> Analysis:
        """Claims, allegations, figures and responses of a parsed article context."""
        doc = ctx.doc
        claims = [
            c for si in range(len(ctx.sents)) if (c := self.allegations.sentence_claim(ctx, si))
        ]
        allegations = self._aggregate(ctx, claims)
        raw_figs = self.figures.find(doc, bool(allegations), ctx.sents, ctx.text)
        figures = self._figures(doc, ctx, raw_figs, allegations)
        accused = list(dict.fromkeys(a for al in allegations for a in al.accused))
        responses = find_responses(ctx, self.taxonomy, accused)
        return Analysis(
            text=ctx.text,
            entities=tuple(self._entities(ctx.parties)),
            allegations=tuple(allegations),
            figures=tuple(figures),
            responses=tuple(responses),
            extractor_version=EXTRACTOR_VERSION,
        )

    def parse_sentences(self, contexts: list[ArticleContext]) -> None:
        """Dependency-parse the sentences that can carry an accusation, each as its own doc.

        The parser reads the token vectors the whole-text pass already computed (a sentence
        doc keeps its slice of the tensor), so this costs only the parser's own step, over
        a fraction of the text.
        """
        if self.parser is None:
            return
        jobs = []
        docs = []
        for ctx in contexts:
            chosen = [si for si in range(len(ctx.sents)) if self.allegations.is_candidate(ctx, si)]
            if not chosen:
                continue
            # Span.as_doc copies the whole doc's arrays on every call (quadratic on long
            # texts), so the sentence docs are built from arrays taken once
            doc = ctx.doc
            arr = doc.to_array([TAG, POS])
            tensor = doc.tensor if doc.tensor is not None and len(doc.tensor) == len(doc) else None
            for si in chosen:
                a, b = ctx.sents[si].start, ctx.sents[si].end
                toks = doc[a:b]
                d = Doc(
                    doc.vocab,
                    words=[t.text for t in toks],
                    spaces=[bool(t.whitespace_) for t in toks],
                )
                d.from_array([TAG, POS], arr[a:b])
                if tensor is not None:
                    d.tensor = tensor[a:b]
                docs.append(d)
                jobs.append((ctx, si))
        for (ctx, si), parsed in zip(jobs, self.parser.pipe(docs, batch_size=256), strict=True):
            ctx.parses[si] = parsed

    def _entities(self, parties: dict[str, Party]) -> list[Entity]:
        out = []
        for p in sorted(parties.values(), key=lambda p: min((m[0] for m in p.mentions), default=0)):
            if not p.mentions:
                continue
            mentions = tuple(
                Mention(text=t, start=s, end=e, name=p.name, source=src)
                for s, e, t, src in sorted(set(p.mentions))
            )
            aliases = tuple(sorted(a for a in p.aliases if a != p.name))
            surface = surface_name(p)
            out.append(
                Entity(
                    p.name,
                    p.kind,
                    p.parent,
                    aliases,
                    p.country,
                    mentions,
                    surface=surface if surface != p.name else None,
                )
            )
        return out

    def _aggregate(self, ctx: ArticleContext, claims: list[SentenceClaim]) -> list[Allegation]:
        """Merge sentence claims into allegations: one per accuser and accused set."""
        if not claims:
            return []
        # furthest stage per party across the article (and the title)
        stage: dict[str, str] = {}
        types_near: dict[str, dict[str, int]] = {}
        rank = self.taxonomy.status_rank
        for si in range(len(ctx.sents)):
            keys = {s.key for s in ctx.slots[si]}
            if not keys:
                continue
            has_auth = any(s.kind in AUTHORITY_KINDS for s in ctx.slots[si])
            st = self.allegations.status_in(ctx.sent_texts[si], has_auth)
            for k in keys:
                if st and rank.get(st, 0) > rank.get(stage.get(k, "alleged"), 0):
                    stage[k] = st
        for c in claims:
            for k in c.accused:
                d = types_near.setdefault(k, {})
                for t in c.types:
                    d[t] = d.get(t, 0) + 1
        # a spokesperson's or official's words repeat the organisation's accusation
        org_accused = {
            a
            for c in claims
            if c.accuser
            and ctx.parties.get(c.accuser) is not None
            and ctx.parties[c.accuser].kind != "person"
            for a in c.accused
        }
        for c in claims:
            p = ctx.parties.get(c.accuser) if c.accuser else None
            if p is not None and p.kind == "person" and all(a in org_accused for a in c.accused):
                c.accuser = None
        self._inherit_authority(ctx, claims)
        # "prosecutors" in the lede are the "federal prosecutors" of the story: a bare
        # group the article also names more exactly is that group
        bodies = [k for k, p in ctx.parties.items() if p.kind == "regulator" and not p.mentions]
        for c in claims:
            longer = [g for g in bodies if c.accuser and g.endswith(" " + c.accuser)]
            if c.accuser in bodies and len(longer) == 1:
                c.accuser = longer[0]
        named_accused = {a for c in claims if c.accuser for a in c.accused}
        # a party that accuses someone in this article is not, unnamed, the accused of a
        # sentence that merely mentions it next to the cue words
        accusers = {c.accuser for c in claims if c.accuser}
        # ...nor is the parent or a subsidiary of a party accused by name ("For Alphabet,
        # the fine is affordable" after the Commission fined Google)
        family = {
            rel
            for a in named_accused
            if (p := ctx.parties.get(a)) is not None
            for rel in [p.parent] + [k for k, q in ctx.parties.items() if q.parent == a]
            if rel
        }
        groups: dict[tuple, list[SentenceClaim]] = {}
        for c in claims:
            accused = (
                c.accused
                if c.accuser
                else [
                    a
                    for a in c.accused
                    if a not in named_accused and a not in accusers and a not in family
                ]
            )
            if not accused:
                continue
            groups.setdefault((c.accuser, tuple(sorted(accused))), []).append(c)
        out = []
        for (accuser, accused), cs in groups.items():
            first = max(cs, key=lambda c: (c.confidence, -c.sent_index))
            counts: dict[str, int] = {}
            for c in cs:
                for t in c.types:
                    counts[t] = counts.get(t, 0) + 2
            for a in accused:
                for t, n in types_near.get(a, {}).items():
                    counts[t] = counts.get(t, 0) + n
            if not counts and accuser:
                # an earlier case the accuser brought, told without its kind ("follows a
                # penalty it imposed on X last year"), is cited for being of the same kind
                for (other, _), ds in groups.items():
                    if other == accuser:
                        for c in ds:
                            for t in c.types:
                                counts[t] = counts.get(t, 0) + 1
            types = sorted(counts, key=lambda t: (-counts[t], t))[:MAX_TYPES] or ["other"]
            status = max(
                [c.status for c in cs] + [stage.get(a, "alleged") for a in accused],
                key=lambda s: rank.get(s, 0),
            )
            cue = next((c.cue for c in cs if c.cue), None)
            out.append(
                Allegation(
                    accuser=accuser,
                    accused=tuple(accused),
                    types=tuple(types),
                    status=status,
                    evidence=first.text,
                    start=first.start,
                    end=first.end,
                    cue=cue,
                    confidence=max(c.confidence for c in cs),
                )
            )
        out.sort(key=lambda a: a.start)
        return out

    @staticmethod
    def _inherit_authority(ctx: ArticleContext, claims: list[SentenceClaim]) -> None:
        """Discourse rules for the accuser across sentences.

        A further legal step told without its actor ("a separate indictment charges X",
        "prosecutors also accused Y") belongs to the authority behind the article's first
        allegation. A government named as the place ("an EU privacy fine") gives way to the
        regulator of the same allegation: the most specific acting authority accuses.
        """
        kinds = {k: p.kind for k, p in ctx.parties.items()}
        lead = next(
            (
                c.accuser
                for c in sorted(claims, key=lambda c: c.sent_index)
                if c.accuser and kinds.get(c.accuser) in AUTHORITY_KINDS
            ),
            None,
        )
        if lead is not None:
            for c in claims:
                if c.accuser is None and FURTHER_STEP_RE.search(c.text):
                    c.accuser = lead
        # a department gives way to its own bureau accusing the same party ("the Commerce
        # Department said" of what its Bureau of Industry and Security did)
        for c in claims:
            if kinds.get(c.accuser) not in AUTHORITY_KINDS:
                continue
            below = {
                d.accuser
                for d in claims
                if d.accuser
                and (p := ctx.parties.get(d.accuser)) is not None
                and p.parent == c.accuser
                and set(c.accused) & set(d.accused)
            }
            if len(below) == 1:
                c.accuser = below.pop()
        by_regulator = {a for c in claims if kinds.get(c.accuser) == "regulator" for a in c.accused}
        for c in claims:
            if (
                kinds.get(c.accuser) == "government"
                and c.accused
                and all(a in by_regulator for a in c.accused)
            ):
                c.accuser = next(
                    d.accuser
                    for d in claims
                    if kinds.get(d.accuser) == "regulator"
                    and set(c.accused) <= set(d.accused) | by_regulator
                )

    def _figures(self, doc, ctx, raw, allegations) -> list[Figure]:
        sent_starts = [s.start_char for s in ctx.sents]
        al_sents = [(a.start, i) for i, a in enumerate(allegations)]
        text = ctx.text
        out = []
        for f in raw:
            si = bisect.bisect_right(sent_starts, f.start) - 1
            sent = ctx.sents[si]
            link = None
            if al_sents:
                link = min(al_sents, key=lambda x: (abs(x[0] - sent.start_char), x[0]))[1]
            out.append(
                Figure(
                    value=f.value,
                    unit=f.unit,
                    qualifier=f.qualifier,
                    text=text[f.start : f.end],
                    start=f.start,
                    end=f.end,
                    sentence=ctx.sent_texts[si].strip(),
                    allegation=link,
                )
            )
        return out
