"""missing_word: hide random tokens and predict them (a masked language model over the frequent words)."""
from __future__ import annotations

import torch

from mtl_core.auxiliary.base import OTHER, AuxiliaryData, AuxiliaryTask, frequent_words
from mtl_core.data.encode import IGNORE
from mtl_core.data.vocab import OOV_ID, PAD_ID
from mtl_core.tasks import TAGGING, TaskSpec


class MissingWordTask(AuxiliaryTask):
    name = "missing_word"
    kind = TAGGING
    dynamic = True
    description = ("Random tokens are hidden in each training batch and predicted: one of the most "
                   f"frequent training words, or '{OTHER}'. The hiding also acts as word dropout.")

    def build(self, data: AuxiliaryData) -> tuple[TaskSpec, list]:
        # no fixed targets: MissingWord.corrupt makes them per batch
        return self.spec(frequent_words(data) + [OTHER]), [None] * len(data.tokens)


class MissingWord:
    """Per-batch corruption for the 'aux:missing_word' task.

    ``corrupt`` replaces each real token with probability ``rate`` by OOV and returns, for those
    positions, the class of the original word (its index in ``top_words + [OTHER]``; words outside
    the list, and tokens that were already OOV, are OTHER); -100 elsewhere. The masked ids are the
    input EVERY task of that batch sees, so the masking doubles as word dropout for the other tasks.
    """

    def __init__(self, vocab_itos: list[str], top_words: list[str], rate: float = 0.15) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"The 'rate' parameter of MissingWord must be in [0, 1]. Got {rate!r} instead.")
        self.rate = rate
        self.labels = list(top_words) + [OTHER]
        index = {w: k for k, w in enumerate(top_words)}
        other = len(top_words)
        # vocabulary id -> class id, looked up in one gather per batch
        self.classes = torch.tensor([index.get(w.lower(), other) for w in vocab_itos], dtype=torch.long)
        self.classes[OOV_ID] = other

    @classmethod
    def from_spec(cls, spec: TaskSpec, vocab_itos: list[str], rate: float = 0.15) -> "MissingWord":
        """The corruptor whose classes match ``spec.labels`` (top words + OTHER)."""
        return cls(vocab_itos, spec.labels[:-1], rate)

    def corrupt(self, ids: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(masked ids, targets), both (B, T) long; padding (id 0) is never chosen."""
        draw = torch.rand(ids.shape, generator=generator, device=generator.device).to(ids.device)
        chosen = (draw < self.rate) & (ids != PAD_ID)  # (B, T)
        masked = ids.masked_fill(chosen, OOV_ID)
        targets = torch.where(chosen, self.classes.to(ids.device)[ids], torch.full_like(ids, IGNORE))
        return masked, targets
