"""Small real studies for the display tests: a 5-task synthetic pairs study (every relation the Compare page can
show, one task that cannot be learned), a 1-seed study at chance, and a study slow enough to be watched while it
runs. Trained for real, tiny, in seconds each run."""
from __future__ import annotations

from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.spec import StudySpec

# Tiny on purpose (8-unit embeddings, a 4-unit encoder, 2 epochs of 2-5 steps, gradients measured every 2 steps):
# the display is under test, not the model.
CONFIG = {"emb_dim": 8, "hidden": 4, "epochs": 2, "patience": 2, "max_len": 24, "lr": 0.01, "dropout": 0.1,
          "batch_size": 64, "use_vectors": False, "grad_every": 2}
N = 120  # examples per task
FIVE_TASKS = [{"name": "base", "n_examples": N},
              {"name": "related", "shared_cues": 12, "private_cues": 0, "n_examples": N},
              {"name": "unrelated", "private_cues": 12, "n_examples": N},
              {"name": "conflicting", "shared_cues": 6, "contradicting_cues": 6, "private_cues": 0, "n_examples": N},
              {"name": "rare", "private_cues": 12, "n_examples": N, "positive_rate": 0.9}]


def five_task_pairs_study(store: Store, seeds: int = 2, save_models: bool = False) -> str:
    """Every task alone, every pair (10) and all five together, ``seeds`` seeds: 16 runs per seed. With
    ``save_models`` each run's model is saved (under MTL_LAB_HOME/checkpoints: set it first), for the Predict page."""
    spec = StudySpec(name="five tasks, pairs", seeds=seeds, plan="pairs", config=dict(CONFIG),
                     source={"synthetic": {"base_cues": 12, "filler_words": 60, "seed": 0, "min_length": 6,
                                           "max_length": 10, "tasks": FIVE_TASKS}},
                     split={"test_size": 0.25, "val_size": 0.15, "seed": 0})
    return run_study(spec, store, echo=lambda line: None, save_models=save_models)[0]


def slow_study_spec(epochs: int = 2000) -> StudySpec:
    """Two tasks alone and together, one seed, ``epochs`` epochs without early stopping: minutes per run, so that
    a worker is still training its first run while a test looks at the Train page (then cancels it)."""
    return StudySpec(name="five tasks, still training", seeds=1, plan="singles+all",
                     config={**CONFIG, "epochs": epochs, "patience": epochs, "grad_every": 0},
                     source={"synthetic": {"base_cues": 12, "filler_words": 60, "seed": 0, "min_length": 6,
                                           "max_length": 10, "tasks": FIVE_TASKS[:2]}},
                     split={"test_size": 0.25, "val_size": 0.15, "seed": 0})


def chance_study(store: Store) -> str:
    """Two tasks, one seed, one epoch at a learning rate too small to learn anything: every model at chance."""
    spec = StudySpec(name="one seed at chance", seeds=1, plan="singles+all",
                     config={**CONFIG, "epochs": 1, "lr": 1e-5, "grad_every": 0},
                     source={"synthetic": {"base_cues": 12, "filler_words": 60, "seed": 0,
                                           "tasks": FIVE_TASKS[:2]}},
                     split={"test_size": 0.25, "val_size": 0.15, "seed": 0})
    return run_study(spec, store, echo=lambda line: None, save_models=False)[0]
