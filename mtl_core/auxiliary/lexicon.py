"""lexicon: does the sentence contain positive and/or negative words of the VADER lexicon?"""
from __future__ import annotations

from functools import lru_cache

from mtl_core.auxiliary.base import AuxiliaryData, AuxiliaryTask
from mtl_core.tasks import CLASSIFICATION, TaskSpec

STRONG = 1.0  # |valence| at least this counts (VADER valences run from -4 to +4)
LABELS = ["none", "positive", "negative", "both"]


@lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    """VADER's word -> mean valence table, read once per process."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer().lexicon


def polarity(tokens: list[str], lexicon: dict[str, float]) -> str:
    """'none', 'positive', 'negative' or 'both', from the lower-cased tokens' valences."""
    valences = [lexicon.get(t.lower(), 0.0) for t in tokens]
    positive = any(v >= STRONG for v in valences)
    negative = any(v <= -STRONG for v in valences)
    return LABELS[positive + 2 * negative]


class Lexicon(AuxiliaryTask):
    name = "lexicon"
    kind = CLASSIFICATION
    description = (f"Each sentence predicts whether it contains positive (valence >= {STRONG}) and/or "
                   f"negative (<= -{STRONG}) words of the VADER sentiment lexicon (English only).")

    def build(self, data: AuxiliaryData) -> tuple[TaskSpec, list]:
        if data.language != "en":
            raise ValueError(f"The 'lexicon' auxiliary task uses the VADER lexicon, which is English; "
                             f"the language is {data.language!r}. Drop 'lexicon' from the 'aux' option.")
        lexicon = vader_lexicon()
        return self.spec(LABELS), [polarity(toks, lexicon) for toks in data.tokens]
