"""The app's own wiring (scheduler, queue, batch=True, routes) over a classifier that does no work.

Its server CPU per request is the cost of Gradio's protocol alone. Given SECONDS_PER_TEXT, the classifier
sleeps that long per text instead: a model as fast as the ceiling that uses no CPU, which shows what
the queue's structure alone allows. SENTIMENT_* variables apply as in app.py.
Run: python bench/noop_app.py PORT [SECONDS_PER_TEXT]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import LabelScore, ModelInfo, Prediction
from sentiment_demo.service import build_service


class InstantClassifier:
    """Answers with fixed scores after `seconds_per_text` per text: no tokenizer, no model, no CPU."""

    max_batch_size = 32

    def __init__(self, seconds_per_text: float = 0.0) -> None:
        self.seconds_per_text = seconds_per_text

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        if self.seconds_per_text:
            time.sleep(self.seconds_per_text * len(texts))
        scores = (LabelScore("positive", 0.5), LabelScore("negative", 0.5))
        return [Prediction(scores, num_tokens=1, kept_tokens=1) for _ in texts]


if __name__ == "__main__":
    settings = Settings.from_env().with_overrides(port=int(sys.argv[1]), host="127.0.0.1")
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    info = ModelInfo("none", "cpu", "none", ("negative", "positive"), 512, 0, 1, 0.0, 0.0, None)
    service = build_service(InstantClassifier(delay), info, settings)
    service.launch(server_name=settings.host, server_port=settings.port)
    service.demo.block_thread()
