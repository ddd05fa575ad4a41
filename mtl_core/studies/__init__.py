"""Studies: a spec and its planned runs, presets, data prepared once per study, running a study's runs,
the persistent queue and the background worker, time estimates."""
