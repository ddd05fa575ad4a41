"""Synthetic text tasks with a known, adjustable relatedness — the offline default and the classroom dial.

Every task labels short pseudo-word "sentences" positive/negative by the cue words they hold: a
sentence's label is the sign of the summed polarity of its cues (then flipped with ``label_noise``).
A task's cues are drawn relative to the *base* task's cues:

- ``shared_cues``: base cue words with the *same* polarity (the tasks agree: synergy expected);
- ``contradicting_cues``: base cue words with the *opposite* polarity (the tasks disagree);
- ``private_cues``: cue words only this task uses (unrelated).

Each task gets its own sentences (``shared_examples=False``, like Yelp vs Amazon) or all tasks label
the same sentences (``shared_examples=True``, like ABSA aspects). Everything is seeded.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from mtl_core.data.corpus import Corpus, concat, make_corpus
from mtl_core.errors import ConfigError

SYLLABLES = ["ba", "ko", "ti", "ru", "me", "sa", "lo", "ni", "pe", "du", "ga", "vi", "zo", "fe", "hu", "ja"]


@dataclass
class SyntheticTask:
    name: str
    shared_cues: int = 0
    contradicting_cues: int = 0
    private_cues: int = 12
    n_examples: int = 400
    label_noise: float = 0.05
    positive_rate: float = 0.5


@dataclass
class SyntheticConfig:
    base_cues: int = 12                   # cue words of the base task (first task), half positive
    filler_words: int = 400
    cues_per_sentence: int = 3
    min_length: int = 8
    max_length: int = 16
    shared_examples: bool = False
    seed: int = 0
    tasks: list[SyntheticTask] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict) -> "SyntheticConfig":
        d = dict(d)
        tasks = [SyntheticTask(**t) for t in d.pop("tasks", [])]
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"Unknown synthetic option(s): {sorted(unknown)}.")
        return cls(tasks=tasks, **d)

    def to_dict(self) -> dict:
        return asdict(self)


def pseudo_words(n: int, rng: np.random.Generator, taken: set[str]) -> list[str]:
    """``n`` new pronounceable pseudo-words (2-3 syllables), none in ``taken``."""
    words = []
    while len(words) < n:
        w = "".join(rng.choice(SYLLABLES, size=rng.integers(2, 4)))
        if w not in taken:
            taken.add(w)
            words.append(w)
    return words


def task_polarity(task: SyntheticTask, base: dict[str, int], rng: np.random.Generator,
                  taken: set[str], is_base: bool) -> dict[str, int]:
    """Cue word -> +1/-1 for one task, built relative to the base task's cues."""
    if is_base:
        return dict(base)
    if task.shared_cues + task.contradicting_cues > len(base):
        raise ConfigError(f"Task '{task.name}': shared_cues + contradicting_cues must be at most "
                          f"base_cues ({len(base)}). Got {task.shared_cues + task.contradicting_cues}.")
    order = list(rng.permutation(list(base)))
    polarity = {w: base[w] for w in order[: task.shared_cues]}
    polarity |= {w: -base[w] for w in order[task.shared_cues: task.shared_cues + task.contradicting_cues]}
    private = pseudo_words(task.private_cues, rng, taken)
    polarity |= {w: (1 if k % 2 == 0 else -1) for k, w in enumerate(private)}
    return polarity


def sentence(polarity: dict[str, int], want: int, cfg: SyntheticConfig, fillers: list[str],
             rng: np.random.Generator) -> tuple[list[str], int]:
    """A sentence whose cues (of this task) sum to polarity ``want`` (+1/-1); returns (tokens, label)."""
    pos = [w for w, p in polarity.items() if p > 0]
    neg = [w for w, p in polarity.items() if p < 0]
    k = cfg.cues_per_sentence
    agree = pos if want > 0 else neg
    other = neg if want > 0 else pos
    n_agree = k // 2 + 1 if other else k
    cues = list(rng.choice(agree, size=n_agree)) + (list(rng.choice(other, size=k - n_agree)) if other else [])
    length = int(rng.integers(cfg.min_length, cfg.max_length + 1))
    words = list(rng.choice(fillers, size=max(0, length - len(cues)))) + cues
    rng.shuffle(words)
    return words, (1 if sum(polarity[w] for w in cues) > 0 else 0)


def generate(cfg: SyntheticConfig) -> Corpus:
    """The tasks of ``cfg`` as a Corpus (labels 'pos'/'neg'); the first task is the base task."""
    if not cfg.tasks:
        raise ConfigError("A synthetic config needs at least one task.")
    rng = np.random.default_rng(cfg.seed)
    taken: set[str] = set()
    base_words = pseudo_words(cfg.base_cues, rng, taken)
    base = {w: (1 if k % 2 == 0 else -1) for k, w in enumerate(base_words)}
    fillers = pseudo_words(cfg.filler_words, rng, taken)
    polarities = [task_polarity(t, base, rng, taken, i == 0) for i, t in enumerate(cfg.tasks)]
    names = [t.name for t in cfg.tasks]
    if cfg.shared_examples:
        return _shared_corpus(cfg, polarities, fillers, rng, names)
    parts = []
    for task, polarity in zip(cfg.tasks, polarities):
        texts, labels = [], []
        for _ in range(task.n_examples):
            want = 1 if rng.random() < task.positive_rate else -1
            words, label = sentence(polarity, want, cfg, fillers, rng)
            texts.append(" ".join(words))
            labels.append(_noisy(label, task.label_noise, rng))
        parts.append(make_corpus(texts, {task.name: labels}, [f"synthetic:{task.name}"]))
    return concat(parts)


def _noisy(label: int, noise: float, rng: np.random.Generator) -> str:
    if rng.random() < noise:
        label = 1 - label
    return "pos" if label else "neg"


def _shared_corpus(cfg: SyntheticConfig, polarities: list[dict[str, int]], fillers: list[str],
                   rng: np.random.Generator, names: list[str]) -> Corpus:
    """All tasks label the same sentences, built from the base task's cues plus the others' private cues."""
    n = cfg.tasks[0].n_examples
    texts = []
    labels: dict[str, list] = {name: [] for name in names}
    union = {w: p for pol in polarities for w, p in pol.items()}
    for _ in range(n):
        want = 1 if rng.random() < cfg.tasks[0].positive_rate else -1
        words, _ = sentence(union, want, cfg, fillers, rng)
        texts.append(" ".join(words))
        for task, polarity in zip(cfg.tasks, polarities):
            score = sum(polarity.get(w, 0) for w in words)
            label = int(score > 0) if score != 0 else int(rng.random() < 0.5)
            labels[task.name].append(_noisy(label, task.label_noise, rng))
    return make_corpus(texts, labels, ["synthetic"])
