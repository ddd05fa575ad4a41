"""Pretrained encoders' weights: found in installed registry packages, an archive cut into pieces read as one file
and unpacked once; a missing package is a clear ConfigError naming the command that installs it."""
from __future__ import annotations

import dataclasses
import io
import random
import zipfile

import pytest

from mtl_core.errors import ConfigError
from mtl_core.models.build import build_model
from mtl_core.models.pretrained import (
    DONE,
    MODEL_FILES,
    PRETRAINED_ENCODERS,
    SpannedFile,
    missing_weights,
    unpack,
)
from mtl_core.store import Store
from mtl_core.studies.execute import create_study
from mtl_core.studies.presets import preset_problem
from mtl_core.studies.spec import StudySpec
from mtl_core.tasks import TaskSpec
from mtl_core.training.config import RunConfig


def cut(data: bytes, folder, sizes: list[int]) -> list:
    """``data`` written as pieces of ``sizes`` bytes (the last takes the rest), as the registry packages ship it."""
    paths, start = [], 0
    for k, size in enumerate(sizes + [len(data)]):
        path = folder / f"archive.zip.{k + 1:03d}"
        path.write_bytes(data[start: start + size] if k < len(sizes) else data[start:])
        start += size
        paths.append(path)
    return paths


def model_archive(files: tuple[str, ...] = MODEL_FILES) -> tuple[bytes, dict[str, bytes]]:
    rng = random.Random(0)
    contents = {name: bytes(rng.randrange(256) for _ in range(3000 + 100 * k)) for k, name in enumerate(files)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("m/desktop.ini", b"not a model file")
        for name, data in contents.items():
            archive.writestr(f"m/{name}", data)
    return buffer.getvalue(), contents


def test_pieces_read_as_one_file_across_every_boundary(tmp_path):
    data = bytes(random.Random(1).randrange(256) for _ in range(10_000))
    spanned = SpannedFile(cut(data, tmp_path, [1, 4000, 3]))
    rng = random.Random(2)
    for _ in range(200):
        start, n = rng.randrange(len(data) + 5), rng.randrange(1, 6000)
        spanned.seek(start)
        assert spanned.read(n) == data[start: start + n]
    spanned.seek(-10, io.SEEK_END)
    assert spanned.read() == data[-10:] and spanned.tell() == len(data)
    spanned.close()


def test_an_archive_cut_into_pieces_is_unpacked_once_with_only_the_model_files(tmp_path):
    archive, contents = model_archive()
    pieces = cut(archive, tmp_path, [700, len(archive) // 3])
    out = unpack(pieces, "m", tmp_path / "models")
    assert {p.name for p in out.iterdir()} == set(MODEL_FILES) | {DONE}
    assert all((out / name).read_bytes() == data for name, data in contents.items())
    stamp = (out / "config.json").stat().st_mtime_ns
    for piece in pieces:  # a second use reads nothing: the unpacked folder is complete
        piece.unlink()
    assert unpack(pieces, "m", tmp_path / "models") == out and (out / "config.json").stat().st_mtime_ns == stamp


def test_an_archive_without_the_model_weights_is_refused(tmp_path):
    archive, _ = model_archive(files=("config.json", "vocab.txt"))
    with pytest.raises(ConfigError, match="model.safetensors"):
        unpack(cut(archive, tmp_path, [500]), "m", tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []  # nothing half-unpacked is left behind


def test_an_archive_cut_short_is_refused_with_how_to_reinstall(tmp_path):
    archive, _ = model_archive()
    pieces = cut(archive, tmp_path, [700, len(archive) // 3])
    pieces[-1].write_bytes(pieces[-1].read_bytes()[:-200])  # the last piece lost its end (the zip directory)
    with pytest.raises(ConfigError, match="damaged.*make mpnet"):
        unpack(pieces, "m", tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_a_backbone_whose_packages_are_missing_says_how_to_install_them(monkeypatch, tmp_path):
    store = Store(tmp_path / "s.sqlite")
    fake = dataclasses.replace(PRETRAINED_ENCODERS["mpnet"], packages=("no-such-weights-part-001",))
    monkeypatch.setitem(PRETRAINED_ENCODERS, "mpnet", fake)
    problem = missing_weights("mpnet")
    assert "no-such-weights-part-001" in problem and "make mpnet" in problem
    assert missing_weights("minilm") is None  # installed with the app
    assert missing_weights("bilstm") is None  # trained from scratch: no weights to install
    specs = {"a": TaskSpec("a", labels=["neg", "pos"])}
    with pytest.raises(ConfigError, match="make mpnet"):
        build_model(specs, 10, RunConfig(backbone="mpnet"), itos=["<pad>", "<oov>"] + [f"w{i}" for i in range(8)])
    spec = StudySpec.from_preset("synthetic-demo", config={"backbone": "mpnet", "tune_pretrained": True})
    with pytest.raises(ConfigError, match="make mpnet"):  # refused before anything is stored or queued
        create_study(spec, store)
    assert store.studies() == []
    assert "make mpnet" in preset_problem("absa-mpnet")  # the preset list says so too


@pytest.mark.skipif(missing_weights("mpnet") is not None, reason="optional MPNet weights not installed (make mpnet)")
def test_mpnet_backbone_fine_tunes_one_step():
    import torch

    from mtl_core.models.build import parameter_groups
    specs = {"a": TaskSpec("a", labels=["neg", "pos"])}
    itos = ["<pad>", "<oov>", "the", "food", "was", "awful", "great"]
    config = RunConfig(backbone="mpnet", tune_pretrained=True, pretrained_layers=4, head="attention")
    model = build_model(specs, len(itos), config, itos=itos)
    ids, lengths = torch.tensor([[2, 3, 4, 5], [2, 3, 4, 6]]), torch.tensor([4, 4])
    optimizer = torch.optim.AdamW(parameter_groups(model, config))
    before = [p.detach().clone() for p in model.parameters() if p.requires_grad][:3]
    loss = torch.nn.functional.cross_entropy(model(ids, lengths)["a"], torch.tensor([0, 1]))
    loss.backward()
    optimizer.step()
    after = [p.detach() for p in model.parameters() if p.requires_grad][:3]
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
    assert sum(p.numel() for p in model.parameters()) > 100_000_000  # MPNet-base, not MiniLM


def test_a_frozen_encoder_runs_in_onnx_runtime_with_pytorchs_states(caplog):
    import torch

    from mtl_core.models.embedders import PretrainedEmbedder
    from mtl_core.models.onnx_encoder import ONNX_FILE
    itos = ["<pad>", "<oov>", "the", "food", "was", "great", "but", "service", "slow"]
    ids, lengths = torch.tensor([[2, 3, 4, 5, 6, 7, 4, 8], [2, 7, 4, 5, 0, 0, 0, 0]]), torch.tensor([8, 4])
    fast = PretrainedEmbedder(itos, top_layers=3).eval()
    assert fast.precompute(ids, lengths) == 2
    assert fast.runtime is not None and (fast.runtime.path.name == ONNX_FILE) and fast.runtime.path.is_file()
    with torch.no_grad():
        want = PretrainedEmbedder(itos, tune=True, top_layers=3).eval().encode(ids)  # PyTorch, never cached
    mask = torch.arange(8)[None, :] < lengths[:, None]
    got = fast.frozen(ids, lengths)
    assert torch.allclose(got[mask], want[mask], atol=2e-2)  # the cache keeps bfloat16: ~0.008 steps at 2-4
    assert float(torch.nn.functional.cosine_similarity(got[mask], want[mask], dim=-1).min()) > 0.9999
    assert "PyTorch" not in caplog.text


def test_without_onnx_runtime_the_frozen_encoder_runs_in_pytorch_with_a_warning(monkeypatch, caplog):
    import sys

    import torch

    from mtl_core.models.embedders import PretrainedEmbedder
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails, as when it is not installed
    embedder = PretrainedEmbedder(["<pad>", "<oov>", "the", "food"], top_layers=2).eval()
    assert embedder.precompute(torch.tensor([[2, 3]]), torch.tensor([2])) == 1
    assert embedder.runtime is None and not embedder.onnx
    assert "runs in PyTorch" in caplog.text and "pip install -r requirements.txt" in caplog.text


@pytest.mark.parametrize("backbone", ["minilm", "mpnet"])
def test_word_pieces_read_without_transformers_match_its_tokenizer(backbone):
    """The frozen encoder splits words with ``tokenizers`` alone (models.word_pieces); the ids, special tokens
    and sizes must be exactly those of transformers' tokenizer and config for the same folder."""
    from transformers import AutoConfig, AutoTokenizer

    from mtl_core.models.pretrained import encoder_folder, missing_weights
    from mtl_core.models.word_pieces import load_word_pieces

    if missing_weights(backbone):
        pytest.skip(f"{backbone} is not installed")
    folder = encoder_folder(backbone)
    words = ["<pad>", "<oov>", "the", "Restaurant", "don't", "naïve", "crème", "brûlée", "señor", "12.50$", ":-)",
             "antidisestablishmentarianism", "東京", "e-mail", "WiFi", "", "  ", "O'Neil", "—", "zzzxqj"]
    pieces = load_word_pieces(folder)
    reference = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    assert pieces.split(words) == reference(words, add_special_tokens=False)["input_ids"]
    assert (pieces.cls_id, pieces.sep_id, pieces.pad_id, pieces.unk_id) == (
        reference.cls_token_id, reference.sep_token_id, reference.pad_token_id, reference.unk_token_id)
    assert (pieces.hidden_size, pieces.num_hidden_layers) == (config.hidden_size, config.num_hidden_layers)
