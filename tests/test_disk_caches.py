"""Work done once per dataset, kept on disk (mtl_core.disk_cache): the TF-IDF + LR baseline's scores per task and
split, a dataset's split, and the spaCy tokens of a dataset. A second study on the same data reads them, anything
that changes the result misses, and a damaged file is computed again."""
from __future__ import annotations

import pytest

from mtl_core.data.corpus import make_corpus
from mtl_core.data import splits, tokenize
from mtl_core.data.splits import compute_split, make_split
from mtl_core.training import baseline_cache
from mtl_core.training.baseline_cache import cached_tfidf_lr_baseline
from mtl_core.training.baselines import tfidf_lr_baseline

GOOD = ["a great meal", "lovely staff and food", "really good", "tasty and fresh", "great value", "nice place"]
BAD = ["awful service", "cold and bland food", "really bad", "rude staff", "terrible value", "dirty place"]


def corpus(flip: int | None = None):
    texts = [f"{t} {k}" for k in range(6) for t in GOOD + BAD]
    labels = ["pos" if t.rsplit(" ", 1)[0] in GOOD else "neg" for t in texts]
    if flip is not None:
        labels[flip] = "neg" if labels[flip] == "pos" else "pos"
    return make_corpus(texts, {"polarity": labels}, ["made up"])


@pytest.fixture()
def fits(monkeypatch):
    """How many times the baseline was really fitted."""
    calls = []
    real = baseline_cache.tfidf_lr_baseline
    monkeypatch.setattr(baseline_cache, "tfidf_lr_baseline", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_a_second_study_on_the_same_task_and_split_reads_the_scores_and_gets_the_same(fits):
    data = corpus()
    split = make_split(data, seed=0)
    first = cached_tfidf_lr_baseline(data, "polarity", split)
    assert first == tfidf_lr_baseline(data, "polarity", split)
    assert cached_tfidf_lr_baseline(corpus(), "polarity", make_split(corpus(), seed=0)) == first
    assert len(fits) == 1 and len(list(baseline_cache.CACHE.folder.glob("*.json"))) == 1


def test_another_split_or_another_label_misses(fits):
    data = corpus()
    cached_tfidf_lr_baseline(data, "polarity", make_split(data, seed=0))
    cached_tfidf_lr_baseline(data, "polarity", make_split(data, seed=1))
    changed = corpus(flip=3)
    cached_tfidf_lr_baseline(changed, "polarity", make_split(data, seed=0))
    assert len(fits) == 3


def test_a_damaged_file_is_computed_again_and_rewritten(fits):
    data = corpus()
    split = make_split(data, seed=0)
    expected = cached_tfidf_lr_baseline(data, "polarity", split)
    (path,) = baseline_cache.CACHE.folder.glob("*.json")
    path.write_text('{"accuracy": 0.9')  # cut short
    assert cached_tfidf_lr_baseline(data, "polarity", split) == expected
    assert len(fits) == 2 and cached_tfidf_lr_baseline(data, "polarity", split) == expected and len(fits) == 2


def test_the_cache_keeps_at_most_its_limit_of_files(monkeypatch, fits):
    monkeypatch.setattr(baseline_cache.CACHE, "max_files", 2)
    data = corpus()
    for seed in range(4):
        cached_tfidf_lr_baseline(data, "polarity", make_split(data, seed=seed))
    assert len(list(baseline_cache.CACHE.folder.glob("*.json"))) == 2


def test_a_second_tokenization_of_the_same_texts_reads_the_tokens_without_spacy(monkeypatch):
    texts = [f"The soup (#{k}) wasn't   hot." for k in range(tokenize.MIN_CACHED_TEXTS)]
    first = tokenize.tokenize_texts(texts)
    assert first[0] == ["the", "soup", "(", "#", "0", ")", "was", "n't", "hot", "."]
    monkeypatch.setattr(tokenize, "blank_pipeline", lambda language: pytest.fail("spaCy was asked again"))
    assert tokenize.tokenize_texts(texts) == first
    with pytest.raises(pytest.fail.Exception):  # another language, casing or text misses
        tokenize.tokenize_texts(texts, lowercase=False)
    with pytest.raises(pytest.fail.Exception):
        tokenize.tokenize_texts(texts[:-1] + ["Another text."])


def test_a_second_split_of_the_same_labels_is_read_from_disk_and_anything_it_depends_on_misses(monkeypatch):
    data = corpus()
    first = make_split(data, seed=0)
    assert first == compute_split(data, seed=0)
    (path,) = splits.CACHE.folder.glob("*.json")
    renamed = make_corpus([t.upper() for t in data.texts], data.annotations, ["made up"])  # texts do not matter
    monkeypatch.setattr(splits, "compute_split", lambda *a, **k: pytest.fail("split again"))
    assert make_split(data, seed=0) == first and make_split(renamed, seed=0) == first
    for other in (dict(seed=1), dict(test_size=0.3), dict(val_size=0.2), dict(test_rows=[0, 1, 2])):
        with pytest.raises(pytest.fail.Exception):
            make_split(data, **other)
    with pytest.raises(pytest.fail.Exception):
        make_split(corpus(flip=3), seed=0)
    monkeypatch.undo()
    path.write_text('{"train": [1, 2')  # cut short: computed again and rewritten
    assert make_split(data, seed=0) == first and splits.Split.from_dict(splits.CACHE.get(path.stem)) == first
