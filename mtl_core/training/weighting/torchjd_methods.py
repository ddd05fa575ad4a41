"""The torchjd aggregators this project offers, one small class each (the algorithms live in torchjd).

Left out: NashMTL and CAGrad (need cvxpy, not installed), Krum and TrimmedMean (Byzantine-robust averaging
for many workers: they need 3+ rows and reduce to picking or trimming single tasks' gradients), Constant
(the same as ``manual``), and the weightings without an aggregator (MoDo and SDMGrad need several
independent mini-batches per step; CR-MOGM only smooths another weighting).
"""
from __future__ import annotations

import torchjd.aggregation as jd

from mtl_core.errors import ConfigError
from mtl_core.training.weighting.combination import GradientCombination
from mtl_core.training.weighting.scipy_projector import ScipyProjector


class UPGrad(GradientCombination):
    """UPGrad (Quinton & Rey 2024): each task gradient projected onto the dual cone of all, then averaged.

    The dual-cone projection uses ``ScipyProjector`` (torchjd's default needs quadprog).
    """
    description = "UPGrad (Quinton & Rey 2024): project each task gradient so no task's loss goes up, then average."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.UPGrad(projector=ScipyProjector())


class DualProj(GradientCombination):
    """DualProj (GEM-style, Lopez-Paz & Ranzato 2017): the mean gradient projected onto the dual cone."""
    description = "DualProj: the mean gradient, projected so that it conflicts with no task."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.DualProj(projector=ScipyProjector())


class PCGrad(GradientCombination):
    """PCGrad (Yu et al. 2020): remove from each gradient its component along conflicting ones, then sum."""
    description = "PCGrad (Yu et al. 2020): project away the conflicting part of each task gradient, then sum."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.PCGrad()


class MGDA(GradientCombination):
    """MGDA (Désidéri 2012; Sener & Koltun 2018): the min-norm point of the convex hull of the gradients."""
    description = "MGDA (Sener & Koltun 2018): the min-norm convex combination of the task gradients."
    defaults = {"epsilon": 0.001, "max_iters": 100}

    def make_aggregator(self) -> jd.Aggregator:
        return jd.MGDA(**self.options)


class IMTLG(GradientCombination):
    """IMTL-G (Liu et al. 2021): weights making the update's projection equal on every task's direction."""
    description = "IMTL-G (Liu et al. 2021): an update with equal projection on every task's gradient direction."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.IMTLG()


class AlignedMTL(GradientCombination):
    """Aligned-MTL (Senushkin et al. 2023): align the principal components of the gradient matrix."""
    description = "Aligned-MTL (Senushkin et al. 2023): rescale the gradients to a well-conditioned system."
    defaults = {"scale_mode": "min"}

    def make_aggregator(self) -> jd.Aggregator:
        return jd.AlignedMTL(**self.options)


class GradDrop(GradientCombination):
    """GradDrop (Chen et al. 2020): per coordinate, keep the gradients of one sign, drawn by sign purity."""
    description = "GradDrop (Chen et al. 2020): per coordinate, drop the gradients of one sign at random."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.GradDrop()


class ConFIG(GradientCombination):
    """ConFIG (Liu et al. 2024): the direction with equal cosine to every unit task gradient."""
    description = "ConFIG (Liu et al. 2024): a conflict-free direction at equal angle to every task gradient."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.ConFIG()


class GradVac(GradientCombination):
    """GradVac (Wang et al. 2021): pull pairwise gradient cosines up to their running targets."""
    description = "GradVac (Wang et al. 2021): align task gradients towards their running cosine targets."
    defaults = {"beta": 0.5}

    def make_aggregator(self) -> jd.Aggregator:
        return jd.GradVac(**self.options)


class FairGrad(GradientCombination):
    """FairGrad (Ban & Ji 2024): alpha-fair allocation of progress among tasks (needs scipy)."""
    description = "FairGrad (Ban & Ji 2024): share the progress between tasks alpha-fairly (alpha=1)."
    defaults = {"alpha": 1.0}

    def make_aggregator(self) -> jd.Aggregator:
        return jd.FairGrad(**self.options)


class ExcessMTL(GradientCombination):
    """ExcessMTL (He et al. 2024): more weight to tasks with a larger estimated excess risk.

    Keeps a running sum of squared gradients, k x P floats per task subset seen: memory grows with the
    shared encoder's size.
    """
    description = "ExcessMTL (He et al. 2024): more weight to tasks far from their best achievable loss."
    defaults = {"robust_step_size": 1.0}

    def make_aggregator(self) -> jd.Aggregator:
        return jd.ExcessMTL(**self.options)


class PCD(GradientCombination):
    """Priority-constrained descent (Varam et al. 2026): follow the primary task's gradient while every
    other task keeps a fraction ``tau`` of its own progress.

    Rows: present primary tasks first (PCD's objective is the first of them), then auxiliary tasks. A batch
    without a primary task has nothing to follow: plain sum.
    """
    description = "PCD: follow the primary task's gradient, guaranteeing each other task some progress."
    defaults = {"tau": 0.02}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.primary:
            raise ConfigError("The 'pcd' weighting needs a primary task. Got none.")

    def order(self, present: list[str]) -> list[str]:
        return [t for t in present if t in self.primary] + [t for t in present if t not in self.primary]

    def combines(self, present: list[str]) -> bool:
        return super().combines(present) and present[0] in self.primary

    def make_aggregator(self) -> jd.Aggregator:
        return jd.PCD(**self.options)


class Mean(GradientCombination):
    """Mean of the task gradients on the shared encoder (heads still get their own full gradient)."""
    description = "Mean of the task gradients on the shared encoder."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.Mean()


class Sum(GradientCombination):
    """Sum of the task gradients: the same update as ``equal``, through this adapter (a check of it)."""
    description = "Sum of the task gradients (the same update as 'equal', via torchjd)."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.Sum()


class Random(GradientCombination):
    """Random loss weighting, RLW (Lin et al. 2022): fresh softmax-of-normal weights every step."""
    description = "Random weighting, RLW (Lin et al. 2022): new random task weights every step (a baseline)."

    def make_aggregator(self) -> jd.Aggregator:
        return jd.Random()
