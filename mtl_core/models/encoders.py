"""Encoders: token features (B, T, D_in) -> contextual token states (B, T, D_out).

Every encoder takes ``(x, lengths, mask)`` (mask: True on real tokens) and exposes ``out_dim``, so any
sharing architecture can stack or mix them over any embedder. ``forward_dims`` is how many leading output
dimensions at token t are computed from inputs at tokens <= t only (a BiLSTM's forward half; 0 for encoders
that look both ways in every dimension): what a next-token task's head may read (``TaskSpec.predicts_next``).
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
        self.forward_dims = hidden if layers == 1 else 0  # stacked, the upper forward layer reads backward states

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return run_lstm(self.lstm, x, lengths)                                  # (B, T, 2H)


def run_lstm(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``lstm`` over the real tokens of each row (packed); padding positions come out as zeros."""
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    states, _ = lstm(packed)
    return pad_packed_sequence(states, batch_first=True, total_length=x.shape[1])[0]


def reverse_rows(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each row's first ``length`` positions in reverse order (padding stays where it is); its own inverse."""
    t = torch.arange(x.shape[1], device=x.device).unsqueeze(0)                 # (1, T)
    n = lengths.to(x.device).unsqueeze(1)                                       # (B, 1)
    index = torch.where(t < n, n - 1 - t, t)                                    # (B, T)
    return torch.gather(x, 1, index.unsqueeze(-1).expand_as(x))


class DirectionalBiLSTMEncoder(nn.Module):
    """A BiLSTM level over ``[local features | forward states | backward states]`` of a BiLSTM level below, in which
    each direction reads only its own direction's states (plus the local features), as in stacked
    bidirectional language models. A plain stacked BiLSTM feeds both directions of the level below into each
    direction, so its forward half at token t would already have read the tokens after t.

    ``local_dim``: leading input dimensions computed from token t alone (word vectors), read by both directions."""

    def __init__(self, in_dim: int, hidden: int = 128, local_dim: int = 0, **_):
        super().__init__()
        below = in_dim - local_dim
        if below <= 0 or below % 2:
            raise ValueError(f"DirectionalBiLSTMEncoder needs an even number of lower-level dimensions after the "
                             f"{local_dim} local ones. Got {in_dim} input dimensions.")
        self.local_dim, self.half = local_dim, below // 2
        self.forward_lstm = nn.LSTM(local_dim + self.half, hidden, batch_first=True)
        self.backward_lstm = nn.LSTM(local_dim + self.half, hidden, batch_first=True)
        self.out_dim = 2 * hidden
        self.forward_dims = hidden

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        local, ahead, behind = x.split([self.local_dim, self.half, self.half], dim=-1)
        forward = run_lstm(self.forward_lstm, torch.cat([local, ahead], dim=-1), lengths)       # (B, T, H)
        backward = reverse_rows(run_lstm(self.backward_lstm, reverse_rows(torch.cat([local, behind], dim=-1),
                                                                           lengths), lengths), lengths)
        return torch.cat([forward, backward], dim=-1)                           # (B, T, 2H)


class CNNEncoder(nn.Module):
    """Stacked 1-D convolutions ("same" padding, ReLU, residual after the first); padding zeroed each layer."""

    def __init__(self, in_dim: int, hidden: int = 128, layers: int = 2, kernel: int = 3, dropout: float = 0.5):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(in_dim if k == 0 else 2 * hidden, 2 * hidden, kernel,
                                             padding=kernel // 2) for k in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.out_dim = 2 * hidden
        self.forward_dims = 0  # every filter is centred on the token: it reads the one after

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
        self.forward_dims = 0  # self-attention reads every token

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.proj(x) + self.positions[: x.shape[1]].to(x.dtype)            # (B, T, d)
        return self.encoder(h, src_key_padding_mask=~mask)                      # (B, T, d)


class IdentityEncoder(nn.Module):
    """No extra layers: the embedder's (already contextual) states go straight to the heads."""

    def __init__(self, in_dim: int, **_):
        super().__init__()
        self.out_dim = in_dim
        self.forward_dims = 0  # over a pretrained encoder's states, which have read the whole sentence

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x


def leak_free_dims(embedder: nn.Module, levels: list[nn.Module]) -> int:
    """Leading dimensions of the top level's states at token t computed from tokens <= t only, for encoder
    ``levels`` stacked (lowest first) over ``embedder``; 0 when there are none. Above the first level only
    direction-preserving levels keep them: any other reads the lower level's backward states."""
    first, *upper = levels
    if not getattr(embedder, "position_local", False) or not first.forward_dims:
        return 0
    if any(not isinstance(level, DirectionalBiLSTMEncoder) for level in upper):
        return 0
    return levels[-1].forward_dims


ENCODERS = {"bilstm": BiLSTMEncoder, "cnn": CNNEncoder, "transformer": TransformerEncoder, "none": IdentityEncoder}
DIRECTIONAL = {"bilstm": DirectionalBiLSTMEncoder}  # encoders with a direction-preserving stacked form
