"""Allegation extraction for the NLP step: who accuses whom of what, and how far it has gone."""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field

import yaml
from spacy.tokens import Doc

from tracker.countries import COUNTRIES_FILE
from tracker.nlp.companies import Party, PartyMention
from tracker.nlp.resources import Taxonomy

AUTHORITY_KINDS = {"regulator", "court", "government"}
# "actor": a group the article calls hackers or a gang ("the ransomware gang LockBit"); "state":
# a country the article ties to an attack ("hackers linked to China"). Their parties keep their
# own kinds (other, government); only the accusation rules read them as accusable.
ACCUSABLE_KINDS = {"company", "person", "actor", "state"}
SPEAKER_KINDS = AUTHORITY_KINDS | ACCUSABLE_KINDS
NOT_REFERRED = {"person", "actor", "state"}
# Words that make a sentence an accusation, a legal step or a penalty.
ACCUSE_RE = re.compile(
    r"\b(?:accus\w*|alleg\w*|sue[sd]?|suing|lawsuits?|suit|complaint|charg(?:ed|es|ing)|indict\w*|fined|fines?"
    r"|penalt\w*|probes?|investigat\w*|inquiry|violat\w*|plead\w*\s+guilty|claims?\s+that|broke\s+the\s+law"
    r"|breach(?:ed)?\s+of|in\s+breach|settle[sd]?|settling|whistleblower)\b",
    re.I,
)
# Verbs whose subject is the accuser when a second party follows.
ACCUSER_VERB_RE = re.compile(
    r"\b(?:accus\w*|alleg\w*|sue[sd]?|suing|lawsuits?|charg(?:ed|es|ing)|indict\w*|fined|fines?|said|says|say"
    r"|claims?|claimed|argues|argued|told|found|find|finding|imposed|assessed|ordered|penali[sz]ed|filed|file"
    r"|unsealed|investigat\w*|probe|complaint|cites|blamed|blames)\b",
    re.I,
)
ATTRIB_RE = re.compile(
    r"\b(?:said|says|say|claims?|claimed|according\s+to|argues|contends|told|reported"
    r"|(?:found|concluded|determined)\s+that)\b",
    re.I,
)
# A stage in a hypothetical ("could face lawsuits") is not reached; one that is asked for
# ("wants civil penalties") is not reached beyond the filing.
HEDGE_RE = re.compile(r"\b(?:could|would|might|may|potential(?:ly)?|if|possible|likely)\b", re.I)
WANT_RE = re.compile(r"\b(?:wants?|seeks?|seeking|sought|asks?|asked\s+for)\b", re.I)
PASSIVE_RE = re.compile(
    r"\b(?:was|were|been|is|are|being|be|get|got)\s+(?:\w+\s+)?(?:accused|fined|charged|sued"
    r"|investigated|penali[sz]ed|hit|ordered|found|cleared|targeted)\b"
    r"|\bfac(?:es|ed|ing|e)\s+(?:\w+\s+){0,2}(?:allegations|accusations|claims|charges|lawsuits?"
    r"|probes?|investigations?|scrutiny|fines?|a\s+lawsuit|a\s+probe)\b"
    r"|\bunder\s+investigation\b",
    re.I,
)
# Verbs whose subject accuses their object; speech verbs whose subject accuses the parties
# of the clause they introduce ("X said Y stole...").
ACCUSING_VERB_RE = re.compile(
    r"(?:accus|sue[sd]?$|suing|charg|fine[sd]?$|fining|indict|penali[sz]|blam|target"
    r"|prosecut|investigat|probe|hit$|hits$|slap|order|allege|impos|levie)"
)
SPEECH_VERB_RE = re.compile(
    r"(?:said|say|says|alleg|claim|argu|contend|assert|told|tell|accus|insist|maintain"
    r"|complain|warn|found$|find|conclud|determin)"
)
# Verbs that tie wrongdoing to a party ("accounts it linked to Y").
LINK_VERB_RE = re.compile(r"(?:link|tie|tied|trac|attribut|connect)")
VICTIM_BEFORE = {"from", "victim", "victims", "rivals"}
# A person is accused only in a sentence with a charge-like word, and never as the speaker.
PERSON_CUE_RE = re.compile(
    r"\b(?:charg\w*|indict\w*|sue[sd]?|suing|accus\w*|arrest\w*|alleg\w*|lawsuit"
    r"|convicted|guilty|complaint\s+filed|filed\s+(?:a|an|the)\s+(?:[\w-]+\s+)?complaint)\b",
    re.I,
)
SPEECH_AFTER_RE = re.compile(
    r"^\W{0,3}(?:said|says|told|added|described|called|argued|wrote|testified|is due"
    r"|will have|must|has argued|welcomed)\b",
    re.I,
)
TITLE_BEFORE_RE = re.compile(
    r"(?:chairman|chairwoman|chair|commissioners?|director|attorney|officer|executive"
    r"|president|senator|judge|chief|minister|secretary|counsel|spokes\w+|head|founder"
    r"|co-founder|researcher|adviser|advisor|analyst|economist|professor)\W*$",
    re.I,
)
# Head nouns of an authority reference that the referent's own name contains.
NAMED_HEADS = {
    "commission",
    "department",
    "bureau",
    "agency",
    "office",
    "ministry",
    "court",
    "committee",
    "council",
    "board",
    "authority",
}
LISTED_TITLE_RE = re.compile(
    r"(?:,|\band|\bits|\btheir|\b(?:company|firm)(?:'s|’s))\s+(?:[a-z][\w-]*\s+){0,4}$"
)
ACCUSING_PRONOUN_RE = re.compile(
    r"\s+(?:has\s+|had\s+|also\s+)?(?:sued|charged|fined|indicted|accused|imposed|levied)\b"
)
PROSECUTING_RE = re.compile(r"Justice|Attorney|Prosecut|Procura|Parquet|Serious Fraud Office")
NOT_ACTING_RE = re.compile(
    r"(?:\b(?:in|into|before|with|from|at|of)\s+(?:the\s+)?(?:[A-Z][\w.]*\s+){0,3}"
    r"|\b(?:sent|sends|went|gone|submitted|wrote|written)\s+(?:[\w-]+\s+){0,3}to\s+(?:the\s+)?"
    r"|\b(?:a|an)\s+)$"
)
# "the $300 million paid by X in 2023 to settle charges": X paid to end a case against it
PAID_BY_RE = re.compile(r"\b(?:paid|forfeited|owed)\s+(?:\w+\s+){0,2}?by\s+(?:the\s+)?$")
SETTLE_AFTER_RE = re.compile(
    r"[^.;]{0,40}?\b(?:to\s+(?:settle|resolve)|in\s+(?:fines|penalties|damages)|as\s+a\s+penalty)\b"
)
# "the FCC's investigation into the breach": an inquiry into the story's own wrongdoing
INQUIRY_INTO_RE = re.compile(
    r"(?:'s|’s)\s+(?:[\w-]+\s+){0,2}?(?:investigation|probe|inquiry|review|examination)\s+"
    r"(?:into|of)\s+the\s+(?:[\w-]+\s+){0,2}?(?:breach|hack|leak|incident|attack|intrusion"
    r"|outage|allegations|conduct|practices|matter)\b"
)
LIST_GAP_RE = re.compile(r"\s*(?:,\s*(?:(?:and|or)\s+)?|(?:and|or|&)\s+)(?:the\s+)?")
ACTION_OWNER_RE = re.compile(
    r"(?:'s|’s)?\s+(?:[a-z][\w-]*\s+){0,3}?(?:lawsuits?|suits?|complaints?|claims|allegations"
    r"|accusations|fight|case|charges)\b"
)
FILED_BY_RE = re.compile(
    r"\b(?:lawsuits?|suits?|complaint|case|action|charges)\s+(?:(?:it\s+)?(?:was\s+)?"
    r"(?:filed|brought|lodged|launched)\s+(?:\w+\s+){0,2}?by|by|from)\s+(?:the\s+)?(?:[\w.-]+\s+){0,2}$",
    re.I,
)
# Acting to stop a deal is a competition case whatever words the sentence uses for the harm.
DEAL_BLOCK_RE = re.compile(
    r"\b(?:to|would)\s+(?:stop|halt|prevent|unwind|block)\b[^.;]{0,80}?\b(?:deal|merger|acquisition"
    r"|acquiring|buying|purchase|purchasing|takeover|combination|tie-up)\b",
    re.I,
)
NAMED_BY_RE = re.compile(
    r"\s*,\s*(?:which\s+was\s+|who\s+was\s+)?(?:also\s+|likewise\s+)?(?:named|accused|cited"
    r"|identified|singled\s+out)\s+(?:\w+\s+){0,2}?by\s+(?:the\s+)?"
)
NOT_NAMED_RE = re.compile(
    r"\s*,?\s*(?:which|who)\s+(?:was|were|is|are|has|had)\s+not\s+(?:been\s+)?(?:named|accused"
    r"|implicated|mentioned|cited|identified|among)\b"
)
CUSTOMERS_RE = re.compile(
    r"\b(?:customers|clients|users|buyers|partners|suppliers|licensees|investors|backers)\b,?\s+"
    r"(?:including|such\s+as|like|among\s+them)\s+(?:[^.;:]{0,60}?(?:,|\band)\s+)?$",
    re.I,
)
COMPLAINANT_RE = re.compile(
    r"\b(?:complaints?|claims?|concerns|objections)\s+(?:\w+\s+){0,2}?from\s+"
    r"(?:[\w-]+\s+){0,3}$",
    re.I,
)
# A company introduced as the owner of the business it speaks about.
OWNER_BEFORE_RE = re.compile(
    r"\b(?:its|their)\s+(?:new\s+|former\s+|current\s+)?(?:owner|parent(?:\s+company)?)\s*,?\s*$",
    re.I,
)
OWNER_AFTER_RE = re.compile(
    r"\s*,?\s*(?:(?:the|a|an)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:unit|division|subsidiary|arm|business|company|group|firm|conglomerate)\s+)?"
    r"(?:that|which)\s+(?:now\s+)?(?:houses|owns|runs|operates|controls)\b",
    re.I,
)
EMPLOYER_RE = re.compile(
    r"(?:'s|’s)?\s+(?:former\s+|senior\s+|own\s+)?(?:engineer|employee|executive|worker|staffer"
    r"|contractor|general\s+counsel|spokes(?:person|man|woman)|lawyers?|attorneys?"
    r"|chief\s+(?:[a-z]+\s+){0,2}officer)s?\b"
)
PRONOUNS = {"it", "its", "they", "their"}
RELATIVE_PRONOUNS = {"who", "which", "that"}
# A company officer (title, optional name) as the speaker of a sentence.
OFFICER_SPEAKER_RE = re.compile(
    r"(?:(?<=\s)|^)(?:[Cc]hief\s+(?:[a-z]+\s+){0,3}officer|[Gg]eneral\s+counsel|CEO|[Cc]hief\s+executive"
    r"|[Pp]resident|[Cc]o-?founder|[Ff]ounder|[Cc]hair(?:man|woman)?|[Ss]pokes(?:person|man|woman)"
    r"|[Hh]ead\s+of\s+(?:[a-z]+\s+){1,2}?(?=[A-Z,]))"
    r"\s*,?\s*(?:[A-Z][\w.'’-]*,?\s+){0,3}?,?\s*(?:said|says|told|alleged|claimed|argued|added)\b"
)
FORMER_RE = re.compile(r"\b(?:former|ex-|then-)", re.I)
# A word between "the" and a reference noun describes the noun ("the San Francisco-based AI
# company"); a function word or a speech verb there means the noun opens a phrase of its own
# ("the authority found that the company").
REF_GAP_WORD = (
    r"(?!(?:the|a|an|that|which|who|and|or|but|of|to|in|on|at|by|with|for|from|is|was|are|were"
    r"|has|had|have|said|says|found|told|its|their|it|they)\s)"
)
# Words around a name that call it a hacking group rather than an ordinary organisation.
ATTACKER_NOUN = (
    r"(?:hackers?|hacking\s+(?:group|crew|team|collective|outfit)s?|(?:cyber[\s-]?)?(?:criminals"
    r"|attackers|spies)|threat\s+actors?|intruders|(?:ransomware|extortion|cybercrime|cyber"
    r"|espionage|criminal|hacker|apt)\s+(?:group|gang|crew|collective|outfit|operation|actor)s?)"
)
ACTOR_BEFORE_RE = re.compile(
    ATTACKER_NOUN + r"\s*,?\s*(?:(?:known|tracked|identified)\s+as|called|calling\s+(?:itself"
    r"|themselves)|dubbed|named|that\s+calls?\s+(?:itself|themselves))?\s*(?:the\s+)?$",
    re.I,
)
ACTOR_AFTER_RE = re.compile(
    r"^\s*(?:(?:ransomware|extortion|hacking|hacker|cybercrime)\s+(?:group|gang|crew)|hackers"
    r"|gang|,\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?" + ATTACKER_NOUN + r")\b",
    re.I,
)
# "X claimed responsibility for the attack": a group owning up to an attack is its accused.
RESPONSIBILITY_RE = re.compile(
    r"\s*(?:,[^,]{0,60},\s*)?(?:has\s+|had\s+|have\s+)?(?:claimed|claims|took|takes|claiming"
    r"|taking)\s+(?:responsibility|credit)\b"
)
# Words that may stand between the attackers and the country they are tied to ("hackers that US
# officials link to China", "a group believed to be working for Iran").
STATE_GAP = (
    r"(?:(?:that|which|who|are|were|is|was|have|has|had|been|be|to|widely|allegedly|reportedly"
    r"|suspected|believed|thought|long|officials|investigators|researchers|experts|analysts|say"
    r"|said|says|of|the|[A-Z][\w.]*)\s+){0,5}?"
)
STATE_TIE = (
    r"(?:linked|link|links|tied|tie|ties|connected|attributed|traced|working|acting|backed"
    r"|sponsored|directed|run|controlled|operating)\s+(?:to|for|by|on\s+behalf\s+of|from)\s+"
    r"(?:the\s+)?"
)
STATE_ATTACK_VERBS = (
    r"(?:has\s+|had\s+|have\s+)?(?:(?:repeatedly|also|allegedly|secretly)\s+)?(?:hacked|breached"
    r"|infiltrated|penetrated|spied\s+on|targeted|(?:was|is|were)\s+behind)\b"
)
STATE_OWNER_RE = re.compile(
    r"(?:\s+government|['’]s\s+(?:government|military|intelligence\s+services))$"
)
CYBER_RE = re.compile(
    r"\b(?:hack\w*|cyber\w*|intrusions?|espionage|spy\w*|spies|intelligence|breach\w*"
    r"|attack\w*)\b",
    re.I,
)
HIRED_RE = re.compile(
    r"\b(?:hired|retained|engaged|brought\s+in|called\s+in|appointed)\s+(?:[\w-]+\s+){0,3}$",
    re.I,
)
PERSON_FILING_RE = re.compile(
    r"(?:\s*,[^,.;]{0,60},)?\s*,?\s+(?:(?:has|had|have)\s+)?(?:(?:filed|brought|lodged|submitted)"
    r"|(?:gone|went|turned)\s+to\s+[^.;]{0,40}?\bwith)\s+(?:a|an|his|her|their)\s+"
    r"(?:[\w-]+\s+){0,2}?(?:complaint|lawsuit|suit)s?\b"
)
SPEAKS_RE = re.compile(
    r"^\W{0,3}(?:alleges?|alleged|alleging|accus\w+|claim(?:s|ed|ing)?|says|said|saying|sues|sued"
    r"|suing)\b",
    re.I,
)


