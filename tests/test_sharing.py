"""Sharing architectures (cascade, cross-stitch, shared-private) and gradient reversal, on tiny models."""
from __future__ import annotations

import pytest
import torch

from mtl_core.data.encode import IGNORE
from mtl_core.models.build import build_model
from mtl_core.models.heads import PooledClassifier
from mtl_core.models.reversal import ReversedHead
from mtl_core.models.sharing import (
    SHARING,
    CascadeModel,
    CrossStitchModel,
    SharedPrivateModel,
)
from mtl_core.models.sharing.cross_stitch import CrossStitchUnit
from mtl_core.tasks import TAGGING, TaskSpec
from mtl_core.training.config import RunConfig
from mtl_core.training.losses import masked_cross_entropy

VOCAB = 30
SPECS = {
    "pos": TaskSpec("pos", TAGGING, ["NOUN", "VERB", "DET", "ADJ"]),
    "sentiment": TaskSpec("sentiment", labels=["negative", "neutral", "positive"]),
    "topic": TaskSpec("topic", labels=["food", "service"]),
}
DOMAIN = {"aux:domain": TaskSpec("aux:domain", labels=["restaurants", "laptops"], auxiliary=True)}
ARCHITECTURES = ["cascade", "cross_stitch", "shared_private"]


def build(sharing: str, specs: dict = SPECS, adversarial: frozenset = frozenset(), **options):
    torch.manual_seed(0)
    config = RunConfig(sharing=sharing, emb_dim=8, hidden=8, dropout=0.0, **options)
    return build_model(specs, VOCAB, config, adversarial=adversarial)


def tiny_batch(specs: dict = SPECS):
    """Four padded sentences (ids (4, 7), 0 = padding) with a target for every task."""
    g = torch.Generator().manual_seed(1)
    lengths = torch.tensor([7, 5, 3, 6])
    mask = torch.arange(7)[None, :] < lengths[:, None]                         # (B, T)
    ids = torch.randint(1, VOCAB, (4, 7), generator=g) * mask
    targets = {t: torch.randint(0, spec.num_classes, (4, 7), generator=g).masked_fill(~mask, IGNORE)
               if spec.kind == TAGGING else torch.randint(0, spec.num_classes, (4,), generator=g)
               for t, spec in specs.items()}
    return ids, lengths, targets


def task_losses(model, batch, tasks: list[str] | None = None) -> dict[str, torch.Tensor]:
    ids, lengths, targets = batch
    return {t: masked_cross_entropy(logits, targets[t]) for t, logits in model(ids, lengths, tasks).items()}


def total_loss(model, batch, tasks: list[str] | None = None) -> torch.Tensor:
    loss = sum(task_losses(model, batch, tasks).values())
    extra = model.extra_loss()
    return loss if extra is None else loss + extra


def got_gradient(module: torch.nn.Module) -> bool:
    return any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


# --- every architecture -----------------------------------------------------------------------------------

@pytest.mark.parametrize("sharing", ARCHITECTURES)
def test_registered_with_a_description(sharing):
    assert SHARING[sharing].description
    assert RunConfig(sharing=sharing).sharing == sharing


@pytest.mark.parametrize("sharing", ARCHITECTURES)
def test_forward_shapes_for_sentence_and_tagging_tasks(sharing):
    model = build(sharing)
    ids, lengths, _ = tiny_batch()
    out = model(ids, lengths)
    assert set(out) == set(SPECS)
    assert out["sentiment"].shape == (4, 3)
    assert out["topic"].shape == (4, 2)
    assert out["pos"].shape == (4, 7, 4)
    assert set(model(ids, lengths, ["topic"])) == {"topic"}


@pytest.mark.parametrize("backbone", ["cnn", "transformer"])
@pytest.mark.parametrize("sharing", ARCHITECTURES)
def test_any_encoder_can_be_stacked_or_duplicated(sharing, backbone):
    model = build(sharing, backbone=backbone, cascade_order=["pos"] if sharing == "cascade" else [])
    ids, lengths, _ = tiny_batch()
    out = model(ids, lengths)
    assert out["sentiment"].shape == (4, 3) and out["pos"].shape == (4, 7, 4)


@pytest.mark.parametrize("sharing", ARCHITECTURES)
def test_training_steps_reduce_the_loss(sharing):
    model, batch = build(sharing), tiny_batch()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    with torch.no_grad():
        before = sum(task_losses(model, batch).values()).item()
    for _ in range(20):
        optimizer.zero_grad()
        total_loss(model, batch).backward()
        optimizer.step()
    with torch.no_grad():
        after = sum(task_losses(model, batch).values()).item()
    assert after < 0.8 * before


