"""next_word: predict the token that follows (a tiny language model over the frequent words)."""
from __future__ import annotations

from mtl_core.auxiliary.base import (
    END,
    OTHER,
    AuxiliaryData,
    AuxiliaryTask,
    frequent_words,
    next_targets,
)
from mtl_core.tasks import TAGGING, TaskSpec


class NextWord(AuxiliaryTask):
    name = "next_word"
    kind = TAGGING
    predicts_next = True
    description = ("Each token predicts the next word (lower-cased) if it is one of the most frequent "
                   f"training words, else '{OTHER}'; the last token predicts '{END}'.")

    def build(self, data: AuxiliaryData) -> tuple[TaskSpec, list]:
        top = frequent_words(data)
        known = set(top)

        def label_of(token: str) -> str:
            return token.lower() if token.lower() in known else OTHER

        return self.spec(top + [OTHER, END]), [next_targets(toks, label_of) for toks in data.tokens]
