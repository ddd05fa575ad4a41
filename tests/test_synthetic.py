"""The generator's dial does what it says: an agreeing partner helps, a contradicting one takes that away."""
from __future__ import annotations

import pytest

from mtl_core.data.synthetic import SyntheticConfig, generate
from mtl_core.errors import ConfigError
from mtl_core.results.gains import HELPS, study_deltas
from mtl_core.results.study_results import StudyResults
from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.spec import StudySpec

CONFIG = {"emb_dim": 16, "hidden": 16, "epochs": 20, "patience": 4, "max_len": 40, "lr": 0.005, "dropout": 0.2}


def base_with(partner: dict, store: Store) -> dict:
    """The base task's row of the all-vs-alone comparison, trained with ``partner`` (3 seeds, one split)."""
    source = {"synthetic": {"base_cues": 12, "filler_words": 100, "seed": 0,
                            "tasks": [{"name": "base", "n_examples": 300}, {"name": "partner", "n_examples": 900, **partner}]}}
    study_id, _ = run_study(StudySpec(name="dial", source=source, seeds=3, config=CONFIG), store,
                            echo=lambda line: None, save_models=False)
    return next(r for r in study_deltas(StudyResults.load(store, study_id)) if r["task"] == "base")


def test_agreeing_partner_helps_and_contradicting_cues_take_the_help_away():
    store = Store()
    agreeing = base_with({"shared_cues": 12, "private_cues": 0}, store)
    contradicting = base_with({"shared_cues": 6, "contradicting_cues": 6, "private_cues": 0}, store)
    assert agreeing["verdict"] == HELPS and agreeing["delta"] > 0.1, agreeing
    assert agreeing["ci_low"] > 0
    # Same base sentences and seeds; only the partner's cue polarities differ.
    assert contradicting["all"] < agreeing["all"] - 0.1, (agreeing, contradicting)


def test_generator_is_seeded_and_honours_the_dial():
    cfg = {"base_cues": 8, "filler_words": 50, "seed": 1, "shared_examples": True,
           "tasks": [{"name": "a", "n_examples": 200, "label_noise": 0.0},
                     {"name": "b", "contradicting_cues": 8, "private_cues": 0, "label_noise": 0.0}]}
    one, two = generate(SyntheticConfig.from_dict(cfg)), generate(SyntheticConfig.from_dict(cfg))
    assert one.texts == two.texts and one.annotations == two.annotations
    a, b = one.annotations["a"], one.annotations["b"]
    assert len(one) == 200 and all(x != y for x, y in zip(a, b))  # every cue flipped: opposite labels
    assert 0.35 < a.count("pos") / len(a) < 0.65
    with pytest.raises(ConfigError, match="at most base_cues"):
        generate(SyntheticConfig.from_dict({**cfg, "tasks": [cfg["tasks"][0], {"name": "c", "shared_cues": 9}]}))
