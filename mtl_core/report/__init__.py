"""A whole study to hand to a colleague: one self-contained HTML report, a zip of its CSV tables, and an MLflow
experiment. Above ``mtl_core.charts`` (it draws with the same figure functions as the Compare page), below the CLI
and the pages, which call it."""