@pytest.mark.parametrize("sharing", ARCHITECTURES)
def test_every_parameter_gets_a_gradient_from_some_task(sharing):
    model = build(sharing)
    total_loss(model, tiny_batch()).backward()
    dead = [name for name, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert dead == []


@pytest.mark.parametrize("sharing", ARCHITECTURES)
def test_heads_of_tasks_not_in_the_batch_get_no_gradient(sharing):
    model = build(sharing)
    total_loss(model, tiny_batch(), ["pos", "sentiment"]).backward()
    assert all(p.grad is None for p in model.head("topic").parameters())
    assert got_gradient(model.head("pos")) and got_gradient(model.head("sentiment"))


@pytest.mark.parametrize("sharing", ARCHITECTURES)
def test_shared_parameters_exclude_the_heads(sharing):
    model = build(sharing)
    shared = {id(p) for p in model.shared_parameters()}
    heads = {id(p) for p in model.heads.parameters()}
    assert shared and shared <= {id(p) for p in model.parameters()}
    assert not shared & heads
    assert {id(p) for p in model.embedder.parameters()} <= shared


# --- cascade ----------------------------------------------------------------------------------------------

def test_cascade_gives_each_ordered_task_its_level_and_the_rest_the_top():
    model = build("cascade", cascade_order=["pos", "sentiment"])
    assert isinstance(model, CascadeModel)
    assert model.levels == [["pos"], ["sentiment"], ["topic"]]
    # level 0 reads the embeddings (8); higher levels read embeddings + the level below (8 + 2 * 8)
    assert [enc.lstm.input_size for enc in model.encoders] == [8, 24, 24]
    assert build("cascade", cascade_order=["topic", "pos", "sentiment"]).levels == [["topic"], ["pos"], ["sentiment"]]
    assert build("cascade").levels == [["pos", "sentiment", "topic"]]


def test_cascade_runs_only_the_levels_the_tasks_need():
    model = build("cascade", cascade_order=["pos", "sentiment"])
    calls = [0, 0, 0]
    for k, encoder in enumerate(model.encoders):
        encoder.register_forward_hook(lambda *_, k=k: calls.__setitem__(k, calls[k] + 1))
    ids, lengths, _ = tiny_batch()
    model(ids, lengths, ["pos"])
    assert calls == [1, 0, 0]
    model(ids, lengths, ["sentiment"])
    assert calls == [2, 1, 0]
    model(ids, lengths, ["topic", "pos"])
    assert calls == [3, 2, 1]


def test_cascade_lower_task_loss_does_not_reach_upper_levels():
    model = build("cascade", cascade_order=["pos", "sentiment"])
    total_loss(model, tiny_batch(), ["sentiment"]).backward()
    assert got_gradient(model.encoders[0]) and got_gradient(model.encoders[1])
    assert all(p.grad is None for p in model.encoders[2].parameters())


def test_cascade_rejects_unknown_task_names():
    with pytest.raises(ValueError, match=r"'chunking'.*'pos', 'sentiment', 'topic'"):
        build("cascade", cascade_order=["pos", "chunking"])
    with pytest.raises(ValueError, match="at most once"):
        build("cascade", cascade_order=["pos", "pos"])


# --- cross-stitch -----------------------------------------------------------------------------------------

def test_cross_stitch_alphas_start_near_identity():
    model = build("cross_stitch")
    assert isinstance(model, CrossStitchModel)
    expected = torch.full((3, 3), 0.05).fill_diagonal_(0.9)
    assert len(model.stitches) == 2
    for stitch in model.stitches:
        torch.testing.assert_close(stitch.alpha.data, expected)
    two = build("cross_stitch", specs={t: SPECS[t] for t in ("pos", "topic")})
    torch.testing.assert_close(two.stitches[0].alpha.data, torch.tensor([[0.9, 0.1], [0.1, 0.9]]))


def test_cross_stitch_unit_mixes_columns_by_row():
    unit = CrossStitchUnit(3)
    with torch.no_grad():
        unit.alpha.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 2.0, -1.0]]))
    h = torch.randn(3, 2, 4, 5)                                                            # (K, B, T, D)
    mixed = unit(h)
    torch.testing.assert_close(mixed[0], h[0])
    torch.testing.assert_close(mixed[1], 0.5 * h[0] + 0.5 * h[1])
    torch.testing.assert_close(mixed[2], 2.0 * h[1] - h[2])


def test_cross_stitch_alphas_are_learned():
    model, batch = build("cross_stitch"), tiny_batch()
    start = [s.alpha.detach().clone() for s in model.stitches]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(5):
        optimizer.zero_grad()
        total_loss(model, batch).backward()
        optimizer.step()
    assert all(not torch.allclose(s.alpha, a) for s, a in zip(model.stitches, start))


