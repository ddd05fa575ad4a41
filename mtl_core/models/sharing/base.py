"""What every sharing architecture is: task heads over some arrangement of encoders.

A sharing architecture is built from ``ModelParts`` (the run's embedder, encoder and head factories) by its
``from_parts`` classmethod, maps ``(ids, lengths, tasks)`` to ``{task: logits}``, names its *shared*
parameters (what gradient-interference probes and gradient-combination methods look at), and may add a
regulariser to the loss through ``extra_loss`` (computed during its last forward pass).
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from mtl_core.tasks import TaskSpec


def module_key(task: str) -> str:
    """A ModuleDict-safe key for any task name (names may hold '.', '/', ':', spaces)."""
    return "t_" + re.sub(r"\W", "_", task) + f"_{zlib.crc32(task.encode()) % 100_000}" if re.search(r"\W", task) else task


@dataclass
class ModelParts:
    """Factories for the pieces of a run's model, so architectures never read the config themselves."""
    specs: dict[str, TaskSpec]
    config: object                                    # RunConfig (sharing options: cascade_order, ...)
    embedder: Callable[[], nn.Module]                 # () -> ids (B, T) -> features (B, T, E), .out_dim
    encoder: Callable[..., nn.Module]                 # (in_dim, local_dim=None) -> (x, lengths, mask) -> states;
                                                      # local_dim: a stacked level after that many word features
    head: Callable[..., nn.Module]                    # (task, in_dim, past=()) -> (states, mask) -> logits;
                                                      # past: (start, stop) spans of dims free of tokens ahead
    backbone: Callable[[], nn.Module]                 # () -> embedder + the configured encoder, .out_dim
    adversarial: frozenset = frozenset()              # tasks whose head sits behind gradient reversal

    def heads(self, in_dim: int, tasks: list[str] | None = None, past: tuple = ()) -> dict[str, nn.Module]:
        return {t: self.head(t, in_dim, past) for t in (tasks or self.specs)}


def leading(dims: int) -> tuple[tuple[int, int], ...]:
    """The span of the first ``dims`` state dimensions (none when 0), as a head's ``past`` argument."""
    return ((0, dims),) if dims else ()


def owned_by(key: str, tasks) -> bool:
    """Whether state-dict ``key`` lies in a module of its own of one of ``tasks`` (a head, a private encoder)."""
    return bool({module_key(t) for t in tasks} & set(key.split(".")))


class SharingModel(nn.Module):
    description = ""

    def __init__(self, heads: dict[str, nn.Module]):
        super().__init__()
        self.task_names = list(heads)
        self.heads = nn.ModuleDict({module_key(t): h for t, h in heads.items()})

    def head(self, task: str) -> nn.Module:
        return self.heads[module_key(task)]

    @classmethod
    def from_parts(cls, parts: ModelParts) -> "SharingModel":
        raise NotImplementedError

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                tasks: list[str] | None = None) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def shared_parameters(self) -> list[nn.Parameter]:
        raise NotImplementedError

    def extra_loss(self) -> torch.Tensor | None:
        """A regulariser from the last forward pass (e.g. an orthogonality penalty), or None."""
        return None
