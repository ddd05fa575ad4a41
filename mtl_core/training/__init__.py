"""Training one run: its settings (RunConfig); the trainer (``trainer.train_run``) and its parts, ``setup``
(what a run builds), ``epoch`` (one epoch of optimizer steps), ``validation`` (scoring, model selection) and
``progress`` (clock and reports); losses, metrics, sampling, schedules, loss weighting, probes that measure
how tasks relate while training, and the classical baselines."""
