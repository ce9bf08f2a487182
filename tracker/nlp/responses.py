"""Response extraction for the NLP step: how each accused party answered."""

from __future__ import annotations

import re

from tracker.nlp.allegations import ArticleContext, Slot
from tracker.nlp.resources import Taxonomy
from tracker.records import Response

NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|n't|without)\s+(?:\w+\s+){0,2}$", re.I)
IMPERSONAL = re.compile(
    r"\b(?:it|this|what)\s+(?:is|was|remains|seems|looks)\s+(?:far\s+from|not|hardly|still|yet\s+to\s+be"
    r"|by\s+no\s+means|not\s+yet)\s+$",
    re.I,
)
SPOKES = re.compile(
    r"\b(?:spokes(?:person|man|woman)|statement|representative|lawyers?|counsel|the company|"
    r"the firm|chief executive|general counsel|chief legal officer|president)\b",
    re.I,
)


POSSESSIVE = re.compile(r"(?:'s|’s|')(?!\w)")
# What opens an aside between a subject and its verb: a relative clause or an apposition.
ASIDE = re.compile(
    r"\s*(?:which|who|whose|a|an|the|owned|part|one|its|formerly|based|backed|also)\b", re.I
)
# A subject that stands for every accused party: "None of the three companies has
# commented", "The companies did not respond", "Neither firm replied".
_NONE_OF = (
    r"\b(?:none|neither)\s+of\s+(?:the|them|these|those)?\s*(?:\w+\s+)?"
    r"(?:companies|firms|labs|startups|businesses|groups|defendants)?"
)
COLLECTIVE = re.compile(
    rf"(?:{_NONE_OF}"
    r"|\bneither\s+(?:company|firm|lab|startup)"
    r"|\b(?:the|both|all)\s+(?:two\s+|three\s+|four\s+|five\s+)?"
    r"(?:companies|firms|labs|startups|businesses|defendants))\s*$",
    re.I,
)
# "None of them has commented": silence told without a negated cue word
COLLECTIVE_SILENCE = re.compile(
    rf"{_NONE_OF}\s*(?:has|have|had)\s+(?:yet\s+)?(?:publicly\s+)?(?:commented|responded|replied)",
    re.I,
)


# Answers that news writing phrases in ways a flat cue list cannot: these add to the taxonomy's
# cues and pass the same negation and subject checks.
_BREACH = (
    r"hackers?|attackers?|intruders?|cyber-?attack\w*|data\s+breach|breach(?:ed|es)?|stolen|stole"
    r"|compromised|exfiltrated|ransomware|unauthori[sz]ed\s+(?:access|part(?:y|ies))"
)
# words between a verb and what it reports, none of them a negation ("said it was not hacked")
_GAP = r"(?:(?!\b(?:not|no|never)\b|n't)[^.;])"
EXTRA_CUES: dict[str, re.Pattern] = {
    "admitted": re.compile(
        # a party telling its own breach: "X said on Thursday that hackers had stolen ..."
        r"\b(?:said|says|disclosed|discloses|confirmed|confirms|revealed|reveals|announced"
        rf"|reported|reports)\b(?={_GAP}{{0,90}}?\b(?:{_BREACH})\b)"
        # "accepted that some revenue should not have been booked", "conceded"
        r"|\b(?:accept(?:ed|s)?|acknowledg\w*|conced(?:ed|es))\s+that\b|\bconced(?:ed|es)\b"
        # "said that an internal review had found that ..."
        r"|\b(?:said|says)\b(?=\s+(?:\w+\s+){0,3}?(?:that\s+)?(?:an?|its|the)\s+internal\s+"
        r"(?:review|investigation|probe|audit|inquiry)\s+(?:had\s+|has\s+)?"
        r"(?:found|showed|shown|concluded|determined|confirmed))",
        re.I,
    ),
    "denied": re.compile(
        # "rejecting the site's claim", "rejected all of the regulator's allegations"
        r"\breject(?:ed|s|ing)?\s+(?:[\w'’-]+\s+){0,5}?"
        r"(?:claims?|allegations?|accusations?|charges?|assertions?)\b",
        re.I,
    ),
    "disputed": re.compile(
        r"\b(?:ready|vow(?:ed|s)?|plans?|pledged|promised|prepared|intends?)\s+to\s+fight\b"
        r"|\b(?:is|are|was|were|am|'re)\s+disappointed\b"
        r"|\b(?:got|gets|get|has\s+gotten)\s+(?:[\w-]+\s+){1,4}?wrong\b",
        re.I,
    ),
    "no_comment": re.compile(
        r"\b(?:stay(?:s|ed|ing)?|remain(?:s|ed|ing)?)\s+(?:silent|quiet|mum)\b",
        re.I,
    ),
    "settled": re.compile(
        r"\bagreed\s+(?:\w+\s+){0,3}?to\s+(?:pay|hand|give|refund|forfeit|surrender|compensate)\b",
        re.I,
    ),
    "investigating": re.compile(
        r"\b(?:is|are|was|were|been)\s+(?:now\s+)?(?:reviewing|investigating|examining)\s+"
        r"(?:its|their|the|how|what|whether)\b",
        re.I,
    ),
}


