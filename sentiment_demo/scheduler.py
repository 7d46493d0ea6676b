"""One worker thread that merges texts from every caller into shared forward passes.

Gradio's batched handlers, the JSON /predict route and explanations all submit here, so requests that
arrive together share a forward pass whichever door they came in by. The worker takes every request
already waiting; it can also wait `max_wait_ms` for more, though bench/ measured that slower on 2 cores.
It knows nothing about HTTP or Gradio; the BatchEngine does validation, sorting and chunking.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sentiment_demo.engine import BatchEngine, Outcome, Prediction, Rejection
from sentiment_demo.errors import OverloadedError
from sentiment_demo.metrics import Metrics


@dataclass
class _Request:
    texts: Sequence[object]
    future: Future[list[Outcome]]
    submitted: float = field(default_factory=time.perf_counter)


class BatchScheduler:
    """Collects submitted texts and runs them through the engine in merged batches on one thread."""

    def __init__(
        self,
        engine: BatchEngine,
        max_batch_texts: int,
        max_pending: int,
        max_wait_ms: float = 2.0,
        metrics: Metrics | None = None,
    ) -> None:
        """Start the worker; `max_pending` queued requests at most, then OverloadedError."""
        self.engine = engine
        self.max_batch_texts = max_batch_texts
        self.max_pending = max_pending
        self.max_wait = max_wait_ms / 1000
        self.metrics = metrics
        self._pending: deque[_Request] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="batch-scheduler", daemon=True)
        self._worker.start()

    @property
    def alive(self) -> bool:
        """True while the worker thread runs."""
        return self._worker.is_alive() and not self._closed

    def submit(self, texts: Sequence[object]) -> Future[list[Outcome]]:
        """Queue texts; the future holds one outcome per text, in order.

        Raises:
            OverloadedError: when `max_pending` requests are already waiting.
        """
        future: Future[list[Outcome]] = Future()
        with self._ready:
            if self._closed:
                raise OverloadedError("the server is shutting down")
            if len(self._pending) >= self.max_pending:
                raise OverloadedError(
                    f"{len(self._pending)} requests are already waiting (the limit is "
                    f"{self.max_pending}); try again in a moment"
                )
            self._pending.append(_Request(texts, future))
            self._set_depth()
            self._ready.notify()
        return future

    def classify(self, texts: Sequence[object]) -> list[Outcome]:
        """Submit and wait: the blocking call used by Gradio's worker threads."""
        return self.submit(texts).result()

    def close(self) -> None:
        """Stop the worker after the batch in flight; pending requests fail."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._worker.join(timeout=30)
        while self._pending:
            self._pending.popleft().future.set_exception(OverloadedError("the server stopped"))

    def _set_depth(self) -> None:
        if self.metrics:
            self.metrics.queue_depth.set(sum(len(r.texts) for r in self._pending))

    def _take_batch(self) -> list[_Request]:
        with self._ready:
            while not self._pending and not self._closed:
                self._ready.wait()
            if self._closed:
                return []
            # Let requests that are on their way join this forward pass.
            deadline = time.perf_counter() + self.max_wait
            while (
                sum(len(r.texts) for r in self._pending) < self.max_batch_texts
                and (remaining := deadline - time.perf_counter()) > 0
            ):
                self._ready.wait(remaining)
            batch: list[_Request] = [self._pending.popleft()]
            count = len(batch[0].texts)
            while self._pending and count + len(self._pending[0].texts) <= self.max_batch_texts:
                request = self._pending.popleft()
                batch.append(request)
                count += len(request.texts)
            self._set_depth()
            return batch

    def _run(self) -> None:
        while batch := self._take_batch():
            started = time.perf_counter()
            texts = [text for request in batch for text in request.texts]
            try:
                outcomes = self.engine.classify(texts)
            except BaseException as exc:  # a crash fails every request of this batch, as it should
                for request in batch:
                    request.future.set_exception(exc)
                continue
            if self.metrics:
                self.metrics.observe_batch(
                    size=len(texts),
                    tokens=sum(o.kept_tokens for o in outcomes if isinstance(o, Prediction)),
                    waits=[started - request.submitted for request in batch],
                )
                self.metrics.model_failures.inc(
                    sum(isinstance(o, Rejection) and o.model_error for o in outcomes)
                )
            offset = 0
            for request in batch:
                request.future.set_result(outcomes[offset : offset + len(request.texts)])
                offset += len(request.texts)
