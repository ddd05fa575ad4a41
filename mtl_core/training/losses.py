"""Masked cross-entropy: absent labels (-100) count neither in the loss nor in its average."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from mtl_core.data.encode import IGNORE


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor,
                         class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean cross-entropy over present targets; exactly 0 (with a graph) when none is present.

    logits: (B, C) or (B, T, C); targets: (B,) or (B, T) with -100 where absent or padding.
    """
    flat_logits = logits.reshape(-1, logits.shape[-1]).float()
    flat_targets = targets.reshape(-1)
    total = F.cross_entropy(flat_logits, flat_targets, weight=class_weights, ignore_index=IGNORE,
                            reduction="sum")
    if class_weights is None:
        count = (flat_targets != IGNORE).sum()
    else:  # weighted mean, as F.cross_entropy(reduction="mean") defines it
        present = flat_targets != IGNORE
        count = class_weights[flat_targets[present]].sum()
    return total / count.clamp(min=1)


def balanced_class_weights(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """n / (C * n_c) from the present training targets, capped at 10 so rare classes cannot dominate."""
    present = targets[targets != IGNORE]
    counts = torch.bincount(present, minlength=num_classes).float()
    weights = present.numel() / (num_classes * counts.clamp(min=1))
    return weights.clamp(max=10.0)
