"""The classroom Playground's study: the two-task synthetic study a set of sliders describes."""
from __future__ import annotations

from mtl_core.studies.spec import StudySpec

BASE_CUES = 12  # cue words of task A; task B's cues are drawn from these (shared or contradicting) or its own


# Tiny and fast (a study of 3 seeds takes well under a minute on one CPU thread); hidden 4 keeps the shared
# encoder small, which is where a contradicting partner hurts most (see the page text for the numbers).
CONFIG = {"emb_dim": 8, "hidden": 4, "epochs": 10, "patience": 4, "max_len": 40, "lr": 0.005, "dropout": 0.2,
          "selection": "loss", "use_vectors": False, "grad_every": 8}


def playground_spec(overlap: int, contradicting: int, label_noise: float, n_a: int, n_b: int,
                    same_sentences: bool = False, hidden: int = 4, seeds: int = 3) -> StudySpec:
    """A two-task synthetic study: A (the base task) and B, whose cue words are ``overlap`` of A's,
    ``contradicting`` of those with the opposite meaning, and ``BASE_CUES - overlap`` of its own."""
    contradicting = min(contradicting, overlap)
    tasks = [{"name": "A", "n_examples": n_a, "label_noise": label_noise},
             {"name": "B", "n_examples": n_b, "label_noise": label_noise, "shared_cues": overlap - contradicting,
              "contradicting_cues": contradicting, "private_cues": BASE_CUES - overlap}]
    source = {"synthetic": {"base_cues": BASE_CUES, "filler_words": 100, "seed": 0,
                            "shared_examples": same_sentences, "tasks": tasks}}
    name = f"playground: {overlap - contradicting} agree, {contradicting} contradict, noise {label_noise:.2f}"
    return StudySpec(name=name, source=source, seeds=seeds, plan="pairs",
                     config={**CONFIG, "hidden": hidden}, split={"test_size": 0.2, "val_size": 0.1, "seed": 0})
