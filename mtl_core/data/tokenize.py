"""Tokenization with spaCy: a blank pipeline works offline; an installed pipeline lends its vectors."""
from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version
from importlib.util import find_spec

import numpy as np

from mtl_core.data.corpus import Corpus
from mtl_core.disk_cache import JsonCache, digest

# Installed spaCy pipelines that carry word vectors, tried in order (none is required).
VECTOR_PIPELINES = ("en_core_web_lg", "en_core_web_md")
TOKENIZER_VERSION = 1   # raise when tokenize_texts changes what it returns: older cached tokens then miss
TOKEN_CACHE = JsonCache("tokens", max_files=200)  # one file per dataset (ABSA's 3,041 sentences: ~0.3 MB)
MIN_CACHED_TEXTS = 50   # a few texts (Predict's sentence, a test's rows) are tokenized faster than a file is read


@lru_cache(maxsize=4)
def blank_pipeline(language: str = "en"):
    import spacy

    return spacy.blank(language)


def tokenize_texts(texts: list[str], language: str = "en", lowercase: bool = True) -> list[list[str]]:
    """spaCy rule-based tokens of each text (whitespace tokens dropped), lowercased by default. The tokens of a
    list of texts tokenized before (any study, any process) are read from disk (``TOKEN_CACHE``): a later study on
    the same data neither tokenizes nor imports spaCy."""
    key = digest("spacy-tokens", TOKENIZER_VERSION, version("spacy"), language, lowercase)
    for text in texts:
        key.update(text.encode("utf-8", "surrogatepass") + b"\x1e")
    found = TOKEN_CACHE.get(key.hexdigest())
    if isinstance(found, list) and len(found) == len(texts):
        return found
    nlp = blank_pipeline(language)
    out = []
    for doc in nlp.tokenizer.pipe(texts, batch_size=1000):
        toks = [t.text for t in doc if not t.is_space]
        out.append([t.lower() for t in toks] if lowercase else toks)
    if len(texts) >= MIN_CACHED_TEXTS:
        TOKEN_CACHE.put(key.hexdigest(), out)
    return out


def ensure_tokens(corpus: Corpus, language: str = "en", lowercase: bool = True) -> list[list[str]]:
    """Tokens for every example: the file's own (CoNLL, lowercased) or spaCy's for the rows without them (all
    rows, or those of a joined dataset whose files gave only text)."""
    given = corpus.tokens if corpus.tokens is not None else [None] * len(corpus)
    missing = [i for i, toks in enumerate(given) if toks is None]
    spacy_tokens = iter(tokenize_texts([corpus.texts[i] for i in missing], language, lowercase) if missing else [])
    return [next(spacy_tokens) if toks is None else [t.lower() for t in toks] if lowercase else list(toks)
            for toks in given]


def installed_vectors() -> tuple[str, object] | None:
    """(name, spaCy Vectors) of the first installed pipeline that has word vectors, else None (found without
    importing spaCy, a second of start-up, when none is installed)."""
    installed = [name for name in VECTOR_PIPELINES if find_spec(name) is not None]
    if not installed:
        return None
    import spacy

    for name in installed:
        nlp = spacy.load(name, exclude=["tagger", "parser", "ner", "lemmatizer", "senter", "attribute_ruler",
                                        "tok2vec"])
        if nlp.vocab.vectors.shape[0] > 0:
            return name, nlp.vocab.vectors
    return None


def vectors_for(words: list[str], vectors) -> tuple[np.ndarray, np.ndarray]:
    """(matrix [len(words), dim], found mask) looked up in spaCy ``Vectors``; missing rows are zero."""
    dim = vectors.shape[1]
    matrix = np.zeros((len(words), dim), dtype=np.float32)
    found = np.zeros(len(words), dtype=bool)
    strings = vectors.strings if hasattr(vectors, "strings") else None
    for i, w in enumerate(words):
        key = strings[w] if strings is not None else w
        if key in vectors:
            matrix[i] = vectors[key]
            found[i] = True
    return matrix, found
