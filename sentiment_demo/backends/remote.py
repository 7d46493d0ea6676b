"""A Classifier that sends texts to a remote server through huggingface_hub.InferenceClient.

The server can be text-embeddings-inference, a Hugging Face Inference Endpoint, or another instance of
this app (its /predict route), so the same UI can front a scaled deployment. Token counts are not
reported by those servers, so remote predictions never say whether a text was truncated.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from huggingface_hub import InferenceClient

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import WARMUP_TEXTS, LabelScore, ModelInfo, Prediction
from sentiment_demo.errors import ModelLoadError


class RemoteClassifier:
    """Classifies each text with one InferenceClient call, several in flight at once."""

    def __init__(self, endpoint: str, max_batch_size: int, timeout: float = 30.0) -> None:
        """Talk to `endpoint`; the HF token, if any, comes from HF_TOKEN or the login cache."""
        self.endpoint = endpoint
        self.max_batch_size = max_batch_size
        self.client = InferenceClient(model=endpoint, timeout=timeout)
        # The server batches what arrives together, so requests go out side by side.
        self._pool = ThreadPoolExecutor(
            max_workers=min(16, max_batch_size), thread_name_prefix="remote"
        )

    def _one(self, text: str) -> Prediction:
        elements = self.client.text_classification(text)
        scores = sorted(
            (LabelScore(str(e.label), float(e.score)) for e in elements),
            key=lambda s: s.score,
            reverse=True,
        )
        return Prediction(tuple(scores), num_tokens=0, kept_tokens=0)

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        """Every text's scores, in order; any failure fails the whole batch."""
        return list(self._pool.map(self._one, texts))


def load(spec: str, settings: Settings) -> tuple[RemoteClassifier, ModelInfo]:
    """The backend hook (see backends/__init__.py): the endpoint at URL `spec`."""
    return load_remote_classifier(settings.with_overrides(endpoint=spec))


def load_remote_classifier(settings: Settings) -> tuple[RemoteClassifier, ModelInfo]:
    """Connect to settings.endpoint and learn its labels with a first call.

    Raises:
        ModelLoadError: when no endpoint is set or it does not answer like a text classifier.
    """
    if not settings.endpoint:
        raise ModelLoadError("--backend remote needs --endpoint URL (or SENTIMENT_ENDPOINT)")
    started = time.perf_counter()
    classifier = RemoteClassifier(settings.endpoint, settings.max_batch_size)
    try:
        probe = classifier.classify_batch(list(WARMUP_TEXTS))
    except Exception as exc:
        raise ModelLoadError(
            f"the endpoint {settings.endpoint} did not classify a test text: {type(exc).__name__}: "
            f"{exc}. Check the URL (for this app it ends in /predict) and HF_TOKEN."
        ) from exc
    seconds = round(time.perf_counter() - started, 2)
    labels = tuple(sorted(score.label for score in probe[0].scores))
    info = ModelInfo(
        model=settings.endpoint,
        device="remote",
        backend="remote",
        dtype="n/a (remote)",
        labels=labels,
        max_tokens=0,
        num_parameters=0,
        num_threads=0,
        load_seconds=seconds,
        warmup_seconds=seconds,
        model_card=None,
    )
    return classifier, info
