"""Training throughput: our trainer against a plain hand-written PyTorch loop, run side by side.

What is measured
    Training examples per second: rows trained on / seconds spent in training steps (forward,
    masked loss, backward, gradient clipping, optimizer step). Validation and test scoring are left
    out of both clocks. ``train_run`` scores the validation rows after every epoch and the test rows
    at the end, outside its own clock (``RunResult.examples_per_second``), and the plain loop does
    no scoring at all.

The two contenders get the same input
    * ours:  ``mtl_core.training.trainer.train_run``, the code path every study run takes: per-task,
      length-bucketed batches (``mtl_core.training.sampling``), only the heads of tasks labeled in the batch.
      Early stopping is switched off (patience = epochs), so every epoch runs.
    * plain: the loop most people write first: shuffle all training rows, cut fixed-size batches,
      pad each batch to its longest text, run every head, sum the masked cross-entropy over tasks,
      backward, clip, AdamW step.
    Both use the same prepared study data (split, vocabulary, encoded tensors), the same training
    rows (those with at least one label), the same model (``build_model`` after
    ``torch.manual_seed(seed)``: the same class and the same initial weights), the same epochs,
    batch size, AdamW settings, clipping, class weights and precision (bfloat16 autocast on CUDA
    when the preset's config asks for it).

Reading the result
    ratio = ours / plain examples/s. Above 1.0: our trainer trains faster than the naive loop on
    the same work; the difference comes from batching, mostly length bucketing (less padding, fewer
    LSTM time steps per batch). With ``--repeats N`` the runs alternate (ours, plain, plain, ours, ...),
    so background load hits both alike; each column is the median of its N runs. A small untimed
    warm-up goes first, so neither contender pays for first-use setup in the process.
    Threads: both run with torch's thread count (what a study run gets) unless ``--threads`` says
    otherwise. When other processes already load the cores, more threads than free cores make
    every run's speed depend on the scheduler (the same run varied 10x and more); the script then
    prints a note, and ``--threads 1`` gives steady, comparable numbers.

This is a benchmark, not a test: it prints numbers measured side by side in one process, nothing
asserts a timing.

    .venv/bin/python bench/throughput.py                       # absa-scratch preset, 2 epochs
    .venv/bin/python bench/throughput.py --preset synthetic-demo --epochs 1 --repeats 3
    .venv/bin/python bench/throughput.py --device cuda --repeats 3   # on a machine with a GPU

On a GPU (``--device cuda``; ``auto`` picks it too) both contenders train there with the same inputs; the plain
loop waits for the GPU (``torch.cuda.synchronize``) before reading its clock. ``--device cuda`` on a machine
without one stops at once with a message, before any data is prepared.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from mtl_core.data.encode import IGNORE  # noqa: E402
from mtl_core.errors import MTLLabError  # noqa: E402
from mtl_core.models.build import build_model  # noqa: E402
from mtl_core.paths import DATA_DIR_ENV  # noqa: E402
from mtl_core.studies.prepare import PreparedStudy, prepare  # noqa: E402
from mtl_core.studies.spec import StudySpec  # noqa: E402
from mtl_core.training.config import RunConfig  # noqa: E402
from mtl_core.training.device import describe_device, pick_device  # noqa: E402
from mtl_core.training.losses import balanced_class_weights, masked_cross_entropy  # noqa: E402
from mtl_core.training.trainer import train_run  # noqa: E402

PRESETS = ("absa-scratch", "synthetic-demo")
TIMED = "training steps only, in both (validation/test scoring excluded)"


@dataclass
class Workload:
    """One preset's prepared data and the run config both contenders train with."""
    name: str
    prepared: PreparedStudy
    config: RunConfig
    seed: int = 0

    @property
    def tasks(self) -> list[str]:
        return list(self.prepared.specs)

    @cached_property
    def train_rows(self) -> list[int]:
        """Training rows labeled for at least one task: the rows an epoch of ``train_run`` visits."""
        rows = torch.as_tensor(self.prepared.split.train, dtype=torch.long)
        labeled = torch.zeros(len(rows), dtype=torch.bool)
        for t in self.tasks:
            labeled |= (self.prepared.data.targets[t][rows] != IGNORE).reshape(len(rows), -1).any(1)
        return rows[labeled].tolist()

    def describe(self) -> str:
        c = self.config
        return (f"{self.name}: {len(self.tasks)} tasks, {len(self.train_rows)} training rows, "
                f"batch {c.batch_size}, {c.epochs} epoch{'s' if c.epochs != 1 else ''}, head {c.head}")


def default_data_dir() -> str | None:
    """$MTL_LAB_DATA_DIR if set, else ../shared/datasets beside the repo (as the tests use), else None."""
    if os.environ.get(DATA_DIR_ENV):
        return None  # the library reads the variable itself
    shared = ROOT.parent / "shared" / "datasets"
    return str(shared) if shared.is_dir() else None


def load_workload(preset: str, epochs: int, device: str, data_dir: str | None) -> Workload:
    """The preset's data prepared as a study prepares it; early stopping off so all epochs run."""
    spec = StudySpec.from_preset(preset, data_dir=data_dir)
    config = RunConfig.from_dict(spec.config).replace(epochs=epochs, patience=epochs, device=device)
    return Workload(preset, prepare(spec, config), config)


# --- the contenders: each trains once on a workload and returns training examples/s ------------------

def ours(w: Workload) -> float:
    """Our trainer's real code path; its own clock covers the training steps only."""
    p = w.prepared
    result = train_run(p.data, p.specs, p.split, w.config, w.seed, len(p.vocab), p.vectors)
    return result.examples_per_second


