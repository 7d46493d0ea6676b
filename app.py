"""Composition root: settings → classifier → engine, scheduler and Gradio app → launch.

`python app.py --help` lists every setting; each also reads a SENTIMENT_* environment variable (on a
Hugging Face Space, set them as Space variables). Nothing happens at import time.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiment_demo.config import Settings, parse_settings
from sentiment_demo.errors import ModelLoadError

if TYPE_CHECKING:
    from sentiment_demo.service import Service

logger = logging.getLogger("sentiment_demo")


def zero_gpu_wrapper() -> Callable[[Callable[..., Any]], Callable[..., Any]] | None:
    """`spaces.GPU` on Hugging Face ZeroGPU hardware; None everywhere else."""
    try:
        import spaces  # only installed on Spaces
    except ImportError:
        return None
    # Without the package, `import spaces` finds this repo's spaces/ folder (a namespace package).
    gpu = getattr(spaces, "GPU", None)
    on_zero_gpu = getattr(getattr(spaces, "config", None), "Config", None)
    if gpu is None or not getattr(on_zero_gpu, "zero_gpu", False):
        return None
    return gpu(duration=20)  # type: ignore[no-any-return]


def start(settings: Settings) -> Service:
    """Load every model (a folder or Hub id, a remote URL, or the VADER lexicon) and build the service.

    Raises:
        ModelLoadError: a model cannot be loaded, or the set of models does not fit in memory.
    """
    if not settings.models:
        raise ValueError("--model / SENTIMENT_MODEL names no model")
    if settings.backend == "remote" and not settings.endpoint:
        raise ModelLoadError("--backend remote needs --endpoint URL (or SENTIMENT_ENDPOINT)")
    # On ZeroGPU, `spaces` must be imported before torch initialises CUDA.
    wrapper = zero_gpu_wrapper()
    from sentiment_demo.backends import load_models
    from sentiment_demo.service import build_service  # imports gradio: slow

    loaded = load_models(settings.models, settings)
    (classifier, info), *more = loaded
    return build_service(classifier, info, settings, model_call_wrapper=wrapper, more_models=more)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse settings, load, serve until interrupted; a start-up failure exits 2 with its cause."""
    settings = parse_settings(argv, os.environ)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The cache sweeper (files.py) removes old files from Gradio's cache folder, so the folder must be
    # this app's own rather than the /tmp/gradio other apps share. A folder the user chose wins.
    os.environ.setdefault(
        "GRADIO_TEMP_DIR", str(Path(tempfile.gettempdir()) / "gradio" / "sentiment-demo")
    )
    started = time.perf_counter()
    try:
        settings.auth_credentials()
        service = start(settings)
    except (ModelLoadError, ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logger.info("model ready in %.1f s", time.perf_counter() - started)
    # Everything loaded so far (the model, Gradio's app) lives as long as the process: moved out of
    # the garbage collector's view, full collections stop rescanning it on every request burst.
    gc.collect()
    gc.freeze()
    url = service.launch(
        server_name=settings.host or None,  # None lets Gradio read GRADIO_SERVER_NAME (Spaces)
        server_port=settings.port or None,
        share=settings.share,
    )
    logger.info("serving on %s (JSON: /predict, /healthz, /readyz, /metrics)", url)
    try:
        service.demo.block_thread()
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
