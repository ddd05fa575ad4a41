"""Frozen encoder states on disk (``mtl_core.models.state_cache``): encoded once, then read by a second process
and a later study with another vocabulary; a damaged file is rebuilt; another layer mix or changed weights miss;
the folder stays under its size limit; a writer that fails leaves no half file; a run computes its dataset's
states before training, and the next run neither encodes nor loads the encoder."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mtl_core.errors import ConfigError
from mtl_core.models import state_cache
from mtl_core.models.embedders import PretrainedEmbedder, precompute_states
from mtl_core.models.state_cache import (
    STALE_SECONDS,
    StateCache,
    open_states,
    sentence_key,
)
from mtl_core.paths import STATE_CACHE_ENV, states_dir

REPO = Path(__file__).resolve().parents[1]
ITOS = ["<pad>", "<oov>", "the", "food", "was", "great", "service", "slow", "and"]
IDS = torch.tensor([[2, 3, 4, 5, 0, 0], [2, 6, 4, 7, 8, 5], [3, 4, 5, 0, 0, 0], [2, 3, 4, 5, 0, 0]])
LENGTHS = torch.tensor([4, 6, 3, 4])  # the last sentence repeats the first


@pytest.fixture(autouse=True)
def fresh_process_caches():
    """Each test starts as a new process would: no states in memory."""
    state_cache._CACHES.clear()
    yield
    state_cache._CACHES.clear()


def embedder(top_layers: int = 2, itos: list[str] = ITOS) -> PretrainedEmbedder:
    made = PretrainedEmbedder(itos, top_layers=top_layers).eval()
    made.onnx = False  # PyTorch here: these tests are about the cache (ONNX Runtime: tests/test_pretrained.py)
    return made


def shard_files() -> list[Path]:
    return sorted(states_dir().glob("*/layers-*/*.states"))


def test_a_second_process_and_another_vocabulary_read_the_states_without_encoding(tmp_path):
    first = embedder()
    assert first.precompute(IDS, LENGTHS) == 3  # three distinct sentences, each encoded once
    torch.save(first.frozen(IDS, LENGTHS), tmp_path / "want.pt")
    # Another study: the same sentences, its own vocabulary (other ids). Its encoder must not run at all.
    script = """
import sys, torch
from mtl_core.models.embedders import PretrainedEmbedder
itos = ["<pad>", "<oov>", "and", "slow", "service", "great", "was", "food", "the"]
ids = torch.tensor([[8, 7, 6, 5, 0, 0], [8, 4, 6, 3, 2, 5], [7, 6, 5, 0, 0, 0], [8, 7, 6, 5, 0, 0]])
lengths = torch.tensor([4, 6, 3, 4])
emb = PretrainedEmbedder(itos, top_layers=2).eval()
emb.encode = lambda ids: (_ for _ in ()).throw(AssertionError("the encoder ran"))
print("encoded", emb.precompute(ids, lengths))
torch.save(emb.frozen(ids, lengths), sys.argv[1])
from mtl_core.models import embedders
print("encoders loaded", len(embedders._FROZEN))  # all on disk: the Transformer's weights are never read
print("transformers imported", "transformers" in sys.modules)  # nor is the library (seconds of start-up)
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "got.pt")], cwd=REPO, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "encoded 0" in done.stdout and "encoders loaded 0" in done.stdout
    assert "transformers imported False" in done.stdout
    assert torch.equal(torch.load(tmp_path / "got.pt"), torch.load(tmp_path / "want.pt"))


def test_a_truncated_cache_file_is_detected_and_rebuilt(caplog):
    first = embedder()
    first.precompute(IDS, LENGTHS)
    want = first.frozen(IDS, LENGTHS)
    [shard] = shard_files()
    shard.write_bytes(shard.read_bytes()[:-100])  # cut short, as by a full disk or a bad copy
    state_cache._CACHES.clear()  # a new process
    again = embedder()
    assert again.precompute(IDS, LENGTHS) == 3  # nothing read from the damaged file: encoded again
    assert "damaged" in caplog.text and not shard.exists()
    [rebuilt] = shard_files()
    assert state_cache.Shard(rebuilt, 384).spans.keys() == set(again.sentence_keys(IDS, LENGTHS))
    assert torch.equal(again.frozen(IDS, LENGTHS), want)


def test_a_changed_layer_mix_misses_the_cache():
    two = embedder(top_layers=2)
    assert two.precompute(IDS, LENGTHS) == 3
    three = embedder(top_layers=3)
    assert three.precompute(IDS, LENGTHS) == 3  # the mean of the top 3 layers is not the top 2's
    assert not torch.allclose(three.frozen(IDS, LENGTHS), two.frozen(IDS, LENGTHS), atol=0.1)
    assert {p.parent.name for p in shard_files()} == {"layers-2", "layers-3"}
    state_cache._CACHES.clear()
    assert embedder(top_layers=2).precompute(IDS, LENGTHS) == 0


def test_states_of_weights_that_changed_are_dropped(tmp_path):
    model = tmp_path / "encoder"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 4}')
    (model / "model.safetensors").write_bytes(b"weights, first version")
    key = sentence_key(b"the food was great")
    cache = open_states(model, "fp32", 1, 4)
    cache.put(key, torch.ones(3, 4))
    cache.flush()
    old = cache.folder.parent
    assert old.is_dir()
    (model / "model.safetensors").write_bytes(b"weights, fine-tuned since: another length")
    state_cache._CACHES.clear()
    changed = open_states(model, "fp32", 1, 4)
    assert key not in changed and changed.missing([key]) == [0]
    assert not old.exists()  # the old weights' states are gone from disk


