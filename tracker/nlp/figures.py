"""Figure extraction for the NLP step: counts of affected things and amounts of money."""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc

SMALL = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "a": 1,
    "an": 1,
    "half a": 0.5,
    "half": 0.5,
    "dozen": 12,
    "a dozen": 12,
}
WORD_NUM = (
    r"(?:half\s+an?|a\s+dozen|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|one|two|three|four|five|six|seven"
    r"|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    r"|a|an)(?:\s+hundred)?"
)
DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
NOT_FIGURE_AFTER = re.compile(
    r"^\s*(?:%|per\s*cent|percent|percentage|-year|-month|-day|-count|-week|st\b|nd\b"
    r"|rd\b|th\b|[ap]\.?m\.?\b|-to-|-\d|/\d|:\d)",
    re.I,
)
DIGIT_OR_WORD = re.compile(rf"\d|\b{WORD_NUM}\b", re.I)
SENTENCE_SPLIT = re.compile(r"[.!?]\s")


@dataclass
class RawFigure:
    value: float
    unit: str
    qualifier: str | None
    start: int
    end: int
    is_money: bool
    has_scale: bool


def word_value(text: str) -> float | None:
    text = re.sub(r"\s+", " ", text.lower().replace("-", " ")).strip()
    if text in SMALL:
        return float(SMALL[text])
    total = 0.0
    for part in text.split(" "):
        if part == "hundred":
            total = (total or 1) * 100
        elif part in SMALL:
            total += SMALL[part]
        else:
            return None
    return total or None


