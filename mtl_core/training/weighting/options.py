"""A weighting method's options (its hyperparameters), declared next to its class and checked here.

Each method lists ``options``: name, default, allowed values, one line of help. ``RunConfig.weighting_options``,
the CLI's ``--weighting-option NAME=VALUE`` and the Tasks page's widgets all come from these declarations::

    class DWA(LossWeighting):
        options = (Option("temperature", 2.0, "T in softmax(r / T): a larger T keeps weights nearer 1", above=0),)
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mtl_core.errors import ConfigError


@dataclass(frozen=True)
class Option:
    """One option of a weighting method. Its type is the default's (float, int or str)."""
    name: str
    default: float | int | str
    help: str
    above: float | None = None       # numbers: value > above
    at_least: float | None = None    # numbers: value >= at_least
    below: float | None = None       # numbers: value < below
    at_most: float | None = None     # numbers: value <= at_most
    choices: tuple[str, ...] = ()    # text: one of these

    @property
    def kind(self) -> type:
        return type(self.default)

    def allowed(self) -> str:
        """The allowed values in words: '> 0', 'in [0, 1)', "one of {'min', 'rmse'}"."""
        if self.choices:
            return "one of {" + ", ".join(repr(c) for c in self.choices) + "}"
        low = next(((op, v) for op, v in ((">", self.above), (">=", self.at_least)) if v is not None), None)
        high = next(((op, v) for op, v in (("<", self.below), ("<=", self.at_most)) if v is not None), None)
        if low and high:
            return f"in {'(' if low[0] == '>' else '['}{low[1]:g}, {high[1]:g}{')' if high[0] == '<' else ']'}"
        if low or high:
            op, bound = low or high
            return f"{op} {bound:g}"
        return "any value"

    def in_range(self, value: float) -> bool:
        return ((self.above is None or value > self.above) and (self.at_least is None or value >= self.at_least)
                and (self.below is None or value < self.below) and (self.at_most is None or value <= self.at_most))

    def check(self, method: str, value: object) -> float | int | str:
        """``value`` as the option's type (an int given for a float option becomes a float); else ConfigError."""
        where = f"The {self.name!r} option of weighting {method!r} must be"
        if self.kind is str:
            if value not in self.choices:
                raise ConfigError(f"{where} {self.allowed()}. Got {value!r} instead.")
            return value
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if self.kind is int and not (number and isinstance(value, int)):
            raise ConfigError(f"{where} a whole number {self.allowed()}. Got {value!r} instead.")
        if not number:
            raise ConfigError(f"{where} a number {self.allowed()}. Got {value!r} instead.")
        if not self.in_range(value):
            raise ConfigError(f"{where} {self.allowed()}. Got {value!r} instead.")
        return self.kind(value)


def check_values(method: str, declared: Sequence[Option], given: object) -> dict:
    """``given`` (option name -> value) checked against the method's ``declared`` options: the values to
    pass to its constructor (defaults not filled in). Unknown names and bad values raise ConfigError."""
    if not isinstance(given, Mapping):
        raise ConfigError(f"The 'weighting_options' option must map option names to values. Got {given!r} instead.")
    known = {o.name: o for o in declared}
    unknown = sorted(set(given) - set(known), key=str)
    if unknown and not known:
        raise ConfigError(f"The weighting {method!r} takes no options. Got {unknown} instead.")
    if unknown:
        raise ConfigError(f"Unknown option(s) {unknown} of weighting {method!r}. Its options: {sorted(known)}.")
    return {name: known[name].check(method, value) for name, value in given.items()}


def option_values(method: str, declared: Sequence[Option], given: object) -> dict:
    """Every declared option's value: ``given`` (checked) over the defaults."""
    return {**{o.name: o.default for o in declared}, **check_values(method, declared, given)}