def test_the_cache_stays_under_its_size_limit_dropping_what_was_used_longest_ago(monkeypatch):
    monkeypatch.setenv(STATE_CACHE_ENV, "0.01")  # 10 KB: about 7 shards of one 10-row sentence (1.4 KB each)
    folder = states_dir() / "enc-00000000-0000000000000000" / "layers-1"
    keys = [sentence_key(f"sentence {k}".encode()) for k in range(12)]
    cache = StateCache(folder, 64, state_cache.limit_bytes())
    for k, key in enumerate(keys):
        cache.put(key, torch.full((10, 64), float(k)))
        cache.flush()  # one shard per sentence
        time.sleep(0.01)
    assert sum(p.stat().st_size for p in folder.glob("*.states")) <= 0.01 * 2**20
    reader = StateCache(folder, 64, state_cache.limit_bytes())
    assert keys[0] not in reader and keys[-1] in reader  # the oldest went first
    assert torch.equal(reader.get(keys[-1]).float(), torch.full((10, 64), 11.0))


def test_many_small_shards_are_merged_into_one(monkeypatch):
    monkeypatch.setattr(state_cache, "MAX_SHARDS", 3)
    folder = states_dir() / "enc-00000000-0000000000000000" / "layers-1"
    cache = StateCache(folder, 8, state_cache.limit_bytes())
    keys = [sentence_key(f"sentence {k}".encode()) for k in range(5)]
    for k, key in enumerate(keys):
        cache.put(key, torch.full((k + 1, 8), float(k)))
        cache.flush()
    assert len(list(folder.glob("*.states"))) <= 3
    reader = StateCache(folder, 8, state_cache.limit_bytes())
    assert all(torch.equal(reader.get(key).float(), torch.full((k + 1, 8), float(k))) for k, key in enumerate(keys))


def test_a_writer_that_fails_leaves_no_half_file_and_the_run_goes_on(monkeypatch, caplog):
    folder = states_dir() / "enc-00000000-0000000000000000" / "layers-1"
    cache = StateCache(folder, 8, state_cache.limit_bytes())
    key = sentence_key(b"a sentence")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(state_cache.os, "replace", disk_full)
        cache.put(key, torch.ones(2, 8))
        cache.flush()
    assert list(folder.iterdir()) == []  # neither a shard nor its temporary file
    assert "memory only" in caplog.text and key in cache  # still served from memory
    # A writer killed mid-write leaves a temporary file: never read, deleted once stale.
    (folder / ".killed-writer.tmp").write_bytes(b"MTLSTATE half a shard")
    assert StateCache(folder, 8, state_cache.limit_bytes()).missing([key]) == [0]
    old = time.time() - STALE_SECONDS - 60
    os.utime(folder / ".killed-writer.tmp", (old, old))
    state_cache.evict(states_dir(), state_cache.limit_bytes())
    assert not (folder / ".killed-writer.tmp").exists()


def test_a_limit_of_zero_keeps_states_in_memory_only_and_a_bad_limit_is_refused(monkeypatch):
    monkeypatch.setenv(STATE_CACHE_ENV, "0")
    model = embedder()
    assert precompute_states(model, IDS, LENGTHS) == 3
    assert precompute_states(model, IDS, LENGTHS) == 0  # in memory
    assert shard_files() == []
    monkeypatch.setenv(STATE_CACHE_ENV, "lots")
    with pytest.raises(ConfigError, match=f"{STATE_CACHE_ENV}.*'lots'"):
        state_cache.limit_bytes()


def test_a_run_computes_its_datasets_states_before_training_and_the_next_run_reuses_them(monkeypatch):
    from mtl_core.data.encode import encode
    from mtl_core.data.splits import Split
    from mtl_core.data.vocab import Vocabulary
    from mtl_core.models import embedders
    from mtl_core.tasks import TaskSpec
    from mtl_core.training.config import RunConfig
    from mtl_core.training.setup import set_up_run
    from mtl_core.training.trainer import train_run

    words = [s.split() for s in ("the food was great", "service was slow", "the service was great and fast",
                                 "food slow", "great food and service", "the food was slow", "slow and great",
                                 "the service")]
    specs = {"polarity": TaskSpec("polarity", labels=["neg", "pos"])}
    vocab = Vocabulary.build(words)
    data = encode(words, {"polarity": ["pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg"]}, specs, vocab, 16)
    split = Split(train=[0, 1, 2, 3], val=[4, 5], test=[6, 7], seed=0, method="fixed")
    config = RunConfig.from_dict({"backbone": "minilm", "pretrained_layers": 2, "epochs": 1, "batch_size": 4,
                                  "hidden": 8, "device": "cpu"})
    embedders._FROZEN.clear()
    set_up_run(data, specs, split, config, 0, len(vocab), itos=vocab.itos)  # before the first training step:
    stored = {key for path in shard_files() for key in state_cache.Shard(path, 384).spans}
    assert len(stored) == len(words)  # every row's states, validation and test rows included, on disk
    assert embedders._FROZEN  # the cold run loaded the Transformer to encode them
    # A new process, a new run: every state is on disk, so the Transformer is neither run nor even loaded.
    state_cache._CACHES.clear()
    embedders._FROZEN.clear()
    monkeypatch.setattr(PretrainedEmbedder, "encode", lambda self, ids: pytest.fail("the encoder ran"))
    train_run(data, specs, split, config, 1, len(vocab), itos=vocab.itos)
    assert not embedders._FROZEN
    assert {key for path in shard_files() for key in state_cache.Shard(path, 384).spans} == stored
