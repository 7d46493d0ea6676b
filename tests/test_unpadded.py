"""The unpadded BERT forward: same results as the model's own padded forward, used only when it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.backends.unpadded import UnpaddedBertForward, packed_rows
from sentiment_demo.config import Settings
from tests.conftest import EMBEDDED_MODEL

# Lengths from one word to the tiny model's 32-token limit, so batches mix very different widths.
TEXTS = [
    "good",
    "the plot was not very good but the acting was great !",
    "awful film",
    "i love this movie , it is fun and not boring , the acting is great and the plot is good "
    "but the end is bad and the music is awful",
    "bad bad bad",
]


def _load(model: Path, **overrides: object) -> tuple:
    settings = Settings(model=str(model), device="cpu", dtype="float32", num_threads=1)
    return load_classifier(settings.with_overrides(warmup=False, **overrides))


def test_unpadded_forward_gives_the_padded_forwards_logits(tiny_model_dir: Path) -> None:
    classifier, info = _load(tiny_model_dir)
    assert info.forward == "unpadded"
    batch_ids = classifier.tokenizer(TEXTS, truncation=True, max_length=32)["input_ids"]
    assert len({len(ids) for ids in batch_ids}) == len(TEXTS)
    with torch.inference_mode():
        padded = classifier._padded_logits(batch_ids)
        unpadded = classifier.unpadded(batch_ids).float()
    torch.testing.assert_close(unpadded, padded, atol=1e-5, rtol=1e-5)


def test_results_do_not_depend_on_the_forward(tiny_model_dir: Path) -> None:
    unpadded, _ = _load(tiny_model_dir)
    padded, info = _load(tiny_model_dir, unpadded=False)
    assert info.forward == "padded"
    assert padded.unpadded is None
    for a, b in zip(unpadded.classify_batch(TEXTS), padded.classify_batch(TEXTS), strict=True):
        assert a.as_dict() == pytest.approx(b.as_dict(), abs=1e-5)
        assert (a.num_tokens, a.kept_tokens) == (b.num_tokens, b.kept_tokens)


def test_a_forward_that_disagrees_is_not_used(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    honest = UnpaddedBertForward.__call__
    monkeypatch.setattr(UnpaddedBertForward, "__call__", lambda self, ids: honest(self, ids) * 1.5)
    classifier, info = _load(tiny_model_dir)
    assert info.forward == "padded"
    assert classifier.unpadded is None
    assert "serving the padded forward" in caplog.text


def test_other_architectures_keep_the_padded_forward() -> None:
    config = DistilBertConfig(
        vocab_size=40, dim=32, n_layers=1, n_heads=2, hidden_dim=64, max_position_embeddings=32
    )
    assert UnpaddedBertForward.from_model(DistilBertForSequenceClassification(config)) is None


@pytest.mark.skipif(not EMBEDDED_MODEL.is_dir(), reason="the embedded model is missing")
def test_embedded_model_in_bfloat16_agrees_with_its_padded_forward() -> None:
    from bench.texts import review_texts

    texts = review_texts(200)
    settings = Settings(device="cpu", dtype="bfloat16", num_threads=1, warmup=False)
    unpadded, info = load_classifier(settings)
    padded, _ = load_classifier(settings.with_overrides(unpadded=False))
    assert info.forward == "unpadded"
    a, b = unpadded.classify_batch(texts), padded.classify_batch(texts)
    assert [p.label for p in a] == [p.label for p in b]
    assert max(abs(x.score - y.score) for x, y in zip(a, b, strict=True)) < 2e-2


def test_packed_sizes_are_few_and_waste_little() -> None:
    sizes = {packed_rows(tokens) for tokens in range(1, 8193)}
    assert len(sizes) == 56  # oneDNN keeps kernels per shape: this bounds them
    for tokens in range(1, 8193):
        rows = packed_rows(tokens)
        assert rows >= tokens
        assert rows - tokens < 16 or (rows - tokens) / tokens <= 0.125
