"""word_freq: predict each token's log frequency in the language (wordfreq's Zipf scale), binned."""
from __future__ import annotations

import math

from mtl_core.auxiliary.base import AuxiliaryData, AuxiliaryTask
from mtl_core.tasks import TAGGING, TaskSpec

MAX_BIN = 7  # Zipf 7+ is a handful of words ('the', 'de'); unknown words score 0
LABELS = [str(b) for b in range(MAX_BIN + 1)]


def zipf_bin(zipf: float) -> str:
    """floor(Zipf frequency) clipped to 0..MAX_BIN, as a label."""
    return str(min(MAX_BIN, math.floor(zipf)))


class WordFreq(AuxiliaryTask):
    name = "word_freq"
    kind = TAGGING
    description = ("Each token predicts its word frequency in the language (wordfreq's Zipf scale, "
                   "log10 of uses per billion words) rounded down to bins 0-7: a discretised regression.")

    def build(self, data: AuxiliaryData) -> tuple[TaskSpec, list]:
        import wordfreq  # 0.2 s on first use: only studies with this auxiliary task pay it

        try:
            wordfreq.zipf_frequency("a", data.language)
        except LookupError:
            raise ValueError(f"The 'word_freq' auxiliary task needs a language wordfreq knows, one of "
                             f"{sorted(wordfreq.available_languages())}. Got {data.language!r} instead.") from None
        # wordfreq caches its look-ups, so repeated words cost a dict hit
        return self.spec(LABELS), [[zipf_bin(wordfreq.zipf_frequency(t, data.language)) for t in toks]
                                   for toks in data.tokens]
