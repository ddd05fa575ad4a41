"""Task relatedness from task subsets (Li, Nguyen & Zhang 2023, "Identification of negative transfers in
multitask learning using surrogate models"): a balanced sample of task subsets to train (``subsets``), a linear
surrogate of each task's score from which partners it trained with (``surrogate``), the best grouping the
surrogate predicts (``group_search``), and every estimate checked against held-out measurements (``checks``).

Pure numpy/scipy over plain rows: no torch, no store, no plotting. ``mtl_core.studies.spec`` samples a study's
subsets with it; ``mtl_core.results.subset_estimates`` feeds it a study's measured scores.
"""
