"""Multitask methods end to end: every backbone, sharing architecture, weighting family, sampling rule and
automatic auxiliary task trains through the real trainer and study code, on small synthetic or real data."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mtl_core.cli.options import build_parser, method_overrides
from mtl_core.data.sources import load_source
from mtl_core.errors import ConfigError
from mtl_core.predict import load_predictor
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import auxiliary_rows, describe_method
from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.prepare import prepare
from mtl_core.studies.spec import StudySpec
from mtl_core.training.config import RunConfig
from mtl_core.training.sampling import epoch_plan
from mtl_core.training.trainer import train_run

TINY = {"emb_dim": 16, "hidden": 16, "epochs": 2, "patience": 5, "max_len": 30, "lr": 0.005, "dropout": 0.1,
        "use_vectors": False}
SYNTHETIC = {"synthetic": {"base_cues": 8, "filler_words": 60, "seed": 0, "shared_examples": False,
                           "tasks": [{"name": "a", "n_examples": 160}, {"name": "b", "n_examples": 160, "shared_cues": 8}]}}


def prepared(source: dict = SYNTHETIC, **changes):
    config = RunConfig.from_dict({**TINY, **changes})
    return prepare(StudySpec(name="t", source=source, config=config.to_dict()), config), config


def train(p, config, seed: int = 0):
    specs = {**p.specs, **p.aux_specs}
    return train_run(p.data, specs, p.split, config, seed, len(p.vocab), p.vectors, itos=p.vocab.itos)


@pytest.mark.parametrize("backbone", ["bilstm", "cnn", "transformer"])
@pytest.mark.parametrize("sharing", ["hard", "cascade", "cross_stitch", "shared_private"])
def test_every_backbone_and_sharing_architecture_trains_and_scores(backbone, sharing):
    p, config = prepared(backbone=backbone, sharing=sharing, cascade_order=["a"] if sharing == "cascade" else [])
    result = train(p, config)
    assert set(result.test_scores) == {"a", "b"}
    assert all(0.0 <= s["accuracy"] <= 1.0 for s in result.test_scores.values())
    assert result.epochs_run == 2 and result.examples_per_second > 0


@pytest.mark.parametrize("tune", [False, True])
def test_pretrained_minilm_backbone_trains_frozen_or_fine_tuned(tune):
    p, config = prepared(backbone="minilm", tune_pretrained=tune, epochs=1)
    # A pretrained encoder splits any word into pieces it knows: the vocabulary holds every row's words.
    assert int((p.data.ids == 1).sum()) == 0  # no <oov> anywhere, validation and test rows included
    result = train(p, config)
    assert set(result.test_scores) == {"a", "b"}


def test_pretrained_states_can_be_the_mean_of_the_top_layers():
    from mtl_core.models.embedders import PretrainedEmbedder
    itos = ["<pad>", "<oov>", "the", "food", "was", "great"]
    ids, lengths = torch.tensor([[2, 3, 4, 5]]), torch.tensor([4])
    last, mixed = PretrainedEmbedder(itos), PretrainedEmbedder(itos, top_layers=3)
    pieces, attention, first = last.pieces(ids)
    layers = last.encoder(input_ids=pieces, attention_mask=attention.long(), output_hidden_states=True).hidden_states
    want = torch.stack(layers[-3:]).mean(0)[0, first[0]]  # each word's first piece, mean of the top 3 layers
    assert torch.allclose(mixed.frozen(ids, lengths)[0], want, atol=1e-2)  # cached in bfloat16
    assert torch.allclose(last.frozen(ids, lengths)[0], layers[-1][0, first[0]], atol=1e-2)
    assert not torch.allclose(want, layers[-1][0, first[0]], atol=1e-1)
    assert "mean of top 3 layers" in describe_method({"backbone": "minilm", "pretrained_layers": 3})
    with pytest.raises(ConfigError, match="pretrained_layers"):
        RunConfig(pretrained_layers=0)


def test_fine_tuned_pretrained_encoder_learns_at_its_own_rate():
    from mtl_core.models.build import build_model, parameter_groups
    p, config = prepared(backbone="minilm", tune_pretrained=True, pretrained_lr=1e-5)
    model = build_model(p.specs, len(p.vocab), config, itos=p.vocab.itos)
    groups = parameter_groups(model, config)
    assert [g["lr"] for g in groups] == [config.lr, 1e-5]
    pretrained = sum(q.numel() for q in groups[1]["params"])
    assert pretrained > 20_000_000  # MiniLM-L6's 22M weights, not the heads


@pytest.mark.parametrize("weighting", ["uncertainty", "dwa", "gradnorm", "pcgrad", "upgrad", "mgda"])
def test_weighting_methods_train_with_tasks_absent_from_batches(weighting):
    # Tasks on separate sentences: most batches hold one task only (its labels absent elsewhere, masked).
    p, config = prepared(weighting=weighting)
    result = train(p, config)
    assert set(result.test_scores) == {"a", "b"}
    if weighting in ("uncertainty", "dwa", "gradnorm"):
        assert {c["task"] for c in result.curves if c["name"] == "task_weight"} == {"a", "b"}


def test_auxiliary_tasks_are_trained_but_scored_apart():
    p, config = prepared(aux=["next_word", "next_char", "missing_word", "word_freq", "lexicon"])
    assert set(p.aux_specs) == {"aux:next_word", "aux:next_char", "aux:missing_word", "aux:word_freq", "aux:lexicon"}
    assert set(p.specs) == {"a", "b"}  # baselines and plans see the user's tasks only
    result = train(p, config)
    assert set(result.test_scores) == {"a", "b"}
    assert set(result.aux_scores) == {"aux:next_word", "aux:next_char", "aux:word_freq", "aux:lexicon"}
    trained = {c["task"] for c in result.curves if c["name"] == "train_loss"}
    assert "aux:missing_word" in trained and "aux:next_word" in trained


def test_primary_aux_schedule_needs_auxiliary_tasks_and_trains_with_them():
    p, config = prepared(aux=["next_word"], weighting="primary_aux")
    result = train(p, config)
    weights = {(c["epoch"], c["task"]): c["value"] for c in result.curves if c["name"] == "task_weight"}
    assert weights[(1, "a")] == pytest.approx(0.5) and weights[(1, "aux:next_word")] == pytest.approx(0.5)


def test_domain_adversarial_shared_private_on_two_real_domains(datasets_dir, isolated_home):
    source = {"files": [str(datasets_dir / "uci_sentiment" / f) for f in ("yelp_labelled.txt", "amazon_cells_labelled.txt")],
              "format": "uci"}
    p, config = prepared(source, sharing="shared_private", aux=["domain"], epochs=1)
    assert len(p.aux_specs["aux:domain"].labels) == 2  # one per file
    result = train(p, config)
    assert "aux:domain" in result.aux_scores and set(result.test_scores) == {"yelp", "amazon"}


def test_domain_task_refuses_tasks_that_share_sentences():
    source = {"synthetic": {**SYNTHETIC["synthetic"], "shared_examples": True}}
    with pytest.raises(ConfigError, match="domain"):
        prepared(source, aux=["domain"])


def test_sampling_rules_shape_an_epoch():
    rng = np.random.default_rng(0)
    owned = {"big": np.arange(0, 900), "small": np.arange(900, 1000)}
    lengths = np.ones(1000, dtype=int)
    share = {}
    for rule in ("proportional", "temperature", "round_robin"):
        plan = epoch_plan(owned, lengths, 10, rng, rule, alpha=0.5)
        assert len(plan) == 100  # as many batches as the rows fill, whatever the rule
        share[rule] = sum(t == "small" for t, _ in plan) / len(plan)
    assert share["proportional"] == pytest.approx(0.1)
    assert 0.15 < share["temperature"] < 0.35  # sqrt(100) / (sqrt(900) + sqrt(100)) = 0.25
    assert share["round_robin"] == pytest.approx(0.5)


def test_reuters_topics_become_yes_no_tasks(datasets_dir):
    source = {"files": [str(datasets_dir / "reuters21578_46topics" / "reuters46_train.tsv")], "format": "tsv",
              "text_column": "body", "label_columns": ["topic"],
              "one_vs_rest": {"column": "topic", "topics": ["crude", "grain"]}}
    corpus = load_source(source).corpus
    assert list(corpus.tasks) == ["crude", "grain"]
    assert corpus.tasks["crude"].labels == ["no", "yes"]
    crude = corpus.report.label_counts["crude"]["yes"]
    assert 400 < crude < 500  # 444 crude stories in the training portion
    with pytest.raises(ConfigError, match="never occur"):
        load_source({**source, "one_vs_rest": {"column": "topic", "topics": ["not-a-topic"]}})


def test_cli_method_flags_become_the_run_config():
    args = build_parser().parse_args(["study", "--preset", "synthetic-demo", "--out", "x", "--sharing", "cascade",
                                      "--cascade-order", "base,related", "--backbone", "cnn", "--weighting",
                                      "pcgrad", "--sampling", "round_robin", "--aux", "next_word,lexicon"])
    assert method_overrides(args) == {"sharing": "cascade", "cascade_order": ["base", "related"], "backbone": "cnn",
                                      "weighting": "pcgrad", "sampling": "round_robin",
                                      "aux": ["next_word", "lexicon"]}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["study", "--preset", "synthetic-demo", "--out", "x", "--weighting", "nope"])


def test_a_study_records_its_method_and_auxiliary_scores_and_predicts(isolated_home):
    store = Store()
    spec = StudySpec(name="methods", source=SYNTHETIC, seeds=1,
                     config={**TINY, "sharing": "shared_private", "aux": ["next_char"], "weighting": "dwa"})
    study_id, _ = run_study(spec, store, echo=lambda line: None)
    assert describe_method(store.study(study_id)["spec"]["config"]) == \
        "shared_private sharing · bilstm · weighting dwa · sampling proportional · auxiliary: next_char"
    aux = auxiliary_rows(StudyResults.load(store, study_id))
    assert {r["task"] for r in aux} == {"aux:next_char"} and {r["with"] for r in aux} == {"single", "all"}
    run = next(r for r in store.runs(study_id) if r["setting"] == "all")
    state = torch.load(run["checkpoint"], weights_only=True)
    assert not any("aux" in k for k in state)  # the auxiliary heads are training aids, not saved
    predictor = load_predictor(store, run["id"])
    out = predictor.predict(["a sentence of made up words"])
    assert set(out[0]) == {"a", "b"}


def test_a_cascade_over_auxiliary_levels_predicts_with_the_trained_levels(isolated_home):
    store = Store()
    order = ["aux:next_char", "aux:next_word"]
    spec = StudySpec(name="crnn", source=SYNTHETIC, seeds=1, tasks=["a"],
                     config={**TINY, "sharing": "cascade", "aux": ["next_char", "next_word"], "cascade_order": order})
    study_id, _ = run_study(spec, store, echo=lambda line: None)
    run = store.runs(study_id)[0]
    predictor = load_predictor(store, run["id"])
    assert [type(e).__name__ for e in predictor.model.encoders] == ["BiLSTMEncoder", "DirectionalBiLSTMEncoder",
                                                                    "DirectionalBiLSTMEncoder"]
    state = torch.load(run["checkpoint"], weights_only=True)
    assert torch.equal(predictor.model.state_dict()["encoders.1.forward_lstm.weight_ih_l0"],
                       state["encoders.1.forward_lstm.weight_ih_l0"])         # the trained level, not a new one
    assert set(predictor.predict(["a sentence of made up words"])[0]) == {"a"}


def test_methods_compare_puts_studies_of_the_same_tasks_side_by_side(isolated_home):
    from mtl_core.results.methods import comparable_studies, method_rows
    from mtl_core.charts.scores import methods_chart

    store = Store()
    ids = []
    for config in ({}, {"aux": ["next_word"], "sharing": "cascade", "cascade_order": ["aux:next_word"]}):
        spec = StudySpec(name=f"m{len(ids)}", source=SYNTHETIC, seeds=2, tasks=["a"], config={**TINY, **config})
        ids.append(run_study(spec, store, echo=lambda line: None, save_models=False)[0])
    assert {s["id"] for s in comparable_studies(store.studies(), store.study(ids[0]))} == set(ids)
    rows = method_rows([StudyResults.load(store, study_id) for study_id in ids])
    assert [(r["study"], r["task"], r["setting"], r["n_seeds"]) for r in rows] == [("m0", "a", "single", 2),
                                                                                  ("m1", "a", "single", 2)]
    assert "cascade sharing" in rows[1]["method"] and 1 <= rows[1]["epochs_to_converge"] <= 2
    assert rows[0]["target"] == rows[1]["target"] and all(1 <= r["epochs_to_target"] <= 2 for r in rows)
    fig = methods_chart(rows)
    assert len(fig.data) == 4  # per study: a score bar and an epochs bar


def test_epochs_to_reach_the_validation_score_every_run_reached():
    from mtl_core.results.methods import epochs_to_reach, shared_target

    curves = [[0.50, 0.60, 0.70], [0.55, 0.65], [0.40, 0.66, 0.61, 0.80], []]
    assert shared_target(curves) == 0.65                       # the weakest run's best
    assert epochs_to_reach(curves, 0.65) == [3, 2, 2]          # a later dip does not matter; no curve, no entry
    assert shared_target([[], []]) is None


def test_character_cnn_gives_unseen_words_their_spelling_but_not_a_word_vector():
    p, config = prepared(char_dim=8)
    train_words = {w for i in p.split.train for w in p.corpus.tokens[i]} if p.corpus.tokens else None
    assert p.known_words is not None and p.known_words <= len(p.vocab)
    if train_words is not None:
        assert set(p.vocab.itos[2:p.known_words]) <= train_words
    from mtl_core.models.embedders import WordEmbedder
    itos = ["<pad>", "<oov>", "Madrid", "casa", "Barcelona"]  # "Barcelona": never seen in training
    embedder = WordEmbedder(len(itos), 4, dropout=0.0, itos=itos, char_dim=8, known_words=4).eval()
    out = embedder(torch.tensor([[2, 4, 1]]), torch.tensor([3]))             # (1, 3, 4 + 50)
    assert out.shape == (1, 3, 4 + embedder.chars.out_dim)
    assert torch.equal(out[0, 1, :4], out[0, 2, :4])      # the unseen word gets the <oov> word vector...
    assert not torch.equal(out[0, 1, 4:], out[0, 2, 4:])  # ...but its own characters
    result = train(p, config)
    assert set(result.test_scores) == {"a", "b"}
