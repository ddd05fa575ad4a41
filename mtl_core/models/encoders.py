"""Encoders: token features (B, T, D_in) -> contextual token states (B, T, D_out).

Every encoder takes ``(x, lengths, mask)`` (mask: True on real tokens) and exposes ``out_dim``, so any
sharing architecture can stack or mix them over any embedder.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class BiLSTMEncoder(nn.Module):
    """BiLSTM over packed sequences (padding never enters the recurrence)."""

    def __init__(self, in_dim: int, hidden: int = 128, layers: int = 1, dropout: float = 0.5):
        super().__init__()
        self.lstm = nn.LSTM(in_dim, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.out_dim = 2 * hidden

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=x.shape[1])
        return states                                                           # (B, T, 2H)


class CNNEncoder(nn.Module):
    """Stacked 1-D convolutions ("same" padding, ReLU, residual after the first); padding zeroed each layer."""

    def __init__(self, in_dim: int, hidden: int = 128, layers: int = 2, kernel: int = 3, dropout: float = 0.5):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(in_dim if k == 0 else 2 * hidden, 2 * hidden, kernel,
                                             padding=kernel // 2) for k in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.out_dim = 2 * hidden

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask.unsqueeze(1).to(x.dtype)                                    # (B, 1, T)
        h = x.transpose(1, 2) * keep                                            # (B, D, T)
        for k, conv in enumerate(self.convs):
            out = torch.relu(conv(h)) * keep
            h = out if k == 0 else h + self.dropout(out)
        return h.transpose(1, 2)                                                # (B, T, 2H)


class TransformerEncoder(nn.Module):
    """Linear projection + sinusoidal positions -> a small pre-norm Transformer encoder with a padding mask."""

    def __init__(self, in_dim: int, hidden: int = 128, layers: int = 2, heads: int = 4, dropout: float = 0.1,
                 max_len: int = 512):
        super().__init__()
        d_model = 2 * hidden
        self.proj = nn.Linear(in_dim, d_model)
        position = torch.arange(max_len).unsqueeze(1)
        freq = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        table = torch.zeros(max_len, d_model)
        table[:, 0::2], table[:, 1::2] = torch.sin(position * freq), torch.cos(position * freq)
        self.register_buffer("positions", table, persistent=False)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=2 * d_model, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out_dim = d_model

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.proj(x) + self.positions[: x.shape[1]].to(x.dtype)            # (B, T, d)
        return self.encoder(h, src_key_padding_mask=~mask)                      # (B, T, d)


class IdentityEncoder(nn.Module):
    """No extra layers: the embedder's (already contextual) states go straight to the heads."""

    def __init__(self, in_dim: int, **_):
        super().__init__()
        self.out_dim = in_dim

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x


ENCODERS = {"bilstm": BiLSTMEncoder, "cnn": CNNEncoder, "transformer": TransformerEncoder, "none": IdentityEncoder}
