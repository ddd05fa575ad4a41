"""Auxiliary tasks from raw text: exact targets on hand-made sentences, train-only word lists, clear errors."""
from __future__ import annotations

import pytest
import torch

from mtl_core.auxiliary import (
    ADVERSARIAL,
    AUX_PREFIX,
    AUXILIARY,
    DYNAMIC,
    MissingWord,
    build_auxiliary,
    is_auxiliary_name,
)
from mtl_core.data.encode import IGNORE, encode
from mtl_core.data.vocab import OOV_ID, PAD_ID, Vocabulary
from mtl_core.tasks import CLASSIFICATION, TAGGING

FOOD = ["The", "food", "was", "great", "!"]


def build_one(name: str, tokens: list[list[str]], train_rows: list[int] | None = None, **kwargs):
    """(TaskSpec, annotation column) of one auxiliary task."""
    rows = list(range(len(tokens))) if train_rows is None else train_rows
    specs, columns = build_auxiliary([name], tokens, rows, **kwargs)
    return specs[AUX_PREFIX + name], columns[AUX_PREFIX + name]


def test_every_task_is_an_auxiliary_taskspec_with_one_entry_per_row():
    tokens = [FOOD, ["Terrible", "service", "."], []]
    names = [n for n in AUXILIARY if n != "domain"]
    specs, columns = build_auxiliary(names, tokens, [0, 1, 2], domains=None)
    assert list(specs) == [f"aux:{n}" for n in names] == list(columns)
    for name, spec in specs.items():
        assert spec.auxiliary and is_auxiliary_name(name) and len(columns[name]) == len(tokens)
        assert AUXILIARY[name.removeprefix(AUX_PREFIX)].description
    assert not is_auxiliary_name("sentiment")


def test_next_word_predicts_the_frequent_next_word_else_other():
    tokens = [FOOD, ["the", "food", "was", "the", "best"]]
    spec, column = build_one("next_word", tokens, top_words=3)  # the x3, food x2, was x2
    assert spec.kind == TAGGING
    assert spec.labels == ["the", "food", "was", "<other>", "</s>"]
    assert column[0] == ["food", "was", "<other>", "<other>", "</s>"]
    assert column[1] == ["food", "was", "the", "<other>", "</s>"]


def test_top_words_come_from_training_rows_only():
    tokens = [FOOD, ["the", "food"], ["pizza", "pizza", "pizza", "pizza", "the"]]
    spec, column = build_one("next_word", tokens, train_rows=[0, 1], top_words=2)
    assert "pizza" not in spec.labels
    assert column[2] == ["<other>", "<other>", "<other>", "the", "</s>"]  # test rows still get targets
    missing, _ = build_one("missing_word", tokens, train_rows=[0, 1], top_words=2)
    assert missing.labels == ["food", "the", "<other>"]


def test_next_char_buckets_the_next_tokens_first_character():
    spec, column = build_one("next_char", [FOOD, ["hay", "3", "Él", "ñu", "@"], []], language="es")
    assert column == [["f", "w", "g", "<sym>", "</s>"], ["<digit>", "e", "n", "<sym>", "</s>"], []]
    assert spec.labels[:3] == ["a", "b", "c"] and spec.labels[-3:] == ["<digit>", "<sym>", "</s>"]


def test_word_freq_bins_zipf_frequency():
    spec, column = build_one("word_freq", [["the", "The", "food", "xqzvorblat", "!"]])
    assert spec.labels == [str(b) for b in range(8)]
    assert column[0][0] == column[0][1] == "7"  # 'the': Zipf 7.7, clipped to the top bin
    assert column[0][2] == "5"                  # 'food': Zipf 5.4
    assert column[0][3] == column[0][4] == "0"  # unknown to wordfreq
    assert "discretised regression" in AUXILIARY["word_freq"].description
    _, spanish = build_one("word_freq", [["el", "perro"]], language="es")
    assert spanish[0][0] == "7" and int(spanish[0][1]) < 7


