"""next_char: predict the first character of the token that follows, in 29 coarse buckets."""
from __future__ import annotations

import string
import unicodedata

from mtl_core.auxiliary.base import END, AuxiliaryData, AuxiliaryTask, next_targets
from mtl_core.tasks import TAGGING, TaskSpec

DIGIT, SYMBOL = "<digit>", "<sym>"
LABELS = list(string.ascii_lowercase) + [DIGIT, SYMBOL, END]


def first_char_bucket(token: str) -> str:
    """'a'..'z' (accents dropped: 'Él' -> 'e'), DIGIT for 0-9, SYMBOL for anything else."""
    first = unicodedata.normalize("NFD", token[:1].lower())[:1]
    if "a" <= first <= "z":
        return first
    return DIGIT if "0" <= first <= "9" else SYMBOL


class NextChar(AuxiliaryTask):
    name = "next_char"
    kind = TAGGING
    predicts_next = True
    description = ("Each token predicts the first character of the next token: a-z (accents dropped), "
                   f"'{DIGIT}', '{SYMBOL}', or '{END}' after the last token.")

    def build(self, data: AuxiliaryData) -> tuple[TaskSpec, list]:
        return self.spec(LABELS), [next_targets(toks, first_char_bucket) for toks in data.tokens]