def test_cross_stitch_columns_are_independent_when_alpha_is_identity():
    mixed = build("cross_stitch")
    total_loss(mixed, tiny_batch(), ["sentiment"]).backward()
    assert all(got_gradient(enc) for enc in mixed.column("pos"))  # mixed: every task reaches every column

    model = build("cross_stitch")
    with torch.no_grad():
        for stitch in model.stitches:
            stitch.alpha.copy_(torch.eye(3))
    total_loss(model, tiny_batch(), ["sentiment"]).backward()
    assert not any(got_gradient(enc) for enc in model.column("pos"))
    assert all(got_gradient(enc) for enc in model.column("sentiment"))


# --- shared-private ---------------------------------------------------------------------------------------

def build_adversarial() -> SharedPrivateModel:
    return build("shared_private", specs={**SPECS, **DOMAIN}, adversarial=frozenset(DOMAIN))


def test_shared_private_adversarial_head_reads_only_shared_states():
    model = build_adversarial()
    shared_dim = model.shared.out_dim
    assert model.private_encoder("aux:domain") is None
    assert isinstance(model.head("aux:domain"), ReversedHead)
    assert model.head("aux:domain").head.out.in_features == 2 * shared_dim               # mean + max pooled
    assert model.head("sentiment").out.in_features == 2 * (shared_dim + model.private_encoder("sentiment").out_dim)
    assert model.head("pos").out.in_features == shared_dim + model.private_encoder("pos").out_dim

    total_loss(model, tiny_batch({**SPECS, **DOMAIN}), ["aux:domain"]).backward()
    assert got_gradient(model.shared) and got_gradient(model.embedder)
    assert all(p.grad is None for p in model.private.parameters())
    assert model.extra_loss() is None  # no private states in that forward


def test_shared_private_private_encoders_get_only_their_task_gradient():
    model = build("shared_private")
    sum(task_losses(model, tiny_batch(), ["pos", "sentiment"]).values()).backward()  # the task losses alone
    assert got_gradient(model.private_encoder("pos")) and got_gradient(model.private_encoder("sentiment"))
    model.zero_grad(set_to_none=True)
    task_losses(model, tiny_batch(), ["sentiment", "topic"])["sentiment"].backward()
    assert all(p.grad is None for p in model.private_encoder("pos").parameters())
    assert all(p.grad is None for p in model.private_encoder("topic").parameters())
    assert got_gradient(model.private_encoder("sentiment")) and got_gradient(model.shared)


@pytest.mark.parametrize("backbone", ["bilstm", "transformer"])  # a Transformer's padding states are not zero
def test_shared_private_orthogonality_penalty_is_on_real_tokens(backbone):
    model = build("shared_private", ortho_weight=0.5, backbone=backbone)
    assert model.extra_loss() is None
    states = {}
    model.shared.register_forward_hook(lambda m, i, out: states.__setitem__("shared", out))
    for t in ("pos", "topic"):
        model.private_encoder(t).register_forward_hook(lambda m, i, out, t=t: states.__setitem__(t, out))
    ids, lengths, _ = tiny_batch()
    model(ids, lengths, ["pos", "topic"])
    mask = ids != 0
    s = states["shared"][mask]                                                             # (N, Ds)
    unit = lambda x: x / x.norm(dim=-1, keepdim=True)  # noqa: E731 - token states of unit length
    expected = 0.5 * sum(((unit(s).T @ unit(states[t][mask]) / len(s)) ** 2).sum() for t in ("pos", "topic"))
    torch.testing.assert_close(model.extra_loss(), expected)
    assert model.extra_loss() > 0


def test_shared_private_orthogonality_penalty_decreases_when_trained_alone():
    model, (ids, lengths, _) = build("shared_private"), tiny_batch()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model(ids, lengths)
    first = model.extra_loss().item()
    assert first > 0
    for _ in range(20):
        optimizer.zero_grad()
        model(ids, lengths)
        model.extra_loss().backward()
        optimizer.step()
    model(ids, lengths)
    assert model.extra_loss().item() < 0.5 * first


# --- gradient reversal ------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_reversed_head_flips_and_scales_the_gradient_reaching_its_input(scale):
    torch.manual_seed(0)
    head = PooledClassifier(8, 3, dropout=0.0)
    reversed_head = ReversedHead(head, scale)
    states = torch.randn(2, 5, 8)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    weights = torch.randn(2, 3)

    def input_gradient(module) -> torch.Tensor:
        x = states.clone().requires_grad_(True)
        (module(x, mask) * weights).sum().backward()
        return x.grad

    plain = input_gradient(head)
    head_grad = head.out.weight.grad.clone()
    head.zero_grad(set_to_none=True)
    flipped = input_gradient(reversed_head)
    assert plain.abs().sum() > 0
    assert torch.equal(flipped, -scale * plain)
    assert torch.equal(head.out.weight.grad, head_grad)  # the head itself still learns its task normally
