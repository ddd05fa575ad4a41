"""The Tasks page's "Method" section: sharing, backbone, weighting (and its options), sampling, auxiliary tasks.

Every choice and its one-line explanation comes from the library's registries, and a weighting method's
option widgets from its declared options, so a method added there shows up here without touching the page.
"""
from __future__ import annotations

import math

import streamlit as st

from mtl_core.auxiliary import AUX_PREFIX, AUXILIARY
from mtl_core.models.backbones import BACKBONES
from mtl_core.models.pretrained import PRETRAINED_ENCODERS, missing_weights
from mtl_core.models.sharing import SHARING
from mtl_core.training.config import RunConfig
from mtl_core.training.weighting import Option, options_of
from mtl_core.training.weighting import describe as weighting_methods

SAMPLING_HELP = {"proportional": "each task's turns in proportion to its examples",
                 "temperature": "small tasks visited more often (share ~ size^alpha)",
                 "round_robin": "tasks take turns, whatever their size"}


def pick(label: str, choices: dict[str, str], value: str, key: str) -> str:
    """A select box of registry names, each shown with its explanation."""
    names = list(choices)
    return st.selectbox(label, names, index=names.index(value) if value in names else 0, key=key,
                        format_func=lambda n: f"{n}: {choices[n]}")


def option_widget(option: Option, value: float | int | str, key: str, column=st) -> float | int | str:
    """One widget for one declared option: a select box for text, else a number box within its closed bounds.
    Open bounds (> 0) are left to RunConfig: a value out of range shows its error and nothing is queued."""
    help_text = f"{option.help} (allowed: {option.allowed()}; default {option.default!r})"
    if option.choices:
        return column.selectbox(option.name, option.choices, index=option.choices.index(value), key=key,
                                help=help_text)
    if option.kind is int:
        return column.number_input(option.name, min_value=None if option.at_least is None else int(option.at_least),
                                   value=int(value), step=1, key=key, help=help_text)
    low, high = (None if bound is None else float(bound) for bound in (option.at_least, option.at_most))
    step = 10.0 ** math.floor(math.log10(abs(option.default))) / 10 if option.default else 0.01
    return column.number_input(option.name, min_value=low, max_value=high, value=float(value), step=step,
                               format="%g", key=key, help=help_text)


def weighting_options_ui(method: str, base: RunConfig, k: str) -> dict:
    """The chosen method's options, one widget each; returns those set away from their default."""
    declared = options_of(method)
    if not declared:
        return {}
    given = base.weighting_options if base.weighting == method else {}
    st.caption(f"Options of {method}:")
    columns = st.columns(min(3, len(declared)))
    chosen = {}
    for i, option in enumerate(declared):
        value = option_widget(option, given.get(option.name, option.default), f"{k}_weighting_{method}_{option.name}",
                              columns[i % len(columns)])
        if value != option.default:
            chosen[option.name] = value
    return chosen


def method_ui(base: RunConfig, tasks: list[str], k: str) -> dict:
    """RunConfig options for the chosen method (only those that differ from ``base``'s are meaningful)."""
    config: dict = {}
    config["sharing"] = pick("How tasks share parameters", {n: c.description for n, c in SHARING.items()},
                             base.sharing, f"{k}_sharing")
    config["backbone"] = pick("Backbone (encoder)", BACKBONES, base.backbone, f"{k}_backbone")
    if config["backbone"] in PRETRAINED_ENCODERS:
        if problem := missing_weights(config["backbone"]):
            st.error(problem)
            st.stop()  # nothing to queue: every run would fail the same way
        config["tune_pretrained"] = st.checkbox("Fine-tune the pretrained encoder (slower; frozen keeps its states "
                                                "cached and trains a BiLSTM on top)", base.tune_pretrained,
                                                key=f"{k}_tune")
        layers = PRETRAINED_ENCODERS[config["backbone"]].layers
        config["pretrained_layers"] = st.slider("Layers averaged for each word's state (1: the last only)", 1, layers,
                                                base.pretrained_layers, key=f"{k}_layers",
                                                help="Lower layers keep more of the word itself; a mean of the top "
                                                     "5 helps frozen features on ABSA (+0.01 accuracy).")
    weighting = {n: f"{d} ({kind})" for n, d, kind in weighting_methods()}
    config["weighting"] = pick("Loss weighting / gradient combination", weighting, base.weighting, f"{k}_weighting")
    config["weighting_options"] = weighting_options_ui(config["weighting"], base, k)
    config["sampling"] = pick("Task sampling", SAMPLING_HELP, base.sampling, f"{k}_sampling")
    config["aux"] = st.multiselect("Automatic auxiliary tasks (trained alongside, reported apart)", list(AUXILIARY),
                                   default=[a for a in base.aux if a in AUXILIARY], key=f"{k}_aux",
                                   help=" · ".join(f"{n}: {a.description}" for n, a in AUXILIARY.items()))
    if config["sharing"] == "cascade":
        levels = list(tasks) + [AUX_PREFIX + a for a in config["aux"]]
        config["cascade_order"] = st.multiselect(
            "Cascade order, lowest level first (tasks left out read the top level)", levels,
            default=[t for t in base.cascade_order if t in levels], key=f"{k}_cascade")
    return config