def _cues(tax: Taxonomy):
    """(response id, regex) pairs: the taxonomy's cues, then the phrasings above."""
    for rid, rx in tax.response_res.items():
        if rx is not None:
            yield rid, rx
    yield from EXTRA_CUES.items()


# A participle clause after a comma ("X said it would fight, rejecting ...") has the sentence's
# subject as its own.
PARTICIPLE = re.compile(r",\s*(?:\w+ly\s+)?$")
# The reported clause "X said it was reviewing ...": its "it" is the speaker.
REPORTED_IT = re.compile(
    r"\b(?:said|says|added|stated|told\s+\w+)\s+(?:\w+\s+){0,2}?(?:that\s+)?(?:it|they)\b"
)
# A person named by a role ("the former chief executive has acknowledged ...").
ROLE = (
    r"(?:chief\s+executive|chief\s+executive\s+officer|ceo|founder|co-founder|chairman|chairwoman"
    r"|chair|president|executive|boss|spokes(?:person|man|woman)|general\s+counsel)"
)
ROLE_SUBJECT = re.compile(
    rf"\b(?:the|its|his|her|their)\s+(?:former\s+|ex-|then-)?{ROLE}\s+"
    r"(?:has\s+|had\s+|have\s+)?(?:also\s+|since\s+|repeatedly\s+|previously\s+)?$",
    re.I,
)
# "he did not knowingly ...": a person answers, the accused person last named
PERSON_PRONOUN = re.compile(r"\b(?:he|she)\s+(?:has\s+|had\s+|also\s+|repeatedly\s+)*$", re.I)
# A quoted statement in the first person ("We are disappointed ...") is its speaker's answer.
FIRST_PERSON = re.compile(
    r"(?:^|[\s\"“])we\s+(?:are\s+|were\s+|have\s+|had\s+|will\s+|would\s+|strongly\s+"
    r"|firmly\s+|also\s+)*$",
    re.I,
)
# A party that speaks: "Acme said", "Acme today issued the following statement".
SPEAKS = re.compile(
    r"[^.!?]{0,30}?\b(?:said|says|issued|stated|statement|told|wrote|added)\b", re.I
)
ROLE_NEAR = re.compile(rf"\b{ROLE}\b", re.I)
# "accused of keeping quiet", "fined for refusing to comment": the cue is the allegation
ALLEGED_ACT = re.compile(r"\b(?:of|for|over|about)\s+$", re.I)


def find_responses(ctx: ArticleContext, tax: Taxonomy, accused: list[str]) -> list[Response]:
    """Responses of accused parties: the party (or its spokesperson, or 'it') is the subject."""
    if not accused:
        return []
    out: list[Response] = []
    seen = set()
    alias_re = _alias_regex(ctx, accused)
    roles = _people_for(ctx, accused)

    def add(party: str, rid: str, sent) -> None:
        if (party, rid) not in seen:
            seen.add((party, rid))
            out.append(Response(party, rid, ctx.text[sent.start_char:sent.end_char].strip(),
                                sent.start_char, sent.end_char))

    last_accused = accused[0]
    last_person = next((a for a in accused if _kind(ctx, a) == "person"), None)
    last_speaker: str | None = None
    for si, sent in enumerate(ctx.sents):
        text = ctx.sent_texts[si]
        s0 = sent.start_char
        slots = ctx.slots[si]
        named = [s for s in slots if s.key in accused]
        if named:
            last_accused = named[0].key
        for slot in named:
            if _kind(ctx, slot.key) == "person":
                last_person = slot.key
            if SPEAKS.match(ctx.text, slot.end):
                last_speaker = slot.key
        if len(accused) > 1 and COLLECTIVE_SILENCE.search(text):
            for party in accused:
                add(party, "no_comment", sent)
        full: list[Slot] | None = None
        for rid, rx in _cues(tax):
            for m in rx.finditer(text):
                pre = text[: m.start()]
                if (
                    rid not in ("no_comment",)
                    and NEGATION.search(pre)
                    and not re.search(
                        r"not\s+knowingly|not\s+aware|did\s+not\s+believe",
                        text[max(0, m.start() - 15) : m.end()],
                    )
                ):
                    continue
                if rid == "denied" and re.search(r"\b(?:was|were|been|be)\s+$", pre):
                    continue
                # "it is far from settled that...", "what remains disputed": nobody answers
                if IMPERSONAL.search(pre):
                    continue
                if _gerund(m) and ALLEGED_ACT.search(pre):
                    continue
                if full is None:
                    full = _with_aliases(slots, text, s0, alias_re)
                who = _answerer(
                    full, ctx, s0, m, pre, accused, roles, last_person, last_speaker
                )
                group: list[str] = []
                if who is None and len(accused) > 1 and COLLECTIVE.search(pre):
                    who, group = accused[0], accused[1:]
                if who is None and (
                    re.match(r"\s*(?:It|They|He|She)\b", text) or SPOKES.search(pre)
                ):
                    who = last_accused
                if who is None:
                    continue
                others = group or _coordinated(full, ctx.text, who, s0 + m.start(), accused)
                for party in [who, *others]:
                    add(party, rid, sent)
    return out


