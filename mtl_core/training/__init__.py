"""Training one run: its settings (RunConfig), the trainer, losses, metrics, sampling, schedules,
loss weighting, probes that measure how tasks relate while training, and the classical baselines."""
