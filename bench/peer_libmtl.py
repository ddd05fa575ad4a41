"""A peer, side by side: MTL Lab's trainer and LibMTL 1.1.5 on the same model, data, batches and seeds.

What is compared
    One hard-sharing model: our BiLSTM backbone is LibMTL's shared encoder (its HPS architecture), our
    token-tagging heads are its decoders. Data: CoNLL-2002 Spanish POS + NER (preset ``conll-es``; every
    sentence has both labels, as LibMTL does not mask absent ones). Methods both implement: equal / EW,
    uncertainty / UW, dwa / DWA (T=2), gradnorm / GradNorm (alpha=1.5), pcgrad / PCGrad. Per method and seed:
    training examples/s, and the test score of each task's lead metric (POS token accuracy, NER span F1).

The same on both sides
    Model class and initial weights (``build_model`` after ``torch.manual_seed(seed)``); the batches (our
    length-bucketed ``epoch_plan`` replayed from the seed: same rows, order, padding); the loss (mean token
    cross-entropy, padding ignored); AdamW (lr, weight decay; fused where the device has it, as ours:
    ``training.setup.fused_adamw``); clipping at ``clip`` on the model's parameters;
    the epochs (no early stopping); selection (best validation epoch) and scoring, by our code.

Why LibMTL's Trainer is not used
    ``LibMTL.Trainer`` 1.1.5 cannot run here: it hard-codes ``cuda:0``, draws batches with ``iterator.next()``
    (gone from DataLoader iterators), and ``import LibMTL`` needs ``torchvision.models.utils`` (removed in
    torchvision 0.13). So LibMTL's own HPS and weighting classes, combined as ``Trainer._prepare_model`` does,
    run in a copy of ``Trainer.train``'s loop: ``model.epoch`` (0-based), a loss vector per batch,
    ``zero_grad; model.backward(losses, **weight_args); step``, ``train_loss_buffer`` from LibMTL's ``AbsLoss``
    (batch-size-weighted epoch means). Left out: its per-batch training metrics (they only cost LibMTL time).
    One patch for torch >= 2: ``zero_grad_share_params`` zeroes in place (``set_to_none=False``), as torch 1.x
    did; with ``None`` grads, GradNorm and PCGrad fail in ``_reset_grad`` (``param.grad.data``).

Setup, once (nothing goes into the project's venv): ``.venv/bin/python bench/peer_libmtl.py --setup`` runs
    ``pip install --no-deps --upgrade --target ~/.cache/mtl-lab/peer-libmtl -r bench/requirements-peer.txt``.
    ``--no-deps``: LibMTL also declares torchvision (it pulls a torch of its own; only ``LibMTL.model``, never
    imported here, uses it). Its other pins, torch>=1.8 and numpy>=1.20, are met by ours.

Reading the result
    ratio = MTL Lab / LibMTL examples/s, medians over seeds, training steps only (wall clock); above 1, ours
    is faster. Runs alternate (ours first, then LibMTL first, ...) so background load hits both alike. The
    wall clock still swings on a shared CPU, so each run's CPU time (build to test; scoring is the same code on
    both sides) is given too; with one thread (the default) it counts work, not waiting. CPU ratio = LibMTL /
    MTL Lab CPU seconds. Scores: mean [95% t-interval] over seeds; "diff": the paired per-seed difference
    (a seed = the same initial weights and batches on both sides), "same" when its interval includes 0.
"""
from __future__ import annotations

import argparse
import copy
import importlib
import os
import random
import statistics
import subprocess
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from mtl_core.models.build import build_model  # noqa: E402
from mtl_core.paths import DATA_DIR_ENV  # noqa: E402
from mtl_core.results.stats import mean_ci, paired_delta  # noqa: E402
from mtl_core.studies.prepare import PreparedStudy, prepare  # noqa: E402
from mtl_core.studies.spec import StudySpec  # noqa: E402
from mtl_core.training.config import RunConfig  # noqa: E402
from mtl_core.training.sampling import batch_targets, epoch_plan, owner_rows  # noqa: E402
from mtl_core.training.setup import fused_adamw  # noqa: E402
from mtl_core.training.trainer import train_run  # noqa: E402
from mtl_core.training.validation import (  # noqa: E402
    predict_rows,
    score_predictions,
    selection_score,
)

