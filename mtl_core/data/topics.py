"""Topic tasks: one multi-class label column -> one binary "is it about X?" task per chosen topic.

Reuters-style corpora label each document with a topic; a topic-pairs study asks which topics help each
other, so each topic becomes its own yes/no task on the same documents (labels "yes" / "no").
"""
from __future__ import annotations

from mtl_core.data.corpus import Corpus, make_corpus
from mtl_core.errors import ConfigError


def one_vs_rest(corpus: Corpus, column: str, topics: list[str]) -> Corpus:
    """``corpus`` with the classification task ``column`` replaced by one binary task per topic in ``topics``."""
    if column not in corpus.tasks:
        raise ConfigError(f"The 'one_vs_rest' column must be one of {list(corpus.tasks)}. Got {column!r} instead.")
    labels = corpus.annotations[column]
    missing = [t for t in topics if t not in corpus.tasks[column].labels]
    if missing:
        raise ConfigError(f"Topic(s) {missing} never occur in column '{column}'. "
                          f"Its topics include {corpus.tasks[column].labels[:12]}.")
    annotations = {name: col for name, col in corpus.annotations.items() if name != column}
    for topic in topics:
        annotations[topic] = [None if a is None else ("yes" if a == topic else "no") for a in labels]
    kinds = {name: spec.kind for name, spec in corpus.tasks.items()}
    return make_corpus(corpus.texts, annotations, corpus.report.files, corpus.tokens, corpus.origins, kinds)