def test_lexicon_finds_positive_and_negative_words():
    sentences = [FOOD, ["Terrible", "service"], ["great", "food", ",", "terrible", "service"], ["a", "table"]]
    spec, column = build_one("lexicon", sentences)
    assert spec.kind == CLASSIFICATION and spec.labels == ["none", "positive", "negative", "both"]
    assert column == ["positive", "negative", "both", "none"]


def test_lexicon_is_english_only():
    with pytest.raises(ValueError, match="VADER lexicon, which is English"):
        build_one("lexicon", [["la", "comida"]], language="es")


def test_domain_labels_come_from_training_rows_and_train_adversarially():
    tokens = [FOOD] * 5
    domains = ["yelp", "amazon", None, "yelp", "imdb"]
    spec, column = build_one("domain", tokens, train_rows=[0, 1, 2], domains=domains)
    assert spec.labels == ["amazon", "yelp"]
    assert column == ["yelp", "amazon", None, "yelp", None]  # 'imdb' appears only outside training
    assert ADVERSARIAL == {"aux:domain"} and DYNAMIC == {"aux:missing_word"}


@pytest.mark.parametrize("domains", [None, ["yelp", "yelp", None]])
def test_domain_needs_two_domains(domains):
    with pytest.raises(ValueError, match="needs rows from at least two domains"):
        build_one("domain", [FOOD] * 3, domains=domains)


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError) as error:
        build_auxiliary(["next_word", "x"], [FOOD], [0])
    assert str(error.value) == ("The 'aux' option must be a subset of {'domain', 'lexicon', 'missing_word', "
                                "'next_char', 'next_word', 'word_freq'}. Got 'x' instead.")


def test_targets_encode_like_any_task():
    tokens = [[t.lower() for t in FOOD], ["bad", "."]]
    specs, columns = build_auxiliary(["next_char", "lexicon", "missing_word"], tokens, [0, 1])
    data = encode(tokens, columns, specs, Vocabulary.build(tokens), max_len=10)
    labels = specs["aux:next_char"].labels
    assert [labels[k] for k in data.targets["aux:next_char"][1, :2].tolist()] == ["<sym>", "</s>"]
    assert data.targets["aux:next_char"][1, 2:].eq(IGNORE).all()
    assert data.targets["aux:lexicon"].tolist() == [1, 2]  # positive, negative
    assert data.targets["aux:missing_word"].eq(IGNORE).all()  # made per batch instead


def test_missing_word_masks_real_tokens_and_targets_their_class():
    tokens = [["the", "food", "was", "great"], ["the", "food", "was", "bland", "the"]]
    spec, _ = build_one("missing_word", tokens, top_words=2)  # the, food
    vocab = Vocabulary.build(tokens)
    ids = torch.tensor([vocab.encode(tokens[0]) + [PAD_ID], vocab.encode(tokens[1])] * 50)  # (100, 5)
    corruptor = MissingWord.from_spec(spec, vocab.itos, rate=0.5)
    masked, targets = corruptor.corrupt(ids, torch.Generator().manual_seed(0))
    chosen = targets != IGNORE
    assert chosen.any() and not chosen[ids == PAD_ID].any()  # padding is never masked
    assert masked[chosen].eq(OOV_ID).all() and masked[~chosen].equal(ids[~chosen])
    words = [vocab.itos[i] for i in ids[chosen].tolist()]
    assert [spec.labels[k] for k in targets[chosen].tolist()] == [w if w in ("the", "food") else "<other>"
                                                                  for w in words]
    again, _ = corruptor.corrupt(ids, torch.Generator().manual_seed(0))
    assert again.equal(masked)  # the generator makes it reproducible


def test_missing_word_rate_is_about_right():
    vocab_itos = ["<pad>", "<oov>"] + [f"w{i}" for i in range(50)]
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(2, len(vocab_itos), (200, 100), generator=generator)
    ids[:, 80:] = PAD_ID
    _, targets = MissingWord(vocab_itos, ["w0", "w1"], rate=0.15).corrupt(ids, generator)
    rate = (targets != IGNORE).sum().item() / (ids != PAD_ID).sum().item()
    assert 0.14 < rate < 0.16
    assert set(targets[targets != IGNORE].unique().tolist()) == {0, 1, 2}  # w0, w1, <other>
