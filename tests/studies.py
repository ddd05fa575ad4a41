"""Real synthetic-demo studies, shrunk to run in seconds on a CPU, for tests that need finished studies."""
from __future__ import annotations

from mtl_core.store import Store
from mtl_core.studies.execute import run_study
from mtl_core.studies.spec import StudySpec


def tiny_study(store: Store, tasks: list[str], seeds: int, plan: str = "singles+all", name: str | None = None,
               epochs: int = 3, budget: int | None = None, **config) -> str:
    """Run a tiny study of ``tasks`` into ``store`` (no checkpoints) and return its id (``budget``: plan subsets)."""
    spec = StudySpec.from_preset("synthetic-demo", name=name or f"tiny {plan}", seeds=seeds, plan=plan, budget=budget)
    spec.config.update(epochs=epochs, hidden=16, emb_dim=16, **config)
    spec.tasks = tasks
    return run_study(spec, store, echo=lambda line: None, save_models=False)[0]
