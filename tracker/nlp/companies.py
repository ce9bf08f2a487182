"""Company recognition for the NLP step: gazetteer matches, statistical NER and context rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from tracker.countries import place_country
from tracker.nlp.resources import Gazetteer, load_places

NER_LABELS = {"ORG", "PERSON", "PRODUCT"}
DETERMINERS = {"the", "The", "THE"}
# Verbs (a headline capitalises them) and case names that end a name the model ran on.
SPLIT_WORDS = {"sue", "sued", "sues", "accuse", "accuses", "accused", "fines", "fined", "said",
               "says", "v.", "vs", "vs."}
# Prepositions that, written in lower case, join two names the model ran into one
# ("American Music Awards after Swift"). A name's own small words are others: "of", "and",
# "for", "on" ("National Institute on Drug Abuse"), "to" ("Cruelty to Children")...
JOINING_WORDS = {"after", "against", "into", "over"}
BAD_CHARS = re.compile(r"[|/\n£€$:<>=\"]|^\W|\d{3,}")
ACRONYM = re.compile(r"^[A-Z]{2,5}$")
# Suffixes that make any name a company, whatever else it contains.
STRONG_SUFFIXES = {
    "inc",
    "corp",
    "corporation",
    "ltd",
    "limited",
    "llc",
    "plc",
    "ag",
    "gmbh",
    "sa",
    "nv",
    "co",
    "incorporated",
    "pte",
    "pty",
    "llp",
    "bv",
    "se",
    "sas",
    "sarl",
    "spa",
    "srl",
    "kk",
}
PRODUCT_HEADS = {
    "product",
    "products",
    "model",
    "models",
    "chatbot",
    "assistant",
    "game",
    "games",
    "console",
    "phone",
    "smartphone",
    "software",
    "tool",
    "app",
    "franchise",
    "film",
    "movie",
    "series",
    "title",
    "titles",
    "character",
    "feature",
    "device",
    "chip",
    "operating",
}
# Weekdays and months name no organisation (the NER calls them dates where it runs).
DATE_WORDS = {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan.",
    "feb.",
    "mar.",
    "apr.",
    "jun.",
    "jul.",
    "aug.",
    "sept.",
    "sep.",
    "oct.",
    "nov.",
    "dec.",
    # datelines write the short forms without a dot too ("Feb 24, 2026")
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sept",
    "sep",
    "oct",
    "nov",
    "dec",
}
# Last words of a company name that also name a whole field: after a place or people
# ("American AI", "Chinese software") they mean the field there, not a company. Words for
# a kind of business ("British Airways", "Silicon Valley Bank") stay company names.
FIELD_WORDS = {"ai", "technology", "software"}
STOP_POS = {"VERB", "ADV", "ADP", "PRON", "SCONJ", "AUX", "CCONJ"}
# Descriptors that name a company by its tie to another ("Alibaba's U.S. rival X", "the
# British unit X") or by what it sells ("Chinese app X"): a nationality before them
# need not be the company's own, so they give no country.
RELATIONAL_WORDS = {"rival", "competitor", "unit", "subsidiary", "affiliate", "arm", "owner",
                    "investor", "fund", "bureau", "agency", "creator", "generator", "outlet",
                    "brand", "app", "site", "service"}
COUNTRY_HEADS_EXTRA = {"fintech", "biotech", "startups", "companies", "firms", "groups", "labs",
                       "carmakers", "chipmakers", "conglomerates"}
# Words that end the noun phrase a nationality must share with the company.
PHRASE_STOPS = {"of", "and", "or", "for", "to", "with", "by", "from", "in", "on", "at", "as",
                "its", "their", "his", "her", "our", "whose", "that", "which", "who", "than",
                "said", "says", "is", "was", "are", "were", "has", "had", "have", "will", "not",
                "like", "against", "over", "after", "before", "while", "fined", "sued", "charged",
                "accused", "sues", "fines", "the", "a", "an"}
POSSESSIVE_WORDS = {"its", "their", "his", "her", "our", "your", "my"}
BASED_SUFFIXES = ("-based", "-headquartered")
PHRASE_TOKEN = re.compile(r"[\w.'’&-]+|[^\w\s]")


@dataclass
class Party:
    """One organisation or person in one article, with every place it is named."""

    name: str
    kind: str
    parent: str | None = None
    country: str | None = None
    aliases: set[str] = field(default_factory=set)
    mentions: list[tuple[int, int, str, str]] = field(
        default_factory=list
    )  # start, end, text, source
    known: bool = False  # from the gazetteer
    evidence: int = 0  # context rules saying "company"
    ner_orgs: int = 0
    ner_persons: int = 0
    product: bool = False


@dataclass(frozen=True)
class PartyMention:
    """A span of the doc that names (or refers to) a party. Token offsets."""

    start: int
    end: int
    key: str  # Party.name
    source: str


class CompanyFinder:
    """Builds the per-article list of parties from a doc."""

    def __init__(self, nlp, gazetteer: Gazetteer, rules: dict):
        self.gaz = gazetteer
        self.forms = gazetteer.surface_forms()
        # exact-case matcher for names flagged case_sensitive and weak aliases, a lower-case
        # one for the rest (headlines write "FACEBOOK", wires "Facebook")
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.lower_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        tokenizer = nlp.tokenizer
        by_name: dict[str, list] = {}
        for form, name in self.forms.items():
            by_name.setdefault(name, []).append(form)
        self.weak_keys = {}
        for name, forms in by_name.items():
            entry = gazetteer.entries[name]
            target = self.matcher if entry.case_sensitive else self.lower_matcher
            target.add(name, [tokenizer(f) for f in forms])
            if entry.weak_aliases:
                key = "weak:" + name
                self.weak_keys[key] = name
                self.matcher.add(key, [tokenizer(f) for f in entry.weak_aliases])
        self.suffixes = {s.lower().rstrip(".") for s in rules.get("legal_suffixes", [])}
        # names of places and peoples, for "American AI" (see FIELD_WORDS)
        self.places = {n.lower() for names in load_places().values() for n in names}
        self.name_kinds = [
            (kind, [w.lower() for w in words])
            for kind, words in (rules.get("name_kinds") or {}).items()
        ]
        self.law_words = {w.lower() for w in rules.get("law_words", [])}
        self.company_desc = {w.lower() for w in rules.get("company_descriptors", [])}
        self.country_heads = (self.company_desc - RELATIONAL_WORDS) | COUNTRY_HEADS_EXTRA
        self.generic_first = {w.lower() for w in rules.get("generic_name_words", [])}
        self.other_desc = [w.lower() for w in rules.get("other_descriptors", [])]
        self.people_desc = {w.lower() for w in rules.get("people_descriptors", [])}
        self.role_set = {r.lower() for r in rules.get("company_roles", [])}

    # -- classification helpers -------------------------------------------------------

    def kind_from_name(self, name: str) -> str | None:
        words = name.split()
        if len(words) > 1 and words[-1].lower() in self.law_words:
            return "other"  # a law named after what it governs
        low = " " + name.lower() + " "
        for kind, words in self.name_kinds:
            for w in words:
                if f" {w} " in low:
                    return kind
        return None

    def has_suffix(self, name: str, strong: bool = False) -> bool:
        words = name.replace(",", " ").split()
        if len(words) < 2:
            return False
        last = words[-1].lower().rstrip(".")
        return last in STRONG_SUFFIXES if strong else last in self.suffixes

    def descriptor_kind(self, doc: Doc, span: Span) -> str | None:
        """'X, a Beijing-based startup' / 'chipmaker X' / 'a startup called X' -> kind."""
        # apposition after the name
        i = span.end
        if (
            i < len(doc)
            and doc[i].text == ","
            and i + 1 < len(doc)
            and doc[i + 1].lower_ in ("a", "an", "the")
        ):
            words = []
            for tok in doc[i + 2 : i + 10]:
                compound = tok.lower_ == "based" or (tok.i > 0 and doc[tok.i - 1].text == "-")
                if (
                    tok.is_punct
                    and tok.text not in ("-",)
                    or tok.pos_ in STOP_POS
                    and words
                    and not compound
                ):
                    break
                words.append(tok.lower_)
            phrase = " ".join(words)
            for w in self.other_desc:
                if re.search(rf"\b{re.escape(w)}\b", phrase):
                    return "other"
            head = words[-1] if words else ""
            if head in PRODUCT_HEADS:
                return "product"
            if head in self.company_desc or head.endswith("maker"):
                return "company"
        # "Fortnite maker Epic Games" / "the publisher of Call of Duty": the first name is a product
        if i < len(doc) and doc[i].lower_ in (
            "maker",
            "makers",
            "developer",
            "creator",
            "publisher",
            "owner",
        ):
            return "product"
        back = [t.lower_ for t in doc[max(0, span.start - 6) : span.start]]
        if "of" in back[-4:] and any(
            w in ("maker", "developer", "publisher", "creator") for w in back
        ):
            return "product"
        # descriptor before the name
        j = span.start - 1
        if j >= 0 and doc[j].lower_ in ("called", "named", "including"):
            j -= 1
        if j >= 0:
            prev = doc[j].lower_
            if (
                prev in self.company_desc
                or prev.endswith("maker")
                or prev in ("rivals", "investors")
            ):
                return "company"
            back = " ".join(t.lower_ for t in doc[max(0, j - 2) : j + 1])
            for w in self.other_desc:
                if back.endswith(w):
                    return "other"
        return None

    def role_evidence(self, doc: Doc, span: Span) -> bool:
        """'X's chief executive', 'shares of X', 'X Inc' -> company."""
        i = span.end
        if i < len(doc) and doc[i].text in ("'s", "’s", "'"):
            after = " ".join(t.lower_ for t in doc[i + 1 : i + 6])
            if any(after.startswith(r) for r in self.role_set):
                return True
        if (
            span.start >= 2
            and doc[span.start - 1].lower_ == "of"
            and doc[span.start - 2].lower_
            in (
                "shares",
                "stock",
                "stake",
                "subsidiary",
                "unit",
                "parent",
                "owner",
                "maker",
                "division",
            )
        ):
            return True
        if (
            i < len(doc)
            and doc[i].text.rstrip(".").lower() in self.suffixes
            and doc[i].text[:1].isupper()
        ):
            return doc[i].text.rstrip(".") in (
                "Inc",
                "Corp",
                "Ltd",
                "LLC",
                "plc",
                "PLC",
                "AG",
                "GmbH",
                "Co",
            )
        return False

    # -- main -----------------------------------------------------------------------

    def gazetteer_spans(self, doc: Doc) -> list[Span]:
        """The gazetteer's names in the doc, longest first where they overlap, labelled with
        the canonical name."""
        strings = self.matcher.vocab.strings
        raw = [(strings[m], s, e) for m, s, e in self.matcher(doc)]
        raw += [
            (strings[m], s, e) for m, s, e in self.lower_matcher(doc) if not doc[s].text.islower()
        ]  # "apple pie" is not Apple
        strong = {label for label, _, _ in raw if not label.startswith("weak:")}
        gaz_spans = []
        for label, s, e in raw:
            if label.startswith("weak:"):
                label = self.weak_keys[label]
                if label not in strong:
                    continue
            gaz_spans.append(Span(doc, s, e, label=label))
        return filter_spans(gaz_spans)

    def find(
        self, doc: Doc, gaz_spans: list[Span] | None = None, text: str | None = None
    ) -> tuple[dict[str, Party], list[PartyMention]]:
        parties: dict[str, Party] = {}
        mentions: list[PartyMention] = []
        if gaz_spans is None:
            gaz_spans = self.gazetteer_spans(doc)
        # spaCy rebuilds doc.text on every access: built once here
        full = doc.text if text is None else text
        taken = set()
        for span in gaz_spans:
            entry = self.gaz.entries[span.label_]
            p = parties.get(entry.name)
            if p is None:
                p = parties[entry.name] = Party(
                    entry.name, entry.kind, entry.parent, entry.country, known=True
                )
            p.aliases.add(span.text)
            p.mentions.append((span.start_char, span.end_char, span.text, "gazetteer"))
            mentions.append(PartyMention(span.start, span.end, entry.name, "gazetteer"))
            taken.update(range(span.start, span.end))

        candidates: list[tuple[Span, str]] = []
        for ent in doc.ents:
            if ent.label_ not in NER_LABELS:
                continue
            span = self._clean(doc, ent)
            if span is None or any(i in taken for i in range(span.start, span.end)):
                continue
            span = self._with_name(doc, span, taken)
            candidates.append((span, ent.label_))
        candidates.extend(self._rule_candidates(doc, taken, candidates))

        # group by surface text so one name gets one label in the article
        by_text: dict[str, list[tuple[Span, str]]] = {}
        for span, label in candidates:
            by_text.setdefault(span.text, []).append((span, label))

        for text, group in by_text.items():
            if self._no_name(group[0][0]):
                continue
            p = Party(text, "other")
            for span, label in group:
                if label == "ORG":
                    p.ner_orgs += 1
                elif label == "PERSON":
                    p.ner_persons += 1
                elif label == "RULE":
                    p.evidence += 1
                dk = self.descriptor_kind(doc, span)
                if dk == "company" and label == "PERSON" and self._people_word_before(doc, span):
                    dk = None
                if dk == "company" or self.role_evidence(doc, span):
                    p.evidence += 1
                elif dk in ("other", "product"):
                    p.evidence -= 2
                    p.product = p.product or dk == "product"
            p.kind = self._classify(text, p, group)
            p.aliases.add(text)
            for span, _ in group:
                p.mentions.append((span.start_char, span.end_char, span.text, "ner"))
            parties[text] = p

        self._spread_lists(full, parties)
        self._all_occurrences(doc, full, parties, taken)
        self._first_word_mentions(doc, full, parties, taken)
        self._merge_short_forms(full, parties)
        self._countries(full, parties)
        for key, p in parties.items():
            if p.known:
                continue
            for s, e, _t, _ in p.mentions:
                span = doc.char_span(s, e, alignment_mode="expand")
                if span is not None:
                    mentions.append(PartyMention(span.start, span.end, key, "ner"))
        merged = self._resolve_aliases(parties)
        mentions = [
            PartyMention(m.start, m.end, merged.get(m.key, m.key), m.source) for m in mentions
        ]
        mentions.sort(key=lambda m: m.start)
        return parties, mentions

    def _clean(self, doc: Doc, ent: Span) -> Span | None:
        start, end = ent.start, ent.end
        while start < end and (doc[start].text in DETERMINERS or doc[start].is_punct):
            start += 1
        # "Founder of Ceres Robotics Inc.", "Chairman of the Federal Reserve": the role is
        # not part of the name
        for k in range(start + 1, min(end - 1, start + 5)):
            if doc[k].lower_ == "of" and doc[start:k].text.lower() in self.role_set:
                start = k + 1
                while start < end and doc[start].lower_ == "the":
                    start += 1
                break
        while end > start and (doc[end - 1].text in ("'s", "’s", "'") or doc[end - 1].is_punct):
            end -= 1
        # NER sometimes swallows a verb or a second name: "Universal sued Midjourney"
        for i in range(start, end):
            if doc[i].text == "," or doc[i].lower_ in SPLIT_WORDS or doc[i].text in JOINING_WORDS:
                if i == start and doc[i].text != ",":
                    start += 1  # a headline's verb read into the name: "Authors Sue Scribewell"
                    continue
                end = i
                break
        if end <= start:
            return None
        span = doc[start:end]
        text = span.text
        if BAD_CHARS.search(text) or not text[:1].isupper() or len(text) < 2:
            return None
        if "\n" in doc[start:end].text_with_ws.strip():
            return None
        return span

    def _no_name(self, span: Span) -> bool:
        """A single letter, a lone function word ("However") or a role ("CEO", "Founder")
        is no one's name, whatever the model or a context rule made of it."""
        text = span.text
        if len(text.strip(".")) < 2:
            return True
        # (in capitals a stop word can be a name: "WHO")
        if len(span) == 1 and (span[0].is_stop and not span[0].is_upper
                               or text.lower() in self.role_set):
            return True
        return False

    def _people_word_before(self, doc: Doc, span: Span) -> bool:
        j = span.start - 1
        if j >= 0 and doc[j].lower_ in ("called", "named"):
            j -= 1
        return j >= 0 and doc[j].lower_ in self.people_desc

    def _with_name(self, doc: Doc, span: Span, taken: set) -> Span:
        """A legal suffix found alone ("SAS" of "PUBLIVOX SAS") takes the name before it."""
        if len(span) != 1 or span.text.lower().rstrip(".") not in STRONG_SUFFIXES:
            return span
        start = span.start
        while (
            start > 0
            and start - 1 not in taken
            and doc[start - 1].is_alpha
            and doc[start - 1].text[:1].isupper()
            and doc[start - 1].lower_ not in DATE_WORDS
            and not doc[start].is_sent_start
        ):
            start -= 1
        return doc[start : span.end] if start < span.start else span

    def _rule_candidates(self, doc: Doc, taken: set, found) -> list[tuple[Span, str]]:
        """Capitalised names the NER missed but a context rule marks as companies."""
        covered = set(taken)
        for span, _ in found:
            covered.update(range(span.start, span.end))
        out = []
        i = 0
        n = len(doc)
        while i < n:
            tok = doc[i]
            if i in covered or not tok.text[:1].isupper() or not tok.is_alpha:
                i += 1
                continue
            j = i
            while (
                j < n
                and j not in covered
                and (doc[j].text[:1].isupper() or doc[j].like_num and j > i)
                and not doc[j].is_punct
                and doc[j].ent_type_ not in ("GPE", "NORP", "DATE", "LOC")
                and doc[j].lower_ not in DATE_WORDS
            ):
                j += 1
            # a capitalised function word ("However, the group...", "In 2012, a research
            # group...") names nobody, even followed by a number
            if j > i and tok.is_stop and not tok.is_upper and all(
                    t.like_num for t in doc[i + 1 : j]):
                i = j
                continue
            if j > i:
                span = doc[i:j]
                # a capitalised word opening a sentence needs the strongest evidence: an apposition
                if (
                    self.descriptor_kind(doc, span) == "company"
                    or not tok.is_sent_start
                    and (self.role_evidence(doc, span) or self.has_suffix(span.text, strong=True))
                ):
                    if not self.kind_from_name(span.text):
                        out.append((span, "RULE"))
            i = max(j, i + 1)
        return out

    def _classify(self, text: str, p: Party, group) -> str:
        words = text.replace(",", " ").split()
        if (
            len(words) > 1
            and words[-1].lower() in FIELD_WORDS
            and " ".join(words[:-1]).lower() in self.places
        ):
            return "other"  # "American AI" is a country's industry, not a company
        by_name = self.kind_from_name(text)
        if by_name and not self.has_suffix(text, strong=True):
            return by_name
        if self.has_suffix(text, strong=True):
            return "company"
        if p.evidence > 0:
            return "company"
        if p.evidence < 0:
            return "product" if p.product else "other"
        if " " not in text and text.lower() in self.company_desc | {"company", "commission"}:
            return "other"
        # a person's name does not end in "Labs" or "Systems": the model's PERSON reading of
        # such a name is wrong
        if self.has_suffix(text) and (p.ner_orgs or p.ner_persons):
            return "company"
        if p.ner_persons > p.ner_orgs:
            return "person"
        if p.ner_orgs == 0:
            return "product" if any(label == "PRODUCT" for _, label in group) else "other"
        if ACRONYM.match(text) or text.isupper():
            return "other"
        # an organisation the model is sure about (named twice or more) is most likely a company
        return "company" if p.ner_orgs >= 2 else "other"

    def _spread_lists(self, text: str, parties) -> None:
        """In 'Nvidia, DST Global and Lightspeed', one company makes the whole list companies."""
        spans = []
        for p in parties.values():
            for s, e, _, _ in p.mentions:
                spans.append((s, e, p))
        spans.sort(key=lambda x: x[0])
        for _ in range(2):
            for (_s1, e1, p1), (s2, _e2, p2) in zip(spans, spans[1:], strict=False):
                gap = text[e1:s2]
                if not re.fullmatch(r"\s*(,|and|,\s*and|&)\s*", gap):
                    continue
                for a, b in ((p1, p2), (p2, p1)):
                    if (
                        a.kind == "company"
                        and not b.known
                        and b.kind in ("other",)
                        and b.ner_orgs
                        and not self.kind_from_name(b.name)
                        and not b.product
                    ):
                        b.kind = "company"

    @staticmethod
    def _all_occurrences(doc: Doc, text: str, parties: dict[str, Party], taken: set) -> None:
        """A company named once is the same company wherever the name recurs (the model may
        miss it at the start of a sentence or tag it as a person elsewhere)."""
        for p in parties.values():
            if p.known or p.kind != "company":
                continue
            _add_occurrences(doc, text, p, r"(?<![\w-])" + re.escape(p.name) + r"(?![\w-])", taken)
        # a person's name the model missed once (inside quotes, a nickname between the names:
        # 'Peiter "Mudge" Zatko') is still that person, outside every other party's name
        spans = [(s, e) for q in parties.values() for s, e, _, _ in q.mentions]
        for p in parties.values():
            if p.known or p.kind != "person":
                continue
            rx = r"(?<![\w-])" + re.escape(p.name) + r"(?![\w-])"
            inside = [(s, e) for s, e in spans if not any(s == m[0] for m in p.mentions)]
            blocked = taken | {
                i
                for s, e in inside
                if (span := doc.char_span(s, e, alignment_mode="expand")) is not None
                for i in range(span.start, span.end)
            }
            _add_occurrences(doc, text, p, rx, blocked)
        _surname_mentions(doc, text, parties, taken)

    def _first_word_mentions(self, doc: Doc, text: str, parties: dict[str, Party], taken) -> None:
        """'Sandpiper' after 'Sandpiper Semiconductor' names the same company: news shortens a
        company to the first word of its name. Only a distinctive word counts (not a
        generic one, a place, a legal suffix or a month), only where no other party's name
        starts with it, and only written alone (not opening another capitalised name)."""
        firsts: dict[str, list[Party]] = {}
        for p in parties.values():
            firsts.setdefault(p.name.split()[0], []).append(p)
        for first, owners in firsts.items():
            p = owners[0]
            low = first.lower().rstrip(".")
            if (
                len(owners) > 1
                or p.known
                or p.kind != "company"
                or len(p.name.split()) < 2
                or len(first) < 4
                or not first[:1].isupper()
                or not first.isalpha()
                or low in self.generic_first
                or low in self.places
                or low in self.suffixes
                or low in DATE_WORDS
            ):
                continue
            pattern = r"(?<![\w-])" + re.escape(first) + r"(?![\w-])(?!\s+[A-Z0-9])"
            if _add_occurrences(doc, text, p, pattern, taken):
                p.aliases.add(first)

    def _merge_short_forms(self, text: str, parties: dict[str, Party]) -> None:
        """'Cadence' after 'Cadence Design Systems' is the same company; 'FTC' after '(FTC)' too."""
        names = sorted(parties, key=len, reverse=True)
        for short in list(names):
            ps = parties.get(short)
            if ps is None or ps.known:
                continue
            self._drop_headline_words(text, short, ps, parties)
            target = None
            for long in names:
                pl = parties.get(long)
                if pl is None or long == short or len(long) <= len(short):
                    continue
                if long.startswith(short + " ") and (
                    pl.kind in ("company", "other")
                    and ps.kind != "person"
                    # "Parallax" after "Parallax Systems" is the company the model took for a
                    # person: a name ending in a company word is shortened to its first word
                    or pl.kind == "company"
                    and " " not in short
                    and self.has_suffix(long)
                ):
                    target = pl
                    break
                if long == short + "." and pl.kind == ps.kind:
                    # "Pelloran Inc." closing a sentence is the "Pelloran Inc" named elsewhere
                    target = pl
                    break
                if pl.kind == "person" and long.endswith(" " + short):
                    target = pl
                    break
                # acronym defined in brackets right after the long name
                if ACRONYM.match(short) and re.search(
                    re.escape(long) + r"\s*\(\s*" + re.escape(short) + r"\s*\)", text
                ):
                    target = pl
                    break
            if target is not None:
                target.aliases |= ps.aliases
                target.mentions.extend(ps.mentions)
                if target.kind == "person":
                    pass
                elif ps.kind == "company" and target.kind == "other" and not target.known:
                    target.kind = "company"
                del parties[short]
                self._redirect[short] = target.name

    def _drop_headline_words(self, text: str, short: str, ps: Party, parties) -> None:
        """'Northwind Mobile Data Breach' in a headline is 'Northwind Mobile': a longer name
        whose extra words the article writes in lower case ('the data breach') took them
        from the headline's capitals. Its mentions become the shorter name's."""
        for long in [n for n in parties if n.startswith(short + " ")]:
            pl = parties[long]
            extra = long[len(short) + 1 :]
            if pl.known or not extra.istitle() or extra.lower() not in text:
                continue
            if not re.search(r"(?<![\w-])" + re.escape(extra.lower()) + r"(?![\w-])", text):
                continue
            ps.mentions.extend((a, a + len(short), short, src) for a, _, _, src in pl.mentions)
            ps.ner_orgs += pl.ner_orgs
            ps.ner_persons += pl.ner_persons
            ps.evidence += max(0, pl.evidence)
            ps.kind = self._classify(short, ps, [])
            del parties[long]
            self._redirect[long] = short

    # -- a company's country from how the article introduces it ------------------------

    def _countries(self, text: str, parties: dict[str, Party]) -> None:
        """'Chinese AI startup Zhenlu', 'U.S.-based Corvane', 'Quillpay, the London-based
        fintech': a company the gazetteer gives no country gets the one the article names in
        its own noun phrase or apposition, where every such introduction agrees."""
        for p in parties.values():
            if p.kind != "company" or p.country:
                continue
            # "Loopa Technologies Ireland Limited, the European arm of Palo Alto-based Loopa
            # Technologies": a name holding a place is a local arm, and its shorter form
            # names the parent, whose country it need not share
            words = p.name.split()
            if any(self._place_at(words, k) for k in range(len(words))):
                continue
            codes = set()
            for s, e, _, _ in p.mentions:
                before = text[max(0, s - 100) : s]
                before = before[before.rfind("\n") + 1 :]
                after = text[e : e + 120]
                after = after[: after.find("\n")] if "\n" in after else after
                for code in (self._country_before(before), self._country_after(after)):
                    if code:
                        codes.add(code)
            if len(codes) == 1:
                p.country = codes.pop()

    def _is_head(self, word: str) -> bool:
        low = word.lower()
        return low in self.country_heads or low.endswith(("maker", "makers"))

    @staticmethod
    def _place_at(words: list[str], end: int) -> tuple[str, int] | None:
        """(code, first index) of the longest place name of up to three capitalised words
        ending at words[end] ("South Korean", "U.S."), or None."""
        for n in (3, 2, 1):
            start = end - n + 1
            if start < 0:
                continue
            parts = words[start : end + 1]
            if not all(w[:1].isupper() for w in parts):
                continue
            name = " ".join(parts)
            code = place_country(name)
            # "Us" is a pronoun opening a sentence, "US" the country
            letters = name.replace(".", "").replace(" ", "")
            if code and (len(letters) > 3 or letters.isupper()):
                return code, start
        return None

    @staticmethod
    def _based(word: str) -> str | None:
        for suffix in BASED_SUFFIXES:
            if word.lower().endswith(suffix) and len(word) > len(suffix):
                return word[: -len(suffix)]
        return None

    def _country_before(self, before: str) -> str | None:
        """The nationality of the noun phrase ending right before a name: '(a) Chinese AI
        startup ', 'U.S.-based ', 'China's ', 'a South Korean company, '."""
        words = PHRASE_TOKEN.findall(before)
        i = len(words) - 1
        if i >= 0 and words[i].lower() in ("called", "named"):
            i -= 1
        comma = i >= 0 and words[i] == ","
        if comma:
            i -= 1
        mids: list[str] = []
        while i >= 0 and len(mids) <= 3:
            w = words[i]
            found = None
            based = self._based(w)
            # a bare adjective ("Chinese Zhenlu") is too weak: a company noun or '-based'
            # stands between the nationality and the name, or a country owns it ("China's")
            headed = bool(mids) and self._is_head(mids[0])
            if based is not None:
                if not mids or headed:
                    found = self._place_at([*words[:i], based], i)
            elif w.endswith(("'s", "’s")) and (not mids or headed):
                found = self._place_at([*words[:i], w[:-2]], i)
            elif headed:
                found = self._place_at(words, i)
            if found:
                code, start = found
                prev = words[start - 1] if start > 0 else ""
                if prev.endswith(("'s", "’s", "s'")) or prev.lower() in POSSESSIVE_WORDS:
                    return None  # "Alibaba's U.S. rival": the nationality may be Alibaba's
                if comma and prev.lower() not in ("a", "an"):
                    return None
                return code
            low = w.lower()
            if (
                low in PHRASE_STOPS
                or not w[:1].isalnum()
                or w.endswith(("'s", "’s", "'", "."))
                and not mids
                or w.endswith(("'s", "’s", "'"))
            ):
                return None
            mids.append(w)
            i -= 1
        return None

    def _country_after(self, after: str) -> str | None:
        """The nationality of an apposition right after a name: ', a Chinese AI startup',
        ', the London-based fintech', ', based in Shenzhen', ', a company based in China'."""
        if not after.startswith(","):
            return None
        words = PHRASE_TOKEN.findall(after)[1:12]
        j = 0
        if words[:2] and words[0].lower() in ("which", "that") and words[1:2] == ["is"]:
            j = 2
        if j < len(words) and words[j].lower() in ("based", "headquartered"):
            return self._place_after(words, j + 1)
        if j >= len(words) or words[j].lower() not in ("a", "an", "the"):
            return None
        j += 1
        modifiers = 0
        while j < len(words):
            w = words[j]
            based = self._based(w)
            found = None
            if based is not None:
                found = self._place_at([based], 0)
                end = j + 1
            else:
                for n in (3, 2, 1):
                    got = self._place_at(words[j : j + n], n - 1)
                    if got and got[1] == 0:
                        found, end = got, j + n
                        break
            if found:
                return found[0] if self._head_follows(words, end, based is not None) else None
            if (
                w.lower() in PHRASE_STOPS
                or not w[:1].isalpha()
                or w.endswith(("'s", "’s", "'"))
                or modifiers == 2
            ):
                break
            if self._is_head(w) and j + 1 < len(words) and words[j + 1].lower() in (
                "based",
                "headquartered",
            ):
                return self._place_after(words, j + 2)
            modifiers += 1
            j += 1
        return None

    def _head_follows(self, words: list[str], j: int, based: bool) -> bool:
        """Whether up to three descriptor words from words[j] end in a company noun (a place
        written '-based' needs none: ', a U.S.-based maker of ...')."""
        for w in words[j : j + 3]:
            if w.endswith(("'s", "’s", "'")):
                return False  # "a Chinese company's rival" is not Chinese itself
            if w.lower() in PHRASE_STOPS or not w[:1].isalnum():
                return based
            if self._is_head(w):
                return True
        return based

    def _place_after(self, words: list[str], j: int) -> str | None:
        if j >= len(words) or words[j].lower() != "in":
            return None
        for n in (3, 2, 1):
            got = self._place_at(words[j + 1 : j + 1 + n], n - 1)
            if got and got[1] == 0:
                return got[0]
        return None

    _redirect: dict

    def _resolve_aliases(self, parties) -> dict[str, str]:
        return dict(self._redirect)

    def __call__(self, doc: Doc, gaz_spans: list[Span] | None = None, text: str | None = None):
        self._redirect = {}
        return self.find(doc, gaz_spans, text)


