"""Embedders: token ids (B, T) -> token features (B, T, D).

``WordEmbedder`` learns one vector per vocabulary word (optionally initialised from spaCy vectors).
``PretrainedEmbedder`` runs a pretrained Transformer (MiniLM or MPNet, installed from the package registry, loaded
offline: ``mtl_core.models.pretrained``) over the word-piece split of each word and keeps each word's FIRST piece state, so token-level
tasks (tagging) line up with our tokens. That state is the last layer's, or the mean of the top N layers
(``top_layers``): lower layers keep more of the word and its syntax, which helps frozen features (on ABSA,
frozen + BiLSTM, 3 seeds: last layer 0.716-0.720, mean of the top 5 0.728-0.729). Frozen: no gradients, and each
sentence is encoded once: its states are kept in memory and on disk (``models.state_cache``), where every run,
worker process and later study on the same sentences reads them. Each run starts with ``precompute_states``
(``training.setup.set_up_run``): the dataset's sentences not on disk yet, encoded in one length-sorted pass; a
later run or study finds them all and encodes nothing. The frozen Transformer's weights are loaded only then, once
per process (``frozen_encoder``): a run whose states are all on disk never loads them. Fine-tuned: the embedder's
own copy, with its own (small) learning rate (``models.build.parameter_groups``).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from mtl_core.data.vocab import OOV_ID
from mtl_core.models.onnx_encoder import OnnxEncoder
from mtl_core.models.pretrained import encoder_folder
from mtl_core.models.state_cache import encoder_dir, open_states, sentence_key
from mtl_core.models.word_pieces import load_word_pieces

MAX_PIECES = 6        # word pieces kept per word (its first piece's state is what we use)
MAX_POSITIONS = 512   # the encoder's position table
MAX_CHARS = 20        # characters of a word the character CNN reads
PRECOMPUTE_PIECES = 4096  # word pieces per batch when a whole dataset is encoded (sorted by length: little padding)
PRECOMPUTE_ROWS = 128     # and sentences per batch at most
FROZEN_VARIANT = "fp32"   # how frozen states are computed (part of the disk cache's fingerprint)
_FROZEN: dict[tuple[str, str], nn.Module] = {}  # (model folder, device) -> its frozen Transformer, in this process
_FROZEN_LOCK = threading.Lock()                 # the app's threads may ask for one at once


def frozen_encoder(path: Path, device: torch.device) -> nn.Module:
    """The Transformer at ``path`` in eval mode without gradients, loaded once per process and device and shared
    by every frozen embedder of every run (MiniLM: ~1-2 s and 90 MB each time it was loaded per run)."""
    from transformers import AutoModel  # heavy: imported only when a sentence has to be encoded
    quiet_transformers()
    key = (str(Path(path).resolve()), str(device))
    with _FROZEN_LOCK:
        if key not in _FROZEN:
            model = AutoModel.from_pretrained(str(path), local_files_only=True)
            _FROZEN[key] = model.requires_grad_(False).eval().to(device)
        return _FROZEN[key]


def quiet_transformers() -> None:
    """No progress bars or warnings from transformers in the worker's log."""
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


class CharCNN(nn.Module):
    """Each word's characters -> embeddings -> 1-D convolution -> max over characters (Ma & Hovy 2016):
    spelling, capitals and suffixes reach the model even for words never seen in training."""

    def __init__(self, itos: list[str], char_dim: int = 30, filters: int = 50, max_chars: int = MAX_CHARS):
        super().__init__()
        alphabet = sorted({c for w in itos[2:] for c in w[:max_chars]})
        index = {c: k + 1 for k, c in enumerate(alphabet)}                    # 0: padding
        table = torch.zeros(len(itos), max_chars, dtype=torch.long)
        for i, word in enumerate(itos[2:], start=2):
            chars = [index[c] for c in word[:max_chars]]
            table[i, : len(chars)] = torch.tensor(chars, dtype=torch.long)
        self.register_buffer("chars", table)                                   # (V, C), saved with the model
        self.embedding = nn.Embedding(len(alphabet) + 1, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, filters, kernel_size=3, padding=1)
        self.out_dim = filters

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        chars = self.chars[ids]                                                 # (B, T, C)
        x = self.embedding(chars.flatten(0, 1)).transpose(1, 2)                 # (B*T, Ec, C)
        h = self.conv(x).masked_fill((chars.flatten(0, 1) == 0).unsqueeze(1), float("-inf"))
        h = h.max(dim=-1).values.clamp(min=-1e4)                               # (B*T, F); empty words -> finite
        return torch.relu(h).view(*ids.shape, -1)                               # (B, T, F)


