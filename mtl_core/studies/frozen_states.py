"""A study's frozen pretrained-encoder states, computed once by the process that owns the study and shipped with its
prepared data to the Ray tasks that train its runs: each task puts the states its process' cache
(``models.state_cache``) lacks into it, so no run on any node encodes a sentence. On the owner's machine the cache
on disk already holds them (the owner wrote it), and nothing is put twice."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from mtl_core.models.backbones import PRETRAINED, make_embedder
from mtl_core.models.embedders import FROZEN_VARIANT
from mtl_core.models.pretrained import encoder_folder
from mtl_core.models.state_cache import KEY_BYTES, open_states
from mtl_core.training.config import RunConfig

if TYPE_CHECKING:
    from mtl_core.studies.prepare import PreparedStudy


@dataclass
class FrozenStates:
    """Every distinct sentence's states under one encoder and layer mix, as plain arrays (Ray ships numpy arrays
    through its object store without copying them)."""
    backbone: str
    layers: int          # the mean of the top ``layers`` layers (the embedder's own, clamped, count)
    hidden: int
    keys: np.ndarray     # (S, KEY_BYTES) uint8: each sentence's cache key
    spans: np.ndarray    # (S, 2) int64: its first row and its number of rows in ``rows``
    rows: np.ndarray     # (R, hidden) int16: the states' bfloat16 bits

    def __len__(self) -> int:
        return len(self.keys)

    def install(self) -> int:
        """Put the sentences this process' state cache lacks into it (written to this node's disk cache with the
        next flush, for the node's other processes); returns how many."""
        cache = open_states(encoder_folder(self.backbone), FROZEN_VARIANT, self.layers, self.hidden)
        keys = [bytes(k) for k in self.keys]
        missing = cache.missing(keys)
        for k in missing:
            start, n = (int(v) for v in self.spans[k])
            cache.put(keys[k], torch.from_numpy(np.array(self.rows[start:start + n])).view(torch.bfloat16))
        return len(missing)


def collect_states(prepared: PreparedStudy, config: RunConfig) -> FrozenStates | None:
    """The states of every sentence of the study for its frozen pretrained encoder (encoded here, shortest first,
    where the cache lacks them); None when the backbone is trained (no frozen encoder)."""
    if config.backbone not in PRETRAINED or config.tune_pretrained:
        return None
    embedder = make_embedder(config, len(prepared.vocab), prepared.vocab.itos).eval()
    ids, lengths = prepared.data.ids, prepared.data.lengths
    embedder.precompute(ids, lengths)
    keys = list(dict.fromkeys(embedder.sentence_keys(ids, lengths)))  # distinct, in order
    states = [embedder.states.get(key) for key in keys]                 # (rows, hidden) bfloat16 each
    counts = np.array([s.shape[0] for s in states], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    rows = torch.cat(states).contiguous().view(torch.int16).numpy()
    table = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
    return FrozenStates(config.backbone, embedder.top_layers, embedder.out_dim, table,
                        np.stack([starts, counts], 1), rows)