PRESET = "conll-es"
PEER_DIR = Path.home() / ".cache" / "mtl-lab" / "peer-libmtl"
REQUIREMENTS = ROOT / "bench" / "requirements-peer.txt"
# our REGISTRY name -> (LibMTL weighting class, its weight_args); both libraries' defaults
METHODS = {"equal": ("EW", {}), "uncertainty": ("UW", {}), "dwa": ("DWA", {"T": 2.0}),
           "gradnorm": ("GradNorm", {"alpha": 1.5}), "pcgrad": ("PCGrad", {})}
CPU = torch.device("cpu")


@dataclass
class Workload:
    prepared: PreparedStudy
    config: RunConfig

    @property
    def tasks(self) -> list[str]:
        return list(self.prepared.specs)

    def describe(self) -> str:
        c, s = self.config, self.prepared.split
        return (f"{PRESET}: tasks {', '.join(self.tasks)}; {len(s.train)}/{len(s.val)}/{len(s.test)} sentences "
                f"train/val/test; BiLSTM hidden {c.hidden}, emb {c.emb_dim}, char CNN {c.char_dim or 'off'}; "
                f"batch {c.batch_size}, {c.epochs} epochs, AdamW lr {c.lr} wd {c.weight_decay}, clip {c.clip}")


@dataclass
class Outcome:
    examples_per_second: float   # training steps only, wall clock
    scores: dict[str, float]     # task -> its lead metric on the test rows
    cpu_seconds: float = 0.0     # the whole run (build, train, validate, test), this process's CPU time


# --- LibMTL: installed beside the project, imported without its package __init__ -------------------------

def setup_peer(target: Path) -> int:
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--upgrade", "--target", str(target),
           "-r", str(REQUIREMENTS)]
    print("$", " ".join(cmd), flush=True)
    return subprocess.call(cmd)


def import_libmtl(target: Path) -> types.SimpleNamespace:
    """LibMTL's HPS, weighting classes and AbsLoss. ``LibMTL/__init__.py`` is skipped: it imports
    ``LibMTL.model``, whose ResNets need a torchvision API removed in 0.13."""
    package = target / "LibMTL"
    if not (package / "weighting" / "__init__.py").is_file():
        raise SystemExit(f"LibMTL is not installed in {target}. Run: {sys.executable} {__file__} --setup")
    stub = types.ModuleType("LibMTL")
    stub.__path__ = [str(package)]
    sys.modules.setdefault("LibMTL", stub)
    return types.SimpleNamespace(weighting=importlib.import_module("LibMTL.weighting"),
                                 HPS=importlib.import_module("LibMTL.architecture").HPS,
                                 AbsLoss=importlib.import_module("LibMTL.loss").AbsLoss)


class SharedEncoder(nn.Module):
    """Our backbone as LibMTL's encoder, which takes one input: (ids, lengths) -> (states (B, T, D), mask (B, T))."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, lengths = inputs
        return self.backbone(ids, lengths), ids != 0


class Decoder(nn.Module):
    """One of our heads as a LibMTL decoder, which gets the encoder's output as one value."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, rep: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return self.head(*rep)                                                  # (B, T, C)