def plain(w: Workload, max_steps: int | None = None) -> float:
    """A hand-written loop: random fixed-size batches padded to their longest text, all heads, every step."""
    cfg, data, specs = w.config, w.prepared.data, w.prepared.specs
    device = pick_device(cfg.device)
    torch.manual_seed(w.seed)
    model = build_model(specs, len(w.prepared.vocab), cfg, w.prepared.vectors).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if cfg.amp and device.type == "cuda" \
        else nullcontext
    ids, lengths = data.ids.to(device), data.lengths.to(device)
    targets = {t: data.targets[t].to(device) for t in specs}
    weights = {t: balanced_class_weights(data.targets[t][w.prepared.split.train], max(2, s.num_classes)).to(device)
               if cfg.class_weights else None for t, s in specs.items()}
    rows = torch.as_tensor(w.train_rows, dtype=torch.long)
    generator = torch.Generator().manual_seed(w.seed)

    seen, seconds, steps = 0, 0.0, 0
    for _ in range(cfg.epochs):
        model.train()
        order = rows[torch.randperm(len(rows), generator=generator)]
        start = time.perf_counter()
        for s in range(0, len(order), cfg.batch_size):
            batch = order[s:s + cfg.batch_size]
            width = int(data.lengths[batch].max())
            idx = batch.to(device)
            with autocast():
                out = model(ids[idx, :width], lengths[idx])
            loss = 0.0
            for t in specs:
                y = targets[t][idx]
                loss = loss + masked_cross_entropy(out[t], y[:, :width] if y.dim() == 2 else y, weights[t])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            optimizer.step()
            seen += len(batch)
            steps += 1
            if max_steps is not None and steps >= max_steps:
                break
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds += time.perf_counter() - start
        if max_steps is not None and steps >= max_steps:
            break
    return seen / max(seconds, 1e-9)


Contender = Callable[[Workload], float]


def warm_up(w: Workload) -> None:
    """A few untimed steps, so kernels, allocator and thread pool are set up before either contender."""
    plain(w, max_steps=5)


def compare(w: Workload, contenders: dict[str, Contender], repeats: int,
            echo: Callable[[str], None] = print) -> dict[str, list[float]]:
    """Run the contenders ``repeats`` times, alternating who goes first (A B, B A, ...); examples/s per run."""
    names = list(contenders)
    runs: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for name in (names if r % 2 == 0 else names[::-1]):
            value = contenders[name](w)
            runs[name].append(value)
            echo(f"  repeat {r + 1}/{repeats}  {name:<6} {value:9.1f} examples/s")
    return runs


def report(w: Workload, runs: dict[str, list[float]], echo: Callable[[str], None] = print) -> None:
    """The side-by-side table: medians of each contender and their ratio (first / second)."""
    (a, a_runs), (b, b_runs) = runs.items()
    a_med, b_med = statistics.median(a_runs), statistics.median(b_runs)
    device = describe_device(pick_device(w.config.device))
    cols = ["workload", f"{a} ex/s", f"{b} ex/s", f"ratio {a}/{b}", "torch threads", "device"]
    row = [w.name, f"{a_med:.1f}", f"{b_med:.1f}", f"{a_med / b_med:.2f}", str(torch.get_num_threads()), device]
    widths = [max(len(c), len(v)) for c, v in zip(cols, row)]
    echo("")
    echo("  ".join(c.ljust(n) for c, n in zip(cols, widths)))
    echo("  ".join(v.ljust(n) for v, n in zip(row, widths)))
    echo("")
    echo(f"workload: {w.describe()}")
    echo(f"timed:    {TIMED}")
    echo(f"runs:     {a} {', '.join(f'{v:.1f}' for v in a_runs)}; {b} {', '.join(f'{v:.1f}' for v in b_runs)}")
    echo(f"median of {len(a_runs)} run(s) each, alternating order; ratio > 1 means {a} trains faster")


def busy_note() -> str | None:
    """A warning when other processes already load the CPUs torch's threads would use.

    Oversubscribed intra-op threads wait on each other, and a run's speed then depends on what else
    happens to run at that moment far more than on the training loop (seen: 18 to 740 examples/s for
    the same run with 2 threads on 2 busy cores). One thread is much steadier there.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    threads = torch.get_num_threads()
    if load + threads <= cores + 0.5:
        return None
    advice = ("timings will be noisy; --threads 1 is steadier" if threads > 1
              else "runs wait for the CPU; compare medians of --repeats 3 or more")
    return f"note: {cores} CPU core(s) already carry a load of {load:.1f}, torch uses {threads} thread(s): {advice}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=PRESETS, default="absa-scratch", help="workload (default: absa-scratch)")
    ap.add_argument("--epochs", type=int, default=2, help="training epochs per run (default: 2)")
    ap.add_argument("--repeats", type=int, default=1, help="runs per contender, alternating; median reported")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument("--data-dir", default=None,
                    help=f"folder holding the datasets (default: ${DATA_DIR_ENV}, else ../shared/datasets)")
    args = ap.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1 or (args.threads is not None and args.threads < 1):
        ap.error("--epochs, --repeats and --threads must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this torch build sees no CUDA device")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    note = busy_note()  # before our own work adds to the load
    try:
        w = load_workload(args.preset, args.epochs, args.device, args.data_dir or default_data_dir())
    except MTLLabError as exc:
        print(f"Cannot prepare the {args.preset!r} workload: {exc}", file=sys.stderr)
        if args.preset != "synthetic-demo":
            print("The synthetic workload needs no data: add --preset synthetic-demo.", file=sys.stderr)
        return 2
    print(f"{w.describe()}; timing {TIMED}")
    if note:
        print(note)
    warm_up(w)
    contenders = {"ours": ours, "plain": plain}  # a later --study: {"sequential": ..., "grouped": ...}
    report(w, compare(w, contenders, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
