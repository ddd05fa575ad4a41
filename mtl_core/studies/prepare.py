"""What every run of a study shares: the data loaded, split (seeded, saved), tokenized, given a vocabulary (from
training rows only, unless a pretrained encoder or the character CNN can use the other rows' words), with its
automatic auxiliary tasks, and encoded once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from mtl_core.auxiliary import build_auxiliary
from mtl_core.data.encode import EncodedData, encode
from mtl_core.data.splits import Split, make_split
from mtl_core.data.tokenize import ensure_tokens, installed_vectors, vectors_for
from mtl_core.data.vocab import Vocabulary
from mtl_core.errors import ConfigError
from mtl_core.models.backbones import PRETRAINED
from mtl_core.studies.presets import load_study_source
from mtl_core.training.config import RunConfig

if TYPE_CHECKING:
    from mtl_core.studies.spec import StudySpec


@dataclass
class PreparedStudy:
    """Everything runs share: the corpus' tasks, the split, the vocabulary and the encoded tensors."""
    corpus: object
    specs: dict
    split: Split
    vocab: Vocabulary
    data: EncodedData
    vectors: torch.Tensor | None
    vectors_name: str | None
    aux_specs: dict = field(default_factory=dict)  # automatic auxiliary tasks, trained in every run
    known_words: int | None = None  # ids below it: words seen in training (the rest only for their characters)


def row_domains(corpus, tasks: list[str]) -> list[str | None]:
    """Each row's domain for the domain-adversarial auxiliary task: the file it came from when the corpus has
    several, else the one task that labels it (tasks on disjoint rows, e.g. one dataset per domain)."""
    if len(set(corpus.origins)) > 1:
        return list(corpus.origins)
    labelled = [[t for t in tasks if corpus.annotations[t][i] is not None] for i in range(len(corpus))]
    if any(len(found) > 1 for found in labelled):
        raise ConfigError("The 'domain' auxiliary task needs rows from separate domains (one file or one task "
                          "per domain), but some rows are labelled for several tasks. Fix: drop 'domain' from "
                          "the auxiliary tasks, or load one file per domain.")
    return [found[0] if found else None for found in labelled]


def prepare(spec: "StudySpec", config: RunConfig) -> PreparedStudy:
    loaded = load_study_source(spec.source, spec.data_dir)
    corpus = loaded.corpus
    tasks = spec.tasks or list(corpus.tasks)
    unknown = [t for t in tasks if t not in corpus.tasks]
    if unknown:
        raise ConfigError(f"Unknown task(s) {unknown}. The data has tasks {list(corpus.tasks)}.")
    corpus = corpus.subset(tasks)
    s = spec.split
    split = make_split(corpus, seed=s.get("seed", 0), test_size=s.get("test_size", 0.2),
                       val_size=s.get("val_size", 0.1), test_rows=loaded.test_rows)
    tokens = ensure_tokens(corpus, config.language)
    # A pretrained encoder splits any word into pieces it knows, so its vocabulary is every word of the corpus
    # (words only, no labels); a learned embedding table knows only the training rows' words.
    pretrained = config.backbone in PRETRAINED
    vocab = Vocabulary.build([tokens[i] for i in (range(len(tokens)) if pretrained else split.train)],
                             min_freq=1 if pretrained else config.min_freq)
    known_words = None
    if config.char_dim and not pretrained:  # words unseen in training keep their spelling, not a vector
        known_words = len(vocab)
        vocab = vocab.extended(tokens)
    aux_specs, aux_columns = {}, {}
    if config.aux:
        domains = row_domains(corpus, tasks) if "domain" in config.aux else None
        try:
            aux_specs, aux_columns = build_auxiliary(config.aux, tokens, split.train, domains=domains,
                                                     language=config.language)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    data = encode(tokens, {**corpus.annotations, **aux_columns}, {**corpus.tasks, **aux_specs}, vocab,
                  config.max_len)
    vectors, name = None, None
    found = installed_vectors() if config.use_vectors and not pretrained else None  # a pretrained encoder: unused
    if found is not None:
        name, table = found
        matrix, _ = vectors_for(vocab.itos, table)
        vectors = torch.from_numpy(matrix)
    return PreparedStudy(corpus, dict(corpus.tasks), split, vocab, data, vectors, name, aux_specs, known_words)
