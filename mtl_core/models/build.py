"""Build a run's model from its tasks and RunConfig: backbone choice x sharing architecture x heads."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from mtl_core.models.backbones import make_backbone, make_embedder, make_encoder
from mtl_core.models.embedders import PretrainedEmbedder
from mtl_core.models.heads import SENTENCE_HEADS, NextTokenTagger, TokenTagger
from mtl_core.models.reversal import ReversedHead
from mtl_core.models.sharing import SHARING, ModelParts, SharingModel
from mtl_core.tasks import TAGGING, TaskSpec

if TYPE_CHECKING:  # a run's settings are only read here: training, which builds them, sits above models
    from mtl_core.training.config import RunConfig


def applies_tasks(specs: dict[str, TaskSpec]) -> frozenset:
    """The tasks whose model learns whether a text concerns them at all (an ``applies`` detector on the head):
    the primary sentence tasks whose absent label means "not about this" (``TaskSpec.absent_label``, e.g. an
    ABSA aspect a sentence does not mention). Every other task applies to every text of its data."""
    return frozenset(t for t, s in specs.items()
                     if s.absent_label and s.kind != TAGGING and not s.auxiliary and not s.predicts_next)


def model_parts(tasks: dict[str, TaskSpec], vocab_size: int, config: RunConfig,
                vectors: torch.Tensor | None = None, itos: list[str] | None = None,
                adversarial: frozenset = frozenset(), known_words: int | None = None) -> ModelParts:
    detect = applies_tasks(tasks)

    def head(task: str, in_dim: int, past: tuple = ()) -> nn.Module:
        spec = tasks[task]
        classes = max(2, spec.num_classes)
        if spec.predicts_next:
            made = NextTokenTagger(in_dim, classes, config.dropout, past)
        else:
            head_cls = TokenTagger if spec.kind == TAGGING else SENTENCE_HEADS[config.head]
            made = head_cls(in_dim, classes, config.dropout)
            if task in detect:
                made.with_applies(in_dim, config.dropout)
        return ReversedHead(made, config.reversal_scale) if task in adversarial else made

    return ModelParts(specs=tasks, config=config,
                      embedder=lambda: make_embedder(config, vocab_size, itos, vectors, known_words),
                      encoder=lambda in_dim, local_dim=None: make_encoder(config, in_dim, level=True,
                                                                          local_dim=local_dim),
                      head=head, backbone=lambda: make_backbone(config, vocab_size, itos, vectors, known_words),
                      adversarial=frozenset(adversarial))


def build_model(tasks: dict[str, TaskSpec], vocab_size: int, config: RunConfig,
                vectors: torch.Tensor | None = None, itos: list[str] | None = None,
                adversarial: frozenset = frozenset(), known_words: int | None = None) -> SharingModel:
    """``known_words``: ids below it are the words seen in training (the rest are kept for their characters)."""
    return SHARING[config.sharing].from_parts(model_parts(tasks, vocab_size, config, vectors, itos, adversarial,
                                                          known_words))


def parameter_groups(model: nn.Module, config: RunConfig) -> list[dict]:
    """Optimizer groups: a fine-tuned pretrained encoder learns at ``pretrained_lr``, everything else at ``lr``."""
    pretrained = [p for m in model.modules() if isinstance(m, PretrainedEmbedder) and m.tune
                  for p in m.encoder.parameters() if p.requires_grad]
    ids = {id(p) for p in pretrained}
    rest = [p for p in model.parameters() if id(p) not in ids and p.requires_grad]
    groups = [{"params": rest, "lr": config.lr}]
    if pretrained:
        groups.append({"params": pretrained, "lr": config.pretrained_lr})
    return groups
