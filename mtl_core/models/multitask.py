"""Hard parameter sharing ("MRNN"): one shared encoder, one head per task."""
from __future__ import annotations

import re
import zlib

import torch
from torch import nn


def module_key(task: str) -> str:
    """A ModuleDict-safe key for any task name (names may hold '.', '/', spaces)."""
    return "t_" + re.sub(r"\W", "_", task) + f"_{zlib.crc32(task.encode()) % 100_000}" if re.search(r"\W", task) else task


class HardSharingModel(nn.Module):
    def __init__(self, backbone: nn.Module, heads: dict[str, nn.Module]):
        super().__init__()
        self.backbone = backbone
        self.task_names = list(heads)
        self.heads = nn.ModuleDict({module_key(t): h for t, h in heads.items()})

    def head(self, task: str) -> nn.Module:
        return self.heads[module_key(task)]

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                tasks: list[str] | None = None) -> dict[str, torch.Tensor]:
        mask = ids != 0                                                         # (B, T)
        states = self.backbone(ids, lengths)                                    # (B, T, D)
        return {t: self.head(t)(states, mask) for t in (tasks or self.task_names)}

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.backbone.parameters())