class FigureFinder:
    """Finds figures in a doc with regexes for numbers and the tagger for the counted noun."""

    def __init__(self, rules: dict):
        self.scales = {k.lower(): float(v) for k, v in (rules.get("scales") or {}).items()}
        self.prefixes = dict(rules.get("currency_prefixes") or {})
        self.cwords = {k.lower(): v for k, v in (rules.get("currency_words") or {}).items()}
        self.units = {}
        for unit, words in (rules.get("count_units") or {}).items():
            for w in words:
                self.units[w.lower()] = unit
            self.units[unit] = unit
        self.stoppers = {w.lower() for w in rules.get("unit_stoppers") or []}
        # Longest phrase first, each compiled once: a figure's qualifier is the longest
        # phrase that ends right before it ("more than", not "than").
        self.qualifiers = [
            (re.compile(rf"(?:^|[^\w]){re.escape(phrase)}\s*(?:a total of\s*)?$"), q)
            for phrase, q in sorted(
                ((p.lower(), q) for q, ps in (rules.get("qualifiers") or {}).items() for p in ps),
                key=lambda x: len(x[0]),
                reverse=True,
            )
        ]
        self.money_include = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in rules.get("money_include", [])) + r")", re.I
        )
        self.money_exclude = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in rules.get("money_exclude", [])) + r")\b", re.I
        )
        prefix = "|".join(re.escape(p) for p in sorted(self.prefixes, key=len, reverse=True))
        scale = "|".join(re.escape(s) for s in sorted(self.scales, key=len, reverse=True))
        cword = "|".join(re.escape(c) for c in sorted(self.cwords, key=len, reverse=True))
        self.scale_words = scale
        self.pattern = re.compile(
            rf"(?P<prefix>(?<![A-Za-z])(?:{prefix}))?\s?"
            rf"(?P<num>(?<![\w.,])(?:{DIGITS}|{WORD_NUM}))"
            rf"(?:\s?-?(?P<scale>(?:{scale}))(?![a-z]))?"
            rf"(?P<plus>-?plus)?"
            rf"(?:\s+(?P<cword>(?:{cword}))\b)?",
            re.IGNORECASE,
        )

    def _qualifier(self, text: str, start: int) -> str | None:
        before = text[max(0, start - 30) : start].lower()
        before = re.sub(r"\s+", " ", before)
        for rx, q in self.qualifiers:
            if rx.search(before):
                return q
        return None

    def _unit_after(self, doc: Doc, char_end: int) -> str | None:
        """The counted noun after a number, through adjectives ('24,000 fraudulent accounts' ->
        accounts)."""
        tok = self._token_at(doc, char_end)
        if tok is None:
            return None
        skipped = 0
        i = tok
        while i < len(doc) and skipped <= 3:
            t = doc[i]
            low = t.lower_
            if low in self.units and t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "X"):
                # "user accounts": the last noun of the compound is the counted thing
                if (
                    i + 1 < len(doc)
                    and doc[i + 1].lower_ in self.units
                    and doc[i + 1].pos_ in ("NOUN", "PROPN")
                ):
                    return self.units[doc[i + 1].lower_]
                return self.units[low]
            if low == "of" and skipped == 0:
                # "30 million of those records"
                i += 1
                if i < len(doc) and doc[i].lower_ in (
                    "the",
                    "those",
                    "these",
                    "its",
                    "their",
                    "our",
                ):
                    i += 1
                continue
            if (
                t.is_punct
                and t.text not in ("-",)
                or low in self.stoppers
                or t.pos_ in ("VERB", "AUX", "ADP", "PRON", "DET", "CCONJ")
            ):
                return None
            if low in self.scales or low.startswith("plus"):
                i += 1
                continue
            skipped += 1
            i += 1
        return None

    @staticmethod
    def _token_at(doc: Doc, char: int) -> int | None:
        """Index of the first token starting at or after `char` (binary search)."""
        lo, hi = 0, len(doc)
        while lo < hi:
            mid = (lo + hi) // 2
            if doc[mid].idx < char:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(doc) else None

    def _unit_before(self, doc: Doc, sent_start: int, char_start: int) -> str | None:
        """'the number of guest records involved at up to 383 million' -> records."""
        best = None
        for t in doc.char_span(sent_start, char_start, alignment_mode="contract") or ():
            if t.lower_ in self.units and t.pos_ in ("NOUN", "PROPN") and t.lower_.endswith("s"):
                best = self.units[t.lower_]
        return best

    def find(
        self, doc: Doc, has_allegation: bool, sents=None, text: str | None = None
    ) -> list[RawFigure]:
        """Figures in the doc; `sents` and `text` are the doc's, when the caller has them."""
        text = doc.text if text is None else text
        out: list[RawFigure] = []
        for sent in doc.sents if sents is None else sents:
            s0 = sent.start_char
            s_text = text[s0 : sent.end_char]
            if not DIGIT_OR_WORD.search(s_text):
                continue
            sent_figs: list[RawFigure] = []
            include = bool(self.money_include.search(s_text))
            exclude = bool(self.money_exclude.search(s_text))
            for m in self.pattern.finditer(s_text):
                num, scale, prefix, cword = (
                    m.group("num"),
                    m.group("scale"),
                    m.group("prefix"),
                    m.group("cword"),
                )
                start, end = s0 + m.start(), s0 + m.end()
                if prefix:
                    start = s0 + m.start("prefix")
                else:
                    start = s0 + m.start("num")
                if re.fullmatch(r"an?|half|one", num, re.I) and not scale:
                    continue  # "one prompt", "a user": an instance, not a count
                if (
                    re.match(r"s\s+of\b", text[s0 + m.end("num") :])
                    or re.match(r"\s+of\s", text[end:])
                    and not scale
                ):
                    continue  # "tens of millions", "one of its accounts"
                if (
                    scale
                    and scale.lower() in ("m", "b", "k")
                    and m.group(0).rstrip().endswith(" " + scale)
                ):
                    # "5 m" is not "5 million"; the short forms must stick to the number
                    scale = None
                    end = s0 + m.end("num")
                if NOT_FIGURE_AFTER.match(text[s0 + m.end("num") :]) and not scale:
                    continue
                if re.search(r"[/:]\s*$|\d[.-]$", text[max(0, start - 2) : start]):
                    continue
                if num[0].isdigit():
                    value = float(num.replace(",", ""))
                else:
                    value = word_value(num)
                    if value is None:
                        continue
                if scale:
                    value *= self.scales[scale.lower()]
                currency = None
                if prefix:
                    currency = self.prefixes.get(prefix) or self.prefixes.get(prefix.upper())
                elif cword:
                    currency = self.cwords.get(cword.lower())
                elif re.match(r"\s+(?:US|U\.S\.)\s+dollars", text[end:]):
                    currency = "USD"
                qualifier = self._qualifier(text, start)
                if m.group("plus"):
                    qualifier = "over"
                if currency:
                    if re.match(r"\s*(?:a|per)\s+share", text[end:]):
                        continue
                    if not (include or (has_allegation and not exclude)):
                        continue
                    sent_figs.append(
                        RawFigure(value, currency, qualifier, start, end, True, bool(scale))
                    )
                    continue
                if not num[0].isdigit() and not scale and num.lower() not in ("one",):
                    unit = self._unit_after(doc, end)
                else:
                    unit = self._unit_after(doc, end)
                if unit is None and scale:
                    prev = [f for f in sent_figs if not f.is_money]
                    unit = prev[-1].unit if prev else self._unit_before(doc, s0, start)
                if unit is None:
                    continue
                if not scale and num[0].isdigit() and 1900 <= value <= 2100 and "," not in num:
                    continue
                end = self._extend_to_unit(doc, end, unit)
                sent_figs.append(RawFigure(value, unit, qualifier, start, end, False, bool(scale)))
            out.extend(sent_figs)
        return out

    def _extend_to_unit(self, doc: Doc, end: int, unit: str) -> int:
        i = self._token_at(doc, end)
        if i is None:
            return end
        for t in doc[i : i + 6]:
            if self.units.get(t.lower_) == unit:
                return t.idx + len(t.text)
        return end
