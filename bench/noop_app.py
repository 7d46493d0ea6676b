"""The app's own wiring (build_demo, queue, batch=True) over a classifier that does no work.

Its server CPU per request is the cost of Gradio's protocol alone. Run: python bench/noop_app.py PORT
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sentiment_demo.config import Settings
from sentiment_demo.engine import BatchEngine, LabelScore, Prediction
from sentiment_demo.loading import ModelInfo
from sentiment_demo.ui import build_demo


class InstantClassifier:
    """Answers at once with fixed scores: no tokenizer, no model."""

    max_batch_size = 32

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        scores = (LabelScore("positive", 0.5), LabelScore("negative", 0.5))
        return [Prediction(scores, num_tokens=1, kept_tokens=1) for _ in texts]


settings = Settings(port=int(sys.argv[1]), host="127.0.0.1")
info = ModelInfo("none", "cpu", "none", ("negative", "positive"), 512, 0, 1, 0.0, 0.0, None)
demo = build_demo(BatchEngine(InstantClassifier(), settings.max_text_chars), settings, info)
demo.queue(max_size=settings.queue_size, default_concurrency_limit=1).launch(
    server_name=settings.host, server_port=settings.port
)