def _gerund(m: re.Match) -> bool:
    return m.group(0).split()[0].lower().endswith("ing")


def _answerer(slots, ctx, s0, m, pre, accused, roles, last_person, speaker) -> str | None:
    """Who answers with the cue `m`, from the sentence alone (None when it does not say)."""
    pos = s0 + m.start()
    if _gerund(m) and PARTICIPLE.search(pre) and slots:
        first = min(slots, key=lambda s: s.start)
        if first.key in accused and first.start < pos:
            return first.key
    if last_person and (ROLE_SUBJECT.search(pre) or PERSON_PRONOUN.search(pre)):
        return last_person
    if speaker and FIRST_PERSON.search(pre):
        return speaker
    who = _subject(slots, pos, accused, ctx.text)
    if who is None:
        said = next(reversed(list(REPORTED_IT.finditer(pre))), None)
        if said is not None:
            who = _subject(slots, s0 + said.start(), accused, ctx.text)
    if who is None:
        before = [s for s in slots if s.end <= pos]
        if before and before[-1].key in roles:
            who = roles[before[-1].key]
    return who


def _kind(ctx: ArticleContext, key: str) -> str | None:
    party = ctx.parties.get(key)
    return party.kind if party is not None else None


def _alias_regex(
    ctx: ArticleContext, accused: list[str]
) -> tuple[re.Pattern, dict[str, str]] | None:
    """Every name the article gives an accused party, to find it where no slot was made (a short
    name opening a sentence: "Parallax said it would fight")."""
    forms: dict[str, str] = {}
    for key in accused:
        party = ctx.parties.get(key)
        names = {key}
        if party is not None:
            names |= set(party.aliases) | {m[2] for m in party.mentions}
        for name in names:
            if len(name) > 2 and name[:1].isupper():
                forms.setdefault(name, key)
    if not forms:
        return None
    alts = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alts})(?![\w-])"), forms


def _with_aliases(slots: list[Slot], text: str, s0: int, alias_re) -> list[Slot]:
    """The sentence's slots plus accused parties named by an alias that no slot covers."""
    if alias_re is None:
        return slots
    rx, keys = alias_re
    extra = []
    for m in rx.finditer(text):
        a, b = s0 + m.start(), s0 + m.end()
        if any(s.start < b and a < s.end for s in slots):
            continue
        extra.append(Slot(a, b, keys[m.group(0)], "company"))
    return sorted([*slots, *extra], key=lambda s: s.start) if extra else slots


def _people_for(ctx: ArticleContext, accused: list[str]) -> dict[str, str]:
    """People the article names with a role at an accused party ("Acme founder Jo Park", "Park,
    Acme's chief executive"): when one of them answers, the party answers."""
    out: dict[str, str] = {}
    companies = [a for a in accused if _kind(ctx, a) != "person"]
    if not companies:
        return out
    for key, party in ctx.parties.items():
        if party.kind != "person" or key in accused:
            continue
        for start, end, _text, _src in party.mentions:
            window = ctx.text[max(0, start - 60) : end + 60]
            if not ROLE_NEAR.search(window):
                continue
            hit = next((c for c in companies if _names_in(ctx, c, window)), None)
            if hit is not None:
                out[key] = hit
                break
    return out


def _names_in(ctx: ArticleContext, key: str, window: str) -> bool:
    party = ctx.parties.get(key)
    names = {key} | (set(party.aliases) if party is not None else set())
    return any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", window) for n in names if n)


def _subject(slots: list[Slot], pos: int, accused: list[str], text: str) -> str | None:
    """The accused party that answers at `pos`: the nearest one before it, unless another
    organisation stands between them that is not a mere modifier ("Anthropic's claims")
    or inside an aside ("Publivox, which is owned by Mediavane, said it would appeal")."""
    before = [s for s in slots if s.end <= pos]
    for s in reversed(before):
        if s.key in accused:
            return s.key
        if s.kind in ("company", "regulator", "court", "government"):
            if POSSESSIVE.match(text, s.end) or _in_aside(text, s, pos):
                continue
            return None
    return None


def _in_aside(text: str, slot: Slot, pos: int) -> bool:
    """Whether a party sits in a clause set off by commas before `pos`."""
    opened = text.rfind(",", 0, slot.start)
    closed = text.find(",", slot.end, pos)
    return opened != -1 and closed != -1 and bool(ASIDE.match(text, opened + 1))


def _coordinated(slots: list[Slot], text: str, who: str, pos: int, accused: list[str]) -> list[str]:
    """Accused parties joined to the subject ("Moonshot AI and MiniMax did not respond") answer
    too."""
    before = [s for s in slots if s.end <= pos]
    idx = next((i for i in range(len(before) - 1, -1, -1) if before[i].key == who), None)
    if idx is None:
        return []
    out = []
    for a, b in ((before[i - 1], before[i]) for i in range(idx, 0, -1)):
        if not re.fullmatch(r"\s*(?:,|and|or|,\s*and|&)\s*", text[a.end : b.start]):
            break
        if a.key in accused and a.key != who:
            out.append(a.key)
    return out
