"""Build a model for a set of tasks from a RunConfig."""
from __future__ import annotations

import torch

from ..config import RunConfig
from ..tasks import TAGGING, TaskSpec
from .backbones import BiLSTMBackbone
from .heads import SENTENCE_HEADS, TokenTagger
from .multitask import HardSharingModel


def build_model(tasks: dict[str, TaskSpec], vocab_size: int, config: RunConfig,
                vectors: torch.Tensor | None = None) -> HardSharingModel:
    emb_dim = vectors.shape[1] if vectors is not None else config.emb_dim
    backbone = BiLSTMBackbone(vocab_size, emb_dim, config.hidden, config.layers, config.dropout, vectors)
    heads = {}
    for name, spec in tasks.items():
        head_cls = TokenTagger if spec.kind == TAGGING else SENTENCE_HEADS[config.head]
        heads[name] = head_cls(backbone.out_dim, max(2, spec.num_classes), config.dropout)
    return HardSharingModel(backbone, heads)
