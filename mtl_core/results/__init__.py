"""Results: what a finished study's stored runs say (summary, gains, transfer, relatedness estimates,
groupings, methods side by side). A study is read once into a ``study_results.StudyResults``; the analyses are
pure functions over it; no training, no queue."""
