"""A finished run's saved model, rebuilt to label new text: every task's prediction with its confidence.

The model is rebuilt from what the store keeps: the study's vocabulary and task specs, the run's config,
and the checkpoint (loaded with ``weights_only=True``: tensors only, no pickled code). Text goes through the
same tokenization and encoding as training.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from mtl_core.auxiliary import placeholder_specs
from mtl_core.data.encode import encode
from mtl_core.data.tokenize import tokenize_texts
from mtl_core.data.vocab import Vocabulary
from mtl_core.errors import MTLLabError
from mtl_core.models.build import build_model
from mtl_core.models.sharing import owned_by
from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.tasks import TAGGING, TaskSpec
from mtl_core.training.config import RunConfig
from mtl_core.training.setup import adversarial_tasks


class PredictError(MTLLabError):
    """A run's model cannot be loaded: which run, why, what to do."""


def runs_with_models(store: Store, study_id: str) -> list[dict]:
    """The study's finished runs that saved a checkpoint, in run order."""
    return [r for r in store.runs(study_id) if r["status"] == Status.DONE and r.get("checkpoint")]


@dataclass
class Predictor:
    model: torch.nn.Module
    specs: dict[str, TaskSpec]
    vocab: Vocabulary
    config: RunConfig

    @torch.no_grad()
    def predict(self, texts: list[str], batch_size: int = 64) -> list[dict]:
        """Per text: {task: {kind, label, confidence, probabilities, tokens[, tags, confidences]}}.

        Classification: ``label`` is the most probable class, ``probabilities`` every class's softmax.
        Tagging: ``label``/``tags`` one tag per token, ``confidences`` per token, ``confidence`` their mean,
        ``probabilities`` one {tag: p} per token.
        """
        tokens = tokenize_texts(list(texts), self.config.language)
        data = encode(tokens, {}, {}, self.vocab, self.config.max_len)
        self.model.eval()
        out: list[dict] = []
        for start in range(0, len(tokens), batch_size):
            ids, lengths = data.ids[start:start + batch_size], data.lengths[start:start + batch_size]
            width = int(lengths.max())
            logits = self.model(ids[:, :width], lengths, list(self.specs))
            for k in range(len(ids)):
                n = int(lengths[k])
                toks = tokens[start + k][:n] or ["<oov>"]
                out.append({t: self._describe(spec, logits[t][k].float(), toks) for t, spec in self.specs.items()})
        return out

    @staticmethod
    def _describe(spec: TaskSpec, logits: torch.Tensor, tokens: list[str]) -> dict:
        probs = torch.softmax(logits[..., : max(1, spec.num_classes)], dim=-1)  # (C,) or (T, C)
        if spec.kind != TAGGING:
            best = int(probs.argmax())
            return {"kind": spec.kind, "label": spec.labels[best], "confidence": float(probs[best]),
                    "probabilities": dict(zip(spec.labels, probs.tolist())), "tokens": tokens}
        probs = probs[: len(tokens)]
        conf, best = probs.max(-1)
        tags = [spec.labels[i] for i in best.tolist()]
        return {"kind": spec.kind, "label": tags, "tags": tags, "confidences": conf.tolist(),
                "confidence": float(conf.mean()), "tokens": tokens,
                "probabilities": [dict(zip(spec.labels, row)) for row in probs.tolist()]}


def load_predictor(store: Store, run_id: int) -> Predictor:
    """The model of finished run ``run_id``, ready to predict; PredictError when it cannot be rebuilt."""
    row = store.run(run_id)
    if row is None:
        raise PredictError(f"There is no run {run_id} in {store.path}. Fix: pick a run of a finished study.")
    if row["status"] != Status.DONE:
        raise PredictError(f"Run {run_id} is {row['status']}, not done: it has no final model. "
                           "Fix: pick a finished run, or wait for this one to finish.")
    if not row["checkpoint"] and row["error"]:
        raise PredictError(f"Run {run_id} has no saved model: {row['error']}")
    if not row["checkpoint"]:
        raise PredictError(f"Run {run_id} saved no model (its study ran without saving models). "
                           "Fix: run the study again with models saved (the default).")
    path = Path(row["checkpoint"])
    if not path.is_file():
        raise PredictError(f"{path}: the saved model of run {run_id} is missing (moved or deleted). "
                           "Fix: restore the file, or run the study again.")
    study = store.study(row["study_id"])
    tasks = row["tasks"]
    specs = {t: TaskSpec(**study["tasks"][t]) for t in tasks}
    try:  # tensors only: a file that would run pickled code is refused
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises several types for unreadable or unsafe files
        raise PredictError(f"{path}: the saved model of run {run_id} cannot be read as plain weights "
                           f"({type(exc).__name__}). Fix: run the study again.") from None
    config = RunConfig.from_dict(row["config"]).replace(device="cpu")
    embedding = next((v for k, v in state.items() if k.endswith("embedding.weight")), None)  # (V, E)
    if embedding is not None:  # the width may come from pretrained vectors rather than config.emb_dim
        config = config.replace(emb_dim=int(embedding.shape[1]))
    vocab = Vocabulary(list(study["vocab"]))
    # the auxiliary tasks shape the architecture (a cascade level each, ...) but their heads were not saved
    aux = placeholder_specs(config.aux)
    model = build_model({**specs, **aux}, len(vocab), config, itos=vocab.itos,
                        adversarial=adversarial_tasks(list(aux)))
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
        frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
        buffers = {name for name, _ in model.named_buffers()}
        # the auxiliary heads and private encoders were never saved (train.saved_state)
        wrong = [k for k in missing if k not in frozen and k not in buffers and not owned_by(k, aux)]
        wrong += list(unexpected)
        if wrong:
            raise RuntimeError(f"weights missing or unexpected: {wrong[:3]}")
    except RuntimeError as exc:
        raise PredictError(f"{path}: the saved model of run {run_id} does not fit the model rebuilt from its "
                           f"config ({str(exc).splitlines()[0]}). Fix: run the study again with this version "
                           "of MTL Lab.") from None
    return Predictor(model.eval(), specs, vocab, config)
