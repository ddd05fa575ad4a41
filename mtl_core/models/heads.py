"""Task heads on top of a shared backbone's token states (B, T, D) and padding mask (B, T)."""
from __future__ import annotations

import torch
from torch import nn


class PooledClassifier(nn.Module):
    """Mean and max pooling over real tokens -> dropout -> linear."""

    def __init__(self, in_dim: int, num_classes: int, dropout: float = 0.5):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * in_dim, num_classes)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(states.dtype)                                 # (B, T, 1)
        mean = (states * m).sum(1) / m.sum(1).clamp(min=1)
        maxed = states.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(1).values
        return self.out(self.dropout(torch.cat([mean, maxed], dim=-1)))         # (B, C)


class AttentionClassifier(nn.Module):
    """One attention query per task (per aspect, as in ABSA multi-head BiLSTMs) -> weighted sum -> linear."""

    def __init__(self, in_dim: int, num_classes: int, dropout: float = 0.5, att_dim: int = 64):
        super().__init__()
        self.proj = nn.Linear(in_dim, att_dim)
        self.query = nn.Linear(att_dim, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(in_dim, num_classes)
        self.last_weights: torch.Tensor | None = None  # (B, T), kept for inspection

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
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