@dataclass
class Slot:
    """A party named (or referred to) at one place in a sentence."""

    start: int  # char offset
    end: int
    key: str
    kind: str
    ref: bool = False


@dataclass
class SentenceClaim:
    sent_index: int
    start: int
    end: int
    text: str
    accuser: str | None
    accused: list[str]
    types: list[str]
    status: str
    cue: str | None
    confidence: float


@dataclass
class ArticleContext:
    """What the allegation and response steps share about one article."""

    doc: Doc
    parties: dict[str, Party]
    sents: list
    slots: list[list[Slot]] = field(default_factory=list)
    text: str = ""  # doc.text, built once (spaCy rebuilds it on every access)
    # each sentence's text, cut from `text` once: a Span's .text rebuilds it token by token
    sent_texts: list[str] = field(default_factory=list)
    parses: dict = field(
        default_factory=dict
    )  # sentence index -> parsed Doc of that sentence alone


class AllegationFinder:
    def __init__(self, taxonomy: Taxonomy, rules: dict):
        self.tax = taxonomy
        nouns = "|".join(re.escape(n) for n in rules.get("reference_nouns", []))
        self.ref_re = re.compile(
            rf"\b(?:the|The)\s+(?:{REF_GAP_WORD}[\w.'&-]+\s+){{0,4}}?(?:{nouns})\b"
            r"|\b(?:the|The)\s+[A-Z][\w .,'-]{0,30}?-based\s+(?:[\w-]+\s+){0,3}?[a-z][\w-]+\b"
            rf"|\b(?:[A-Z]\w+(?:'s|’s))\s+(?:biggest|largest|leading|second-largest|top)\s+(?:[\w-]+\s+){{0,3}}?"
            rf"(?:{nouns})\b"
        )
        self.reg_ref_re = re.compile(
            r"\b(?:the|The|its|Its|[A-Z]\w+(?:'s|’s))\s+(?:[\w-]+\s+){0,3}?(?:watchdog|regulator|agency|agencies"
            r"|commission|Commission|authority|bureau|prosecutors|authorities)\b"
            r"|\b(?:[Ff]ederal\s+|U\.S\.\s+|US\s+)?(?:[Pp]rosecutors|[Aa]uthorities|[Rr]egulators)\b"
        )

    @functools.cached_property
    def state_re(self) -> re.Pattern:
        """Where the text ties an attack to a country: the attackers "linked to China", the
        "Russian-backed hackers", "North Korea hacked ..."; group `c` is the country."""
        forms = sorted(_country_names(), key=len, reverse=True)
        names = "|".join(re.escape(f) for f in forms)
        government = r"(?:\s+government|['’]s\s+(?:government|military|intelligence\s+services))?"
        attacker = "(?i:" + ATTACKER_NOUN + ")"
        return re.compile(
            rf"(?<![\w-]){attacker}\s+{STATE_GAP}(?i:{STATE_TIE})(?P<c>(?:{names}){government})"
            r"(?![\w-])"
            rf"|(?<![\w-])(?P<b>(?:{names}){government})(?:-(?i:linked|backed|sponsored|affiliated"
            r"|aligned|nexus)\s+(?:[a-z][\w-]*\s+)?|\s+(?:(?i:state|government|military)"
            rf"(?:-(?i:sponsored|backed|linked))?\s+)?){attacker}(?![\w-])"
            rf"|(?<![\w-])(?P<v>{names})\s+(?i:{STATE_ATTACK_VERBS})"
        )

    def _actors(self, text: str, parties: dict[str, Party]) -> set[str]:
        """Parties of kind other that the article calls hackers or a gang, or that claim an
        attack: these can be accused."""
        out = set()
        for key, p in parties.items():
            if p.kind != "other":
                continue
            for s, e, _t, _src in p.mentions:
                if (
                    ACTOR_BEFORE_RE.search(text[max(0, s - 60) : s])
                    or ACTOR_AFTER_RE.match(text[e : e + 80])
                    or RESPONSIBILITY_RE.match(text, e)
                ):
                    out.add(key)
                    break
        return out

    def _add_states(self, ctx: ArticleContext, starts: list[int]) -> None:
        """Slots for the countries the text ties to an attack. A country that is only a place
        or a government acting is not such a slot; a government the attackers serve becomes
        one."""
        text = ctx.text
        if not CYBER_RE.search(text):
            return
        canon = _country_names()
        for m in self.state_re.finditer(text):
            group = next(g for g in ("c", "b", "v") if m.group(g))
            a, b = m.span(group)
            si = bisect.bisect_right(starts, a) - 1
            if si < 0:
                continue
            # "China targeted" an attack only where the sentence is about one; "anti-China" is
            # no subject
            if group == "v" and (
                "targeted" in m.group(0) and not CYBER_RE.search(ctx.sent_texts[si])
                or text[a - 1 : a] == "-"
            ):
                continue
            over = [x for x in ctx.slots[si] if x.start < b and a < x.end]
            if over:
                for x in over:
                    if x.kind == "government":
                        x.kind = "state"
                continue
            name = m.group(group)
            base = STATE_OWNER_RE.sub("", name)
            key = canon.get(base, base)
            p = ctx.parties.get(key)
            if p is None:
                p = ctx.parties[key] = Party(key, "government")
            elif p.kind not in ("government", "other"):
                continue
            p.aliases.add(name)
            p.mentions.append((a, b, name, "rule"))
            ctx.slots[si].append(Slot(a, b, key, "state"))
            ctx.slots[si].sort(key=lambda x: x.start)

    # -- references -------------------------------------------------------------------

    def build_context(
        self,
        doc: Doc,
        parties: dict[str, Party],
        mentions: list[PartyMention],
        sents: list | None = None,
        text: str | None = None,
    ) -> ArticleContext:
        sents = list(doc.sents) if sents is None else sents
        ctx = ArticleContext(
            doc, parties, sents, [[] for _ in sents], doc.text if text is None else text
        )
        ctx.sent_texts = [ctx.text[s.start_char:s.end_char] for s in sents]
        sent_of_tok = {}
        for si, s in enumerate(sents):
            for i in range(s.start, s.end):
                sent_of_tok[i] = si
        timeline: list[Slot] = []  # every mention, in text order, for resolving references
        actors = self._actors(ctx.text, parties)
        for m in mentions:
            p = parties.get(m.key)
            if p is None:
                continue
            span = doc[m.start : m.end]
            kind = "actor" if p.name in actors else p.kind
            slot = Slot(span.start_char, span.end_char, p.name, kind)
            ctx.slots[sent_of_tok[m.start]].append(slot)
            timeline.append(slot)
        for si, s in enumerate(sents):
            taken = [(x.start, x.end) for x in ctx.slots[si]]
            for rx, want in ((self.ref_re, ACCUSABLE_KINDS), (self.reg_ref_re, AUTHORITY_KINDS)):
                for m in rx.finditer(ctx.sent_texts[si]):
                    a, b = s.start_char + m.start(), s.start_char + m.end()
                    # "the EU's competition regulator": the owner may be named, the phrase
                    # is the party
                    if any(
                        a < e and st < b and not (st <= a and want is AUTHORITY_KINDS)
                        for st, e in taken
                    ):
                        continue
                    head = m.group(0).split()[-1].lower() if want is AUTHORITY_KINDS else None
                    target = self._resolve(timeline, a, want, head, parties)
                    if head in ("prosecutors", "prosecutor") and (
                        target is None or not PROSECUTING_RE.search(target.key)
                    ):
                        # prosecutors are not the securities regulator named before them: the
                        # phrase itself names the accuser when no prosecuting office is named
                        target = self._generic_party(ctx, m.group(0))
                    if target is not None:
                        if want is AUTHORITY_KINDS:
                            # the owner inside the phrase only says whose regulator it is
                            ctx.slots[si] = [
                                x
                                for x in ctx.slots[si]
                                if not (a <= x.start and x.end <= b and x.kind in AUTHORITY_KINDS)
                            ]
                        ctx.slots[si].append(Slot(a, b, target.key, target.kind, ref=True))
                        taken.append((a, b))
            ctx.slots[si].sort(key=lambda x: x.start)
        self._add_states(ctx, [s.start_char for s in sents])
        return ctx

    @staticmethod
    def _generic_party(ctx: ArticleContext, phrase: str) -> Slot:
        name = re.sub(r"^(?:the|The|its|Its)\s+", "", phrase.strip())
        name = name[:1].lower() + name[1:] if name[1:2].islower() else name
        if name not in ctx.parties:
            ctx.parties[name] = Party(name, "regulator")
        return Slot(0, 0, name, "regulator")

    @staticmethod
    def _resolve(
        timeline: list[Slot],
        pos: int,
        kinds: set,
        head: str | None = None,
        parties: dict[str, Party] | None = None,
    ) -> Slot | None:
        """The party a reference names: the nearest one before it (else after it) of the
        wanted kinds. An authority's head noun narrows the choice: "the commission" is the
        party with Commission in its name, not the department named last; "the regulator"
        is a regulator rather than the government it belongs to."""
        # "the company" is not a person, a hacking group or a country named before it
        wanted = kinds - NOT_REFERRED
        before = [s for s in timeline if s.end <= pos and s.kind in wanted]
        after = [s for s in timeline if s.start >= pos and s.kind in wanted]
        if head and parties is not None:
            if head in ("prosecutors", "prosecutor"):

                def fits(s: Slot) -> bool:
                    return bool(PROSECUTING_RE.search(s.key))
            elif head in NAMED_HEADS:

                def fits(s: Slot) -> bool:
                    p = parties.get(s.key)
                    names = {s.key} | (p.aliases if p is not None else set())
                    return any(head in n.lower().split() for n in names)
            else:

                def fits(s: Slot) -> bool:
                    return s.kind == "regulator"

            narrowed = [s for s in before if fits(s)], [s for s in after if fits(s)]
            if narrowed[0] or narrowed[1]:
                before, after = narrowed
        if before:
            return before[-1]
        return after[0] if after else None

    def _pronoun_slot(
        self, ctx: ArticleContext, si: int, pos: int, prefer: set | None = None
    ) -> Slot | None:
        if prefer:
            earlier = [s for s in ctx.slots[si] if s.end <= pos and s.kind in prefer]
            if earlier:
                return earlier[-1]
        earlier = [s for s in ctx.slots[si] if s.end <= pos and s.kind == "company"]
        if earlier:
            return earlier[-1]
        if prefer:
            # "The Garante ... It fined OpenAI": the pronoun that accuses is the authority
            # the story was about
            for sj in range(si - 1, max(-1, si - 3), -1):
                cands = [s for s in ctx.slots[sj] if s.kind in prefer]
                if cands:
                    return cands[0]
        for sj in range(si - 1, max(-1, si - 3), -1):
            cands = [s for s in ctx.slots[sj] if s.kind == "company"]
            if cands:
                return cands[0]
        return None

    # -- types and statuses -------------------------------------------------------------

    def types_in(self, text: str) -> dict[str, int]:
        hits: dict[str, int] = {}
        if self.tax.any_type_re is None or not self.tax.any_type_re.search(text):
            return hits
        for t, rx in self.tax.type_res.items():
            if rx is not None:
                n = len(rx.findall(text))
                if n:
                    hits[t] = n
        return hits

    def status_in(self, text: str, has_authority: bool) -> str | None:
        if self.tax.any_status_re is None or not self.tax.any_status_re.search(text):
            return None
        best, rank = None, -1
        hedge = HEDGE_RE.search(text)
        wanted = bool(WANT_RE.search(text))
        for sid, rx in self.tax.status_res.items():
            if rx is None or sid == "alleged":
                continue
            # a hedge puts off the stage it comes before ("could face lawsuits"), not one
            # already reached ("has sued to stop a deal that would crush rivals"): only the
            # stage's first mention can come before every hedge
            m = rx.search(text)
            if m is None or (hedge is not None and hedge.start() < m.start()):
                continue
            if sid == "investigating" and not has_authority:
                continue
            if wanted and sid in ("fined", "settled", "ruled", "dismissed"):
                continue
            r = self.tax.status_rank.get(sid, 0)
            if r > rank:
                best, rank = sid, r
        return best

    # -- sentence claims ----------------------------------------------------------------

    def is_candidate(self, ctx: ArticleContext, si: int) -> bool:
        """Whether a sentence can carry an accusation: a cue word and a party to accuse."""
        if not any(s.kind in ACCUSABLE_KINDS for s in ctx.slots[si]) and not re.search(
            r"\b(?:it|It|they|They)\b", ctx.sent_texts[si]
        ):
            return False
        text = ctx.sent_texts[si]
        return bool(ACCUSE_RE.search(text) or ATTRIB_RE.search(text) and self.types_in(text))

    def parse_roles(self, ctx: ArticleContext, si: int, slots: list[Slot]):
        """Accuser and accused from the dependency parse of the sentence, or None.

        The subject of an accusing verb ("accuse", "sue", "fine", "charge") accuses its
        object (or the object of "against"); in the passive the agent ("by X") accuses the
        subject; the subject of a speech verb ("say", "allege", "claim") accuses the parties of
        the clause it introduces. An organisation wins over the person speaking for it. An
        accuser whose object names no party comes back with no accused: the sentence then
        makes no claim (its subject is not the accused for want of another party).
        """
        parsed = ctx.parses.get(si)
        if parsed is None:
            return None
        s0 = ctx.sents[si].start_char

        def parties(tokens, kinds) -> list[Slot]:
            found = []
            for t in tokens:
                a = s0 + t.idx
                for sl in slots:
                    if sl.start <= a < sl.end and sl.kind in kinds and sl not in found:
                        found.append(sl)
            found.sort(key=lambda x: x.start)
            return found

        def subtree(tok, skip=()):
            out = []
            for t in tok.subtree:
                if any(t.i in range(x.left_edge.i, x.right_edge.i + 1) for x in skip):
                    continue
                out.append(t)
            return out

        away = self._addressed(ctx.sent_texts[si], s0, slots)

        def pick_accuser(cands: list[Slot]) -> Slot | None:
            # "the complaint, sent to the SEC and the FTC, says": where it went does not accuse
            cands = [c for c in cands if not (c.kind in AUTHORITY_KINDS and id(c) in away)]
            orgs = [c for c in cands if c.kind != "person"]
            return (orgs or cands or [None])[0]

        unnamed = None
        for v in parsed:
            low = v.lower_
            accusing = (
                ACCUSING_VERB_RE.match(low) and v.pos_ in ("VERB", "NOUN") and v.dep_ != "amod"
            )
            speech = SPEECH_VERB_RE.match(low) and v.pos_ == "VERB"
            if not (accusing or speech):
                continue
            kids = list(v.children)
            # of two subjects (a misparse of "a complaint filed by X, the commission alleged"),
            # the one next to the verb speaks
            subj = sorted((c for c in kids if c.dep_ == "nsubj"), key=lambda c: -c.i)
            subj_skip: tuple = ()
            clause = v
            # "X, who ... and has accused it of ...": a verb joined to another shares its
            # subject, and a relative pronoun stands for the noun the clause describes
            while not subj and clause.dep_ == "conj" and clause.head is not clause:
                clause = clause.head
                subj = [c for c in clause.children if c.dep_ == "nsubj"]
            if subj and subj[0].lower_ in RELATIVE_PRONOUNS and clause.dep_ == "relcl":
                subj, subj_skip = [clause.head], (clause,)
            subjpass = [c for c in kids if c.dep_ == "nsubjpass"]
            agent = [g for c in kids if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
            if accusing and v.pos_ == "VERB":
                if subjpass and agent:
                    accuser = pick_accuser(
                        parties(subtree(agent[0]), AUTHORITY_KINDS | {"company", "person"})
                    )
                    accused = parties(subtree(subjpass[0]), ACCUSABLE_KINDS)
                    if accuser and accused:
                        return accuser, accused, v
                if subj:
                    accuser = pick_accuser(parties(subtree(subj[0], subj_skip), SPEAKER_KINDS))
                    objs = [c for c in kids if c.dep_ in ("dobj", "dative")]
                    objs += [
                        g
                        for c in kids
                        if c.dep_ == "prep"
                        and (
                            c.lower_ in ("against", "over")
                            # "the penalty it imposed on X"
                            or c.lower_ == "on"
                            and low.startswith(("impos", "levie"))
                        )
                        for g in c.children
                        if g.dep_ == "pobj"
                    ]
                    if low.startswith(("sue", "suing")):
                        # "sued to stop X from buying Y": the parties of the deal it would block
                        objs += [c for c in kids if c.dep_ == "xcomp"]
                    accused = [x for o in objs for x in parties(subtree(o), ACCUSABLE_KINDS)]
                    if accuser and accused:
                        return accuser, [a for a in accused if a.key != accuser.key] or accused, v
                    if (
                        accuser
                        and objs
                        and unnamed is None
                        and not low.startswith(("impos", "levie"))
                    ):
                        # "X has accused three Chinese startups of ...": X accuses, and whom
                        # the sentence does not name (what X imposes is the penalty itself)
                        unnamed = (accuser, [], v)
            if speech and subj:
                accuser = pick_accuser(parties(subtree(subj[0], subj_skip), SPEAKER_KINDS))
                # the accused is the subject (or, passive, the object) of the reported clause,
                # and the clause itself says something wrongful
                accused = []
                for c in kids:
                    if c.dep_ not in ("ccomp", "xcomp"):
                        continue
                    words = " ".join(t.text for t in c.subtree)
                    if not (ACCUSE_RE.search(words) or self.types_in(words)):
                        continue
                    # a passive clause's subject is a victim ("Yahoo was hit in a hack") unless the
                    # verb itself accuses ("X was charged")
                    passive_ok = bool(ACCUSING_VERB_RE.match(c.lower_))
                    roles = [
                        g
                        for g in c.children
                        if g.dep_ == "nsubj" or g.dep_ == "nsubjpass" and passive_ok
                    ]
                    if c.dep_ == "xcomp":
                        roles = [g for g in c.children if g.dep_ in ("dobj",)]
                    found = [x for g in roles for x in parties(subtree(g), ACCUSABLE_KINDS)]
                    if accuser and found and all(x.key == accuser.key for x in found):
                        # "X said it had evidence Y used...", "X said it suspended accounts it
                        # linked to Y": the speaker reports its own finding about another party
                        found = [
                            x
                            for g in self._finding_parties(c)
                            for x in parties(subtree(g), ACCUSABLE_KINDS)
                        ]
                    accused += [x for x in found if accuser is None or x.key != accuser.key]
                if accuser and accused:
                    return accuser, accused, v
        return unnamed

    def _payer_or_inquiry(
        self, ctx: ArticleContext, si: int, slots: list[Slot], accuser, accused
    ) -> tuple:
        """Two shapes that name the accused without an accusing verb: money "paid by X to
        settle charges" (the acting authority of the sentence, if any, accuses X), and "the
        FCC's investigation into the breach" with no party named (the inquiry is into the
        company the preceding sentences are about)."""
        text, s0 = ctx.sent_texts[si], ctx.sents[si].start_char
        for s in slots:
            pre = text[max(0, s.start - s0 - 40) : s.start - s0]
            if s.kind == "company" and PAID_BY_RE.search(pre):
                if SETTLE_AFTER_RE.match(text, s.end - s0):
                    away = self._addressed(text, s0, slots)
                    auth = [
                        o for o in slots if o.kind in AUTHORITY_KINDS and id(o) not in away
                    ]
                    return (auth[0] if auth else None), [s]
        if any(s.kind in ACCUSABLE_KINDS for s in slots):
            return accuser, accused
        for s in slots:
            if s.kind in AUTHORITY_KINDS and INQUIRY_INTO_RE.match(text, s.end - s0):
                focus = self._pronoun_slot(ctx, si, s.start)
                if focus is not None:
                    return s, [Slot(s.start, s.start, focus.key, focus.kind, ref=True)]
        return accuser, accused

    @staticmethod
    def _addressed(text: str, s0: int, slots: list[Slot]) -> set[int]:
        """Ids of the slots the words address or place rather than name as acting ("sent to
        the SEC, the FTC and the Justice Department", "in the District Court"), a party listed
        with an addressed one included."""
        away: set[int] = set()
        prev = None
        for s in slots:
            if NOT_ACTING_RE.search(text[max(0, s.start - s0 - 30) : s.start - s0]) or (
                prev is not None
                and id(prev) in away
                and LIST_GAP_RE.fullmatch(text[prev.end - s0 : s.start - s0])
            ):
                away.add(id(s))
            prev = s
        return away

    @staticmethod
    def _finding_parties(clause) -> list:
        """The parties a speaker's own finding is about: the subjects of the clauses nested in
        it ("it had evidence Y used", "it found that Y had copied") and what it linked the
        wrongdoing to ("accounts it linked to Y")."""
        out = []
        for t in clause.subtree:
            if t is clause or t.dep_ not in ("relcl", "acl", "ccomp") or t.pos_ not in (
                "VERB",
                "AUX",
            ):
                continue
            out += [g for g in t.children if g.dep_ == "nsubj"]
            if LINK_VERB_RE.match(t.lower_):
                out += [
                    g
                    for p in t.children
                    if p.dep_ == "prep" and p.lower_ == "to"
                    for g in p.children
                    if g.dep_ == "pobj"
                ]
        return out

    def sentence_claim(self, ctx: ArticleContext, si: int) -> SentenceClaim | None:
        sent = ctx.sents[si]
        text = ctx.sent_texts[si]
        s0 = sent.start_char
        type_hits = self.types_in(text)
        if "antitrust" in self.tax.type_res and DEAL_BLOCK_RE.search(text):
            type_hits["antitrust"] = type_hits.get("antitrust", 0) + 1
        owned = self._owned_attack(ctx, si, type_hits)
        if owned is not None:
            return owned
        acc = ACCUSE_RE.search(text) or NAMED_BY_RE.search(text)
        if not acc and not (type_hits and ATTRIB_RE.search(text)):
            return None
        if re.search(r"forward-looking|this press release", text, re.I):
            return None
        trigger = s0 + (
            acc.start()
            if acc
            else min(
                m.start()
                for m in (
                    [ATTRIB_RE.search(text)]
                    + [self.tax.type_res[t].search(text) for t in type_hits]
                )
                if m
            )
        )
        slots = list(ctx.slots[si])
        # pronoun subjects and objects ("alleging that it used...")
        for m in re.finditer(
            r"\b(?:it|It)\b(?!\s+(?:is|was)\s+(?:worth|likely|unclear|not clear))", text
        ):
            pos = s0 + m.start()
            if any(s.start <= pos < s.end for s in slots):
                continue
            # "it sued the company": a pronoun that accuses is the authority the sentence names
            accusing = ACCUSING_PRONOUN_RE.match(text, m.end())
            target = self._pronoun_slot(ctx, si, pos, AUTHORITY_KINDS if accusing else None)
            if target is not None:
                slots.append(
                    Slot(pos, pos + m.end() - m.start(), target.key, target.kind, ref=True)
                )
        slots.sort(key=lambda x: x.start)

        def victim(slot: Slot) -> bool:
            before = text[max(0, slot.start - s0 - 12) : slot.start - s0].lower().split()
            if before and before[-1] in VICTIM_BEFORE:
                return True
            # "complaints from rivals including Foundem" come from the party, not against it;
            # "customers including Nvidia and Qualcomm" are the accused's customers
            pre = text[max(0, slot.start - s0 - 80) : slot.start - s0]
            # "it hired security firm Mandiant to investigate": the firm works on the case
            return bool(
                COMPLAINANT_RE.search(pre[-50:]) or CUSTOMERS_RE.search(pre) or HIRED_RE.search(pre)
            )

        before = [s for s in slots if s.end <= trigger]
        after = [s for s in slots if s.start >= trigger]
        accuser: Slot | None = None
        accused: list[Slot] = []
        by = None
        for s in after:
            pre = text[max(0, s.start - s0 - 40) : s.start - s0]
            if re.search(r"\bby\s+(?:[\w'’-]+\s+){0,3}$", pre) and s.kind in AUTHORITY_KINDS | {
                "company"
            }:
                by = s
                break
        for s in slots:
            # "MiniMax, also named by Anthropic, said ...": the party that named it accuses it
            if s.kind in ACCUSABLE_KINDS and NAMED_BY_RE.match(text, s.end - s0):
                named_by = [
                    o
                    for o in slots
                    if o.start >= s.end and o.key != s.key and o.kind != "other"
                ]
                if named_by and named_by[0].start - s0 <= NAMED_BY_RE.match(
                    text, s.end - s0
                ).end():
                    accuser, accused = named_by[0], [s]
                    break
        if accuser is None:
            accuser, accused = self._payer_or_inquiry(ctx, si, slots, accuser, accused)
        if accuser is None:
            # "Jane Roe, a former engineer, filed a complaint alleging the company ...": the
            # person who brings the complaint accuses the parties it names
            for s in slots:
                m = PERSON_FILING_RE.match(text, s.end - s0)
                if s.kind != "person" or s.ref or m is None:
                    continue
                named = [
                    o
                    for o in slots
                    if o.start >= s0 + m.end()
                    and o.kind in ACCUSABLE_KINDS
                    and o.key != s.key
                    and not victim(o)
                ]
                if named:
                    accuser, accused = s, named
                break
        according = None if accuser else re.search(r"according to\s+(?:the\s+)?", text, re.I)
        if according:
            after_acc = [
                s
                for s in slots
                if s.start >= s0 + according.end() and s.start <= s0 + according.end() + 3
            ]
            if after_acc and after_acc[0].kind in AUTHORITY_KINDS | ACCUSABLE_KINDS:
                accuser = after_acc[0]
                accused = [s for s in slots if s.key != accuser.key and s.kind in ACCUSABLE_KINDS]
        if accuser is None:
            # "Uber settles Waymo trade secrets fight", "X will fight Y's lawsuit": the party
            # naming the action accuses the subject that answers it
            for s in slots:
                if s.kind == "other" or not ACTION_OWNER_RE.match(text, s.end - s0):
                    continue
                subjects = [
                    b
                    for b in slots
                    if b.end <= s.start and b.kind in ACCUSABLE_KINDS and b.key != s.key
                ]
                if (
                    subjects
                    and not victim(s)
                    and not re.fullmatch(
                        r"\W*(?:and|or|&)?\W*", text[subjects[-1].end - s0 : s.start - s0]
                    )
                ):
                    accuser, accused = s, subjects[-1:]
                break
        if accuser is None:
            roles = self.parse_roles(ctx, si, slots)
            if roles is not None:
                accuser, accused, _ = roles
        if accuser is None:
            # "the lawsuit filed by the Justice Department", "a defendant in a suit from Reddit":
            # the party bringing the action accuses the others the sentence names
            for s in slots:
                if s.kind not in AUTHORITY_KINDS | {"company"} or not FILED_BY_RE.search(
                    text[max(0, s.start - s0 - 50) : s.start - s0]
                ):
                    continue
                others = [
                    o
                    for o in slots
                    if o.kind in ACCUSABLE_KINDS and o.key != s.key and not victim(o)
                ]
                if others:
                    accuser, accused = s, others
                break
        if (
            accuser is None
            and by is not None
            and before
            and PASSIVE_RE.search(text[: by.start - s0])
        ):
            accuser = by
            accused = [s for s in before if s.kind in ACCUSABLE_KINDS]
        if accuser is None and not accused:
            # "users in the European Economic Area" is where, not who: no subject
            away = self._addressed(text, s0, slots)
            subj = self._subject([s for s in before if id(s) not in away])
            after_acc = self._object_group(
                sent, ctx.text, [s for s in after if s.kind in ACCUSABLE_KINDS and not victim(s)]
            )
            trig_word = ACCUSER_VERB_RE.search(text[trigger - s0 - 1 if trigger > s0 else 0 :])
            if subj is not None and subj.kind in AUTHORITY_KINDS:
                accuser = subj
                accused = after_acc
                if not accused:
                    accused = [s for s in before if s.kind in ACCUSABLE_KINDS and s is not subj]
            elif (
                subj is not None
                and after_acc
                and trig_word
                and (trig_word.start() < 40 or PASSIVE_RE.search(text) is None)
                and subj.key not in [s.key for s in after_acc]
                and not PASSIVE_RE.search(text[: trigger - s0 + 20])
            ):
                accuser = subj
                accused = after_acc
            elif subj is not None and SPEAKS_RE.match(text[subj.end - s0 :]):
                # "OpenAI alleges ...", "with Anthropic claiming that ...": the speaker accuses
                accuser = subj
                accused = [
                    s
                    for s in before
                    if s.kind in ACCUSABLE_KINDS and s.key != subj.key and not victim(s)
                ] or after_acc
            else:
                accused = [s for s in before if s.kind in ACCUSABLE_KINDS and not victim(s)]
                if by is not None:
                    accuser = by
                if not accused:
                    accused = after_acc
        if accuser is not None:
            # "T-Mobile ... it sued the Chinese company": a reference the accuser acts on is
            # not the accuser itself but the other party the story names last
            accused = [
                self._other_referent(ctx, si, s, accuser.key)
                if s.ref and s.key == accuser.key and s.start > accuser.end
                else s
                for s in accused
            ]
            accused = [s for s in accused if s is not None and s.key != accuser.key]
            owned = [
                s for s in accused if (p := ctx.parties.get(s.key)) and p.parent == accuser.key
            ]
            if accuser.kind == "company" and (
                owned and len(owned) == len(accused)
                or any(
                    OWNER_BEFORE_RE.search(text[max(0, o.start - s0 - 40) : o.start - s0])
                    or OWNER_AFTER_RE.match(text, o.end - s0)
                    for o in slots
                    if o.key == accuser.key
                )
            ):
                # "its new owner Verizon said", "Oath, the Verizon unit that now houses
                # Yahoo, said", a parent the gazetteer knows: an owner discloses what
                # happened at its business
                accuser = None
        accused = [s for s in accused if s.kind != "person" or self._accusable_person(text, s0, s)]
        # "Zhipu AI, which was not named by Anthropic": a party the sentence clears
        accused = [s for s in accused if not NOT_NAMED_RE.match(text, s.end - s0)]
        if accuser is None or accuser.kind == "person":
            accuser = self._officer_employer(ctx, si, slots, accuser, accused)
        # "a former Amazon Web Services engineer", "NBCUniversal's general counsel": the
        # company only says where a person works
        accused = [s for s in accused if not EMPLOYER_RE.match(text, s.end - s0)]
        if accuser is None and accused:
            # an authority named in the sentence is the one acting ("the fine that France's
            # CNIL imposed on Google")
            names = {s.key for s in accused}
            # ...but not one the words address or sit in ("sent to the SEC", "in the District
            # Court") or one being set up ("a Compliance Committee")
            away = self._addressed(text, s0, slots)
            auth = [
                s
                for s in slots
                if s.kind in AUTHORITY_KINDS and s.key not in names and id(s) not in away
            ]
            if auth:
                accuser = auth[0]
        names = list(dict.fromkeys(s.key for s in accused))
        if not names:
            return None
        types = sorted(type_hits, key=lambda t: -type_hits[t])
        has_auth = any(s.kind in AUTHORITY_KINDS for s in slots) or bool(
            re.search(
                r"\b(?:regulators?|authorities|prosecutors|agency|agencies|officials|police)\b",
                text,
                re.I,
            )
        )
        status = self.status_in(text, has_auth) or "alleged"
        cue = None
        attr = self.tax.attribution_re.search(text) if self.tax.attribution_re else None
        if attr:
            cue = attr.group(0).lower()
        conf = (
            0.45
            + (0.2 if accuser else 0)
            + (0.1 if cue else 0)
            + (0.1 if type_hits else 0)
            + (0.1 if acc else 0)
        )
        return SentenceClaim(
            si,
            sent.start_char,
            sent.end_char,
            text.strip(),
            accuser.key if accuser else None,
            names,
            types,
            status,
            cue,
            min(conf, 0.95),
        )

    def _owned_attack(
        self, ctx: ArticleContext, si: int, type_hits: dict[str, int]
    ) -> SentenceClaim | None:
        """"A group calling itself X claimed responsibility": the group owning up to the attack
        is its accused, and nobody else need accuse it."""
        sent = ctx.sents[si]
        s0 = sent.start_char
        for s in ctx.slots[si]:
            if s.kind != "actor" or not RESPONSIBILITY_RE.match(ctx.sent_texts[si], s.end - s0):
                continue
            return SentenceClaim(
                si,
                sent.start_char,
                sent.end_char,
                ctx.sent_texts[si].strip(),
                None,
                [s.key],
                sorted(type_hits, key=lambda t: -type_hits[t]),
                self.status_in(ctx.sent_texts[si], False) or "alleged",
                None,
                0.6,
            )
        return None

    @staticmethod
    def _object_group(sent, text: str, cands: list[Slot]) -> list[Slot]:
        """The first party after the verb and those coordinated with it ("Huawei, two affiliates —
        Huawei Device USA and Skycom Tech — and ..."); a possessive ("Google's project") is a
        modifier."""
        doc = sent.doc
        out: list[Slot] = []
        for s in cands:
            possessive = text[s.end : s.end + 2] in ("'s", "’s")
            if not out:
                if possessive:
                    continue
                out.append(s)
                continue
            if s.start < out[-1].end:
                continue  # the same words found twice (a name and a reference)
            if possessive and EMPLOYER_RE.match(text, s.end):
                # "X, Y and the company's chief financial officer, Z": the owner only says
                # whose officer the next name is, and the list goes on
                continue
            gap = doc.char_span(out[-1].end, s.start, alignment_mode="expand")
            if gap is None or possessive:
                break
            words = [t for t in gap if not t.is_punct and not t.is_space]
            if len(words) > 8 or any(t.pos_ in ("VERB", "AUX") for t in gap):
                break
            out.append(s)
        return out

    @staticmethod
    def _other_referent(ctx: ArticleContext, si: int, ref: Slot, not_key: str) -> Slot | None:
        for sj in range(si, max(-1, si - 4), -1):
            cands = [
                s
                for s in ctx.slots[sj]
                if s.kind == ref.kind
                and s.key != not_key
                and not s.ref
                and (sj < si or s.end <= ref.start)
            ]
            if cands:
                return Slot(ref.start, ref.end, cands[-1].key, ref.kind, ref=True)
        return None

    def _officer_employer(
        self,
        ctx: ArticleContext,
        si: int,
        slots: list[Slot],
        accuser: Slot | None,
        accused: list[Slot],
    ) -> Slot | None:
        """The company a titled officer speaks for ("Chief legal officer Ben Lee said ...",
        "its general counsel said ..."), standing in for an unnamed or personal accuser: the
        company named before the title, else the company in focus. An officer of the accused
        accuses nobody; a former officer speaks for himself."""
        sent = ctx.sents[si]
        s0 = sent.start_char
        text = ctx.sent_texts[si]
        m = OFFICER_SPEAKER_RE.search(text)
        if m is None or FORMER_RE.search(text[max(0, m.start() - 12) : m.start()]):
            return accuser
        a, b = s0 + m.start(), s0 + m.end()
        if accuser is not None and not (a <= accuser.start < b):
            return accuser
        owner = [s for s in slots if s.end <= a and a - s.end <= 3 and s.kind == "company"]
        employer = owner[-1] if owner else self._pronoun_slot(ctx, si, a)
        if employer is None:
            return accuser
        if any(x.key == employer.key for x in accused):
            return None
        return employer

    @staticmethod
    def _accusable_person(text: str, s0: int, slot: Slot) -> bool:
        if slot.ref or not PERSON_CUE_RE.search(text):
            return False
        if SPEECH_AFTER_RE.search(text[slot.end - s0 :]):
            return False
        pre = text[max(0, slot.start - s0 - 80) : slot.start - s0]
        title = TITLE_BEFORE_RE.search(pre[-30:])
        if not title:
            return True
        # "OpenAI, chief executive Sam Altman and president Greg Brockman", "the company and
        # its chief financial officer, Meng Wanzhou": an officer listed with the accused is
        # accused too; "FTC Chairman Joe Simons" speaks for the accuser
        return bool(LISTED_TITLE_RE.search(pre[: max(0, len(pre) - 30) + title.start()]))

    @staticmethod
    def _subject(before: list[Slot]) -> Slot | None:
        """The party a clause is about: the last one before the verb, preferring an organisation
        to the person who speaks for it ("FTC Chairman Joe Simons said")."""
        if not before:
            return None
        last = before[-1]
        if last.kind == "person" and len(before) > 1:
            prev = before[-2]
            if last.start - prev.end <= 25 and prev.kind in AUTHORITY_KINDS | {"company"}:
                return prev
        return last


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Each way tracker/data/countries.yaml writes a country (name, people, short form) -> the
    country's first-listed name ("Chinese" -> "China"). Short all-capital codes are left out:
    "US" and "UK" are as often the place as the state."""
    data = yaml.safe_load(COUNTRIES_FILE.read_text(encoding="utf-8")) or {}
    out: dict[str, str] = {}
    for forms in (data.get("countries") or {}).values():
        for form in forms:
            if len(form) > 3 or not form.isupper():
                out.setdefault(form, forms[0])
    return out
