"""Torch-free core: the Classifier protocol and ModelInfo, engine, scheduler, schemes and metrics.

Backends, the web layer and the UI depend on it; it depends on none of them.
"""
