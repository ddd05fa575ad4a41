"""Weighting methods' options: declared next to each method, checked by RunConfig, passed to the method,
stored with every run, set from the CLI and shown on the Tasks page."""
from __future__ import annotations

import inspect
import math

import pytest
import torch
import torchjd.aggregation as jd
from app_pages import open_page
from test_weighting import TASKS, Tiny, build, grads

from mtl_core.cli.options import build_parser, method_overrides
from mtl_core.errors import ConfigError
from mtl_core.studies.prepare import prepare
from mtl_core.studies.spec import StudySpec
from mtl_core.training.config import RunConfig
from mtl_core.training.trainer import train_run
from mtl_core.training.weighting import REGISTRY, GradientCombination, options_of
from mtl_core.training.weighting.scipy_projector import ScipyProjector

TUNABLE = [name for name, cls in REGISTRY.items() if cls.options]


def test_methods_declare_their_options_with_defaults_help_and_allowed_values():
    assert [o.name for o in options_of("dwa")] == ["temperature"]
    assert [o.name for o in options_of("gradnorm")] == ["alpha", "lr"]
    assert {"mgda", "gradvac", "pcd", "fairgrad", "excess_mtl", "aligned_mtl", "upgrad"} <= set(TUNABLE)
    assert options_of("equal") == () and options_of("uncertainty") == ()
    for name in TUNABLE:
        for option in options_of(name):
            assert option.help and option.allowed() != "any value", (name, option.name)
            assert option.check(name, option.default) == option.default  # every default is allowed


@pytest.mark.parametrize(("method", "options", "message"), [
    ("dwa", {"temperature": -1}, "The 'temperature' option of weighting 'dwa' must be > 0. Got -1 instead."),
    ("gradnorm", {"alpha": -0.5}, "The 'alpha' option of weighting 'gradnorm' must be >= 0. Got -0.5 instead."),
    ("pcd", {"beta": 1.0}, "The 'beta' option of weighting 'pcd' must be in [0, 1). Got 1.0 instead."),
    ("mgda", {"max_iters": 2.5}, "The 'max_iters' option of weighting 'mgda' must be a whole number >= 1. Got 2.5 "
                                 "instead."),
    ("dwa", {"temperature": "hot"}, "The 'temperature' option of weighting 'dwa' must be a number > 0. Got 'hot' "
                                    "instead."),
    ("aligned_mtl", {"scale_mode": "max"}, "The 'scale_mode' option of weighting 'aligned_mtl' must be one of "
                                           "{'min', 'median', 'rmse'}. Got 'max' instead."),
    ("dwa", {"temp": 1.0}, "Unknown option(s) ['temp'] of weighting 'dwa'. Its options: ['temperature']."),
    ("equal", {"temperature": 1.0}, "The weighting 'equal' takes no options. Got ['temperature'] instead."),
])
def test_run_config_rejects_unknown_options_and_bad_values(method, options, message):
    with pytest.raises(ConfigError) as caught:
        RunConfig(weighting=method, weighting_options=options)
    assert str(caught.value) == message
    with pytest.raises(ConfigError):  # the method built on its own checks them the same way
        build(method, Tiny(), **options)


def test_dwa_temperature_changes_the_weights_it_computes():
    def weights_at_epoch_3(**options):
        weighting = build("dwa", Tiny(), tasks=["a", "b"], **options)
        for epoch, losses in ((1, {"a": 1.0, "b": 1.0}), (2, {"a": 0.9, "b": 0.5})):
            weighting.start_epoch(epoch)
            weighting.end_epoch(epoch, losses)
        weighting.start_epoch(3)
        return weighting.current_weights()

    default, sharp, flat = weights_at_epoch_3(), weights_at_epoch_3(temperature=0.5), weights_at_epoch_3(temperature=50)
    assert default == weights_at_epoch_3(temperature=2.0)  # the default is today's T = 2
    assert sharp["a"] == pytest.approx(2 * math.exp(1.8) / (math.exp(1.8) + math.exp(1.0)))  # r / T = 0.9 / 0.5
    assert sharp["a"] > default["a"] > flat["a"] > 1.0  # a colder softmax favours the slower task more
    assert flat["a"] == pytest.approx(1.0, abs=0.01)


