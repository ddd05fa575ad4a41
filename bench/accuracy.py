"""Accuracy of the literature presets: our number beside TF-IDF + logistic regression (same split) and the
published figure, as ``../shared/SEED_RESULTS.md`` asks.

Each preset runs as a study (every run on one seeded split, model selection on validation, test scored once,
N seeds, mean and 95% CI) in a throw-away store. Printed per preset and task: the single-task and the
multitask score, TF-IDF + LR and the majority class on the same test rows, the published number where there
is one, and the mean best epoch (epochs to converge: the epoch early stopping kept). Presets of the same tasks
(aux-lstm / aux-mrnn / aux-crnn, ...) are then compared as methods: each one's epochs to converge and its
epochs to reach the validation score every one of their runs reached (``mtl_core.results.methods``).

This is a benchmark, not a test: it prints measured numbers and asserts nothing.

    .venv/bin/python bench/accuracy.py                                   # every literature preset, 3 seeds
    .venv/bin/python bench/accuracy.py --presets yelp-amazon-minilm --seeds 1
    .venv/bin/python bench/accuracy.py --presets absa --set epochs=10    # any RunConfig override
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mtl_core.cli.options import parse_sets  # noqa: E402
from mtl_core.results.methods import epochs_to_converge, method_rows  # noqa: E402
from mtl_core.results.study_results import StudyResults  # noqa: E402
from mtl_core.results.summary import describe_method, summary_rows  # noqa: E402
from mtl_core.results.verdict import NO_INTERVAL  # noqa: E402
from mtl_core.store import Store  # noqa: E402
from mtl_core.studies.execute import run_study  # noqa: E402
from mtl_core.studies.presets import load_presets  # noqa: E402
from mtl_core.studies.spec import StudySpec

PRESETS = ["yelp-amazon", "yelp-amazon-minilm", "yelp-amazon-adversarial", "absa-scratch", "absa", "absa-minilm", "absa-mpnet",
           "conll-es", "reuters-topics", "aux-lstm", "aux-mrnn", "aux-crnn", "aux-topics-lstm", "aux-topics-mrnn",
           "aux-topics-crnn"]


def published_for(preset: dict, task: str) -> str:
    for key, value in (preset.get("published") or {}).items():
        if key.split(" ")[0] == task:
            return f"{value:.3f} ({key})"
    return "-"


def run_preset(name: str, seeds: int, overrides: dict, plan: str | None, store: Store) -> tuple[list[str], str]:
    preset = load_presets()[name]
    spec = StudySpec.from_preset(name, seeds=seeds, plan=plan)
    spec.config = {**spec.config, **overrides}
    start = time.perf_counter()
    study_id, _ = run_study(spec, store, echo=lambda _: None, save_models=False)
    seconds = time.perf_counter() - start
    results = StudyResults.load(store, study_id)
    rows = summary_rows(results)
    lead = {**results.lead, "overall": "accuracy"}
    table: dict[tuple[str, str], dict] = {(r["task"], r["setting"]): r for r in rows if r["metric"] == lead.get(r["task"])}
    extra = {(r["task"], r["setting"]): r for r in rows if r["task"] != "overall" and r["metric"] == "token_accuracy"
             and lead.get(r["task"]) == "span_f1"}
    out = [f"\n## {name}: {preset['title']}  ({seeds} seed(s), {seconds / 60:.1f} min, {describe_method(spec.config)})",
           f"{'task':<12} {'metric':<15} {'single':>22} {'multitask':>22} {'tfidf-lr':>9} {'majority':>9}  published"]

    def cell(r: dict | None) -> str:
        return f"{r['mean']:.3f} {ci(r['ci_low'], r['ci_high'])}" if r else "-"

    tasks = list(lead)
    for task in tasks:
        single, multi = table.get((task, "single")), table.get((task, "all"))
        tfidf = table.get((task, "tfidf-lr"))
        majority = (single or multi or {}).get("majority_baseline")
        if not (single or multi):
            continue
        out.append(f"{task:<12} {lead[task]:<15} {cell(single):>22} {cell(multi):>22} "
                   f"{tfidf['mean'] if tfidf else float('nan'):>9.3f} "
                   f"{majority if majority is not None else float('nan'):>9.3f}  {published_for(preset, task)}")
        if (task, "single") in extra or (task, "all") in extra:
            out.append(f"{'':<12} {'token_accuracy':<15} {cell(extra.get((task, 'single'))):>22} "
                       f"{cell(extra.get((task, 'all'))):>22}")
    unmatched = {k: v for k, v in (preset.get("published") or {}).items() if k.split(" ")[0] not in lead}
    if unmatched:
        out.append("published (other data or models): " + ", ".join(f"{k} {v:.3f}" for k, v in unmatched.items()))
    converge = {s: epochs_to_converge(results, s) for s in ("single", "all")}
    out.append("epochs to converge (best epoch, mean [95% CI]): " + ", ".join(
        f"{s} {m:.1f} {ci(lo, hi, 1)}" for s, found in converge.items() if found for m, lo, hi in [found]))
    return out, study_id


def ci(low: float | None, high: float | None, digits: int = 3) -> str:
    """An interval, or NO_INTERVAL from one seed (``mean_ci`` gives None then)."""
    return NO_INTERVAL if low is None else f"[{low:.{digits}f}, {high:.{digits}f}]"


def methods_table(store: Store, study_ids: list[str]) -> list[str]:
    """The studies of one set of tasks side by side: score, epochs to converge, epochs to reach the shared target."""
    rows = method_rows([StudyResults.load(store, study_id) for study_id in study_ids])
    out = [f"\n## methods compared on {', '.join(sorted({r['task'] for r in rows}))}",
           f"{'study':<18} {'task':<8} {'score':>22} {'best epoch':>20} {'target':>7} {'epochs to target':>20}"]
    for r in rows:
        best = f"{r['epochs_to_converge']:.1f} {ci(r['epochs_ci_low'], r['epochs_ci_high'], 1)}" \
            if r["epochs_to_converge"] is not None else "-"
        reach = f"{r['epochs_to_target']:.1f} {ci(r['target_ci_low'], r['target_ci_high'], 1)}" \
            if r["epochs_to_target"] is not None else "-"
        out.append(f"{r['study']:<18} {r['task']:<8} {r['mean']:.3f} {ci(r['ci_low'], r['ci_high'])} "
                   f"{best:>20} {r['target'] if r['target'] is not None else float('nan'):>7.3f} {reach:>20}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", default=PRESETS, choices=list(load_presets()))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--plan", help="override each preset's plan (e.g. singles+all)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="RunConfig override")
    args = parser.parse_args()
    overrides = parse_sets(args.set)
    os.environ.setdefault("MTL_LAB_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
    store = Store(Path(tempfile.mkdtemp(prefix="mtl-bench-")) / "bench.sqlite")
    by_tasks: dict[tuple, list[str]] = {}
    for name in args.presets:
        lines, study_id = run_preset(name, args.seeds, overrides, args.plan, store)
        print("\n".join(lines), flush=True)
        by_tasks.setdefault(tuple(sorted(store.study(study_id)["tasks"] or {})), []).append(study_id)
    for study_ids in by_tasks.values():
        if len(study_ids) > 1:
            print("\n".join(methods_table(store, study_ids)), flush=True)


if __name__ == "__main__":
    main()
