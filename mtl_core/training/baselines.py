"""Baselines every study shows: the majority class, and TF-IDF (word + char n-grams) + logistic regression.

Both are fitted on the training rows, tuned (C) on the validation rows only, scored once on the test rows.
scikit-learn is imported by the TF-IDF baseline when it runs (not when its scores are read from the cache).
"""
from __future__ import annotations

from collections import Counter

from mtl_core.data.corpus import Corpus
from mtl_core.data.splits import Split
from mtl_core.tasks import TAGGING
from mtl_core.training.metrics import accuracy, classification_scores, tagging_scores

C_GRID = (1.0, 10.0, 100.0)


def _present(corpus: Corpus, task: str, rows: list[int]) -> list[int]:
    column = corpus.annotations[task]
    return [i for i in rows if column[i] is not None]


def majority_baseline(corpus: Corpus, task: str, split: Split) -> dict[str, float]:
    """Predict the most frequent training label (tag, for tagging) everywhere in the test rows."""
    column = corpus.annotations[task]
    train, test = _present(corpus, task, split.train), _present(corpus, task, split.test)
    if corpus.tasks[task].kind == TAGGING:
        top = Counter(t for i in train for t in column[i]).most_common(1)[0][0]
        gold = [column[i] for i in test]
        return tagging_scores(gold, [[top] * len(g) for g in gold], corpus.tasks[task].labels)
    top = Counter(column[i] for i in train).most_common(1)[0][0]
    gold = [column[i] for i in test]
    return classification_scores(gold, [top] * len(gold))


def _tfidf_features():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union
    return make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=True),
    )


def tfidf_lr_baseline(corpus: Corpus, task: str, split: Split, seed: int = 0) -> dict[str, float] | None:
    """Scores of the classical text classifier; None for tagging tasks or single-class training data.
    The n-gram features are fitted once on the training rows; only the classifier is refitted per C."""
    if corpus.tasks[task].kind == TAGGING:
        return None
    column = corpus.annotations[task]
    train, val, test = (_present(corpus, task, r) for r in (split.train, split.val, split.test))
    y_train = [column[i] for i in train]
    if len(set(y_train)) < 2 or not test:
        return None
    from sklearn.linear_model import LogisticRegression
    x = corpus.texts
    features = _tfidf_features().fit([x[i] for i in train])
    x_train, x_val, x_test = (features.transform([x[i] for i in rows]) for rows in (train, val, test))
    best_model, best_acc = None, -1.0
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x_train, y_train)
        acc = accuracy([column[i] for i in val], list(model.predict(x_val))) if val else 0.0
        if acc > best_acc:
            best_model, best_acc = model, acc
    return classification_scores([column[i] for i in test], list(best_model.predict(x_test)))