def test_gradnorm_alpha_and_lr_change_how_its_weights_move():
    def weights_after_ten_steps(**options):
        model = Tiny()
        weighting = build("gradnorm", model, **options)
        for step in range(10):
            model.zero_grad(set_to_none=True)
            # task a's loss falls, so b trains relatively slower: alpha > 0 pushes b's weight up
            weighting.backward(model.losses(["a", "b"], scale={"a": 10.0 / (1 + step)}))
        return weighting.current_weights()

    default = weights_after_ten_steps()
    assert default == weights_after_ten_steps(alpha=1.5, lr=0.025)  # today's values
    # the larger alpha, the more weight goes to the task that trains slower
    assert weights_after_ten_steps(alpha=0.0)["b"] < weights_after_ten_steps(alpha=0.5)["b"] < default["b"]
    assert abs(weights_after_ten_steps(lr=0.001)["b"] - 1.0) < abs(default["b"] - 1.0)  # smaller steps


def test_gradient_combination_options_reach_the_torchjd_aggregator():
    steps = {}
    for iters in (1, 100):
        model = Tiny()
        build("mgda", model, max_iters=iters).backward(model.losses(TASKS))
        steps[iters] = grads(model.encoder.parameters())
    assert any(not torch.allclose(a, b) for a, b in zip(steps[1], steps[100]))


@pytest.mark.parametrize("name", TUNABLE)
def test_declared_defaults_are_the_ones_used_before_options_existed(name):
    """The defaults equal the library's own (torchjd's aggregators, our scipy projector), or the values the
    methods hard-coded before, so a run without options trains as it always did."""
    cls = REGISTRY[name]
    defaults = {o.name: o.default for o in cls.options}
    if name in ("upgrad", "dualproj"):
        library = inspect.signature(ScipyProjector.__init__).parameters
    elif issubclass(cls, GradientCombination):
        library = inspect.signature(getattr(jd, cls.__name__).__init__).parameters
    else:
        library = {}
    for option, value in defaults.items():
        if option in library and library[option].default is not inspect.Parameter.empty:
            assert value == library[option].default, (name, option)
    before = {"dwa": {"temperature": 2.0}, "gradnorm": {"alpha": 1.5, "lr": 0.025}, "fairgrad": {"alpha": 1.0}}
    assert before.get(name, defaults).items() <= defaults.items()
    model = Tiny()
    built = build(name, model)
    assert built.option_values == defaults
    built.backward(model.losses(TASKS))
    plain = grads(model.parameters())
    model = Tiny()
    build(name, model, **defaults).backward(model.losses(TASKS))
    assert all(torch.equal(a, b) for a, b in zip(plain, grads(model.parameters())))  # Tiny() seeds torch


def test_options_round_trip_through_the_stored_config_and_reach_the_trained_method():
    config = RunConfig(weighting="dwa", weighting_options={"temperature": 1})
    assert config.weighting_options == {"temperature": 1.0}  # a whole number given for a float option
    assert RunConfig.from_dict(config.to_dict()) == config
    assert RunConfig().weighting_options == {} and "weighting_options" in RunConfig().to_dict()
    with pytest.raises(ConfigError, match="'temperature'"):  # another method keeps none of dwa's options
        config.replace(weighting="gradnorm")

    source = {"synthetic": {"base_cues": 8, "filler_words": 60, "seed": 0, "shared_examples": False,
                            "tasks": [{"name": "a", "n_examples": 120}, {"name": "b", "n_examples": 120}]}}
    tiny = {"emb_dim": 8, "hidden": 8, "epochs": 4, "patience": 9, "max_len": 20, "use_vectors": False,
            "weighting": "dwa"}
    weights = {}
    for temperature in (2.0, 0.05):
        config = RunConfig.from_dict({**tiny, "weighting_options": {"temperature": temperature}})
        p = prepare(StudySpec(name="t", source=source, config=config.to_dict()), config)
        result = train_run(p.data, p.specs, p.split, config, 0, len(p.vocab), p.vectors)
        assert result.config["weighting_options"] == {"temperature": temperature}  # stored with the run
        weights[temperature] = [c["value"] for c in result.curves if c["name"] == "task_weight" and c["epoch"] == 4]
    spread = {t: max(w) - min(w) for t, w in weights.items()}
    assert spread[0.05] > spread[2.0] > 0  # the trainer built dwa with the option


