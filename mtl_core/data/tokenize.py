"""Tokenization with spaCy: a blank pipeline works offline; an installed pipeline lends its vectors."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from mtl_core.data.corpus import Corpus

# Installed spaCy pipelines that carry word vectors, tried in order (none is required).
VECTOR_PIPELINES = ("en_core_web_lg", "en_core_web_md")


@lru_cache(maxsize=4)
def blank_pipeline(language: str = "en"):
    import spacy

    return spacy.blank(language)


def tokenize_texts(texts: list[str], language: str = "en", lowercase: bool = True) -> list[list[str]]:
    """spaCy rule-based tokens of each text (whitespace tokens dropped), lowercased by default."""
    nlp = blank_pipeline(language)
    out = []
    for doc in nlp.tokenizer.pipe(texts, batch_size=1000):
        toks = [t.text for t in doc if not t.is_space]
        out.append([t.lower() for t in toks] if lowercase else toks)
    return out


def ensure_tokens(corpus: Corpus, language: str = "en", lowercase: bool = True) -> list[list[str]]:
    """Tokens for every example: the file's own (CoNLL, lowercased) or spaCy's."""
    if corpus.tokens is not None:
        return [[t.lower() for t in toks] if lowercase else list(toks) for toks in corpus.tokens]
    return tokenize_texts(corpus.texts, language, lowercase)


def installed_vectors() -> tuple[str, object] | None:
    """(name, spaCy Vectors) of the first installed pipeline that has word vectors, else None."""
    import spacy
    from spacy.util import is_package

    for name in VECTOR_PIPELINES:
        if is_package(name):
            nlp = spacy.load(name, exclude=["tagger", "parser", "ner", "lemmatizer", "senter",
                                            "attribute_ruler", "tok2vec"])
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
