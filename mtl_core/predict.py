"""A finished run's saved model, rebuilt to label new text: every task's prediction with its confidence, and
for a task that may not concern a text (an ABSA aspect), whether it applies ("not mentioned" when not).

The model is rebuilt from what the store keeps: the study's vocabulary and task specs, the run's config,
and the checkpoint (loaded with ``weights_only=True``: tensors only, no pickled code). Text goes through the
same tokenization and encoding as training. Runs saved before the applies detectors existed still load: their
tasks answer "applies? unknown".
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from mtl_core.auxiliary import placeholder_specs
from mtl_core.data.encode import encode
from mtl_core.data.loaders.csv_loader import read_table
from mtl_core.data.loaders.text_io import read_text
from mtl_core.data.tokenize import tokenize_texts
from mtl_core.data.vocab import Vocabulary
from mtl_core.errors import DataError, MTLLabError
from mtl_core.models.build import applies_tasks, build_model
from mtl_core.models.heads import applies_logits
from mtl_core.models.sharing import owned_by
from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.tasks import TAGGING, TaskSpec
from mtl_core.training.config import RunConfig
from mtl_core.training.applies import APPLIES_THRESHOLD
from mtl_core.training.setup import adversarial_tasks

NOT_MENTIONED = "not mentioned"  # the answer for a task that does not apply to the text
MAX_FILE_SENTENCES = 20_000      # a file predicted at once: about a minute on a CPU with a small model


class PredictError(MTLLabError):
    """A run's model cannot be loaded: which run, why, what to do."""


def runs_with_models(store: Store, study_id: str) -> list[dict]:
    """The study's finished runs that saved a checkpoint, in run order."""
    return [r for r in store.runs(study_id) if r["status"] == Status.DONE and r.get("checkpoint")]


def run_test_scores(store: Store, run: dict) -> dict[str, dict[str, float]]:
    """{task: {metric: value}} of ``run`` on its study's test split (``n``: the test labels scored)."""
    scores: dict[str, dict[str, float]] = {}
    for s in store.scores(run["study_id"]):
        if s["run_id"] == run["id"] and s["value"] is not None:
            scores.setdefault(s["task"], {})[s["metric"]] = s["value"]
    return {t: scores[t] for t in run["tasks"] if t in scores}


def alone_and_together(runs: list[dict], seed: int) -> tuple[dict[str, dict], dict | None]:
    """Of ``runs`` (a study's runs with models), those of ``seed``: each task's single-task run, and the run of
    the most tasks together (the 'all' run; a two-task study's pair), None when there is none."""
    mine = [r for r in runs if r["seed"] == seed]
    alone = {r["tasks"][0]: r for r in mine if r["setting"] == "single"}
    together = max((r for r in mine if len(r["tasks"]) > 1), key=lambda r: len(r["tasks"]), default=None)
    return alone, together


