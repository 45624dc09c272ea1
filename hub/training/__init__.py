"""Training: losses of the papers, per-family recipes, the resumable trainer, `python -m hub.train`."""
