"""Cross-stitch networks (Misra et al. 2016): one encoder column per task, mixed by learned weights.

Every task has its own two stacked encoder layers; after each layer a cross-stitch unit replaces each task's
states by a learned linear mix of all tasks' states, so the model learns how much to share at each depth.

The embedder is ONE shared module, not one per task: a vocabulary-sized embedding table per task overfits
small data (most rows would be seen by one task only), and a pretrained encoder per task multiplies the
model's size by the number of tasks. Only the columns above it are per task.
"""
from __future__ import annotations

import torch
from torch import nn

from mtl_core.models.encoders import leak_free_dims
from mtl_core.models.sharing.base import SharingModel, leading

LAYERS = 2          # encoder layers per column, each followed by a cross-stitch unit
SELF_WEIGHT = 0.9   # initial weight of a column on itself; the rest (0.1) is spread over the other columns


class CrossStitchUnit(nn.Module):
    """Learned (K, K) mixing of K task columns: mixed_t = sum_s alpha[t, s] * h_s."""

    def __init__(self, columns: int, self_weight: float = SELF_WEIGHT):
        super().__init__()
        if columns == 1:  # rows sum to one: a lone column keeps its states unchanged
            alpha = torch.ones(1, 1)
        else:
            alpha = torch.full((columns, columns), (1 - self_weight) / (columns - 1))
            alpha.fill_diagonal_(self_weight)
        self.alpha = nn.Parameter(alpha)                                        # (K, K)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return torch.einsum("ks,sbld->kbld", self.alpha, states)                # (K, B, T, D)


class CrossStitchModel(SharingModel):
    description = "cross-stitch (soft sharing): two encoder layers per task, mixed by learned weights after each"

    def __init__(self, embedder: nn.Module, layers: list[list[nn.Module]], heads: dict[str, nn.Module]):
        super().__init__(heads)
        self.embedder = embedder
        self.layers = nn.ModuleList(nn.ModuleList(encoders) for encoders in layers)  # [layer][task column]
        self.stitches = nn.ModuleList(CrossStitchUnit(len(heads)) for _ in layers)
        self.column_of = {t: k for k, t in enumerate(self.task_names)}

    @classmethod
    def from_parts(cls, parts) -> "CrossStitchModel":
        embedder = parts.embedder()
        layers, in_dim = [], embedder.out_dim
        for k in range(LAYERS):  # above the first, a layer reads mixed states only (no word features)
            layers.append([parts.encoder(in_dim, local_dim=0) if k else parts.encoder(in_dim) for _ in parts.specs])
            in_dim = layers[-1][0].out_dim
        # mixing is per dimension, so a column's forward half stays a mix of forward halves
        past = leading(leak_free_dims(embedder, [encoders[0] for encoders in layers]))
        return cls(embedder, layers, parts.heads(in_dim, past=past))

    def column(self, task: str) -> list[nn.Module]:
        """The encoders of one task's column, lowest first."""
        return [encoders[self.column_of[task]] for encoders in self.layers]

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                tasks: list[str] | None = None) -> dict[str, torch.Tensor]:
        # every column runs whatever the tasks asked for: each one's states are mixed into all the others
        mask = ids != 0                                                         # (B, T)
        features = self.embedder(ids, lengths)                                  # (B, T, E)
        columns = [features] * len(self.task_names)
        for encoders, stitch in zip(self.layers, self.stitches):
            states = torch.stack([enc(x, lengths, mask) for enc, x in zip(encoders, columns)])  # (K, B, T, D)
            columns = stitch(states)                                            # (K, B, T, D)
        return {t: self.head(t)(columns[self.column_of[t]], mask) for t in (tasks or self.task_names)}

    def shared_parameters(self) -> list[nn.Parameter]:
        # the encoders count as shared too: through the mixing, every task's loss reaches every column
        return list(self.embedder.parameters()) + list(self.layers.parameters()) + list(self.stitches.parameters())
