"""Loss weighting and gradient combination: how one batch's per-task losses become parameter gradients.

Two kinds of method, one registry:

- *loss weighting* rescales each task's loss (``equal``, ``manual``, ``uncertainty``, ``dwa``, ``gradnorm``,
  ``primary_aux``), then one ordinary backward;
- *gradient combination* computes each task's gradient on the shared encoder and merges them with a
  torchjd aggregator (``upgrad``, ``pcgrad``, ``mgda``, ...); task heads get their plain gradient.

Use (once per run; ``backward`` once per optimizer step)::

    weighting = build_weighting(name, tasks=tasks, primary=primary, shared=shared_params,
                                total_epochs=epochs, manual_weights=None)
    optimizer = AdamW(list(model.parameters()) + list(weighting.parameters()), lr=lr)
    weighting.start_epoch(epoch)                 # 1-based
    weighting.backward({task: loss, ...})        # only the tasks present in the batch (1 or more)
    weighting.end_epoch(epoch, mean_train_losses)
    weighting.current_weights()                  # {task: weight}, for the curves

Extra keyword arguments set a method's options (hyperparameters), e.g. ``build_weighting("dwa", ...,
temperature=1.0)``; each method declares its options next to its class (``options``: name, default, allowed
values, help; see ``options.py``), and ``options_of(name)`` lists them for the CLI and the Tasks page.
``upgrad`` and ``dualproj`` solve their small QP with scipy (``scipy_projector.py``) instead of torchjd's
quadprog default; the torchjd aggregators not offered, and why, are listed in ``torchjd_methods.py``.

Adding a method:

1. write ``weighting/NAME.py`` with one class: a ``LossWeighting`` subclass (give ``weight(task)``, or
   ``combine(losses)`` when the loss is not a weighted sum) or a ``GradientCombination`` subclass (give
   ``make_aggregator()``); set ``description`` (one line, shown in the app and the CLI help) and declare
   its hyperparameters as ``options`` (read them from ``self.option_values``);
2. add one line ``"name": Class`` to ``REGISTRY`` below;
3. tests/test_weighting.py runs every registered method on a tiny model; add a test of what the method
   is for.
"""
from __future__ import annotations

from mtl_core.errors import ConfigError
from mtl_core.training.weighting.base import (
    CONTEXT,
    GRADIENT_COMBINATION,
    LOSS_WEIGHTING,
    LossWeighting,
    Weighting,
)
from mtl_core.training.weighting.combination import GradientCombination
from mtl_core.training.weighting.dwa import DWA
from mtl_core.training.weighting.equal import Equal
from mtl_core.training.weighting.gradnorm import GradNorm
from mtl_core.training.weighting.manual import Manual
from mtl_core.training.weighting.options import Option, check_values
from mtl_core.training.weighting.primary_aux import PrimaryAux
from mtl_core.training.weighting.torchjd_methods import (
    IMTLG,
    MGDA,
    PCD,
    AlignedMTL,
    ConFIG,
    DualProj,
    ExcessMTL,
    FairGrad,
    GradDrop,
    GradVac,
    Mean,
    PCGrad,
    Random,
    Sum,
    UPGrad,
)
from mtl_core.training.weighting.uncertainty import Uncertainty

REGISTRY: dict[str, type[Weighting]] = {
    # loss weighting
    "equal": Equal,
    "manual": Manual,
    "uncertainty": Uncertainty,
    "dwa": DWA,
    "gradnorm": GradNorm,
    "primary_aux": PrimaryAux,
    # gradient combination (torchjd)
    "upgrad": UPGrad,
    "pcgrad": PCGrad,
    "mgda": MGDA,
    "imtl_g": IMTLG,
    "aligned_mtl": AlignedMTL,
    "graddrop": GradDrop,
    "dualproj": DualProj,
    "config": ConFIG,
    "gradvac": GradVac,
    "fairgrad": FairGrad,
    "excess_mtl": ExcessMTL,
    "pcd": PCD,
    "mean": Mean,
    "sum": Sum,
    "random": Random,
}


def check_name(name: str) -> None:
    if name not in REGISTRY:
        names = ", ".join(repr(n) for n in REGISTRY)
        raise ConfigError(f"The 'weighting' option must be one of {{{names}}}. Got {name!r} instead.")


def options_of(name: str) -> tuple[Option, ...]:
    """The options the method registered as ``name`` declares (name, default, allowed values, help)."""
    check_name(name)
    return REGISTRY[name].options


def check_options(name: str, given: object) -> dict:
    """``given`` (option name -> value) checked against the options of method ``name``: ConfigError on an
    unknown option or a bad value; returns the values, an int given for a float option as a float."""
    return check_values(name, options_of(name), given)


def build_weighting(name: str, **kwargs) -> Weighting:
    """The method registered as ``name``, built with the run's context (``CONTEXT``) and its options."""
    options = check_options(name, {k: v for k, v in kwargs.items() if k not in CONTEXT})
    return REGISTRY[name](**{k: v for k, v in kwargs.items() if k in CONTEXT}, **options)


def describe() -> list[tuple[str, str, str]]:
    """(name, description, kind) of every method, in registry order: for the CLI help and the app."""
    return [(name, cls.description, cls.kind) for name, cls in REGISTRY.items()]


__all__ = ["REGISTRY", "build_weighting", "describe", "options_of", "check_options", "Option", "Weighting",
           "LossWeighting", "GradientCombination", "LOSS_WEIGHTING", "GRADIENT_COMBINATION"]