class AsOurs(nn.Module):
    """The LibMTL model behind our ``model(ids, lengths, tasks)`` call, so our scoring code can read it."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, tasks: list[str] | None = None) -> dict:
        return self.net((ids, lengths))

    def head(self, task: str) -> nn.Module:
        return self.net.decoders[task].head


def peer_model(lib: types.SimpleNamespace, method: str, w: Workload) -> nn.Module:
    """HPS x the method's weighting class over our backbone and heads (call after seeding: our initial weights)."""
    p = w.prepared
    ours = build_model(p.specs, len(p.vocab), w.config, p.vectors)
    weighting = getattr(lib.weighting, METHODS[method][0])

    class MTLmodel(lib.HPS, weighting):   # as LibMTL.Trainer._prepare_model combines them
        def __init__(self):
            super().__init__(task_name=w.tasks, encoder_class=lambda: SharedEncoder(ours.backbone),
                             decoders=nn.ModuleDict({t: Decoder(ours.head(t)) for t in w.tasks}),
                             rep_grad=False, multi_input=False, device=CPU)
            self.init_param()

        def zero_grad_share_params(self):   # torch 1.x semantics, which _reset_grad relies on
            self.encoder.zero_grad(set_to_none=False)

    return MTLmodel()


def token_loss(lib: types.SimpleNamespace):
    class TokenCE(lib.AbsLoss):
        """LibMTL's CELoss for (B, T, C) logits: mean over tokens, padding (-100) ignored."""
        def compute_loss(self, pred, gt):
            return F.cross_entropy(pred.reshape(-1, pred.shape[-1]).float(), gt.reshape(-1))
    return TokenCE


# --- the two contenders -------------------------------------------------------------------------------

def evaluate(model: nn.Module, w: Workload, rows: list[int]) -> tuple[float, dict[str, dict[str, float]]]:
    """(selection score, scores per task) on ``rows``, as ``train_run`` computes them."""
    preds, losses = predict_rows(model, w.prepared.data, rows, w.tasks, CPU)
    scores, items = score_predictions(w.prepared.data, w.prepared.specs, rows, preds)
    return selection_score(scores, w.prepared.specs, w.config.selection, losses,
                           {t: len(items[t]) for t in w.tasks}), scores


def lead(w: Workload, scores: dict[str, dict[str, float]]) -> dict[str, float]:
    return {t: scores[t][w.prepared.specs[t].selection_metric] for t in w.tasks}


def run_ours(w: Workload, method: str, seed: int) -> Outcome:
    p = w.prepared
    r = train_run(p.data, p.specs, p.split, w.config.replace(weighting=method), seed, len(p.vocab), p.vectors)
    return Outcome(r.examples_per_second, lead(w, r.test_scores))


def run_peer(w: Workload, lib: types.SimpleNamespace, method: str, seed: int,
             max_steps: int | None = None) -> Outcome | None:
    """LibMTL's Trainer.train loop on our batches (None after ``max_steps``: a warm-up)."""
    cfg, p = w.config, w.prepared
    torch.manual_seed(seed)
    random.seed(seed)                                     # LibMTL's PCGrad shuffles with ``random``
    rng = np.random.default_rng(seed)                     # the batch plan, drawn as train_run draws it
    net = peer_model(lib, method, w)
    losses = {t: token_loss(lib)() for t in w.tasks}
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                  fused=fused_adamw(net.parameters()))  # one group, as LibMTL; our kernel
    clipped = list(net.encoder.parameters()) + list(net.decoders.parameters())
    weight_args = METHODS[method][1]
    owned = owner_rows(p.data.targets, p.split.train, w.tasks)
    lengths_np = p.data.lengths.numpy()
    net.train_loss_buffer = np.zeros([len(w.tasks), cfg.epochs])   # (K, epochs), read by DWA and GradNorm
    best = (float("-inf"), None)
    seen, seconds, steps = 0, 0.0, 0
    for epoch in range(cfg.epochs):
        net.epoch = epoch
        net.train()
        plan = epoch_plan(owned, lengths_np, cfg.batch_size, rng, cfg.sampling, cfg.sampling_alpha)
        start = time.perf_counter()
        for _, batch in plan:
            idx = torch.from_numpy(batch)
            width = int(lengths_np[batch].max())
            preds = net((p.data.ids[idx, :width], p.data.lengths[idx]))
            train_losses = torch.zeros(len(w.tasks))                     # (K,), as Trainer._compute_loss
            for k, t in enumerate(w.tasks):
                train_losses[k] = losses[t]._update_loss(preds[t], batch_targets(p.data.targets[t], idx, width))
            optimizer.zero_grad()
            net.backward(train_losses, **weight_args)
            if cfg.clip:
                torch.nn.utils.clip_grad_norm_(clipped, cfg.clip)
            optimizer.step()
            seen, steps = seen + len(batch), steps + 1
            if max_steps is not None and steps >= max_steps:
                return None
        seconds += time.perf_counter() - start
        net.train_loss_buffer[:, epoch] = [losses[t]._average_loss() for t in w.tasks]
        for loss in losses.values():
            loss._reinit()
        score, _ = evaluate(AsOurs(net), w, p.split.val)
        if score > best[0]:
            best = (score, copy.deepcopy(net.state_dict()))
    net.load_state_dict(best[1])
    return Outcome(seen / max(seconds, 1e-9), lead(w, evaluate(AsOurs(net), w, p.split.test)[1]))


