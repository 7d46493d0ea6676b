"""Scoring a model on labelled data: metrics (scikit-learn), label mapping, the per-model report."""
