"""A run's clock and counters, and the reports they drive: progress for the app, and cancellation."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

Progress = Callable[[dict], None]
REPORT_SECONDS = 1.0  # progress and should_stop at most this often within an epoch (host clock: no device sync)


def timing(epoch: int, epochs: int, step: int, steps: int, seen: int, train_seconds: float, wall_seconds: float,
           steps_done: int) -> dict:
    """Progress so far; the ETA assumes every epoch runs (early stopping can only make it shorter)."""
    left = (epochs - epoch) * steps + (steps - step)
    return {"epoch": epoch, "epochs": epochs, "step": step, "steps": steps,
            "examples_per_second": seen / max(train_seconds, 1e-9),
            "eta_seconds": wall_seconds / max(steps_done, 1) * left}


@dataclass
class RunClock:
    """Examples seen, steps taken and seconds spent training (validation excluded), since the run started."""
    epochs: int
    steps: int                              # optimizer steps per epoch
    progress: Progress | None = None
    should_stop: Callable[[], bool] | None = None
    seen: int = 0
    steps_done: int = 0
    train_seconds: float = 0.0
    run_start: float = field(default_factory=time.perf_counter)
    last_report: float = 0.0

    def __post_init__(self) -> None:
        self.last_report = self.run_start

    @property
    def examples_per_second(self) -> float:
        return self.seen / max(self.train_seconds, 1e-9)

    def step_done(self, epoch: int, step: int, rows: int, epoch_start: float) -> None:
        """Count one optimizer step over ``rows`` rows; about once a second, check for a stop and report."""
        self.seen += rows
        self.steps_done += 1
        if time.perf_counter() - self.last_report >= REPORT_SECONDS:
            self.last_report = time.perf_counter()
            self.stop_if_asked()
            if self.progress is not None:
                self.progress(timing(epoch, self.epochs, step, self.steps, self.seen,
                                     self.train_seconds + self.last_report - epoch_start,
                                     self.last_report - self.run_start, self.steps_done))

    def epoch_done(self, epoch_start: float) -> None:
        self.train_seconds += time.perf_counter() - epoch_start

    def report_epoch(self, epoch: int, **results) -> None:
        """The end-of-epoch report: timing and ``results`` (validation scores, this epoch's curves)."""
        if self.progress is not None:
            self.progress({**timing(epoch, self.epochs, self.steps, self.steps, self.seen, self.train_seconds,
                                    time.perf_counter() - self.run_start, self.steps_done), **results})

    def stop_if_asked(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise InterruptedError("run cancelled")