class WordEmbedder(nn.Module):
    """A learned vector per word (+ optional character CNN). Ids >= ``known_words`` are words never seen in
    training (kept for their characters): their word vector is the learned <oov> one."""

    def __init__(self, vocab_size: int, emb_dim: int = 100, dropout: float = 0.5,
                 vectors: torch.Tensor | None = None, itos: list[str] | None = None, char_dim: int = 0,
                 known_words: int | None = None):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        if vectors is not None:  # (vocab_size, emb_dim) pretrained rows; zero rows keep their random init
            found = vectors.abs().sum(dim=1) > 0
            with torch.no_grad():
                self.embedding.weight[found] = vectors[found]
        self.register_buffer("known_words", torch.tensor(known_words or vocab_size))  # saved with the model
        self.chars = CharCNN(itos, char_dim) if char_dim else None
        self.dropout = nn.Dropout(dropout)
        self.out_dim = emb_dim + (self.chars.out_dim if self.chars is not None else 0)
        self.position_local = True  # token t's features come from token t alone

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        words = self.embedding(ids.masked_fill(ids >= self.known_words, OOV_ID))  # (B, T, E)
        if self.chars is not None:
            words = torch.cat([words, self.chars(ids)], dim=-1)                 # (B, T, E + F)
        return self.dropout(words)


