"""Embedders: token ids (B, T) -> token features (B, T, D).

``WordEmbedder`` learns one vector per vocabulary word (optionally initialised from spaCy vectors).
``PretrainedEmbedder`` runs a pretrained Transformer (MiniLM or MPNet, installed from the package registry, loaded
offline: ``mtl_core.models.pretrained``) over the word-piece split of each word and keeps each word's FIRST piece state, so token-level
tasks (tagging) line up with our tokens. That state is the last layer's, or the mean of the top N layers
(``top_layers``): lower layers keep more of the word and its syntax, which helps frozen features (on ABSA,
frozen + BiLSTM, 3 seeds: last layer 0.716-0.720, mean of the top 5 0.728-0.729). Frozen: no gradients and
states cached per sentence (computed once); fine-tuned: its own (small) learning rate
(``models.build.parameter_groups``).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from mtl_core.data.vocab import OOV_ID
from mtl_core.models.pretrained import encoder_folder

MAX_PIECES = 6        # word pieces kept per word (its first piece's state is what we use)
MAX_POSITIONS = 512   # the encoder's position table
MAX_CHARS = 20        # characters of a word the character CNN reads
CACHE_ROWS = 200_000  # frozen encoder: sentences whose states are kept
# Frozen states per (weights, vocabulary): every run of a study in this process encodes each sentence once.
_SHARED_CACHE: dict[tuple, OrderedDict] = {}


class CharCNN(nn.Module):
    """Each word's characters -> embeddings -> 1-D convolution -> max over characters (Ma & Hovy 2016):
    spelling, capitals and suffixes reach the model even for words never seen in training."""

    def __init__(self, itos: list[str], char_dim: int = 30, filters: int = 50, max_chars: int = MAX_CHARS):
        super().__init__()
        alphabet = sorted({c for w in itos[2:] for c in w[:max_chars]})
        index = {c: k + 1 for k, c in enumerate(alphabet)}                    # 0: padding
        table = torch.zeros(len(itos), max_chars, dtype=torch.long)
        for i, word in enumerate(itos[2:], start=2):
            chars = [index[c] for c in word[:max_chars]]
            table[i, : len(chars)] = torch.tensor(chars, dtype=torch.long)
        self.register_buffer("chars", table)                                   # (V, C), saved with the model
        self.embedding = nn.Embedding(len(alphabet) + 1, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, filters, kernel_size=3, padding=1)
        self.out_dim = filters

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        chars = self.chars[ids]                                                 # (B, T, C)
        x = self.embedding(chars.flatten(0, 1)).transpose(1, 2)                 # (B*T, Ec, C)
        h = self.conv(x).masked_fill((chars.flatten(0, 1) == 0).unsqueeze(1), float("-inf"))
        h = h.max(dim=-1).values.clamp(min=-1e4)                               # (B*T, F); empty words -> finite
        return torch.relu(h).view(*ids.shape, -1)                               # (B, T, F)


class WordEmbedder(nn.Module):
    """A learned vector per word (+ optional character CNN). Ids >= ``known_words`` are words never seen in
    training (kept for their characters): their word vector is the learned <oov> one."""

    def __init__(self, vocab_size: int, emb_dim: int = 100, dropout: float = 0.5,
                 vectors: torch.Tensor | None = None, itos: list[str] | None = None, char_dim: int = 0,
                 known_words: int | None = None):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        if vectors is not None:  # (vocab_size, emb_dim) pretrained rows; zero rows keep their random init
            found = vectors.abs().sum(dim=1) > 0
            with torch.no_grad():
                self.embedding.weight[found] = vectors[found]
        self.register_buffer("known_words", torch.tensor(known_words or vocab_size))  # saved with the model
        self.chars = CharCNN(itos, char_dim) if char_dim else None
        self.dropout = nn.Dropout(dropout)
        self.out_dim = emb_dim + (self.chars.out_dim if self.chars is not None else 0)
        self.position_local = True  # token t's features come from token t alone

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        words = self.embedding(ids.masked_fill(ids >= self.known_words, OOV_ID))  # (B, T, E)
        if self.chars is not None:
            words = torch.cat([words, self.chars(ids)], dim=-1)                 # (B, T, E + F)
        return self.dropout(words)


class PretrainedEmbedder(nn.Module):
    """First-word-piece states of a pretrained encoder for each of our tokens."""

    def __init__(self, itos: list[str], tune: bool = False, dropout: float = 0.1, path=None, top_layers: int = 1):
        """``path``: a Hugging Face model folder (default: MiniLM's, ``mtl_core.models.pretrained.encoder_folder``)."""
        super().__init__()
        from transformers import (  # heavy: imported only when this backbone is chosen
            AutoModel,
            AutoTokenizer,
        )
        from transformers.utils import logging as hf_logging
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        path = path or encoder_folder("minilm")
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.encoder = AutoModel.from_pretrained(str(path), local_files_only=True)
        self.tune = tune
        self.top_layers = min(top_layers, self.encoder.config.num_hidden_layers)
        self.encoder.requires_grad_(tune)
        self.cls_id, self.sep_id, self.pad_id = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
        table = torch.full((len(itos), MAX_PIECES), self.pad_id, dtype=torch.long)
        counts = torch.ones(len(itos), dtype=torch.long)
        for i, word in enumerate(itos):
            pieces = tokenizer(word, add_special_tokens=False)["input_ids"][:MAX_PIECES] or [tokenizer.unk_token_id]
            table[i, : len(pieces)] = torch.tensor(pieces)
            counts[i] = len(pieces)
        counts[0] = 0  # padding has no pieces
        self.register_buffer("piece_table", table, persistent=False)           # (V, K)
        self.register_buffer("piece_counts", counts, persistent=False)         # (V,)
        self.dropout = nn.Dropout(dropout)
        self.out_dim = self.encoder.config.hidden_size
        self.position_local = False  # each word's state has attended to the whole sentence
        # one cache per weights, layer mix and exact vocabulary
        self._cache = _SHARED_CACHE.setdefault((str(path), self.top_layers, tuple(itos)), OrderedDict())

    def pieces(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Word-piece batch for token ids (B, T): piece ids (B, P), attention mask (B, P), first piece (B, T)."""
        counts = self.piece_counts[ids]                                         # (B, T)
        ends = counts.cumsum(1)
        first = 1 + ends - counts                                               # after [CLS]
        total = (ends[:, -1] + 2).clamp(max=MAX_POSITIONS)                      # + [CLS], [SEP]
        width = int(total.max())
        out = torch.full((ids.shape[0], width), self.pad_id, dtype=torch.long, device=ids.device)
        k = torch.arange(MAX_PIECES, device=ids.device)
        valid = (k < counts.unsqueeze(-1)) & (first.unsqueeze(-1) + k < width - 1)  # (B, T, K)
        rows = torch.arange(ids.shape[0], device=ids.device)[:, None, None].expand_as(valid)
        out[rows[valid], (first.unsqueeze(-1) + k)[valid]] = self.piece_table[ids][valid]
        out[:, 0] = self.cls_id
        out[torch.arange(ids.shape[0], device=ids.device), total - 1] = self.sep_id
        attention = torch.arange(width, device=ids.device)[None, :] < total[:, None]
        return out, attention, first.clamp(max=width - 2)

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        pieces, attention, first = self.pieces(ids)
        out = self.encoder(input_ids=pieces, attention_mask=attention.long(), output_hidden_states=self.top_layers > 1)
        states = (out.last_hidden_state if self.top_layers == 1                                  # (B, P, H)
                  else torch.stack(out.hidden_states[-self.top_layers:]).mean(0))
        return torch.gather(states, 1, first.unsqueeze(-1).expand(-1, -1, states.shape[-1]))    # (B, T, H)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.tune:
            return self.dropout(self.encode(ids))
        return self.dropout(self.frozen(ids, lengths))

    @torch.no_grad()
    def frozen(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Frozen encoder (kept in eval mode by ``train``: no dropout inside): each distinct sentence encoded once,
        then cached."""
        keys = [row[:n].numpy().tobytes() for row, n in zip(ids.cpu(), lengths.tolist())]
        missing = [k for k, key in enumerate(keys) if key not in self._cache]
        if missing:
            fresh = self.encode(ids[missing]).float()
            for j, k in enumerate(missing):
                self._cache[keys[k]] = fresh[j, : int(lengths[k])].to(torch.bfloat16)
                if len(self._cache) > CACHE_ROWS:
                    self._cache.popitem(last=False)
        out = torch.zeros(ids.shape[0], ids.shape[1], self.out_dim, device=ids.device)
        for k, key in enumerate(keys):
            state = self._cache[key]
            out[k, : state.shape[0]] = state.to(out.dtype)
        return out

    def train(self, mode: bool = True):
        super().train(mode)
        if not self.tune:
            self.encoder.eval()
        return self
