"""Shared-private sharing (Liu, Qiu & Huang 2017, "Adversarial multi-task learning for text classification").

One shared encoder and one private encoder per task read the same embedder features. A task's head reads its
private states next to the shared ones. An adversarial task (e.g. "aux:domain", whose head the head factory
already put behind gradient reversal) reads the shared states only: it is the discriminator that pushes the
shared features to carry nothing task- or domain-specific. An orthogonality penalty ``||S^T P_t||_F^2`` keeps
the private states from repeating what the shared ones hold.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mtl_core.models.encoders import leak_free_dims
from mtl_core.models.sharing.base import SharingModel, leading, module_key


def orthogonality(shared: torch.Tensor, private: torch.Tensor) -> torch.Tensor:
    """Squared Frobenius norm of S^T P / N for token states S (N, Ds) and P (N, Dp), each token unit-length.

    Liu et al.'s penalty is ||S^T P||_F^2; raw, it grows with the square of the tokens in a batch (about 3,800 at
    initialisation for 32 sentences x 25 tokens, against task losses near 1) and would swamp the task gradients.
    With unit-length token states and the 1/N it lies in [0, 1] whatever the batch or state size."""
    s = F.normalize(shared, dim=-1)
    p = F.normalize(private, dim=-1)
    return (s.transpose(0, 1) @ p / max(1, s.shape[0])).pow(2).sum()        # (Ds, Dp) -> ()


class SharedPrivateModel(SharingModel):
    description = "shared-private (adversarial MTL): a shared and a private encoder per task, orthogonal"

    def __init__(self, embedder: nn.Module, shared: nn.Module, private: dict[str, nn.Module],
                 heads: dict[str, nn.Module], ortho_weight: float = 0.01):
        super().__init__(heads)
        self.embedder = embedder
        self.shared = shared
        self.private = nn.ModuleDict({module_key(t): enc for t, enc in private.items()})
        self.ortho_weight = ortho_weight
        self._penalty: torch.Tensor | None = None

    @classmethod
    def from_parts(cls, parts) -> "SharedPrivateModel":
        embedder = parts.embedder()
        shared = parts.encoder(embedder.out_dim)
        private = {t: parts.encoder(embedder.out_dim) for t in parts.specs if t not in parts.adversarial}

        def past(task: str) -> tuple:  # the leak-free spans of [shared | private] (a next-token head reads them)
            own = leak_free_dims(embedder, [private[task]]) if task in private else 0
            return leading(leak_free_dims(embedder, [shared])) + ((shared.out_dim, shared.out_dim + own),) * bool(own)

        heads = {t: parts.head(t, shared.out_dim + (private[t].out_dim if t in private else 0), past(t))
                 for t in parts.specs}
        return cls(embedder, shared, private, heads, getattr(parts.config, "ortho_weight", 0.01))

    def private_encoder(self, task: str) -> nn.Module | None:
        """The task's private encoder; None for an adversarial task (it reads the shared states only)."""
        key = module_key(task)
        return self.private[key] if key in self.private else None

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                tasks: list[str] | None = None) -> dict[str, torch.Tensor]:
        tasks = tasks or self.task_names
        mask = ids != 0                                                         # (B, T)
        features = self.embedder(ids, lengths)                                  # (B, T, E)
        shared = self.shared(features, lengths, mask)                           # (B, T, Ds)
        private = {t: enc(features, lengths, mask) for t in tasks                # (B, T, Dp) each
                   if (enc := self.private_encoder(t)) is not None}
        self._penalty = (self.ortho_weight * sum(orthogonality(shared[mask], p[mask]) for p in private.values())
                         if private and self.ortho_weight else None)
        return {t: self.head(t)(torch.cat([shared, private[t]], dim=-1) if t in private else shared, mask)
                for t in tasks}

    def extra_loss(self) -> torch.Tensor | None:
        """``ortho_weight * sum_t ||S^T P_t||_F^2`` over the last forward's real tokens, or None."""
        return self._penalty

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.embedder.parameters()) + list(self.shared.parameters())
