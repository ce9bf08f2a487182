"""The NLP step: companies, allegations, figures and responses found in an article's text."""

from tracker.nlp.model import load_nlp
from tracker.nlp.pipeline import EXTRACTOR_VERSION, Analyzer, join_title
from tracker.nlp.resources import load_gazetteer, load_taxonomy

__all__ = [
    "EXTRACTOR_VERSION",
    "Analyzer",
    "join_title",
    "load_gazetteer",
    "load_nlp",
    "load_taxonomy",
]
