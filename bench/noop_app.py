"""The app's own wiring (scheduler, queue, batch=True, routes) over a classifier that does no work.

Its server CPU per request is the cost of Gradio's protocol alone. Run: python bench/noop_app.py PORT
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sentiment_demo.config import Settings
from sentiment_demo.engine import LabelScore, Prediction
from sentiment_demo.loading import ModelInfo
from sentiment_demo.serving import build_service


class InstantClassifier:
    """Answers at once with fixed scores: no tokenizer, no model."""

    max_batch_size = 32

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        scores = (LabelScore("positive", 0.5), LabelScore("negative", 0.5))
        return [Prediction(scores, num_tokens=1, kept_tokens=1) for _ in texts]


if __name__ == "__main__":
    settings = Settings(port=int(sys.argv[1]), host="127.0.0.1")
    info = ModelInfo("none", "cpu", "none", ("negative", "positive"), 512, 0, 1, 0.0, 0.0, None)
    service = build_service(InstantClassifier(), info, settings)
    service.launch(server_name=settings.host, server_port=settings.port)
    service.demo.block_thread()
