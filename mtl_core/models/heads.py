"""Task heads on top of a shared backbone's token states (B, T, D) and padding mask (B, T)."""
from __future__ import annotations

import torch
from torch import nn


class SentenceHead(nn.Module):
    """A head with one label per text (``classify``). A task whose absent label means "the text does not concern
    it" (an ABSA aspect a sentence does not mention) also gets an ``applies`` detector (``with_applies``): one
    logit per text, whether the task applies, from its own attention over the same states (trained with the
    encoder below it: see ``training.applies``). Its logits of the last forward pass are kept in
    ``applies_logits`` (B,), beside the task's logits that the forward pass returns."""

    def __init__(self):
        super().__init__()
        self.applies: nn.Module | None = None
        self.applies_logits: torch.Tensor | None = None

    def with_applies(self, in_dim: int, dropout: float) -> "SentenceHead":
        self.applies = AttentionClassifier(in_dim, 1, dropout)  # its own query: where the task's words are
        return self

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.applies is not None:
            self.applies_logits = self.applies(states, mask).squeeze(-1)            # (B,)
        return self.classify(states, mask)

    def classify(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class PooledClassifier(SentenceHead):
    """Mean and max pooling over real tokens -> dropout -> linear."""

    def __init__(self, in_dim: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * in_dim, num_classes)

    def classify(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(states.dtype)                                 # (B, T, 1)
        mean = (states * m).sum(1) / m.sum(1).clamp(min=1)
        maxed = states.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(1).values
        return self.out(self.dropout(torch.cat([mean, maxed], dim=-1)))         # (B, C)


class AttentionClassifier(SentenceHead):
    """One attention query per task (per aspect, as in ABSA multi-head BiLSTMs) -> weighted sum -> linear."""

    def __init__(self, in_dim: int, num_classes: int, dropout: float = 0.5, att_dim: int = 64):
        super().__init__()
        self.proj = nn.Linear(in_dim, att_dim)
        self.query = nn.Linear(att_dim, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(in_dim, num_classes)
        self.last_weights: torch.Tensor | None = None  # (B, T), kept for inspection

    def classify(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = self.query(torch.tanh(self.proj(states))).squeeze(-1)         # (B, T)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        self.last_weights = weights.detach()
        pooled = torch.bmm(weights.unsqueeze(1), states).squeeze(1)            # (B, D)
        return self.out(self.dropout(pooled))                                   # (B, C)


class TokenTagger(nn.Module):
    """One label per token: dropout -> linear on each token state."""

    def __init__(self, in_dim: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(in_dim, num_classes)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(states))                                   # (B, T, C)


class NextTokenTagger(nn.Module):
    """A tagger for a next-token task (``TaskSpec.predicts_next``): it reads only ``spans`` of the state
    dimensions, those computed from tokens <= t (a BiLSTM's forward half), so the token it predicts is not
    already in its input."""

    def __init__(self, in_dim: int, num_classes: int, dropout: float, spans: tuple[tuple[int, int], ...]):
        super().__init__()
        if not spans or any(not 0 <= a < b <= in_dim for a, b in spans):
            raise ValueError(f"A next-token head needs state dimensions that have not read the tokens ahead "
                             f"(spans within 0..{in_dim}). Got {spans!r}.")
        self.register_buffer("keep", torch.cat([torch.arange(a, b) for a, b in spans]), persistent=False)
        self.tagger = TokenTagger(len(self.keep), num_classes, dropout)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.tagger(states.index_select(-1, self.keep), mask)           # (B, T, C)


SENTENCE_HEADS = {"pooled": PooledClassifier, "attention": AttentionClassifier}


def applies_logits(model: nn.Module, tasks: list[str]) -> dict[str, torch.Tensor]:
    """{task: (B,) logits that the text concerns the task} of the model's last forward pass over ``tasks``, for
    the tasks whose head has an ``applies`` detector."""
    heads = {t: model.head(t) for t in tasks}
    return {t: h.applies_logits for t, h in heads.items()
            if isinstance(h, SentenceHead) and h.applies is not None and h.applies_logits is not None}