@dataclass
class Predictor:
    model: torch.nn.Module
    specs: dict[str, TaskSpec]
    vocab: Vocabulary
    config: RunConfig
    detects: frozenset = frozenset()  # tasks whose run learned whether they apply (``applies``)
    unknown: frozenset = frozenset()  # tasks that may not apply, from a run saved without that detector

    @torch.no_grad()
    def predict(self, texts: list[str], batch_size: int = 64) -> list[dict]:
        """Per text: {task: {kind, label, confidence, probabilities, tokens, applies, answer[, tags,
        confidences]}}.

        Classification: ``label`` is the most probable class, ``probabilities`` every class's softmax.
        Tagging: ``label``/``tags`` one tag per token, ``confidences`` per token, ``confidence`` their mean,
        ``probabilities`` one {tag: p} per token. ``applies``: P(the text concerns the task) for a task that
        may not (None: this run cannot tell, or the task always applies; see ``may_not_apply``); ``answer``:
        ``NOT_MENTIONED`` when that probability is under one half, else the label (tags joined by spaces).
        """
        tokens = tokenize_texts(list(texts), self.config.language)
        data = encode(tokens, {}, {}, self.vocab, self.config.max_len)
        self.model.eval()
        out: list[dict] = []
        for start in range(0, len(tokens), batch_size):
            ids, lengths = data.ids[start:start + batch_size], data.lengths[start:start + batch_size]
            width = int(lengths.max())
            logits = self.model(ids[:, :width], lengths, list(self.specs))
            applies = {t: torch.sigmoid(z.float()) for t, z in applies_logits(self.model, list(self.specs)).items()}
            for k in range(len(ids)):
                n = int(lengths[k])
                toks = tokens[start + k][:n] or ["<oov>"]
                out.append({t: self._answer(self._describe(spec, logits[t][k].float(), toks),
                                            float(applies[t][k]) if t in applies else None)
                            for t, spec in self.specs.items()})
        return out

    def may_not_apply(self, task: str) -> bool:
        """Whether ``task`` may not concern a text (its absent label means "not mentioned")."""
        return task in self.detects or task in self.unknown

    @staticmethod
    def _answer(described: dict, applies: float | None) -> dict:
        label = described["label"]
        answer = " ".join(label) if isinstance(label, list) else label
        if applies is not None and applies < APPLIES_THRESHOLD:
            answer = NOT_MENTIONED
        return {**described, "applies": applies, "answer": answer}

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
        undetected = {t for t in applies_tasks(specs) if any(_detector_key(k, t) for k in missing)}
        # the auxiliary heads and private encoders were never saved (train.saved_state); a run saved before
        # the applies detectors existed has none
        wrong = [k for k in missing if k not in frozen and k not in buffers and not owned_by(k, aux)
                 and not any(_detector_key(k, t) for t in undetected)]
        wrong += list(unexpected)
        if wrong:
            raise RuntimeError(f"weights missing or unexpected: {wrong[:3]}")
    except RuntimeError as exc:
        raise PredictError(f"{path}: the saved model of run {run_id} does not fit the model rebuilt from its "
                           f"config ({str(exc).splitlines()[0]}). Fix: run the study again with this version "
                           "of MTL Lab.") from None
    for t in undetected:
        model.head(t).applies = None  # untrained: never consulted
    return Predictor(model.eval(), specs, vocab, config, detects=applies_tasks(specs) - undetected,
                     unknown=frozenset(undetected))


def _detector_key(key: str, task: str) -> bool:
    return ".applies." in key and owned_by(key, [task])


def read_sentences(path: str | Path, text_column: str | None = None) -> list[str]:
    """The sentences of a file to predict: a .csv / .tsv file's text column (``text_column``, else the column
    named "text", else its only column), or any other text file's non-empty lines. DataError (file, line, fix)
    for a file that cannot be read, a missing column, an empty text or too many sentences."""
    if Path(path).suffix.lower() in (".csv", ".tsv"):
        names, records, _ = read_table(path, header=True)
        column = _text_column(path, names, text_column)
        sentences = []
        for line, row in records:
            if not row[column].strip():
                raise DataError(path, f"the text column '{names[column]}' is empty on this row.",
                                "Give every row a sentence, or delete the row.", line=line)
            sentences.append(row[column].strip())
    else:
        text, _ = read_text(path)
        sentences = [line.strip() for line in text.splitlines() if line.strip()]
    if len(sentences) > MAX_FILE_SENTENCES:
        raise DataError(path, f"{len(sentences):,} sentences, over the {MAX_FILE_SENTENCES:,} predicted at once.",
                        "Split the file into parts and predict each.")
    return sentences


def _text_column(path: str | Path, names: list[str], wanted: str | None) -> int:
    lower = [n.lower() for n in names]
    if wanted is not None and wanted in names:
        return names.index(wanted)
    if wanted is None and "text" in lower:
        return lower.index("text")
    if wanted is None and len(names) == 1:
        return 0
    asked = f"has no column '{wanted}'" if wanted else "has no column named 'text'"
    raise DataError(path, f"the file {asked}; its columns are {names}.",
                    "Name the column that holds the sentences 'text' (first line of the file), or choose it.")


def predictions_table(predictor: Predictor, texts: list[str]) -> list[dict]:
    """One row per text: the text, and per task its answer, confidence and (where it may not apply) the
    probability that it applies ("unknown" where the run cannot tell). Tagging tasks give their tags."""
    rows = []
    for text, prediction in zip(texts, predictor.predict(texts)):
        row = {"text": text}
        for task, p in prediction.items():
            row[task] = p["answer"]
            row[f"{task} confidence"] = round(p["confidence"], 4)
            if predictor.may_not_apply(task):
                row[f"{task} applies"] = "unknown" if p["applies"] is None else round(p["applies"], 4)
        rows.append(row)
    return rows
