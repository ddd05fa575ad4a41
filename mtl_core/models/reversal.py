"""Gradient reversal (Ganin & Lempitsky 2015): identity forward, gradient times -lambda backward.

A head behind it (e.g. a domain discriminator) learns to tell domains apart while the shared encoder below it
is pushed to make them indistinguishable.
"""
from __future__ import annotations

import torch
from torch import nn


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    return _Reverse.apply(x, scale)


class ReversedHead(nn.Module):
    """A task head that sees the states through a gradient-reversal layer."""

    def __init__(self, head: nn.Module, scale: float = 1.0):
        super().__init__()
        self.head = head
        self.scale = scale

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(reverse_gradient(states, self.scale), mask)
