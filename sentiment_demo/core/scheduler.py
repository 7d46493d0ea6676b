"""One worker thread that merges texts from every caller into shared forward passes, fairly.

Gradio's batched handlers, the JSON /predict route and explanations all submit here, so requests that
arrive together share a forward pass whichever door they came in by. Three rules keep one client from
hurting another:

- Lanes. The browser ("ui") and programs ("api") each have their own queue and their own budget of
  waiting texts, and batches are filled from the lanes in turn: API clients cannot lock out browsers.
- Small first. A request that fits in a forward pass is "interactive"; a bigger one (a Batch job, an
  explanation, a long /predict list) is cut into chunks of `bulk_chunk` texts. Interactive requests ride
  in passes of their own, never merged with bulk chunks; a bulk pass holds at most `max_bulk_chars`
  characters (always at least one chunk), and while both kinds wait, passes alternate. So a single
  text waits for at most one bounded bulk pass and one interactive pass before its own, however long
  the bulk texts are, and batch jobs still get every other pass.
- Cost, not count. Admission bounds the texts waiting in a lane, not the requests; a request whose
  future is cancelled (its client left) is dropped before it reaches the model.

It knows nothing about HTTP or Gradio; the BatchEngine does validation, sorting and chunking.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial

from sentiment_demo.core.classifier import Outcome, Prediction, Rejection
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.core.metrics import Metrics
from sentiment_demo.errors import OverloadedError

LANES = ("ui", "api")
LANE_NAMES = {"ui": "browser users", "api": "API clients"}


@dataclass
class _Request:
    texts: Sequence[object]
    future: Future[list[Outcome]]
    lane: str
    submitted: float = field(default_factory=time.perf_counter)


@dataclass
class _Lane:
    interactive: deque[_Request] = field(default_factory=deque)
    bulk: deque[deque[_Request]] = field(default_factory=deque)  # jobs, each a queue of chunks
    texts: int = 0


def _chars(texts: Sequence[object]) -> int:
    """What a chunk costs the model, in characters (tokens are not known here)."""
    return sum(len(text) for text in texts if isinstance(text, str))


class BatchScheduler:
    """Collects submitted texts and runs them through the engine in merged, fair batches on one thread."""

    def __init__(
        self,
        engine: BatchEngine,
        max_batch_texts: int,
        max_pending_texts: int,
        max_wait_ms: float = 0.0,
        metrics: Metrics | None = None,
        max_bulk_chars: int = 16_000,
    ) -> None:
        """Start the worker; each lane may hold `max_pending_texts` waiting texts, then OverloadedError.

        A pass of bulk chunks holds at most `max_bulk_chars` characters (at least one chunk).
        """
        self.engine = engine
        self.max_batch_texts = max_batch_texts
        self.max_pending_texts = max_pending_texts
        # The size of bulk chunks; requests up to the rest of a pass are interactive.
        self.bulk_chunk = max(1, max_batch_texts // 4)
        self.max_bulk_chars = max_bulk_chars
        self._last_pass_interactive = False
        self.max_wait = max_wait_ms / 1000
        self.metrics = metrics
        self._lanes = {name: _Lane() for name in LANES}
        self._turn = 0
        self._ready = threading.Condition()
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="batch-scheduler", daemon=True)
        self._worker.start()

    @property
    def alive(self) -> bool:
        """True while the worker thread runs."""
        return self._worker.is_alive() and not self._closed

    def pending_texts(self, lane: str | None = None) -> int:
        """Texts waiting for the model, in one lane or in all."""
        with self._ready:
            return sum(self._lanes[n].texts for n in ([lane] if lane else LANES))

    def submit(self, texts: Sequence[object], lane: str = "api") -> Future[list[Outcome]]:
        """Queue texts; the future holds one outcome per text, in order. Cancel it to drop the work.

        Raises:
            OverloadedError: when the lane's budget of waiting texts is used up.
        """
        future: Future[list[Outcome]] = Future()
        with self._ready:
            if self._closed:
                raise OverloadedError("the server is shutting down")
            queue = self._lanes[lane]
            # An empty lane takes any request, so one request over the budget can still run alone.
            if queue.texts and queue.texts + len(texts) > self.max_pending_texts:
                raise OverloadedError(
                    f"{queue.texts:,} texts from {LANE_NAMES[lane]} are already waiting (the limit "
                    f"is {self.max_pending_texts:,}); try again in a moment"
                )
            if len(texts) <= self.max_batch_texts - self.bulk_chunk:
                queue.interactive.append(_Request(texts, future, lane))
            else:
                queue.bulk.append(deque(self._chunks(texts, future, lane)))
            queue.texts += len(texts)
            self._set_depth()
            self._ready.notify()
        return future

    def classify(self, texts: Sequence[object], lane: str = "ui") -> list[Outcome]:
        """Submit and wait: the blocking call used by Gradio's worker threads."""
        return self.submit(texts, lane).result()

    def close(self) -> None:
        """Stop the worker after the batch in flight; pending requests fail."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._worker.join(timeout=30)
        for lane in self._lanes.values():
            waiting = [*lane.interactive, *(chunk for job in lane.bulk for chunk in job)]
            for request in waiting:
                if request.future.set_running_or_notify_cancel():
                    request.future.set_exception(OverloadedError("the server stopped"))

    def _chunks(
        self, texts: Sequence[object], parent: Future[list[Outcome]], lane: str
    ) -> list[_Request]:
        """Cut a bulk request into chunks whose futures complete `parent`; cancelling it drops them."""
        pieces = [texts[i : i + self.bulk_chunk] for i in range(0, len(texts), self.bulk_chunk)]
        results: list[list[Outcome] | None] = [None] * len(pieces)
        lock = threading.Lock()
        chunks = [_Request(piece, Future(), lane) for piece in pieces]

        def on_chunk_done(index: int, done: Future[list[Outcome]]) -> None:
            if done.cancelled():
                return
            with lock:
                if parent.done():
                    return
                if done.exception() is not None:
                    parent.set_exception(done.exception())
                    return
                results[index] = done.result()
                if all(r is not None for r in results):
                    parent.set_result([o for r in results for o in r or []])

        for index, chunk in enumerate(chunks):
            chunk.future.add_done_callback(partial(on_chunk_done, index))

        def on_parent_done(done: Future[list[Outcome]]) -> None:
            if done.cancelled():
                for chunk in chunks:
                    chunk.future.cancel()  # only the chunks not yet taken by the worker

        parent.add_done_callback(on_parent_done)
        return chunks

    def _set_depth(self) -> None:
        if self.metrics:
            self.metrics.queue_depth.set(sum(lane.texts for lane in self._lanes.values()))

    def _lanes_in_turn(self) -> list[_Lane]:
        """The lanes, starting with a different one each batch, so neither always goes first."""
        self._turn = (self._turn + 1) % len(LANES)
        names = LANES[self._turn :] + LANES[: self._turn]
        return [self._lanes[name] for name in names]

    def _has_work(self) -> bool:
        return any(lane.interactive or lane.bulk for lane in self._lanes.values())

    def _take(self, lane: _Lane, request: _Request, batch: list[_Request]) -> int:
        """Move one request into the batch unless its client left; returns the texts it adds."""
        lane.texts -= len(request.texts)
        if not request.future.set_running_or_notify_cancel():
            if self.metrics:
                self.metrics.dropped_texts.inc(len(request.texts))
            return 0
        batch.append(request)
        return len(request.texts)

    def _take_batch(self) -> list[_Request]:
        with self._ready:
            while not self._has_work() and not self._closed:
                self._ready.wait()
            if self._closed:
                return []
            # Let requests that are on their way join this forward pass.
            deadline = time.perf_counter() + self.max_wait
            while (
                sum(lane.texts for lane in self._lanes.values()) < self.max_batch_texts
                and (remaining := deadline - time.perf_counter()) > 0
            ):
                self._ready.wait(remaining)
            lanes = self._lanes_in_turn()
            interactive = any(lane.interactive for lane in lanes)
            bulk = any(lane.bulk for lane in lanes)
            # Passes alternate while both wait: single texts never wait for more than one bulk pass,
            # and bulk jobs are never starved by a stream of single texts.
            take_interactive = interactive and not (bulk and self._last_pass_interactive)
            self._last_pass_interactive = take_interactive and bulk
            if take_interactive:
                return self._take_interactive(lanes)
            return self._take_bulk(lanes)

    def _take_interactive(self, lanes: list[_Lane]) -> list[_Request]:
        """Interactive requests only, one lane after the other, up to a full pass."""
        batch: list[_Request] = []
        room = self.max_batch_texts
        taken = True
        while taken:
            taken = False
            for lane in lanes:
                if lane.interactive and len(lane.interactive[0].texts) <= room:
                    room -= self._take(lane, lane.interactive.popleft(), batch)
                    taken = True
        self._set_depth()
        return batch

    def _take_bulk(self, lanes: list[_Lane]) -> list[_Request]:
        """Chunks of bulk jobs, one lane and one job after the other, within the character budget."""
        batch: list[_Request] = []
        room, chars = self.max_batch_texts, self.max_bulk_chars
        taken = True
        while taken:
            taken = False
            for lane in lanes:
                if not lane.bulk:
                    continue
                chunk = lane.bulk[0][0]
                cost = _chars(chunk.texts)
                if len(chunk.texts) > room or (batch and cost > chars):
                    continue
                job = lane.bulk.popleft()
                if self._take(lane, job.popleft(), batch):
                    room -= len(chunk.texts)
                    chars -= cost
                if job:
                    lane.bulk.append(job)
                taken = True
        self._set_depth()
        return batch

    def _run(self) -> None:
        while not self._closed:
            batch = self._take_batch()
            if not batch:
                continue
            started = time.perf_counter()
            texts = [text for request in batch for text in request.texts]
            try:
                outcomes = self.engine.classify(texts)
            except BaseException as exc:  # a backend bug fails every request of this batch
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
