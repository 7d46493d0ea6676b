"""The in-process ceiling: tokenize + forward with no server, best batch size and thread count.

Uses the app's own loader (so the same model, precision and length-sorted sub-batching) and reports
sentences/s for each configuration, plus the latency of one single-text forward pass.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

from sentiment_demo.backends.transformers_backend import TransformersClassifier, load_classifier
from sentiment_demo.config import Settings


@dataclass(frozen=True)
class CeilingResult:
    """Best in-process throughput for one precision, and the single-text forward latency."""

    dtype: str
    sentences_per_s: float
    batch_size: int
    threads: int
    single_forward_ms: float


def sentences_per_s(classifier: TransformersClassifier, batches: list[list[str]]) -> float:
    """Sentences/s classifying `batches` one after another."""
    started = time.perf_counter()
    for batch in batches:
        classifier.classify_batch(batch)
    return sum(map(len, batches)) / (time.perf_counter() - started)


def _throughput(classifier: TransformersClassifier, texts: list[str], batch_size: int) -> float:
    ordered = sorted(texts, key=len)
    return sentences_per_s(
        classifier, [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]
    )


def single_forward_ms(
    classifier: TransformersClassifier, texts: list[str], repeats: int = 30
) -> float:
    """Median milliseconds to classify one text alone (the floor of any request's latency)."""
    timings = []
    for text in texts[:repeats]:
        started = time.perf_counter()
        classifier.classify_batch([text])
        timings.append(1000 * (time.perf_counter() - started))
    return statistics.median(timings)


def measure_ceiling(
    model: str,
    dtype: str,
    texts: list[str],
    batch_sizes: tuple[int, ...] = (16, 32, 64),
    thread_counts: tuple[int, ...] = (1, 2),
) -> CeilingResult:
    """Try every batch size and thread count; keep the fastest (each measured twice, best kept).

    The single-text forward is also the fastest over thread counts: the latency target is relative to it.
    """
    settings = Settings(
        model=model,
        dtype=dtype,
        device="cpu",
        max_batch_size=max(batch_sizes),
        max_batch_tokens=1 << 20,
        warmup=True,
        num_threads=1,
    )
    classifier, info = load_classifier(settings)
    best = (0.0, 0, 0)
    for threads in thread_counts:
        torch.set_num_threads(threads)
        for batch_size in batch_sizes:
            rate = max(_throughput(classifier, texts, batch_size) for _ in range(2))
            best = max(best, (rate, batch_size, threads))
    single = float("inf")
    for threads in thread_counts:  # the fastest single-text forward, whichever thread count
        torch.set_num_threads(threads)
        single = min(single, single_forward_ms(classifier, texts))
    return CeilingResult(info.dtype, best[0], best[1], best[2], single)
