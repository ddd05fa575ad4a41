"""Auxiliary tasks built from the raw text, learned alongside the user's tasks.

Each is an ordinary ``TaskSpec`` (named ``'aux:<name>'``, ``auxiliary=True``) plus an annotation
column, so ``data.encode`` turns it into targets. Word lists come from the training rows only.

Adding one: subclass ``AuxiliaryTask`` in a new file of this package and list it in ``AUXILIARY``.
"""
from __future__ import annotations

from mtl_core.auxiliary.base import AUX_PREFIX, AuxiliaryData, AuxiliaryTask
from mtl_core.auxiliary.domain import Domain
from mtl_core.auxiliary.lexicon import Lexicon
from mtl_core.auxiliary.missing_word import MissingWord, MissingWordTask
from mtl_core.auxiliary.next_char import NextChar
from mtl_core.auxiliary.next_word import NextWord
from mtl_core.auxiliary.word_freq import WordFreq
from mtl_core.tasks import TaskSpec

AUXILIARY: dict[str, AuxiliaryTask] = {t.name: t for t in (
    NextWord(), NextChar(), MissingWordTask(), WordFreq(), Lexicon(), Domain())}

# TaskSpec names the trainer treats specially
ADVERSARIAL = {t.task_name for t in AUXILIARY.values() if t.adversarial}  # behind gradient reversal
DYNAMIC = {t.task_name for t in AUXILIARY.values() if t.dynamic}          # targets from MissingWord.corrupt
PREDICTS_NEXT = {t.name for t in AUXILIARY.values() if t.predicts_next}   # heads read leak-free states only

__all__ = ["ADVERSARIAL", "AUXILIARY", "AUX_PREFIX", "DYNAMIC", "PREDICTS_NEXT", "AuxiliaryData", "AuxiliaryTask",
           "MissingWord", "build_auxiliary", "is_auxiliary_name", "placeholder_specs"]


def is_auxiliary_name(name: str) -> bool:
    """True for task names made by this package ('aux:...')."""
    return name.startswith(AUX_PREFIX)


def build_auxiliary(names: list[str], tokens: list[list[str]], train_rows: list[int], *,
                    domains: list[str | None] | None = None, language: str = "en",
                    top_words: int = 500) -> tuple[dict[str, TaskSpec], dict[str, list]]:
    """TaskSpecs (named 'aux:<name>', auxiliary=True) and their annotation columns (len == len(tokens))."""
    unknown = [n for n in names if n not in AUXILIARY]
    if unknown:
        raise ValueError("The 'aux' option must be a subset of {" + ", ".join(map(repr, sorted(AUXILIARY))) + "}. "
                         f"Got {', '.join(repr(n) for n in unknown)} instead.")
    if top_words < 1:
        raise ValueError(f"The 'top_words' parameter must be at least 1. Got {top_words!r} instead.")
    data = AuxiliaryData(tokens, list(train_rows), domains, language, top_words)
    specs: dict[str, TaskSpec] = {}
    columns: dict[str, list] = {}
    for name in dict.fromkeys(names):  # drop repeats, keep order
        spec, column = AUXILIARY[name].build(data)
        specs[spec.name], columns[spec.name] = spec, column
    return specs, columns


def placeholder_specs(names: list[str]) -> dict[str, TaskSpec]:
    """The auxiliary TaskSpecs of a trained run with their kind and flags but no real labels: enough to rebuild
    its architecture (a cascade's levels, direction-keeping encoders), whose auxiliary heads are never saved."""
    specs = {}
    for name in dict.fromkeys(names):
        task = AUXILIARY[name]
        specs[task.task_name] = TaskSpec(name=task.task_name, kind=task.kind, labels=["?", "?"], auxiliary=True,
                                         predicts_next=task.predicts_next)
    return specs
