"""The tree stays readable: small modules, a trainer whose functions fit on a screen, pages that stay thin.

The import layers themselves are checked by import-linter (`make test` runs `lint-imports` on .importlinter).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 350    # STYLE.md: one module, one job; past ~350 lines, split
MAX_TRAINER_FUNCTION = 50  # nanoGPT's habit: a training step you can read top to bottom
SOURCES = sorted([*REPO.glob("mtl_core/**/*.py"), *REPO.glob("ui/**/*.py"), *REPO.glob("pages/*.py"), REPO / "app.py"])


def function_lengths(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text())
    return {f"{path.name}:{node.name}": node.end_lineno - node.lineno + 1 for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_is_over_350_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_every_trainer_function_fits_on_a_screen():
    lengths = {}
    for path in (REPO / "mtl_core" / "training").glob("*.py"):
        lengths.update(function_lengths(path))
    too_long = {name: n for name, n in lengths.items() if n > MAX_TRAINER_FUNCTION}
    assert "trainer.py:train_run" in lengths and not too_long


def test_the_function_length_check_sees_long_functions(tmp_path):
    long = tmp_path / "long.py"
    long.write_text("def f():\n" + "    x = 1\n" * 60)
    assert function_lengths(long) == {"long.py:f": 61}


def test_pages_live_in_pages_and_the_app_names_each():
    app = (REPO / "app.py").read_text()
    pages = sorted(p.name for p in (REPO / "pages").glob("*.py"))
    assert pages and all(f'"pages/{name}"' in app for name in pages)
    assert not (REPO / "views").exists()


def test_starting_a_study_imports_no_package_only_some_runs_need():
    """torchjd (gradient combination, ~0.35 s) and wordfreq (the word_freq auxiliary task, ~0.2 s) are imported
    by the run that uses them, not by every CLI, worker and page start; a gradient-combination method still
    makes its aggregator. Neither is scikit-learn or scipy (~1 s) by what a study on data split and baselined
    before runs: scoring, the results tables, the statistics."""
    import subprocess
    import sys

    code = ("import sys; from mtl_core.cli.options import build_parser; import mtl_core.studies.dispatch; "
            "import mtl_core.report.tables, mtl_core.training.baseline_cache, mtl_core.results.stats; build_parser(); "
            "print(sorted(m for m in ('torchjd', 'wordfreq', 'sklearn', 'scipy') if m in sys.modules)); "
            "from mtl_core.training.weighting import REGISTRY; "
            "w = REGISTRY['upgrad'](tasks=['a', 'b'], shared=[]); print(type(w.aggregator(['a', 'b'])).__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "UPGrad"]
