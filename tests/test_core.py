"""Building blocks: masked loss, splits, metrics, statistics, configs, vocabulary."""
import pytest
import torch

from mtl_core.data.corpus import make_corpus
from mtl_core.data.loaders import load_files
from mtl_core.data.splits import make_split
from mtl_core.data.tokenize import tokenize_texts
from mtl_core.data.vocab import Vocabulary
from mtl_core.errors import ConfigError
from mtl_core.results.stats import mean_ci, paired_delta
from mtl_core.training.config import RunConfig
from mtl_core.training.losses import masked_cross_entropy
from mtl_core.training.metrics import applies_scores, macro_f1, span_f1, spans


def test_masked_loss_ignores_absent_labels():
    logits = torch.tensor([[2.0, 0.0], [0.0, 5.0], [3.0, -3.0]])
    present_only = masked_cross_entropy(logits[:1], torch.tensor([0]))
    with_absent = masked_cross_entropy(logits, torch.tensor([0, -100, -100]))
    assert torch.isclose(present_only, with_absent)
    all_absent = masked_cross_entropy(logits, torch.tensor([-100, -100, -100]))
    assert all_absent.item() == 0.0


def test_absent_labels_get_no_gradient():
    logits = torch.zeros(3, 2, requires_grad=True)
    masked_cross_entropy(logits, torch.tensor([1, -100, 0])).backward()
    assert torch.all(logits.grad[1] == 0) and torch.any(logits.grad[0] != 0)


def test_split_is_reproducible_and_disjoint(datasets_dir):
    corpus = load_files([datasets_dir / "semeval2014_restaurants" / "Restaurants_Train_v2.xml"])
    a, b = make_split(corpus, seed=3), make_split(corpus, seed=3)
    assert a.fingerprint() == b.fingerprint()
    assert make_split(corpus, seed=4).fingerprint() != a.fingerprint()
    assert a.method == "iterative-stratified"
    parts = [set(a.train), set(a.val), set(a.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert sum(map(len, parts)) == len(corpus)
    # every aspect keeps roughly its share of labels in the test part
    for task in corpus.tasks:
        present = corpus.present(task)
        in_test = len(set(present) & parts[2]) / len(present)
        assert 0.12 < in_test < 0.28, (task, in_test)


def test_single_label_split_is_stratified(datasets_dir):
    corpus = load_files([datasets_dir / "uci_sentiment" / "yelp_labelled.txt"])
    split = make_split(corpus, seed=0)
    labels = [corpus.annotations["yelp"][i] for i in split.test]
    assert split.method == "stratified" and labels.count("1") == labels.count("0")


def test_given_test_rows_replace_the_test_split():
    corpus = make_corpus([f"text {i}" for i in range(50)], {"t": ["a", "b"] * 25}, ["f"])
    split = make_split(corpus, seed=0, test_rows=list(range(40, 50)))
    assert split.test == list(range(40, 50)) and not set(split.train) & set(split.test)


def test_spans_and_span_f1():
    assert spans(["B-PER", "I-PER", "O", "B-LOC"]) == {(0, 2, "PER"), (3, 4, "LOC")}
    assert span_f1([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]]) == 1.0
    assert span_f1([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]]) == 0.0  # boundary wrong = miss


def test_f1s_agree_with_scikit_learn():
    from random import Random

    from sklearn.metrics import f1_score
    rng = Random(0)
    for labels in (["a", "b"], ["a", "b", "c", "d"], ["x"]):
        for n in (1, 5, 40):
            gold = [rng.choice(labels) for _ in range(n)]
            pred = [rng.choice(labels + ["never in gold"]) for _ in range(n)]
            assert macro_f1(gold, pred) == pytest.approx(f1_score(gold, pred, average="macro", zero_division=0))
            flags = [g == "a" for g in gold], [p == "a" for p in pred]
            assert applies_scores(*flags)["applies_f1"] == pytest.approx(f1_score(*flags, zero_division=0))
    assert macro_f1(["a", "b", "b"], ["a", "a", "b"]) == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert applies_scores([False, False], [False, False])["applies_f1"] == 0.0


