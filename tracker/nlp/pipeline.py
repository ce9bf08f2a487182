"""The NLP step: turn an article's text into an Analysis (companies, allegations, figures, responses)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

from spacy.attrs import POS, TAG
from spacy.tokens import Doc

from tracker.nlp.allegations import AUTHORITY_KINDS, AllegationFinder, ArticleContext, SentenceClaim
from tracker.nlp.companies import CompanyFinder, Party
from tracker.nlp.figures import FigureFinder
from tracker.nlp.model import load_nlp
from tracker.nlp.resources import load_gazetteer, load_rules, load_taxonomy
from tracker.nlp.responses import find_responses
from tracker.records import Allegation, Analysis, Entity, Figure, Mention

EXTRACTOR_VERSION = "nlp-0.1"
MAX_TYPES = 3
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def join_title(text: str, title: str | None) -> str:
    """The analysed text: the title, a blank line, then the body (offsets index into this)."""
    title = (title or "").strip()
    joined = f"{title}\n\n{text}" if title else text
    # a lone surrogate (from a broken decode) cannot be encoded and would stop the model;
    # the replacement character keeps every offset where it was
    return LONE_SURROGATE.sub("\ufffd", joined)


def surface_name(p: Party) -> str:
    """The article's most specific name for a party: the longest form it writes (a headline's
    capitals lose to the body's spelling), so readers and gold labels see the article's words."""
    counts: dict[str, int] = {}
    for _, _, text, _ in p.mentions:
        form = re.sub(r"(?:'s|’s|')$", "", " ".join(text.split()))
        form = re.sub(r"^(?:the|The|THE)\s+", "", form)
        if form:
            counts[form] = counts.get(form, 0) + 1
    if not counts:
        return p.name
    return max(counts, key=lambda f: (len(f.split()), len(f), not f.isupper(), counts[f], f == p.name))


class Analyzer:
    """Loads the model and data files once; analyses any number of articles."""

    def __init__(self, gazetteer_paths=(), taxonomy_paths=(), nlp=None):
        self.nlp = nlp if nlp is not None else load_nlp()
        self.gazetteer = load_gazetteer(gazetteer_paths)
        self.taxonomy = load_taxonomy(taxonomy_paths)
        self.rules = load_rules()
        self.companies = CompanyFinder(self.nlp, self.gazetteer, self.rules)
        self.allegations = AllegationFinder(self.taxonomy, self.rules)
        self.figures = FigureFinder(self.rules)
        self.parser = self.nlp.get_pipe("parser") if "parser" in self.nlp.component_names else None

    def analyze(self, text: str, title: str | None = None) -> Analysis:
        """Analyse one article. Empty or whitespace text gives an empty Analysis."""
        full = join_title(text or "", title)
        if not full.strip():
            return Analysis(text=full, extractor_version=EXTRACTOR_VERSION)
        return self._analyze_doc(self.nlp(full))

    def analyze_many(self, items: Iterable[tuple[str, str | None]], batch_size: int = 16) -> Iterator[Analysis]:
        """Analyse (text, title) pairs in batches through nlp.pipe, yielding in input order."""
        texts = (join_title(text or "", title) for text, title in items)
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            if not doc.text.strip():
                yield Analysis(text=doc.text, extractor_version=EXTRACTOR_VERSION)
            else:
                yield self._analyze_doc(doc)

    # -- the steps ---------------------------------------------------------------------

    def _analyze_doc(self, doc) -> Analysis:
        parties, mentions = self.companies(doc)
        ctx = self.allegations.build_context(doc, parties, mentions)
        self.parse_sentences(ctx)
        claims = [c for si in range(len(ctx.sents)) if (c := self.allegations.sentence_claim(ctx, si))]
        allegations = self._aggregate(ctx, claims)
        raw_figs = self.figures.find(doc, bool(allegations), ctx.sents, ctx.text)
        figures = self._figures(doc, ctx, raw_figs, allegations)
        accused = list(dict.fromkeys(a for al in allegations for a in al.accused))
        responses = find_responses(ctx, self.taxonomy, accused)
        entities = self._entities(parties)
        return Analysis(text=ctx.text, entities=tuple(entities), allegations=tuple(allegations),
                        figures=tuple(figures), responses=tuple(responses),
                        extractor_version=EXTRACTOR_VERSION)

    def parse_sentences(self, ctx: ArticleContext) -> None:
        """Dependency-parse the sentences that can carry an accusation, each as its own doc.

        The parser reads the token vectors the whole-text pass already computed (a sentence
        doc keeps its slice of the tensor), so this costs only the parser's own step, over
        a fraction of the text.
        """
        if self.parser is None:
            return
        chosen = [si for si in range(len(ctx.sents)) if self.allegations.is_candidate(ctx, si)]
        if not chosen:
            return
        # Span.as_doc copies the whole doc's arrays on every call (quadratic on long texts),
        # so the sentence docs are built from arrays taken once
        doc = ctx.doc
        words = [t.text for t in doc]
        spaces = [bool(t.whitespace_) for t in doc]
        arr = doc.to_array([TAG, POS])
        tensor = doc.tensor if doc.tensor is not None and len(doc.tensor) == len(doc) else None
        docs = []
        for si in chosen:
            a, b = ctx.sents[si].start, ctx.sents[si].end
            d = Doc(doc.vocab, words=words[a:b], spaces=spaces[a:b])
            d.from_array([TAG, POS], arr[a:b])
            if tensor is not None:
                d.tensor = tensor[a:b]
            docs.append(d)
        for si, parsed in zip(chosen, self.parser.pipe(docs), strict=True):
            ctx.parses[si] = parsed

    def _entities(self, parties: dict[str, Party]) -> list[Entity]:
        out = []
        for p in sorted(parties.values(), key=lambda p: min((m[0] for m in p.mentions), default=0)):
            if not p.mentions:
                continue
            mentions = tuple(Mention(text=t, start=s, end=e, name=p.name, source=src)
                             for s, e, t, src in sorted(set(p.mentions)))
            aliases = tuple(sorted(a for a in p.aliases if a != p.name))
            surface = surface_name(p)
            out.append(Entity(p.name, p.kind, p.parent, aliases, p.country, mentions,
                              surface=surface if surface != p.name else None))
        return out

    def _aggregate(self, ctx: ArticleContext, claims: list[SentenceClaim]) -> list[Allegation]:
        """Merge sentence claims into allegations: one per accuser and accused set."""
        if not claims:
            return []
        # furthest stage per party across the article (and the title)
        stage: dict[str, str] = {}
        types_near: dict[str, dict[str, int]] = {}
        rank = self.taxonomy.status_rank
        for si, sent in enumerate(ctx.sents):
            keys = {s.key for s in ctx.slots[si]}
            if not keys:
                continue
            has_auth = any(s.kind in AUTHORITY_KINDS for s in ctx.slots[si])
            st = self.allegations.status_in(sent.text, has_auth)
            for k in keys:
                if st and rank.get(st, 0) > rank.get(stage.get(k, "alleged"), 0):
                    stage[k] = st
        for c in claims:
            for k in c.accused:
                d = types_near.setdefault(k, {})
                for t in c.types:
                    d[t] = d.get(t, 0) + 1
        # a spokesperson's or official's words repeat the organisation's accusation
        org_accused = {a for c in claims if c.accuser and ctx.parties.get(c.accuser) is not None
                       and ctx.parties[c.accuser].kind != "person" for a in c.accused}
        for c in claims:
            p = ctx.parties.get(c.accuser) if c.accuser else None
            if p is not None and p.kind == "person" and all(a in org_accused for a in c.accused):
                c.accuser = None
        named_accused = {a for c in claims if c.accuser for a in c.accused}
        # a party that accuses someone in this article is not, unnamed, the accused of a
        # sentence that merely mentions it next to the cue words
        accusers = {c.accuser for c in claims if c.accuser}
        groups: dict[tuple, list[SentenceClaim]] = {}
        for c in claims:
            accused = c.accused if c.accuser else [a for a in c.accused if a not in named_accused
                                                   and a not in accusers]
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
            types = sorted(counts, key=lambda t: (-counts[t], t))[:MAX_TYPES] or ["other"]
            status = max([c.status for c in cs] + [stage.get(a, "alleged") for a in accused],
                         key=lambda s: rank.get(s, 0))
            cue = next((c.cue for c in cs if c.cue), None)
            out.append(Allegation(accuser=accuser, accused=tuple(accused), types=tuple(types), status=status,
                                  evidence=first.text, start=first.start, end=first.end, cue=cue,
                                  confidence=max(c.confidence for c in cs)))
        out.sort(key=lambda a: a.start)
        return out

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
            out.append(Figure(value=f.value, unit=f.unit, qualifier=f.qualifier, text=text[f.start:f.end],
                              start=f.start, end=f.end, sentence=sent.text.strip(), allegation=link))
        return out
