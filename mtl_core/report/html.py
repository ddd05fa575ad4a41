"""One self-contained HTML file of a whole study: the method, the data and split, every chart the Compare page
draws, the tables with their verdicts, the baselines, and the commands that run it again.

It opens offline: Plotly's JavaScript is inside, once for all charts, gzip-compressed (base64) and unpacked by
the browser's own ``DecompressionStream`` (Chromium 80+, Firefox 113+, Safari 16.4+): 1.96 MB instead of the
4.8 MB plotly.min.js that every per-figure HTML export carries. Each chart is its figure's JSON; user text is
escaped everywhere (HTML and JSON alike).
"""
from __future__ import annotations

import base64
import gzip
import html
import time
from functools import lru_cache
from pathlib import Path

import plotly
import plotly.io as pio

from mtl_core.report.figures import Figure, study_figures
from mtl_core.report.reproduce import SPEC_COMMAND, cli_command, spec_json
from mtl_core.report.tables import StudyTables, Table, cell_text, study_tables
from mtl_core.results.study_results import StudyResults
from mtl_core.results.summary import describe_method
from mtl_core.store import Store
from mtl_core.training.config import RunConfig

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}td,th{border:1px solid #ddd;padding:3px 7px}
th{background:#f4f6f8;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.caption{color:#555;font-size:13px}pre{background:#f4f6f8;padding:.8em;overflow-x:auto;font-size:12px}
.plot{min-height:300px}.meta{color:#555}details{margin:1em 0}#plotly-error{color:#b2182b}"""

# Unpack Plotly (gzip, base64) once, then draw every chart from its JSON; body[data-charts] says when all are drawn.
LOADER = """(async () => {
  const packed = document.getElementById('plotly-gz').textContent;
  const bytes = Uint8Array.from(atob(packed), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  (0, eval)(await new Response(stream).text());
  for (const box of document.querySelectorAll('.figure')) {
    const fig = JSON.parse(box.querySelector('script[type="application/json"]').textContent);
    await Plotly.newPlot(box.querySelector('.plot'), fig.data, fig.layout, {responsive: true, displaylogo: false});
  }
  document.body.dataset.charts = 'drawn';
})().catch(err => {
  document.body.dataset.charts = 'failed';
  document.getElementById('plotly-error').textContent =
    'The charts could not be drawn in this browser (' + err + '). The tables below hold every number.';
});"""
RESULTS_TABLES = ("summary", "gains", "baselines")
RELATION_TABLES = ("transfer", "affinity", "grouping", "estimates")
VERDICT_NOTE = ("A verdict says <em>helps</em> or <em>hurts</em> only when the 95% CI of the gain excludes 0; "
                "otherwise it means \"can't tell\", not \"no effect\". With one seed no interval is known.")


@lru_cache(maxsize=1)
def packed_plotly() -> str:
    """The installed plotly.min.js, gzip-compressed and base64-encoded (computed once per process)."""
    js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    return base64.b64encode(gzip.compress(js, compresslevel=9, mtime=0)).decode("ascii")


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def table_html(table: Table, one_seed_intervals: bool = False) -> str:
    """A table of ``table.rows``; numbers right-aligned. ``one_seed_intervals``: a CI over fewer than two seeds is
    shown as 'n/a (1 seed)', never as an interval."""
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        one_seed = one_seed_intervals and (row.get("n_seeds") or 0) < 2
        cells = []
        for c in table.columns:
            v = row.get(c)
            text = "n/a (1 seed)" if one_seed and c in ("ci_low", "ci_high") else cell_text(v)
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append(f"<td{' class=n' if number else ''}>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure_html(fig: Figure, index: int) -> str:
    """A chart's box: title, the plot (drawn by LOADER), its JSON, its caption."""
    data = pio.to_json(fig.figure, validate=False, pretty=False).replace("</", "<\\/")  # cannot close the <script>
    return (f'<div class="figure"><h3>{_e(fig.title)}</h3><div class="plot" id="figure-{index}"></div>'
            f'<script type="application/json">{data}</script><p class="caption">{_e(fig.caption)}</p></div>')


def _kv(pairs: list[tuple[str, object]]) -> str:
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(cell_text(v))}</td></tr>" for k, v in pairs) + "</table>"


def method_section(results: StudyResults) -> str:
    config = RunConfig.from_dict(results.config).to_dict()  # every setting, defaults included
    return (f"<h2>Method</h2><p>{_e(describe_method(results.config))}</p>"
            f"<details><summary>Every run setting (RunConfig)</summary>{_kv(sorted(config.items()))}</details>")


def data_section(results: StudyResults) -> str:
    study, spec = results.study, results.spec
    split = study.get("split") or {}
    sizes = [(f"{part} examples", len(split.get(part) or [])) for part in ("train", "val", "test")] if split else []
    pairs = [("source", spec.get("source")), ("tasks", ", ".join(results.tasks) or spec.get("tasks")),
             ("plan", spec.get("plan")), ("seeds", spec.get("seeds")), ("split settings", spec.get("split")),
             ("split method", split.get("method")), *sizes]
    tasks = [{"task": name, "kind": t.get("kind"), "metric": results.lead.get(name), "labels": t.get("labels")}
             for name, t in results.tasks.items()]
    warnings = "".join(f"<li>{_e(w)}</li>" for w in (study.get("report") or {}).get("warnings") or [])
    return ("<h2>Data and split</h2>" + _kv(pairs)
            + (table_html(Table("tasks", "", tasks, ["task", "kind", "metric", "labels"])) if tasks else "")
            + (f"<p>Warnings when the data was loaded:</p><ul>{warnings}</ul>" if warnings else "")
            + '<p class="caption">One seeded split for the whole study; every run and both baselines use it. '
              "Model selection (early stopping) reads the validation part only; the test part is scored once.</p>")


def reproduce_section(results: StudyResults) -> str:
    command = cli_command(results.spec)
    cli = (f"<p>From the command line:</p><pre>{_e(command)}</pre>" if command else
           "<p>This study's data or split cannot be given on the command line; run its spec instead.</p>")
    return ("<h2>Run it again</h2>" + cli + "<p>Or save the spec below as <code>spec.json</code> and run:</p>"
            f"<pre>{_e(SPEC_COMMAND)}</pre><details><summary>spec.json</summary><pre>{_e(spec_json(results.spec))}"
            f"</pre></details><p>This report again: <code>python -m mtl_core export {_e(results.id)} --report</code></p>")


def tables_html(tables: StudyTables, names: tuple[str, ...]) -> str:
    return "".join(f"<h3>{_e(t.title)}</h3>" + table_html(t, one_seed_intervals=t.name == "summary")
                   for name in names if (t := tables.table(name)) is not None)


def header_html(results: StudyResults) -> str:
    done, total = len(results.finished_runs), len(results.runs)
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(results.study.get("created") or 0))
    note = results.study.get("note")
    return (f"<h1>{_e(results.name)}</h1><p class=\"meta\">Study {_e(results.id)} · {_e(results.status)} · "
            f"{done} of {total} runs finished · created {created} · report made "
            f"{time.strftime('%Y-%m-%d %H:%M')} by MTL Lab</p>" + (f"<p>{_e(note)}</p>" if note else "")
            + '<p id="plotly-error"></p>')


def body_html(results: StudyResults, tables: StudyTables, figures: list[Figure]) -> str:
    charts = {s: "".join(figure_html(f, k) for k, f in enumerate(figures) if f.section == s)
              for s in ("results", "relations", "curves")}
    relations = charts["relations"] + tables_html(tables, RELATION_TABLES)
    aux = tables_html(tables, ("auxiliary",))
    parts = [header_html(results), method_section(results), data_section(results),
             "<h2>Results</h2>", charts["results"], tables_html(tables, RESULTS_TABLES),
             f'<p class="caption">{VERDICT_NOTE}</p>',
             f"<h2>How the tasks relate</h2>{relations}" if relations else "",
             f"<h2>Automatic auxiliary tasks</h2>{aux}" if aux else "",
             f"<h2>Learning curves of every finished run</h2>{charts['curves']}" if charts["curves"] else "",
             f"<h2>Runs</h2>{tables_html(tables, ('runs',))}", reproduce_section(results)]
    return "".join(parts)


def study_report_html(store: Store, study_id: str) -> str:
    """The whole study as one HTML page (see the module docstring); a ConfigError when there is no such study."""
    results = StudyResults.load(store, study_id)
    tables = study_tables(results)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(results.name)} · MTL Lab report</title><style>{STYLE}</style></head><body>"
            + body_html(results, tables, study_figures(tables))
            + f'<script id="plotly-gz" type="application/octet-stream">{packed_plotly()}</script>'
            + f"<script>{LOADER}</script></body></html>")
