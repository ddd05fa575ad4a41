"""Next-token auxiliary tasks (next word, next character) read only states that have not seen the token they
predict: a BiLSTM's forward half, kept direction-pure through stacked, mixed and shared-private encoders."""
from __future__ import annotations

import pytest
import torch

from mtl_core.data.encode import IGNORE
from mtl_core.errors import ConfigError
from mtl_core.models.build import build_model
from mtl_core.models.encoders import DirectionalBiLSTMEncoder, reverse_rows
from mtl_core.tasks import CLASSIFICATION, TAGGING, TaskSpec
from mtl_core.training.config import RunConfig
from mtl_core.training.losses import masked_cross_entropy

VOCAB = 12
NEXT = ["aux:next_word", "aux:next_char"]
SPECS = {
    "sentiment": TaskSpec("sentiment", CLASSIFICATION, ["negative", "positive"]),
    **{t: TaskSpec(t, TAGGING, [str(k) for k in range(VOCAB)], auxiliary=True, predicts_next=True) for t in NEXT},
}
ORDER = {"cascade": {"cascade_order": NEXT[::-1]}}  # next_char lowest, next_word above it, sentiment on top


def build(sharing: str, **options):
    torch.manual_seed(0)
    config = RunConfig(sharing=sharing, aux=["next_word", "next_char"], emb_dim=8, hidden=8, dropout=0.0,
                       **ORDER.get(sharing, {}), **options)
    return build_model(SPECS, VOCAB, config).eval()


def sentences(n: int = 3, length: int = 7, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([length, length - 2, length - 1][:n])
    ids = torch.randint(2, VOCAB, (n, length), generator=g) * (torch.arange(length)[None, :] < lengths[:, None])
    return ids, lengths


@pytest.mark.parametrize("sharing", ["hard", "cascade", "cross_stitch", "shared_private"])
def test_next_token_logits_at_t_never_depend_on_later_tokens(sharing):
    model = build(sharing)
    ids, lengths = sentences()
    changed = ids.clone()
    changed[:, 3] = (changed[:, 3] - 1) % (VOCAB - 2) + 2                   # another real word at position 3
    before, after = model(ids, lengths), model(changed, lengths)
    for task in NEXT:
        diff = (before[task] - after[task]).abs().amax(-1)                      # (B, T)
        assert torch.all(diff[:, :3] < 1e-6), f"{sharing}/{task}: a prediction before token 3 read token 3"
        assert torch.any(diff[:, 3:] > 1e-6)                                    # token 3 itself is read
    assert not torch.allclose(before["sentiment"], after["sentiment"])          # other heads read both ways


def test_directional_bilstm_keeps_each_direction_to_its_own_side():
    torch.manual_seed(0)
    level = DirectionalBiLSTMEncoder(4 + 6, hidden=5, local_dim=4).eval()
    x, lengths = torch.randn(2, 6, 10), torch.tensor([6, 4])
    x[1, 4:] = 0
    moved = x.clone()
    moved[:, 2] += 1.0                                                          # change the input at token 2
    a, b = level(x, lengths, None), level(moved, lengths, None)
    assert torch.allclose(a[:, :2, :5], b[:, :2, :5])                           # forward half before 2: same
    assert torch.allclose(a[0, 3:, 5:], b[0, 3:, 5:])                           # backward half after 2: same
    assert not torch.allclose(a[:, 2:, :5], b[:, 2:, :5])
    assert torch.all(a[1, 4:] == 0)                                             # padding stays empty


def test_reverse_rows_reverses_real_tokens_only_and_undoes_itself():
    x = torch.arange(8.0).view(2, 4, 1)
    lengths = torch.tensor([4, 2])
    flipped = reverse_rows(x, lengths)
    assert flipped[:, :, 0].tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]
    assert torch.equal(reverse_rows(flipped, lengths), x)


def random_words(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """64 sentences of 12 random words, their lengths and each token's target: the next word's id."""
    ids = torch.randint(2, VOCAB, (64, 12), generator=torch.Generator().manual_seed(seed))
    return ids, torch.full((64,), 12), torch.cat([ids[:, 1:], torch.full((64, 1), IGNORE)], dim=1)


def train_next_word(head_past: bool, steps: int = 150) -> float:
    """Train next-word prediction on random words (nothing to learn: chance is 1/10); return the accuracy on
    new random sentences."""
    torch.manual_seed(0)
    spec = TaskSpec("aux:next_word", TAGGING, [str(k) for k in range(VOCAB)], auxiliary=True,
                    predicts_next=head_past)
    config = RunConfig(aux=["next_word"] if head_past else [], emb_dim=16, hidden=16, dropout=0.0)
    model = build_model({spec.name: spec}, VOCAB, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    ids, lengths, target = random_words(seed=3)
    for _ in range(steps):
        optimizer.zero_grad()
        masked_cross_entropy(model(ids, lengths)[spec.name], target).backward()
        optimizer.step()
    ids, lengths, target = random_words(seed=4)
    with torch.no_grad():
        predicted = model.eval()(ids, lengths)[spec.name].argmax(-1)
    keep = target != IGNORE
    return float((predicted[keep] == target[keep]).float().mean())


def test_a_head_over_both_directions_copies_the_next_word_and_ours_cannot():
    leaky = train_next_word(head_past=False)   # a plain tagger on the whole BiLSTM state: the answer is an input
    ours = train_next_word(head_past=True)     # the forward half only: random words stay unpredictable
    assert leaky > 0.6
    assert ours < 0.3


@pytest.mark.parametrize("options", [{"backbone": "transformer"}, {"backbone": "cnn"}, {"backbone": "minilm"},
                                     {"layers": 2}])
def test_next_token_tasks_refuse_encoders_that_read_ahead(options):
    with pytest.raises(ConfigError, match="would be copied, not learned"):
        RunConfig(aux=["missing_word", "next_word"], **options)
    RunConfig(aux=["missing_word"], **options)                                 # a masked word is fine anywhere
