"""Hard parameter sharing ("MRNN"): one shared encoder, one head per task."""
from __future__ import annotations

import torch
from torch import nn

from mtl_core.models.sharing.base import SharingModel, leading


class HardSharingModel(SharingModel):
    description = "hard sharing (MRNN): one shared encoder, one head per task"

    def __init__(self, backbone: nn.Module, heads: dict[str, nn.Module]):
        super().__init__(heads)
        self.backbone = backbone

    @classmethod
    def from_parts(cls, parts) -> "HardSharingModel":
        backbone = parts.backbone()
        return cls(backbone, parts.heads(backbone.out_dim, past=leading(backbone.forward_dims)))

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                tasks: list[str] | None = None) -> dict[str, torch.Tensor]:
        mask = ids != 0                                                         # (B, T)
        states = self.backbone(ids, lengths)                                    # (B, T, D)
        return {t: self.head(t)(states, mask) for t in (tasks or self.task_names)}

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.backbone.parameters())
