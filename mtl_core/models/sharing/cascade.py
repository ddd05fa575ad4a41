"""Cascaded (hierarchical) sharing ("CRNN", Søgaard & Goldberg 2016): low-level tasks supervise low layers.

Encoder levels are stacked: level 0 encodes the embedder's features, level k encodes the features concatenated
with level k-1's states. Each task named in ``config.cascade_order`` gets its own level, in that order (lowest
first), and its head reads that level; the other tasks share one extra level on top. A forward pass runs only
the levels up to the highest one its tasks need. With a next-token task in the run the upper levels keep the
BiLSTM directions apart (``DirectionalBiLSTMEncoder``), so every level's forward half stays free of the
tokens ahead.
"""
from __future__ import annotations

import torch
from torch import nn

from mtl_core.models.encoders import leak_free_dims
from mtl_core.models.sharing.base import SharingModel, leading


def cascade_levels(order: list[str], tasks: list[str]) -> list[list[str]]:
    """Tasks per level, lowest first: one level per ordered task, then one level for all the others (if any)."""
    unknown = [t for t in order if t not in tasks]
    if unknown:
        raise ValueError(f"The 'cascade_order' option names tasks this run does not have: {unknown}. "
                         f"The run's tasks are {tasks}.")
    repeated = sorted({t for t in order if order.count(t) > 1})
    if repeated:
        raise ValueError(f"The 'cascade_order' option must name each task at most once. Got {repeated} twice.")
    rest = [t for t in tasks if t not in order]
    return [[t] for t in order] + ([rest] if rest or not order else [])


class CascadeModel(SharingModel):
    description = "cascade (CRNN): one stacked encoder level per task in cascade_order, others on top"

    def __init__(self, embedder: nn.Module, encoders: list[nn.Module], levels: list[list[str]],
                 heads: dict[str, nn.Module]):
        super().__init__(heads)
        self.embedder = embedder
        self.encoders = nn.ModuleList(encoders)                                 # one per level, lowest first
        self.levels = levels
        self.level_of = {t: k for k, level in enumerate(levels) for t in level}

    @classmethod
    def from_parts(cls, parts) -> "CascadeModel":
        levels = cascade_levels(list(getattr(parts.config, "cascade_order", None) or []), list(parts.specs))
        embedder = parts.embedder()
        encoders: list[nn.Module] = []
        for _ in levels:
            encoders.append(parts.encoder(embedder.out_dim + encoders[-1].out_dim, local_dim=embedder.out_dim)
                            if encoders else parts.encoder(embedder.out_dim))
        heads = {t: parts.head(t, encoders[k].out_dim, leading(leak_free_dims(embedder, encoders[: k + 1])))
                 for k, level in enumerate(levels) for t in level}
        return cls(embedder, encoders, levels, {t: heads[t] for t in parts.specs})

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                tasks: list[str] | None = None) -> dict[str, torch.Tensor]:
        tasks = tasks or self.task_names
        mask = ids != 0                                                         # (B, T)
        features = self.embedder(ids, lengths)                                  # (B, T, E)
        states: list[torch.Tensor] = []
        for encoder in self.encoders[: max(self.level_of[t] for t in tasks) + 1]:
            x = torch.cat([features, states[-1]], dim=-1) if states else features  # (B, T, E [+ D])
            states.append(encoder(x, lengths, mask))                            # (B, T, D)
        return {t: self.head(t)(states[self.level_of[t]], mask) for t in tasks}

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.embedder.parameters()) + list(self.encoders.parameters())
