"""Every model backend behind one seam: a model spec in, a loaded (Classifier, ModelInfo) out.

A spec is what `--model` holds: `vader` (the lexicon baseline), an http(s) URL (a remote
text-embeddings-inference server, Inference Endpoint or another instance's /predict), or a local folder
or Hub id (transformers). Each kind lives in a module of its own, imported only when a spec of that
kind is served, so an app serving only VADER or a remote endpoint never imports torch. To add a
backend, add a module with a `load(spec, settings)` function and a row to BACKENDS.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Classifier, ModelInfo

logger = logging.getLogger(__name__)

VADER_SPEC = "vader"

Loaded = tuple[Classifier, ModelInfo]


@dataclass(frozen=True)
class Backend:
    """One kind of model: which specs it takes, and the module whose `load(spec, settings)` loads one."""

    name: str
    accepts: Callable[[str], bool]
    module: str


def is_remote(spec: str) -> bool:
    """True for an http(s) URL: a server that classifies texts for us."""
    return spec.startswith(("http://", "https://"))


# Tried in order; the last accepts everything (a folder or a Hub id).
BACKENDS = (
    Backend("vader", lambda spec: spec == VADER_SPEC, "sentiment_demo.backends.vader"),
    Backend("remote", is_remote, "sentiment_demo.backends.remote"),
    Backend("transformers", lambda spec: True, "sentiment_demo.backends.transformers_backend"),
)


def backend_for(spec: str) -> Backend:
    """The backend that serves a model spec."""
    return next(backend for backend in BACKENDS if backend.accepts(spec))


# Transformers models under `--runtime onnx` or `auto` (it may still choose torch).
ONNX_MODULE = "sentiment_demo.backends.onnx_backend"


def module_for(spec: str, settings: Settings) -> str:
    """The module that loads a spec: its backend's, or ONNX Runtime's for a transformers model."""
    backend = backend_for(spec)
    if backend.name == "transformers" and settings.runtime != "torch":
        return ONNX_MODULE
    return backend.module


def load_model(spec: str, settings: Settings) -> Loaded:
    """Load one model of any kind.

    Raises:
        ModelLoadError: the model cannot be loaded; the message names the cause and the fix.
    """
    loader: Callable[[str, Settings], Loaded] = importlib.import_module(
        module_for(spec, settings)
    ).load
    return loader(spec, settings)


def load_models(specs: Sequence[str], settings: Settings) -> list[Loaded]:
    """Load every model, the default first; local transformers models are checked to fit together first.

    Raises:
        ModelLoadError: one model cannot be loaded, or the local ones do not fit in memory together.
    """
    local = [spec for spec in specs if backend_for(spec).name == "transformers"]
    if local:
        from sentiment_demo.backends.checks import check_models_fit  # imports torch

        check_models_fit(local, settings)
    loaded = [load_model(spec, settings) for spec in specs]
    if len(loaded) > 1:
        total = sum(info.memory_bytes for _, info in loaded)
        logger.info(
            "serving %d models, about %d MiB in all: %s",
            len(loaded),
            total // 2**20,
            ", ".join(f"{info.model} {info.memory_bytes // 2**20} MiB" for _, info in loaded),
        )
    return loaded
