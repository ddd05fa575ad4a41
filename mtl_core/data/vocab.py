"""Vocabulary: token <-> id with a minimum frequency, padding (0) and out-of-vocabulary (1) ids."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from mtl_core.data.limits import max_vocab

PAD, OOV = "<pad>", "<oov>"
PAD_ID, OOV_ID = 0, 1  # their ids in every vocabulary


@dataclass
class Vocabulary:
    itos: list[str] = field(default_factory=lambda: [PAD, OOV])

    def __post_init__(self) -> None:
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, token_lists: list[list[str]], min_freq: int = 1, max_size: int | None = None) -> "Vocabulary":
        """Words seen at least ``min_freq`` times (most frequent first, ties alphabetical).

        At most ``max_size`` entries (default ``MTL_LAB_MAX_VOCAB``, see ``mtl_core.data.limits``)."""
        if max_size is None:
            max_size = max_vocab()
        counts = Counter(t for toks in token_lists for t in toks)
        words = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        if max_size is not None:
            words = words[: max(0, max_size - 2)]
        return cls([PAD, OOV] + words)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.stoi.get(t, 1) for t in tokens]

    def extended(self, token_lists: list[list[str]]) -> "Vocabulary":
        """This vocabulary plus, after its own words, every other word of ``token_lists`` (first-seen order).

        Used where words never seen in training still carry information (their characters, a pretrained
        encoder's pieces): the first ``len(self)`` ids stay the training words, so a model can tell them apart."""
        extra = dict.fromkeys(t for toks in token_lists for t in toks if t not in self.stoi)
        return Vocabulary(self.itos + list(extra))
