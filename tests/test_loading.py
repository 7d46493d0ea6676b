"""The transformers classifier on a tiny random model (built offline) and on the embedded model."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import torch

from sentiment_demo.backends.torch_device import (
    cpu_supports_bf16,
    resolve_device,
    resolve_dtype,
    resolve_threads,
)
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Classifier, ModelInfo, Prediction
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.errors import ModelLoadError

TEXTS = [
    "good film",
    "the plot was not very good but the acting was great !",
    "awful",
    "i love this movie , it is fun and not boring",
    "bad",
]


def _load(model: Path, **overrides: object) -> tuple:
    settings = Settings(
        model=str(model), device="cpu", dtype="float32", num_threads=1, warmup=False
    )
    return load_classifier(settings.with_overrides(**overrides))


def test_tiny_model_scores_every_label_summing_to_one(tiny_model_dir: Path) -> None:
    classifier, info = _load(tiny_model_dir)
    assert info.labels == ("negative", "neutral", "positive")
    assert (info.device, info.dtype, info.max_tokens) == ("cpu", "float32", 32)
    for prediction in classifier.classify_batch(TEXTS):
        assert {s.label for s in prediction.scores} == {"negative", "neutral", "positive"}
        assert math.isclose(sum(s.score for s in prediction.scores), 1.0, rel_tol=1e-5)
        assert [s.score for s in prediction.scores] == sorted(
            (s.score for s in prediction.scores), reverse=True
        )


def test_batch_and_single_calls_agree(tiny_model_dir: Path) -> None:
    classifier, _ = _load(tiny_model_dir)
    batched = classifier.classify_batch(TEXTS)
    for text, together in zip(TEXTS, batched, strict=True):
        alone = classifier.classify_batch([text])[0]
        assert alone.label == together.label
        for a, b in zip(alone.scores, together.scores, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-5)


def test_token_budget_splits_batches_without_changing_results(tiny_model_dir: Path) -> None:
    roomy, _ = _load(tiny_model_dir)
    tight, _ = _load(tiny_model_dir, max_batch_tokens=1, max_batch_size=2)
    for a, b in zip(roomy.classify_batch(TEXTS), tight.classify_batch(TEXTS), strict=True):
        assert a.as_dict() == pytest.approx(b.as_dict(), abs=1e-5)


def test_long_text_is_truncated_and_says_so(tiny_model_dir: Path) -> None:
    classifier, info = _load(tiny_model_dir)
    long_text = " ".join(["good"] * 100)
    short, long = classifier.classify_batch(["good film", long_text])
    assert not short.truncated
    assert long.truncated
    assert (long.num_tokens, long.kept_tokens) == (102, info.max_tokens)


def test_max_tokens_setting_lowers_the_truncation_point(tiny_model_dir: Path) -> None:
    classifier, info = _load(tiny_model_dir, max_tokens=8)
    assert info.max_tokens == 8
    assert classifier.classify_batch(["good " * 10])[0].kept_tokens == 8


def test_missing_model_fails_with_path_device_and_remedy(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"could not load model .*nowhere.* on cpu.*--model"):
        _load(tmp_path / "nowhere")


def test_resolve_device_auto_and_explicit() -> None:
    assert resolve_device("auto") in {"cuda", "mps", "cpu"}
    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ModelLoadError, match=r"no CUDA GPU.*--device cpu"):
            resolve_device("cuda")


def test_resolve_dtype_follows_the_device() -> None:
    assert resolve_dtype("auto", "cuda") == torch.float16
    expected_cpu = torch.bfloat16 if cpu_supports_bf16() else torch.float32
    assert resolve_dtype("auto", "cpu") == expected_cpu
    assert resolve_dtype("float32", "cpu") == torch.float32
    with pytest.raises(ModelLoadError, match="float16 on the CPU"):
        resolve_dtype("float16", "cpu")


def test_cpu_bf16_detection_reads_cpu_flags(tmp_path: Path) -> None:
    with_bf16 = tmp_path / "with"
    with_bf16.write_text("flags\t: fpu sse avx512f avx512_bf16\n")
    without = tmp_path / "without"
    without.write_text("flags\t: fpu sse avx2\n")
    assert cpu_supports_bf16(with_bf16)
    assert not cpu_supports_bf16(without)
    assert not cpu_supports_bf16(tmp_path / "missing")


def test_threads_default_to_one_per_core() -> None:
    assert resolve_threads(3) == 3
    assert resolve_threads(0) == (os.cpu_count() or 1)


@pytest.fixture(scope="module")
def embedded_engine(embedded_model: tuple[Classifier, ModelInfo]) -> BatchEngine:
    classifier, _ = embedded_model
    return BatchEngine(classifier, Settings().max_text_chars)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("A masterpiece: moving, funny and beautifully acted. I loved every minute.", "positive"),
        ("One of the best films of the year.", "positive"),
        ("A tedious, clumsy mess. I wanted my two hours back.", "negative"),
        ("Dull, predictable and far too long.", "negative"),
    ],
)
def test_embedded_model_gets_obvious_sentences_right(
    embedded_engine: BatchEngine, text: str, label: str
) -> None:
    prediction = embedded_engine.classify([text])[0]
    assert isinstance(prediction, Prediction)
    assert prediction.label == label
    assert prediction.score > 0.7  # clearly above chance; the soup is less extreme than one run


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_half_precision_agrees_with_cpu_float32(tiny_model_dir: Path) -> None:
    cpu, _ = _load(tiny_model_dir)
    gpu, info = _load(tiny_model_dir, device="cuda", dtype="auto")
    assert info.dtype == "float16"
    for a, b in zip(cpu.classify_batch(TEXTS), gpu.classify_batch(TEXTS), strict=True):
        assert a.as_dict() == pytest.approx(b.as_dict(), abs=2e-2)