def _surname_mentions(doc: Doc, text: str, parties: dict[str, Party], taken: set) -> None:
    """'Ekdahl' after 'Tomas Ekdahl' is that person: news names a person in full once and
    by surname after. Not a surname two people share, one that is a word of another party's
    name, or one the article also writes in lower case ('Young' next to 'young people')."""
    people = [p for p in parties.values() if p.kind == "person" and not p.known
              and " " in p.name and p.mentions]
    counts: dict[str, int] = {}
    for p in people:
        counts[p.name.split()[-1]] = counts.get(p.name.split()[-1], 0) + 1
    other_words = {w for q in parties.values() if q.kind != "person" for w in q.name.split()}
    blocked = set(taken)
    for q in parties.values():
        for s, e, _, _ in q.mentions:
            span = doc.char_span(s, e, alignment_mode="expand")
            if span is not None:
                blocked.update(range(span.start, span.end))
    for p in people:
        last = p.name.split()[-1]
        if (counts[last] > 1 or last in other_words or last in parties or len(last) < 3
                or not last[:1].isupper() or last.lower() in doc.vocab.strings
                and doc.vocab[last.lower()].is_stop
                or re.search(r"(?<![\w-])" + re.escape(last.lower()) + r"(?![\w-])", text)):
            continue
        first = min(s for s, _, _, _ in p.mentions)
        before = len(p.mentions)
        _add_occurrences(doc, text, p, r"(?<![\w-])" + re.escape(last) + r"(?![\w-])", blocked)
        # Only the references after the person is first named in full; and opening a
        # sentence, only as the subject of a verb ("Young said", not "Young people").
        p.mentions[before:] = [m for m in p.mentions[before:]
                               if m[0] > first and _named_there(doc, m[0])]


def _named_there(doc: Doc, start: int) -> bool:
    span = doc.char_span(start, start + 1, alignment_mode="expand")
    if span is None:
        return False
    tok = span[0]
    if not tok.is_sent_start:
        return True
    return tok.i + 1 < len(doc) and doc[tok.i + 1].pos_ in ("VERB", "AUX")


def _add_occurrences(doc: Doc, text: str, p: Party, pattern: str, taken: set) -> bool:
    """Add every match of `pattern` outside other names as a mention of `p`; True if any."""
    have = {s for s, _, _, _ in p.mentions}
    added = False
    for m in re.finditer(pattern, text):
        if m.start() in have:
            continue
        span = doc.char_span(m.start(), m.end())
        if span is None or any(i in taken for i in range(span.start, span.end)):
            continue
        p.mentions.append((m.start(), m.end(), m.group(0), "rule"))
        added = True
    return added
