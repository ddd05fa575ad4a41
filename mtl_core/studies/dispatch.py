"""The process that owns a study trains its queued runs where the study says: here or on the local workers
(``execute.execute_study``), or as Ray tasks (``ray_backend``); the choice is the study's stored executor
(``backends.Executor``). The queue's task and the CLI's ``study`` both come through here."""
from __future__ import annotations

from typing import Callable

from mtl_core.store import Store
from mtl_core.studies.backends import NOTHING_QUEUED, Executor, study_executor
from mtl_core.studies.execute import create_study, execute_study
from mtl_core.studies.spec import StudySpec
from mtl_core.training.trainer import RunResult


def execute(study_id: str, store: Store, echo: Callable[[str], None] | None = None, save_models: bool = True,
            raise_errors: bool = False) -> dict[int, RunResult]:
    """Train the study's queued runs where the study says (its stored executor); see ``execute.execute_study``."""
    study = store.study(study_id)
    executor = study_executor(study) if study else Executor()
    kwargs = {"echo": echo} if echo else {}
    if executor.ray:
        from mtl_core.studies.ray_backend import ray_loop
        kwargs["train_runs"] = ray_loop(executor)
    return execute_study(study_id, store, save_models=save_models, raise_errors=raise_errors, **kwargs)


def run_study(spec: StudySpec, store: Store, executor: Executor, echo: Callable[[str], None] = print,
              save_models: bool = True) -> tuple[str, dict[int, RunResult]]:
    """The CLI's ``study``: every planned run of ``spec`` now, trained where ``executor`` says, owned by this
    process; the first error is raised. An unreachable cluster is refused before the study is created."""
    if executor.ray:
        from mtl_core.studies.ray_backend import connect
        connect(executor, NOTHING_QUEUED)  # before anything is stored: an unreachable cluster costs nothing
    study_id = create_study(spec, store, executor=executor.to_dict())
    return study_id, execute(study_id, store, echo, save_models, raise_errors=True)
