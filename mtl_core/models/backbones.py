"""Backbones: token ids -> contextual token states, as an embedder followed by an encoder.

``BACKBONES`` names the choices a user sees (``RunConfig.backbone``): a word embedder with a BiLSTM, a 1-D CNN or
a small Transformer encoder trained from scratch, or a pretrained encoder, MiniLM or MPNet (frozen or fine-tuned).
"""
from __future__ import annotations

import torch
from torch import nn

from mtl_core.models.embedders import PretrainedEmbedder, WordEmbedder
from mtl_core.models.encoders import DIRECTIONAL, ENCODERS, leak_free_dims
from mtl_core.models.pretrained import PRETRAINED_ENCODERS, encoder_folder

BACKBONES = {
    "bilstm": "word embeddings + BiLSTM (from scratch)",
    "cnn": "word embeddings + 1-D CNN (from scratch)",
    "transformer": "word embeddings + small Transformer encoder (from scratch)",
    **{name: encoder.title + " (word-piece states per word): fine-tuned, or frozen with a BiLSTM on top"
       for name, encoder in PRETRAINED_ENCODERS.items()},
}
PRETRAINED = set(PRETRAINED_ENCODERS)


class Backbone(nn.Module):
    def __init__(self, embedder: nn.Module, encoder: nn.Module):
        super().__init__()
        self.embedder = embedder
        self.encoder = encoder
        self.out_dim = encoder.out_dim
        self.forward_dims = leak_free_dims(embedder, [encoder])

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.embedder(ids, lengths), lengths, ids != 0)     # (B, T, D)


def make_embedder(config, vocab_size: int, itos: list[str] | None = None,
                  vectors: torch.Tensor | None = None, known_words: int | None = None) -> nn.Module:
    if config.backbone in PRETRAINED:
        if itos is None:
            raise ValueError("The pretrained backbone needs the vocabulary's words (itos).")
        return PretrainedEmbedder(itos, tune=config.tune_pretrained, dropout=min(config.dropout, 0.1),
                                  path=encoder_folder(config.backbone), top_layers=config.pretrained_layers)
    emb_dim = vectors.shape[1] if vectors is not None else config.emb_dim
    if config.char_dim and itos is None:
        raise ValueError("The character CNN needs the vocabulary's words (itos).")
    return WordEmbedder(vocab_size, emb_dim, config.dropout, vectors, itos, config.char_dim, known_words)


def make_encoder(config, in_dim: int, level: bool = False, local_dim: int | None = None) -> nn.Module:
    """The configured encoder over ``in_dim`` features. ``level``: an encoder that sharing architectures stack
    or duplicate per task; over a pretrained embedder that is a BiLSTM (its own encoder is the embedder).
    ``local_dim``: this level reads a lower level's states after ``local_dim`` word features; with a next-token
    task in the run it keeps the directions apart (``DirectionalBiLSTMEncoder``), so its forward half stays
    free of the tokens ahead."""
    name = config.backbone
    if name in PRETRAINED:  # fine-tuned, the pretrained encoder is what tasks share; frozen, a BiLSTM on top is
        name = "bilstm" if level or not config.tune_pretrained else "none"
    if local_dim is not None and name in DIRECTIONAL and config.next_token_aux:
        return DIRECTIONAL[name](in_dim, hidden=config.hidden, local_dim=local_dim)
    dropout = 0.1 if name == "transformer" else config.dropout
    return ENCODERS[name](in_dim, hidden=config.hidden, layers=config.layers, dropout=dropout)


def make_backbone(config, vocab_size: int, itos: list[str] | None = None,
                  vectors: torch.Tensor | None = None, known_words: int | None = None) -> Backbone:
    embedder = make_embedder(config, vocab_size, itos, vectors, known_words)
    return Backbone(embedder, make_encoder(config, embedder.out_dim))
