"""A pretrained encoder's word-piece tokenizer and its sizes, read from the model folder's files with the
``tokenizers`` library and ``json``: what a frozen encoder needs to split our words into pieces and to look its
states up in the state cache, without importing ``transformers`` (several seconds of a study's start, paid only
when a sentence really has to be encoded: ``embedders.frozen_encoder``).

The ids are those ``transformers``' fast tokenizer gives for the same folder, which reads the same
``tokenizer.json`` (checked for every installed encoder by tests/test_pretrained.py). A folder without
``tokenizer.json`` falls back to ``transformers.AutoTokenizer``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SPECIAL = ("cls_token", "sep_token", "pad_token", "unk_token")


@dataclass(frozen=True)
class WordPieces:
    split: object             # list[str] -> list[list[int]]: each word's piece ids, no special tokens
    cls_id: int
    sep_id: int
    pad_id: int
    unk_id: int
    hidden_size: int
    num_hidden_layers: int


def _token_text(value) -> str:
    return value["content"] if isinstance(value, dict) else str(value)


def load_word_pieces(path: Path) -> WordPieces:
    """The tokenizer and sizes of the Hugging Face model folder ``path``."""
    path = Path(path)
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    sizes = {"hidden_size": int(config["hidden_size"]), "num_hidden_layers": int(config["num_hidden_layers"])}
    if not (path / "tokenizer.json").is_file():
        return _with_transformers(path, sizes)
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()     # the file may pad and cut to a fixed length; transformers' call does neither
    tokenizer.no_truncation()
    names = {}
    for file in ("special_tokens_map.json", "tokenizer_config.json"):
        if (path / file).is_file():
            found = json.loads((path / file).read_text(encoding="utf-8"))
            names.update({k: _token_text(found[k]) for k in SPECIAL if k in found and k not in names})
    ids = {k: tokenizer.token_to_id(names[k]) if k in names else None for k in SPECIAL}
    if any(v is None for v in ids.values()):
        return _with_transformers(path, sizes)

    def split(words: list[str]) -> list[list[int]]:
        return [e.ids for e in tokenizer.encode_batch(list(words), add_special_tokens=False)]

    return WordPieces(split, ids["cls_token"], ids["sep_token"], ids["pad_token"], ids["unk_token"], **sizes)


def _with_transformers(path: Path, sizes: dict) -> WordPieces:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)

    def split(words: list[str]) -> list[list[int]]:
        return tokenizer(list(words), add_special_tokens=False)["input_ids"]

    return WordPieces(split, tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id,
                      tokenizer.unk_token_id, **sizes)
