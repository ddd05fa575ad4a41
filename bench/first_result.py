"""Time to first result: a study from an empty MTL Lab home (cold) and a second study on the same data (warm),
side by side; and the frozen pretrained encoder's speed, as it was and as it is.

What is measured
    Studies: ``python -m mtl_core study --preset P --plan all --seeds 1`` (one multitask run: the first result a
    user sees), each in a new process, wall clock from start to exit, and to the first run's result line; and its
    CPU seconds (what the wall clock would be alone on one core: on a shared machine, the steadier figure).
    cold: a fresh, empty MTL_LAB_HOME. warm: a second study on the same data in that home, in a new process
    (nothing in memory; what the cold study left on disk is all it can reuse). For presets with a frozen
    pretrained encoder (absa), the states the cold study encoded are on disk (``mtl_core.models.state_cache``);
    the table counts the sentences each study encoded (shards written), and the warm one must encode none (it
    does not even load the encoder's weights: ``models.embedders.frozen_encoder``).
    Encoding: sentences/s of the frozen encoder (MiniLM, mean of the top 5 layers: the absa preset) on the same
    sample of ABSA sentences, three ways, alternating, median of --repeats:
      before   PyTorch, in the trainer's batches (32 sentences, length-bucketed), as runs encoded until now
      sorted   PyTorch, one pass over the sentences sorted by length, batches of ~4,096 word pieces
      after    the sorted pass with ONNX Runtime (``mtl_core.models.onnx_encoder``): what runs now do
    The states of "after" and "before" are compared: max |difference| and the smallest cosine similarity.

Presets: synthetic-demo (generated), absa and yelp-amazon (datasets from --data-dir, $MTL_LAB_DATA_DIR or
../shared/datasets). This is a benchmark, not a test: it prints numbers measured in one run and asserts nothing.

    .venv/bin/python bench/first_result.py                       # the three presets, encoding on 600 sentences
    .venv/bin/python bench/first_result.py --presets absa --sample 3041 --repeats 3
    .venv/bin/python bench/first_result.py --presets absa --no-encoding --rounds 3   # medians of 3 cold/warm pairs
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import torch

from mtl_core.paths import DATA_DIR_ENV, HOME_ENV, STATE_CACHE_ENV

PRESETS = ("synthetic-demo", "absa", "yelp-amazon")


def default_data_dir() -> str | None:
    """$MTL_LAB_DATA_DIR if set, else ../shared/datasets beside the repo (as the tests use)."""
    if os.environ.get(DATA_DIR_ENV):
        return os.environ[DATA_DIR_ENV]
    shared = ROOT.parent / "shared" / "datasets"
    return str(shared) if shared.is_dir() else None


def sentences_on_disk(home: Path) -> tuple[int, int]:
    """(shard files, sentences in them) under ``home``'s state cache."""
    from mtl_core.models.state_cache import HEADER, HEADER_BYTES
    shards = sorted((home / "states").glob("*/layers-*/*.states"))
    total = 0
    for shard in shards:
        with open(shard, "rb") as f:
            total += HEADER.unpack_from(f.read(HEADER_BYTES))[3]
    return len(shards), total


def children_cpu() -> float:
    """CPU seconds (user + system) of this process' finished children; NaN where the OS does not say (Windows)."""
    try:
        import resource
    except ImportError:
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_study(preset: str, home: Path, data_dir: str | None, extra: list[str]) -> dict:
    """One study in a new process: wall seconds to exit and to its first run's result line, CPU seconds (on a
    shared machine the wall clock also counts other people's work), shards it wrote."""
    env = dict(os.environ, **{HOME_ENV: str(home), "PYTHONUNBUFFERED": "1"})
    if data_dir:
        env[DATA_DIR_ENV] = data_dir
    before = sentences_on_disk(home)
    command = [sys.executable, "-m", "mtl_core", "study", "--preset", preset, "--plan", "all", "--seeds", "1",
               *extra, str(home / f"out-{time.time_ns()}")]
    first, lines = None, []
    cpu = children_cpu()
    start = time.perf_counter()
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        for line in process.stdout:
            lines.append(line)
            if first is None and line.lstrip().startswith("run 1/"):
                first = time.perf_counter() - start
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{preset}: the study failed:\n{''.join(lines[-20:])}")
    after = sentences_on_disk(home)
    return {"seconds": seconds, "first": first or seconds, "shards": after[0] - before[0],
            "encoded": after[1] - before[1], "cpu": children_cpu() - cpu}