# --- the side-by-side run and its table ---------------------------------------------------------------

def compare(w: Workload, lib, methods: list[str], seeds: list[int]) -> dict[tuple[str, str], list[Outcome]]:
    """Every (method, seed) on both sides, alternating which side goes first."""
    runs: dict[tuple[str, str], list[Outcome]] = {(m, side): [] for m in methods for side in ("ours", "peer")}
    sides = {"ours": lambda m, s: run_ours(w, m, s), "peer": lambda m, s: run_peer(w, lib, m, s)}
    k = 0
    for m in methods:
        for s in seeds:
            for side in (("ours", "peer") if k % 2 == 0 else ("peer", "ours")):
                cpu = time.process_time()
                out = sides[side](m, s)
                out.cpu_seconds = time.process_time() - cpu
                runs[(m, side)].append(out)
                label = "MTL Lab" if side == "ours" else "LibMTL"
                print(f"  {m:<11} seed {s}  {label:<7} {out.examples_per_second:7.1f} ex/s  "
                      f"{out.cpu_seconds:5.1f} CPU s  " + "  ".join(f"{t} {v:.4f}" for t, v in out.scores.items()),
                      flush=True)
            k += 1
    return runs


def report(w: Workload, runs: dict, methods: list[str]) -> None:
    rows = [["method", "MTL Lab ex/s", "LibMTL ex/s", "ratio", "ratio per seed", "CPU s/run MTL Lab", "LibMTL",
             "CPU ratio"]]
    for m in methods:
        a, b = runs[(m, "ours")], runs[(m, "peer")]
        speed_a = statistics.median(o.examples_per_second for o in a)
        speed_b = statistics.median(o.examples_per_second for o in b)
        cpu_a, cpu_b = statistics.median(o.cpu_seconds for o in a), statistics.median(o.cpu_seconds for o in b)
        rows.append([m, f"{speed_a:.1f}", f"{speed_b:.1f}", f"{speed_a / speed_b:.2f}",
                     " ".join(f"{x.examples_per_second / y.examples_per_second:.2f}" for x, y in zip(a, b)),
                     f"{cpu_a:.1f}", f"{cpu_b:.1f}", f"{cpu_b / cpu_a:.2f}"])
    table(rows)
    fmt = (lambda values: interval(mean_ci(values)))
    rows = [["method", "task (metric)", "MTL Lab mean [95% CI]", "LibMTL mean [95% CI]", "diff [95% CI]", ""]]
    for m in methods:
        for t in w.tasks:
            a = [o.scores[t] for o in runs[(m, "ours")]]
            b = [o.scores[t] for o in runs[(m, "peer")]]
            d, significant = paired_delta(a, b)
            rows.append([m, f"{t} ({w.prepared.specs[t].selection_metric})", fmt(a), fmt(b),
                         interval(d, "+"), "DIFFERENT" if significant else ("same" if d.ci_low is not None else "")])
    table(rows)


