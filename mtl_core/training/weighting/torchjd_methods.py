"""The torchjd aggregators this project offers, one small class each (the algorithms live in torchjd).

Left out: NashMTL and CAGrad (need cvxpy, not installed), Krum and TrimmedMean (Byzantine-robust averaging
for many workers: they need 3+ rows and reduce to picking or trimming single tasks' gradients), Constant
(the same as ``manual``), and the weightings without an aggregator (MoDo and SDMGrad need several
independent mini-batches per step; CR-MOGM only smooths another weighting).
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from mtl_core.errors import ConfigError
from mtl_core.training.weighting.combination import GradientCombination
from mtl_core.training.weighting.options import Option

if TYPE_CHECKING:
    from torchjd.aggregation import Aggregator


def jd() -> ModuleType:
    """torchjd's aggregators, imported when a run first makes one (about 0.35 s: a process that only lists the
    methods, or trains with a loss weighting, never pays it)."""
    return import_module("torchjd.aggregation")


def scipy_projector(**options):
    """UPGrad's and DualProj's dual-cone projector (its module imports torchjd too: see ``jd``)."""
    from mtl_core.training.weighting.scipy_projector import ScipyProjector

    return ScipyProjector(**options)


# UPGrad and DualProj: the dual-cone projection's two constants (ScipyProjector's defaults, torchjd's own).
PROJECTOR_OPTIONS = (
    Option("norm_eps", 1e-4, "below this trace the gradients' Gram matrix counts as zero (no projection)",
           at_least=0),
    Option("reg_eps", 1e-4, "added to the Gram matrix's diagonal so the projection is well posed", above=0),
)


class UPGrad(GradientCombination):
    """UPGrad (Quinton & Rey 2024): each task gradient projected onto the dual cone of all, then averaged.

    The dual-cone projection uses ``ScipyProjector`` (torchjd's default needs quadprog).
    """
    description = "UPGrad (Quinton & Rey 2024): project each task gradient so no task's loss goes up, then average."
    options = PROJECTOR_OPTIONS

    def make_aggregator(self) -> Aggregator:
        return jd().UPGrad(projector=scipy_projector(**self.option_values))


class DualProj(GradientCombination):
    """DualProj (GEM-style, Lopez-Paz & Ranzato 2017): the mean gradient projected onto the dual cone."""
    description = "DualProj: the mean gradient, projected so that it conflicts with no task."
    options = PROJECTOR_OPTIONS

    def make_aggregator(self) -> Aggregator:
        return jd().DualProj(projector=scipy_projector(**self.option_values))


class PCGrad(GradientCombination):
    """PCGrad (Yu et al. 2020): remove from each gradient its component along conflicting ones, then sum."""
    description = "PCGrad (Yu et al. 2020): project away the conflicting part of each task gradient, then sum."

    def make_aggregator(self) -> Aggregator:
        return jd().PCGrad()


class MGDA(GradientCombination):
    """MGDA (Désidéri 2012; Sener & Koltun 2018): the min-norm point of the convex hull of the gradients."""
    description = "MGDA (Sener & Koltun 2018): the min-norm convex combination of the task gradients."
    options = (Option("epsilon", 0.001, "stop the min-norm search once its step size falls below this", above=0),
               Option("max_iters", 100, "at most this many iterations of the min-norm search", at_least=1))

    def make_aggregator(self) -> Aggregator:
        return jd().MGDA(**self.option_values)


class IMTLG(GradientCombination):
    """IMTL-G (Liu et al. 2021): weights making the update's projection equal on every task's direction."""
    description = "IMTL-G (Liu et al. 2021): an update with equal projection on every task's gradient direction."

    def make_aggregator(self) -> Aggregator:
        return jd().IMTLG()


class AlignedMTL(GradientCombination):
    """Aligned-MTL (Senushkin et al. 2023): align the principal components of the gradient matrix."""
    description = "Aligned-MTL (Senushkin et al. 2023): rescale the gradients to a well-conditioned system."
    options = (Option("scale_mode", "min", "the eigenvalue the balanced gradients are scaled to: the smallest, "
                      "the median or the mean ('rmse', as in the original code)", choices=("min", "median", "rmse")),)

    def make_aggregator(self) -> Aggregator:
        return jd().AlignedMTL(**self.option_values)


class GradDrop(GradientCombination):
    """GradDrop (Chen et al. 2020): per coordinate, keep the gradients of one sign, drawn by sign purity."""
    description = "GradDrop (Chen et al. 2020): per coordinate, drop the gradients of one sign at random."

    def make_aggregator(self) -> Aggregator:
        return jd().GradDrop()


class ConFIG(GradientCombination):
    """ConFIG (Liu et al. 2024): the direction with equal cosine to every unit task gradient."""
    description = "ConFIG (Liu et al. 2024): a conflict-free direction at equal angle to every task gradient."

    def make_aggregator(self) -> Aggregator:
        return jd().ConFIG()


class GradVac(GradientCombination):
    """GradVac (Wang et al. 2021): pull pairwise gradient cosines up to their running targets."""
    description = "GradVac (Wang et al. 2021): align task gradients towards their running cosine targets."
    options = (Option("beta", 0.5, "how fast the cosine targets follow the measured cosines (EMA rate)",
                      at_least=0, at_most=1),)

    def make_aggregator(self) -> Aggregator:
        return jd().GradVac(**self.option_values)


class FairGrad(GradientCombination):
    """FairGrad (Ban & Ji 2024): alpha-fair allocation of progress among tasks (needs scipy)."""
    description = "FairGrad (Ban & Ji 2024): share the progress between tasks alpha-fairly (alpha=1)."
    options = (Option("alpha", 1.0, "the kind of fairness: 1 proportional, larger values nearer max-min fair",
                      above=0),)

    def make_aggregator(self) -> Aggregator:
        return jd().FairGrad(**self.option_values)


class ExcessMTL(GradientCombination):
    """ExcessMTL (He et al. 2024): more weight to tasks with a larger estimated excess risk.

    Keeps a running sum of squared gradients, k x P floats per task subset seen: memory grows with the
    shared encoder's size.
    """
    description = "ExcessMTL (He et al. 2024): more weight to tasks far from their best achievable loss."
    options = (Option("robust_step_size", 1.0, "step size of the exponentiated update of the task weights",
                      above=0),
               Option("n_warmup_steps", 0, "steps with equal weights that set the baseline excess risks (0: the "
                      "first step's)", at_least=0))

    def make_aggregator(self) -> Aggregator:
        return jd().ExcessMTL(**self.option_values)


class PCD(GradientCombination):
    """Priority-constrained descent (Varam et al. 2026): follow the primary task's gradient while every
    other task keeps a fraction ``tau`` of its own progress.

    Rows: present primary tasks first (PCD's objective is the first of them), then auxiliary tasks. A batch
    without a primary task has nothing to follow: plain sum.
    """
    description = "PCD: follow the primary task's gradient, guaranteeing each other task some progress."
    options = (Option("tau", 0.02, "the share of its own progress each other task is guaranteed", at_least=0,
                      at_most=1),
               Option("beta", 0.999, "decay of the moving average of squared gradient norms", at_least=0, below=1))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.primary:
            raise ConfigError("The 'pcd' weighting needs a primary task. Got none.")

    def order(self, present: list[str]) -> list[str]:
        return [t for t in present if t in self.primary] + [t for t in present if t not in self.primary]

    def combines(self, present: list[str]) -> bool:
        return super().combines(present) and present[0] in self.primary

    def make_aggregator(self) -> Aggregator:
        return jd().PCD(**self.option_values)


class Mean(GradientCombination):
    """Mean of the task gradients on the shared encoder (heads still get their own full gradient)."""
    description = "Mean of the task gradients on the shared encoder."

    def make_aggregator(self) -> Aggregator:
        return jd().Mean()


class Sum(GradientCombination):
    """Sum of the task gradients: the same update as ``equal``, through this adapter (a check of it)."""
    description = "Sum of the task gradients (the same update as 'equal', via torchjd)."

    def make_aggregator(self) -> Aggregator:
        return jd().Sum()


class Random(GradientCombination):
    """Random loss weighting, RLW (Lin et al. 2022): fresh softmax-of-normal weights every step."""
    description = "Random weighting, RLW (Lin et al. 2022): new random task weights every step (a baseline)."

    def make_aggregator(self) -> Aggregator:
        return jd().Random()