class PretrainedEmbedder(nn.Module):
    """First-word-piece states of a pretrained encoder for each of our tokens."""

    def __init__(self, itos: list[str], tune: bool = False, dropout: float = 0.1, path=None, top_layers: int = 1):
        """``path``: a Hugging Face model folder (default: MiniLM's, ``mtl_core.models.pretrained.encoder_folder``)."""
        super().__init__()
        path = path or encoder_folder("minilm")
        tokenizer = load_word_pieces(path)  # no transformers import: a run that only reads states never needs it
        self.tune = tune
        if tune:  # this run's own copy, trained; frozen: the process' shared one (``encoder``), loaded when needed
            from transformers import AutoModel
            quiet_transformers()
            # straight into _modules (add_module refuses a name the ``encoder`` property takes): saved as "encoder.*"
            self._modules["encoder"] = AutoModel.from_pretrained(str(path), local_files_only=True)
        self.top_layers = min(top_layers, tokenizer.num_hidden_layers)
        self.cls_id, self.sep_id, self.pad_id = tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id
        table = torch.full((len(itos), MAX_PIECES), self.pad_id, dtype=torch.long)
        counts = torch.ones(len(itos), dtype=torch.long)
        split = tokenizer.split(list(itos))  # one call for the vocabulary
        for i, pieces in enumerate(split):
            pieces = pieces[:MAX_PIECES] or [tokenizer.unk_id]
            table[i, : len(pieces)] = torch.tensor(pieces)
            counts[i] = len(pieces)
        counts[0] = 0  # padding has no pieces
        self.register_buffer("piece_table", table, persistent=False)           # (V, K)
        self.register_buffer("piece_counts", counts, persistent=False)         # (V,)
        self.piece_rows = table.to(torch.int32).numpy()                        # (V, K) on the CPU: cache keys
        self.dropout = nn.Dropout(dropout)
        self.out_dim = tokenizer.hidden_size
        self.position_local = False  # each word's state has attended to the whole sentence
        # frozen: states per sentence, shared with every run of this encoder and layer mix (memory, then disk)
        self.path = path
        self.states = None if tune else open_states(path, FROZEN_VARIANT, self.top_layers, self.out_dim)
        self.onnx = not tune  # frozen on the CPU: run by ONNX Runtime (``onnx_encoder``), opened on first use
        self.runtime: OnnxEncoder | None = None

    @property
    def encoder(self) -> nn.Module:
        """The Transformer: fine-tuned, this embedder's own (saved with the run); frozen, the process' shared copy,
        loaded on first use (``frozen_encoder``)."""
        if self.tune:
            return self._modules["encoder"]
        return frozen_encoder(self.path, self.piece_table.device)

    def pieces(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Word-piece batch for token ids (B, T): piece ids (B, P), attention mask (B, P), first piece (B, T)."""
        counts = self.piece_counts[ids]                                         # (B, T)
        ends = counts.cumsum(1)
        first = 1 + ends - counts                                               # after [CLS]
        total = (ends[:, -1] + 2).clamp(max=MAX_POSITIONS)                      # + [CLS], [SEP]
        width = int(total.max())
        out = torch.full((ids.shape[0], width), self.pad_id, dtype=torch.long, device=ids.device)
        k = torch.arange(MAX_PIECES, device=ids.device)
        valid = (k < counts.unsqueeze(-1)) & (first.unsqueeze(-1) + k < width - 1)  # (B, T, K)
        rows = torch.arange(ids.shape[0], device=ids.device)[:, None, None].expand_as(valid)
        out[rows[valid], (first.unsqueeze(-1) + k)[valid]] = self.piece_table[ids][valid]
        out[:, 0] = self.cls_id
        out[torch.arange(ids.shape[0], device=ids.device), total - 1] = self.sep_id
        attention = torch.arange(width, device=ids.device)[None, :] < total[:, None]
        return out, attention, first.clamp(max=width - 2)

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        pieces, attention, first = self.pieces(ids)
        if self.runtime is not None and pieces.device.type == "cpu":
            layers = self.runtime(pieces, attention)                                              # (B, P, H) each
        else:
            out = self.encoder(input_ids=pieces, attention_mask=attention.long(),
                               output_hidden_states=self.top_layers > 1)
            layers = out.hidden_states if self.top_layers > 1 else (out.last_hidden_state,)
        states = layers[-1] if self.top_layers == 1 else torch.stack(layers[-self.top_layers:]).mean(0)  # (B, P, H)
        return torch.gather(states, 1, first.unsqueeze(-1).expand(-1, -1, states.shape[-1]))    # (B, T, H)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.tune:
            return self.dropout(self.encode(ids))
        return self.dropout(self.frozen(ids, lengths))

    def sentence_keys(self, ids: torch.Tensor, lengths: torch.Tensor) -> list[bytes]:
        """Each sentence's cache key: a hash of its words' pieces (the same in every study, unlike our ids)."""
        pieces = self.piece_rows[ids.cpu().numpy()]                             # (B, T, K)
        return [sentence_key(row[:n].tobytes()) for row, n in zip(pieces, lengths.tolist())]

    @torch.no_grad()
    def frozen(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Frozen encoder (the shared one, always in eval mode: no dropout inside): each distinct sentence encoded
        once, then read from the state cache."""
        keys = self.sentence_keys(ids, lengths)
        missing = self.states.missing(keys)
        if missing:
            self.encode_into_cache(ids[missing], lengths[missing], [keys[k] for k in missing])
        states = pad_sequence([self.states.get(key) for key in keys], batch_first=True)  # (B, L, H), L <= T
        out = torch.zeros(ids.shape[0], ids.shape[1], self.out_dim, device=ids.device)
        out[:, : states.shape[1]] = states.to(ids.device, out.dtype)
        return out

    def encode_into_cache(self, ids: torch.Tensor, lengths: torch.Tensor, keys: list[bytes]) -> None:
        if self.onnx and self.runtime is None and ids.device.type == "cpu":
            self.runtime = OnnxEncoder.open(lambda: self.encoder, encoder_dir(self.path, FROZEN_VARIANT))
            self.onnx = self.runtime is not None
        fresh = self.encode(ids).float().cpu()                                  # (B, T, H)
        for j, key in enumerate(keys):
            self.states.put(key, fresh[j, : int(lengths[j])])

    @torch.no_grad()
    def precompute(self, ids: torch.Tensor, lengths: torch.Tensor,
                   progress: Callable[[int, int], None] | None = None) -> int:
        """Encode every sentence of ``ids`` (N, T) that has no states yet, shortest first in batches of about
        ``PRECOMPUTE_PIECES`` word pieces, and write them to the disk cache; how many were encoded.
        ``progress(done, total)`` after each batch."""
        ids, lengths = ids.cpu(), lengths.cpu()
        keys = self.sentence_keys(ids, lengths)
        todo = torch.as_tensor(list({keys[k]: k for k in self.states.missing(keys)}.values()), dtype=torch.long)
        pieces = (torch.from_numpy(self.piece_rows[ids[todo].numpy()] != self.pad_id).sum((1, 2)) + 2)  # + [CLS], [SEP]
        pieces = pieces.clamp(max=MAX_POSITIONS)
        pieces, order = pieces.sort()
        rows, done = todo[order], 0
        while done < len(rows):
            stop = done + 1  # sorted: the batch's last sentence is its longest
            while stop < min(len(rows), done + PRECOMPUTE_ROWS) and \
                    int(pieces[stop]) * (stop + 1 - done) <= PRECOMPUTE_PIECES:
                stop += 1
            batch = rows[done:stop]
            width = max(1, int(lengths[batch].max()))
            self.encode_into_cache(ids[batch, :width].to(self.piece_table.device), lengths[batch],
                                   [keys[k] for k in batch.tolist()])
            done = stop
            if progress is not None:
                progress(done, len(rows))
        self.states.flush()
        return done

    def train(self, mode: bool = True):
        super().train(mode)
        if not self.tune:  # the shared frozen encoder is no submodule: it stays in eval mode (no dropout inside)
            self.states.flush()  # between training and scoring: what this run encoded so far goes to disk
        return self


def precompute_states(model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                      progress: Callable[[int, int], None] | None = None) -> int:
    """Encode, once and before training, every sentence of ``ids`` (N, T) for each frozen pretrained encoder in
    ``model``, so training steps only read states; sentences encoded. Nothing to do for other backbones."""
    return sum(m.precompute(ids, lengths, progress) for m in model.modules()
               if isinstance(m, PretrainedEmbedder) and not m.tune)