def test_cli_weighting_options_become_the_run_config():
    args = build_parser().parse_args(["study", "--preset", "synthetic-demo", "--out", "x", "--weighting", "dwa",
                                      "--weighting-option", "temperature=1.5"])
    overrides = method_overrides(args)
    assert overrides == {"weighting": "dwa", "weighting_options": {"temperature": 1.5}}
    assert RunConfig.from_dict(overrides).weighting_options == {"temperature": 1.5}
    args = build_parser().parse_args(["study", "--preset", "synthetic-demo", "--out", "x", "--weighting",
                                      "aligned_mtl", "--weighting-option", "scale_mode=rmse"])
    assert RunConfig.from_dict(method_overrides(args)).weighting_options == {"scale_mode": "rmse"}
    args = build_parser().parse_args(["study", "--preset", "synthetic-demo", "--out", "x",
                                      "--weighting-option", "temperature"])
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        method_overrides(args)


def test_tasks_page_shows_the_chosen_methods_options_and_queues_them(monkeypatch):
    from mtl_core.store import Store
    monkeypatch.setenv("MTL_LAB_AUTOSTART_WORKER", "0")
    at = open_page("pages/2_Tasks.py")
    at.selectbox(key="tasks_source").set_value(
        next(o for o in at.selectbox(key="tasks_source").options if "Synthetic demo" in o)).run()
    k = next(s.key for s in at.selectbox if s.key and s.key.endswith("_sharing"))[: -len("_sharing")]
    option_keys = lambda: {n.key for n in at.number_input if n.key and "_weighting_" in n.key}  # noqa: E731
    assert option_keys() == set()  # equal: nothing to set
    at.selectbox(key=f"{k}_weighting").set_value("gradnorm").run()
    assert option_keys() == {f"{k}_weighting_gradnorm_alpha", f"{k}_weighting_gradnorm_lr"}
    at.selectbox(key=f"{k}_weighting").set_value("dwa").run()
    assert option_keys() == {f"{k}_weighting_dwa_temperature"}
    temperature = at.number_input(key=f"{k}_weighting_dwa_temperature")
    assert temperature.value == 2.0 and "softmax" in temperature.help
    temperature.set_value(0.0).run()
    shown = [e.value.replace("\\", "") for e in at.error]  # as the reader sees it: Markdown escapes (plain) dropped
    assert any("'temperature' option of weighting 'dwa' must be > 0" in text for text in shown), shown
    assert "tasks_submit" not in [b.key for b in at.button]  # nothing to queue with a bad option
    at.number_input(key=f"{k}_weighting_dwa_temperature").set_value(1.0).run()
    assert not at.exception and not at.error
    at.button(key="tasks_submit").click().run()
    (study,) = Store().studies()
    assert study["spec"]["config"]["weighting"] == "dwa"
    assert study["spec"]["config"]["weighting_options"] == {"temperature": 1.0}


def test_the_method_line_names_the_options_that_were_set():
    from mtl_core.results.summary import describe_method
    assert "weighting dwa (temperature=1.0)" in describe_method({"weighting": "dwa",
                                                                  "weighting_options": {"temperature": 1.0}})
    assert "weighting dwa ·" in describe_method({"weighting": "dwa"})  # defaults: nothing to name