def median_study(timings: list[dict]) -> dict:
    """Each figure's median over the rounds (sentences encoded: the same every round)."""
    return {key: statistics.median(t[key] for t in timings) for key in timings[0]}


def studies(presets: list[str], data_dir: str | None, extra: list[str], rounds: int = 1) -> list[tuple[str, dict, dict]]:
    """Per preset, ``rounds`` times: a cold study in a fresh home, then a warm one in that home; medians."""
    rows = []
    for preset in presets:
        colds, warms = [], []
        for r in range(rounds):
            with tempfile.TemporaryDirectory(prefix="mtl-first-result-") as home:
                colds.append(timed_study(preset, Path(home), data_dir, extra))
                warms.append(timed_study(preset, Path(home), data_dir, extra))
            print(f"  {preset} round {r + 1}/{rounds}: cold {colds[-1]['seconds']:.1f} s ({colds[-1]['cpu']:.1f} CPU s), "
                  f"warm {warms[-1]['seconds']:.1f} s ({warms[-1]['cpu']:.1f} CPU s), warm/cold "
                  f"{warms[-1]['seconds'] / colds[-1]['seconds']:.2f}", flush=True)
        rows.append((preset, median_study(colds), median_study(warms)))
        if rounds > 1:  # each round's pair ran back to back: its ratio is steadier than the ratio of medians
            ratios = [w["seconds"] / c["seconds"] for c, w in zip(colds, warms)]
            print(f"  {preset}: warm/cold per round, median {statistics.median(ratios):.2f} "
                  f"(min {min(ratios):.2f}, max {max(ratios):.2f})", flush=True)
    return rows


def print_studies(rows: list[tuple[str, dict, dict]]) -> None:
    print(f"\n{'preset':<15} {'cold s':>7} {'warm s':>7} {'warm/cold':>9} {'1st result cold s':>17} "
          f"{'1st result warm s':>17} {'CPU s cold / warm':>17} {'CPU warm/cold':>13} "
          f"{'sentences encoded cold / warm':>30}")
    for preset, cold, warm in rows:
        encoded = f"{cold['encoded']} / {warm['encoded']}"
        cpu = f"{cold['cpu']:.1f} / {warm['cpu']:.1f}"
        print(f"{preset:<15} {cold['seconds']:>7.1f} {warm['seconds']:>7.1f} {warm['seconds'] / cold['seconds']:>9.2f} "
              f"{cold['first']:>17.1f} {warm['first']:>17.1f} {cpu:>17} {warm['cpu'] / cold['cpu']:>13.2f} "
              f"{encoded:>30}")


