"""TF-IDF + LR baseline scores kept on disk: a later study on the same task and split reads them instead of
fitting the n-gram features and three classifiers again (about 7 s for ABSA's five aspects on 2 cores).

The baseline is deterministic: its scores depend only on the task's texts and labels in the train, validation and
test rows (in the split's order), the C grid, the seed, scikit-learn's version and the method itself
(``METHOD_VERSION``, raised whenever ``training.baselines`` changes what it computes). The key is a SHA-256 of all
of them, so another split, another label or another text misses. Files: ``<MTL_LAB_HOME>/baselines/<key>.json``
(``disk_cache.JsonCache``: atomic writes, damaged files computed again, at most ``CACHE.max_files``).
"""
from __future__ import annotations

from importlib.metadata import version

from mtl_core.data.corpus import Corpus
from mtl_core.data.splits import Split
from mtl_core.disk_cache import JsonCache, digest
from mtl_core.tasks import TAGGING
from mtl_core.training.baselines import C_GRID, tfidf_lr_baseline

METHOD_VERSION = 1
CACHE = JsonCache("baselines", max_files=5000)  # a few hundred bytes each


def baseline_key(corpus: Corpus, task: str, split: Split, seed: int) -> str:
    """What the TF-IDF + LR scores of ``task`` on ``split`` depend on, hashed."""
    key = digest("tfidf-lr", METHOD_VERSION, version("scikit-learn"), C_GRID, seed)
    column = corpus.annotations[task]
    for part in (split.train, split.val, split.test):
        key.update(b"\x1d")
        for i in part:
            if column[i] is not None:
                key.update(f"{corpus.texts[i]}\x1f{column[i]}\x1e".encode())
    return key.hexdigest()


def cached_tfidf_lr_baseline(corpus: Corpus, task: str, split: Split, seed: int = 0) -> dict[str, float] | None:
    """``tfidf_lr_baseline``'s scores, read from disk when this task and split were scored before, else computed
    and kept. Tagging tasks have no such baseline (None, nothing kept)."""
    if corpus.tasks[task].kind == TAGGING:
        return None
    key = baseline_key(corpus, task, split, seed)
    found = CACHE.get(key)
    if isinstance(found, dict) and found and all(isinstance(v, (int, float)) for v in found.values()):
        return {k: float(v) for k, v in found.items()}
    scores = tfidf_lr_baseline(corpus, task, split, seed)
    if scores is not None:
        CACHE.put(key, scores)
    return scores
