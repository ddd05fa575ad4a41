"""Corpus + vocabulary -> padded tensors: token ids, lengths, and per-task targets (-100 = absent)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from mtl_core.data.vocab import Vocabulary
from mtl_core.tasks import TAGGING, TaskSpec

IGNORE = -100  # target value for absent labels and padding: masked out of loss and metrics


@dataclass
class EncodedData:
    ids: torch.Tensor                 # (N, L) long, 0 = padding
    lengths: torch.Tensor             # (N,) long, >= 1
    targets: dict[str, torch.Tensor]  # task -> (N,) for classification, (N, L) for tagging

    def __len__(self) -> int:
        return self.ids.shape[0]


def encode(tokens: list[list[str]], annotations: dict[str, list], tasks: dict[str, TaskSpec],
           vocab: Vocabulary, max_len: int) -> EncodedData:
    """Encode every example; texts longer than ``max_len`` tokens are cut, empty ones get one OOV."""
    n = len(tokens)
    width = max(1, min(max_len, max((len(t) for t in tokens), default=1)))
    ids = torch.zeros((n, width), dtype=torch.long)
    lengths = torch.ones(n, dtype=torch.long)
    for i, toks in enumerate(tokens):
        row = vocab.encode(toks[:width]) or [1]
        ids[i, : len(row)] = torch.tensor(row)
        lengths[i] = len(row)
    targets = {}
    for name, spec in tasks.items():
        index = {label: k for k, label in enumerate(spec.labels)}
        column = annotations[name]
        if spec.kind == TAGGING:
            t = torch.full((n, width), IGNORE, dtype=torch.long)
            for i, tags in enumerate(column):
                if tags is not None:
                    row = [index.get(tag, IGNORE) for tag in tags[:width]]
                    t[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        else:
            t = torch.tensor([IGNORE if a is None else index.get(a, IGNORE) for a in column], dtype=torch.long)
        targets[name] = t
    return EncodedData(ids, lengths, targets)
