"""What a run leaves in the store: its live progress and curves while it trains, then its model (a checkpoint file
under ``MTL_LAB_HOME/checkpoints``) and its results. Written by the process that owns the store: the local worker
that trained the run, or the owner of a study whose runs train as Ray tasks (``ray_backend``)."""
from __future__ import annotations

import logging

import torch

from mtl_core.paths import mtl_home
from mtl_core.store import Store
from mtl_core.training.trainer import RunResult

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class RunProgress:
    """A running run's progress as the store shows it: each update merged into the last (step updates keep the last
    epoch's val_score, best_epoch, ...), an epoch's curve rows written with it, in one transaction."""

    def __init__(self, store: Store, run_id: int):
        self.store, self.run_id, self.progress = store, run_id, {}

    def __call__(self, update: dict) -> None:
        curves = update.pop("curves", [])
        self.progress.update(update)
        self.store.record_progress(self.run_id, self.progress, curves)

    def restart(self, note: str) -> None:
        """The run trains again from the start (a smaller batch; another Ray attempt): its curves so far forgotten."""
        self.store.clear_curves(self.run_id)
        self.progress = {}
        self({"note": note})


def store_result(store: Store, study_id: str, run_id: int, result: RunResult, save_model: bool = True) -> bool:
    """A finished run's model saved (``MTL_LAB_HOME/checkpoints``), then its results written in one transaction;
    False (nothing written) if the run was no longer running. A model that cannot be saved costs only the model."""
    checkpoint, save_error = None, None
    if save_model and result.state_dict is not None:
        path = mtl_home() / "checkpoints" / study_id / f"run{run_id}.pt"
        tmp = path.with_suffix(".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(result.state_dict, tmp)
            tmp.replace(path)
            checkpoint = str(path)
        except Exception as exc:  # noqa: BLE001 - disk full, no permission...: keep the scores, lose only the model
            log.exception("run %s: saving the model to %s failed", run_id, path)
            save_error = (f"The scores were kept, but the model could not be saved to {path} "
                          f"({describe_error(exc)}). Fix: free disk space or make the folder writable, then "
                          "run the study again to get a model for Predict.")
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
    if not store.finish_run(run_id, result, checkpoint):
        return False
    if save_error:
        store.update_run(run_id, error=save_error)
    return True
