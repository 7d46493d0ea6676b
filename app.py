"""Composition root: settings → classifier → engine → Gradio app → launch.

`python app.py --help` lists every setting; each also reads a SENTIMENT_* environment variable (on a
Hugging Face Space, set them as Space variables). Nothing happens at import time.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sentiment_demo.config import Settings, parse_settings
from sentiment_demo.engine import BatchEngine
from sentiment_demo.errors import ModelLoadError

if TYPE_CHECKING:
    import gradio as gr

logger = logging.getLogger("sentiment_demo")


def zero_gpu_wrapper() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`spaces.GPU` on Hugging Face ZeroGPU hardware, where the package is installed; else no wrapping."""
    try:
        import spaces
    except ImportError:
        return lambda fn: fn
    # Without the package, `import spaces` finds this repo's spaces/ folder (a namespace package).
    gpu = getattr(spaces, "GPU", None)
    return gpu(duration=20) if gpu is not None else lambda fn: fn


def build_app(settings: Settings) -> gr.Blocks:
    """Load the model and build the Gradio Blocks, queue configured; raises ModelLoadError."""
    from sentiment_demo.loading import load_classifier
    from sentiment_demo.ui import build_demo

    classifier, info = load_classifier(settings)
    engine = BatchEngine(classifier, settings.max_text_chars)
    demo = build_demo(engine, settings, info, wrap_model_call=zero_gpu_wrapper())
    # A bounded queue answers "busy" at once instead of letting waits grow without limit.
    return demo.queue(max_size=settings.queue_size, default_concurrency_limit=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse settings, load, launch; a start-up failure exits 2 with a one-line cause."""
    settings = parse_settings(argv, os.environ)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    started = time.perf_counter()
    try:
        auth = settings.auth_credentials()
        demo = build_app(settings)
    except (ModelLoadError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logger.info(
        "ready in %.1f s; serving on http://%s:%d",
        time.perf_counter() - started,
        settings.host,
        settings.port,
    )
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        auth=auth,
        max_file_size=4 * settings.max_upload_kb * 1024,  # our own check names the real limit
        footer_links=["api", "gradio", "settings"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