def test_mean_ci_and_paired_delta():
    est = mean_ci([0.8, 0.82, 0.84])
    assert est.ci_low < 0.82 < est.ci_high and est.n == 3
    delta, significant = paired_delta([0.9, 0.91, 0.92], [0.8, 0.8, 0.81])
    assert significant and delta.mean > 0.09
    _, noisy = paired_delta([0.9, 0.7, 0.85], [0.8, 0.8, 0.81])
    assert not noisy


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ConfigError, match="Unknown config key"):
        RunConfig.from_dict({"hiden": 3})
    with pytest.raises(ConfigError, match="'head' option must be one of"):
        RunConfig(head="nope")


def test_spacy_tokens_and_vocabulary():
    tokens = tokenize_texts(["Don't go there!", "Great food, great staff."])
    assert tokens[0] == ["do", "n't", "go", "there", "!"]
    vocab = Vocabulary.build(tokens, min_freq=2)
    assert vocab.itos[:3] == ["<pad>", "<oov>", "great"]
    assert vocab.encode(["great", "unseen"]) == [2, 1]


def test_selection_rules_weigh_tasks_as_documented():
    from mtl_core.tasks import TaskSpec
    from mtl_core.training.validation import selection_score

    specs = {"big": TaskSpec("big", labels=["a", "b"]), "small": TaskSpec("small", labels=["a", "b"])}
    scores = {"big": {"accuracy": 0.8}, "small": {"accuracy": 0.4}}
    assert selection_score(scores, specs, "metric") == pytest.approx(0.6)
    assert selection_score(scores, specs, "pooled", counts={"big": 90, "small": 10}) == pytest.approx(0.76)
    assert selection_score(scores, specs, "loss", losses={"big": 0.5, "small": 1.5}) == pytest.approx(-1.0)
    assert selection_score({"big": {"accuracy": float("nan")}}, specs, "metric") == 0.0


def test_word_dropout_replaces_only_real_tokens():
    from mtl_core.data.vocab import OOV_ID, PAD_ID
    from mtl_core.training.epoch import drop_words

    torch.manual_seed(0)
    ids = torch.tensor([[5, 6, 7, 8] * 250 + [PAD_ID] * 100])
    dropped = drop_words(ids, 0.2)
    assert (dropped[0, 1000:] == PAD_ID).all()
    share = (dropped[0, :1000] == OOV_ID).float().mean().item()
    assert 0.15 < share < 0.25
    with pytest.raises(ConfigError, match="word_dropout"):
        RunConfig(word_dropout=1.0)


def test_worker_leaves_a_core_for_the_app(monkeypatch):
    import os

    from mtl_core.studies.worker import training_threads

    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("MTL_LAB_THREADS", "1")
        assert training_threads() == 1 == torch.get_num_threads()
        monkeypatch.delenv("MTL_LAB_THREADS")
        assert training_threads() == max(1, (os.cpu_count() or 1) - 1)
    finally:
        torch.set_num_threads(before)


def test_a_preset_brings_its_own_seed_count_unless_one_is_given():
    from mtl_core.cli.options import build_parser
    from mtl_core.studies.presets import load_presets
    from mtl_core.studies.spec import StudySpec

    own = {name: p["seeds"] for name, p in load_presets().items() if "seeds" in p}
    assert own, "no preset states its seed count"
    name, seeds = next(iter(own.items()))
    assert StudySpec.from_preset(name).seeds == seeds
    assert StudySpec.from_preset(name, seeds=seeds + 1).seeds == seeds + 1
    assert StudySpec.from_preset("absa").seeds == 3
    assert build_parser().parse_args(["study", "--preset", name, "--out", "r"]).seeds is None  # so the preset's count holds