def encoding(sample: int, repeats: int, data_dir: str | None) -> None:
    """Sentences/s of the frozen MiniLM (absa's layer mix) before, sorted, and after; states compared."""
    from mtl_core.models import state_cache
    from mtl_core.models.embedders import PretrainedEmbedder
    from mtl_core.studies.prepare import prepare
    from mtl_core.studies.spec import StudySpec
    from mtl_core.training.config import RunConfig
    from mtl_core.training.sampling import task_batches

    spec = StudySpec.from_preset("absa", data_dir=data_dir)
    config = RunConfig.from_dict(spec.config)
    prepared = prepare(spec, config)
    ids, lengths = prepared.data.ids, prepared.data.lengths
    rows = np.sort(np.random.default_rng(0).permutation(len(ids))[:sample])

    def fresh(onnx: bool) -> PretrainedEmbedder:
        state_cache._CACHES.clear()  # nothing in memory; the disk cache is off in this process
        embedder = PretrainedEmbedder(prepared.vocab.itos, top_layers=config.pretrained_layers).eval()
        embedder.onnx = onnx
        return embedder

    def before(embedder: PretrainedEmbedder) -> None:
        for batch in task_batches(rows, lengths.numpy(), config.batch_size, np.random.default_rng(0)):
            width = int(lengths[batch].max())
            embedder.frozen(ids[batch, :width], lengths[batch])

    def sorted_pass(embedder: PretrainedEmbedder) -> None:
        embedder.precompute(ids[rows], lengths[rows])

    contenders = {"before": (False, before), "sorted": (False, sorted_pass), "after": (True, sorted_pass)}
    warm_up = fresh(True)
    warm_up.precompute(ids[rows[:64]], lengths[rows[:64]])  # ONNX export (once per home) and session, untimed
    speeds: dict[str, list[float]] = {name: [] for name in contenders}
    states = {}
    for r in range(repeats):
        for name in (list(contenders) if r % 2 == 0 else list(contenders)[::-1]):
            onnx, run = contenders[name]
            embedder = fresh(onnx)
            start = time.perf_counter()
            run(embedder)
            speeds[name].append(len(rows) / (time.perf_counter() - start))
            states[name] = embedder.frozen(ids[rows], lengths[rows])
            print(f"  repeat {r + 1}/{repeats} {name:<6} {speeds[name][-1]:7.1f} sentences/s", flush=True)
    mask = torch.arange(ids.shape[1])[None, :] < lengths[rows][:, None]
    a, b = states["before"][mask], states["after"][mask]                 # (tokens, H)
    cosine = float(torch.nn.functional.cosine_similarity(a, b, dim=-1).min())
    base = statistics.median(speeds["before"])
    print(f"\nencoding {len(rows)} ABSA sentences (MiniLM, mean of the top {config.pretrained_layers} layers), "
          f"{torch.get_num_threads()} torch threads, median of {repeats}:")
    print(f"{'path':<8} {'sentences/s':>12} {'x before':>9}")
    for name in contenders:
        median = statistics.median(speeds[name])
        print(f"{name:<8} {median:>12.1f} {median / base:>9.2f}")
    print(f"states after vs before: max |difference| {float((a - b).abs().max()):.4f}, smallest cosine {cosine:.5f} "
          f"(stored in bfloat16: one rounding step is ~0.008 at 2-4)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", nargs="+", choices=PRESETS, default=list(PRESETS))
    p.add_argument("--sample", type=int, default=600, help="ABSA sentences encoded per contender (default 600)")
    p.add_argument("--repeats", type=int, default=1, help="encoding runs per contender, alternating; median")
    p.add_argument("--no-encoding", action="store_true", help="skip the encoding comparison")
    p.add_argument("--rounds", type=int, default=1, help="cold + warm study pairs per preset, each in a fresh home; "
                   "medians (default 1)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a RunConfig override for the studies")
    p.add_argument("--data-dir", default=None, help=f"folder holding the datasets (default: ${DATA_DIR_ENV})")
    args = p.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    extra = [x for item in args.set for x in ("--set", item)]
    print(f"{os.cpu_count()} CPU cores, load {os.getloadavg()[0]:.1f}; studies: --plan all --seeds 1 {' '.join(extra)}")
    rows = studies(args.presets, data_dir, extra, args.rounds)
    if not args.no_encoding:
        with tempfile.TemporaryDirectory(prefix="mtl-encoding-") as home:
            os.environ.update({HOME_ENV: home, STATE_CACHE_ENV: "0"})
            encoding(args.sample, args.repeats, data_dir)
    if args.rounds > 1:
        print(f"\nstudies: median of {args.rounds} rounds")
    print_studies(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