def interval(e, sign: str = "") -> str:
    """``mean [low, high]``; with too few seeds for an interval, the mean alone and why (no interval from one seed)."""
    if e.ci_low is None:
        return f"{e.mean:{sign}.4f} (no interval: {e.n} seed{'s' if e.n != 1 else ''})"
    return f"{e.mean:{sign}.4f} [{e.ci_low:{sign}.4f}, {e.ci_high:{sign}.4f}]"


def table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    for r in rows:
        print("  ".join(v.ljust(n) for v, n in zip(r, widths)).rstrip())


def wait_for_quiet(max_load: float, max_wait: int, every: int = 30) -> float:
    """Wait until the 1-minute load average is under ``max_load`` (or ``max_wait`` seconds passed)."""
    waited = 0
    while (load := os.getloadavg()[0]) >= max_load and waited < max_wait:
        print(f"load average {load:.2f} >= {max_load}: waiting ({waited}/{max_wait} s)", flush=True)
        time.sleep(every)
        waited += every
    return load


def load_workload(args: argparse.Namespace) -> Workload:
    data_dir = args.data_dir or (None if os.environ.get(DATA_DIR_ENV) else str(ROOT.parent / "shared" / "datasets"))
    spec = StudySpec.from_preset(PRESET, data_dir=data_dir)
    config = RunConfig.from_dict(spec.config).replace(epochs=args.epochs, patience=args.epochs, device="cpu",
                                                      hidden=args.hidden, char_dim=args.char_dim)
    return Workload(prepare(spec, config), config)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setup", action="store_true", help="install LibMTL into --peer-dir, then exit")
    ap.add_argument("--peer-dir", type=Path, default=PEER_DIR, help=f"where LibMTL is installed (default: {PEER_DIR})")
    ap.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per method and side (default: 3)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per run, all of them run (default: 3)")
    ap.add_argument("--hidden", type=int, default=64, help="BiLSTM units per direction (default: 64)")
    ap.add_argument("--char-dim", type=int, default=0, help="character CNN dims, 0: off (default: 0)")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default: 1, steady on a busy CPU)")
    ap.add_argument("--max-load", type=float, default=1.5, help="wait for a 1-min load average below this")
    ap.add_argument("--max-wait", type=int, default=900, help="seconds to wait for it at most (default: 900)")
    ap.add_argument("--data-dir", default=None,
                    help=f"datasets folder (default: ${DATA_DIR_ENV}, else ../shared/datasets)")
    args = ap.parse_args(argv)
    if min(args.seeds, args.epochs, args.hidden, args.threads) < 1 or args.char_dim < 0:
        ap.error("--seeds, --epochs, --hidden and --threads must be at least 1, --char-dim at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.setup:
        return setup_peer(args.peer_dir)
    lib = import_libmtl(args.peer_dir)
    torch.set_num_threads(args.threads)
    w = load_workload(args)
    print(w.describe())
    print(f"LibMTL from {args.peer_dir}; torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    run_peer(w, lib, "equal", 0, max_steps=5)   # untimed warm-up: allocator and thread pool set up for both
    run_peer(w, lib, "pcgrad", 0, max_steps=5)
    load = wait_for_quiet(args.max_load, args.max_wait)
    print(f"1-min load average at start: {load:.2f}", flush=True)
    started = time.perf_counter()
    runs = compare(w, lib, args.methods, list(range(args.seeds)))
    report(w, runs, args.methods)
    print(f"\n{len(args.methods) * args.seeds * 2} runs in {(time.perf_counter() - started) / 60:.1f} min; "
          f"1-min load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
