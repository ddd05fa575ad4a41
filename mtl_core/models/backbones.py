"""Backbones: token ids -> contextual token states."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class BiLSTMBackbone(nn.Module):
    """Embedding -> dropout -> BiLSTM over packed sequences (padding never enters the recurrence)."""

    def __init__(self, vocab_size: int, emb_dim: int = 100, hidden: int = 128, layers: int = 1,
                 dropout: float = 0.5, vectors: torch.Tensor | None = None):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        if vectors is not None:  # (vocab_size, emb_dim) pretrained rows; zero rows keep their random init
            found = vectors.abs().sum(dim=1) > 0
            with torch.no_grad():
                self.embedding.weight[found] = vectors[found]
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(emb_dim, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.out_dim = 2 * hidden

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.embedding(ids))                                   # (B, T, E)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=ids.shape[1])
        return states                                                           # (B, T, 2H)
