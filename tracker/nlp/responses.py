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
    r"\s*(?:which|who|whose|a|an|the|owned|part|one|its|formerly|based|backed)\b", re.I
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


def find_responses(ctx: ArticleContext, tax: Taxonomy, accused: list[str]) -> list[Response]:
    """Responses of accused parties: the party (or its spokesperson, or 'it') is the subject."""
    if not accused:
        return []
    out: list[Response] = []
    seen = set()

    def add(party: str, rid: str, sent) -> None:
        if (party, rid) not in seen:
            seen.add((party, rid))
            out.append(Response(party, rid, sent.text.strip(), sent.start_char, sent.end_char))

    last_accused = accused[0]
    for si, sent in enumerate(ctx.sents):
        text = sent.text
        s0 = sent.start_char
        slots = ctx.slots[si]
        named = [s for s in slots if s.key in accused]
        if named:
            last_accused = named[0].key
        if len(accused) > 1 and COLLECTIVE_SILENCE.search(text):
            for party in accused:
                add(party, "no_comment", sent)
        for rid, rx in tax.response_res.items():
            if rx is None:
                continue
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
                who = _subject(slots, s0 + m.start(), accused, ctx.text)
                group: list[str] = []
                if who is None and len(accused) > 1 and COLLECTIVE.search(pre):
                    who, group = accused[0], accused[1:]
                if who is None and (
                    re.match(r"\s*(?:It|They|He|She)\b", text) or SPOKES.search(pre)
                ):
                    who = last_accused
                if who is None:
                    continue
                others = group or _coordinated(slots, ctx.text, who, s0 + m.start(), accused)
                for party in [who, *others]:
                    add(party, rid, sent)
    return out


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
