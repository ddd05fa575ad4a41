"""Results: what a finished study's stored runs say (summary, gains, transfer, relatedness estimates,
groupings, methods side by side). Pure functions over what the store holds; no training, no queue."""
