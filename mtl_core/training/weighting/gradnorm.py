"""GradNorm (Chen, Badrinarayanan, Lee & Rabinovich 2018): balance tasks by their gradient norms.

Each step the model gets the gradient of sum_t w_t * L_t. Then the task weights w_t take one step of their
own optimizer on L_grad = sum_t |G_t - mean(G) * r_t^alpha|, where G_t = ||grad_W (w_t L_t)|| on the last
shared layer W, and r_t = (L_t / L_t(0)) / mean_t(L_t / L_t(0)) is the task's relative inverse training
rate (L_t(0): the task's first loss). The target is a constant, as in the paper. The weights are then
renormalised to sum to the number of tasks. W is the last shared weight matrix and every shared tensor
after it (its bias, a final LayerNorm).
"""
from __future__ import annotations

import torch

from mtl_core.training.weighting.base import LossWeighting
from mtl_core.training.weighting.options import Option


class GradNorm(LossWeighting):
    """Loss weights learned so that gradient norms track each task's relative training rate."""
    description = "GradNorm (Chen et al. 2018): weights learned so gradient norms track training rates (alpha=1.5)."
    options = (Option("alpha", 1.5, "how strongly tasks that train slower get larger gradients (0: equal norms)",
                      at_least=0),
               Option("lr", 0.025, "learning rate of the task weights' own Adam optimizer", above=0))

    def __init__(self, **context):
        super().__init__(**context)
        self.alpha = self.option_values["alpha"]
        self.lr = self.option_values["lr"]
        matrices = [i for i, p in enumerate(self.shared) if p.dim() >= 2]
        self.last_layer = self.shared[matrices[-1]:] if matrices else self.shared[-1:]
        self.initial_losses: dict[str, float] = {}
        # Updated by this module's own optimizer, not the trainer's: a plain tensor, not a Parameter.
        self.weights = torch.ones(len(self.tasks), requires_grad=True)   # (K,) w_t, in run task order
        self.optimizer = torch.optim.Adam([self.weights], lr=self.lr)
        self.index = {t: i for i, t in enumerate(self.tasks)}

    def weight(self, task: str) -> torch.Tensor:
        return self.weights[self.index[task]].detach()

    def backward(self, losses: dict[str, torch.Tensor], extra: torch.Tensor | None = None) -> None:
        present = self.present(losses)
        for t in present:
            self.initial_losses.setdefault(t, max(float(losses[t].detach()), 1e-8))
        if len(present) < 2 or not self.last_layer:   # one task: nothing to balance
            self.backward_total(self.combine(losses), extra)
            return
        norms = torch.stack([self.grad_norm(losses[t]) for t in present])   # (k,) ||grad_W L_t||
        self.backward_total(self.combine(losses), extra)
        self.update_weights(present, losses, norms)

    def grad_norm(self, loss: torch.Tensor) -> torch.Tensor:
        grads = torch.autograd.grad(loss, self.last_layer, retain_graph=True, allow_unused=True)
        squares = [g.detach().float().pow(2).sum() for g in grads if g is not None]
        return torch.stack(squares).sum().sqrt().cpu() if squares else torch.zeros(())

    def update_weights(self, present: list[str], losses: dict[str, torch.Tensor], norms: torch.Tensor) -> None:
        idx = torch.tensor([self.index[t] for t in present])
        ratios = torch.tensor([float(losses[t].detach()) / self.initial_losses[t] for t in present])
        inverse_rate = ratios / ratios.mean()                              # (k,) r_t
        weighted = self.weights[idx] * norms                               # (k,) G_t
        target = (weighted.mean() * inverse_rate ** self.alpha).detach()
        self.optimizer.zero_grad(set_to_none=True)
        (weighted - target).abs().sum().backward()
        self.optimizer.step()
        with torch.no_grad():   # keep weights positive and summing to K
            self.weights.clamp_(min=1e-3)
            self.weights.mul_(len(self.tasks) / self.weights.sum())
