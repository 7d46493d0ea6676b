"""Prometheus metrics of one app instance, in its own registry (tests run several apps in one process)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    """Request counts by outcome, latency, queue wait, batch sizes, tokens and queue depth."""

    def __init__(self) -> None:
        """Create the metrics in a fresh registry."""
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sentiment_requests",
            "Requests by route and outcome: ok, rejected (the input), failed (the model raised on "
            "the text), overloaded (busy, incl. Gradio's queue-full answers), gone (the client left), "
            "error. Route ui counts texts: one per Analyse request, one per line of a Batch job",
            ["route", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "sentiment_request_latency_seconds",
            "Time from request to answer, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "sentiment_queue_wait_seconds",
            "Time a request waited for its forward pass",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "sentiment_batch_size_texts",
            "Texts per merged batch given to the model",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "sentiment_tokens_processed",
            "Tokens the model read (after truncation)",
            registry=self.registry,
        )
        self.model_failures = Counter(
            "sentiment_model_failures",
            "Texts the model raised on, each isolated from the rest of its batch",
            registry=self.registry,
        )
        self.dropped_texts = Counter(
            "sentiment_dropped_texts",
            "Texts dropped before the model because their client had gone",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "sentiment_queue_depth_texts", "Texts waiting for the model", registry=self.registry
        )

    def observe_batch(self, size: int, tokens: int, waits: Sequence[float]) -> None:
        """Record one merged batch and how long each of its requests waited."""
        self.batch_size.observe(size)
        self.tokens.inc(tokens)
        for wait in waits:
            self.queue_wait.observe(wait)

    @contextmanager
    def track(self, route: str) -> Iterator[dict[str, str]]:
        """Time a request; the caller sets outcome["outcome"], else an exception counts as error."""
        outcome = {"outcome": "ok"}
        started = time.perf_counter()
        try:
            yield outcome
        except BaseException:
            if outcome["outcome"] == "ok":
                outcome["outcome"] = "error"
            raise
        finally:
            self.requests.labels(route, outcome["outcome"]).inc()
            self.latency.labels(route).observe(time.perf_counter() - started)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
