"""Puts a loaded classifier behind the scheduler, the Gradio app and the JSON routes, and launches.

app.py uses it with the real model and tests with a fake classifier, so both run the same wiring.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI
from starlette.middleware import Middleware

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Classifier, ModelInfo, Outcome, Rejection
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.core.metrics import Metrics
from sentiment_demo.core.scheduler import BatchScheduler
from sentiment_demo.core.served_model import ServedModel, display_names
from sentiment_demo.errors import OverloadedError
from sentiment_demo.feedback.collect import FeedbackCollector, FeedbackLimits
from sentiment_demo.feedback.store import FeedbackStore
from sentiment_demo.files import KEEP_SECONDS, CacheSweeper, ResultFiles
from sentiment_demo.ui import build_demo
from sentiment_demo.ui.styles import APP_CSS
from sentiment_demo.web.auth import BasicAuthGuard, LoginThrottle
from sentiment_demo.web.body_limit import BodySizeLimit
from sentiment_demo.web.clients import trusted_proxies_env
from sentiment_demo.web.file_payloads import RefuseServerPaths
from sentiment_demo.web.queue_full import CountQueueFull
from sentiment_demo.web.queue_limit import QueueLimit
from sentiment_demo.web.routes import add_api_routes
from sentiment_demo.web.upload_limit import UploadLimit


@dataclass
class Service:
    """The running pieces of one app instance."""

    demo: gr.Blocks
    scheduler: BatchScheduler  # the default model's: /predict, /info and health checks use it
    metrics: Metrics
    settings: Settings
    info: ModelInfo
    results: ResultFiles
    cache_sweeper: CacheSweeper
    models: list[ServedModel] = field(default_factory=list)
    schedulers: list[BatchScheduler] = field(default_factory=list)
    feedback: FeedbackCollector | None = None
    feedback_pusher: Any = None  # a FeedbackPusher (huggingface_hub) when --feedback-dataset is set

    def launch(self, **launch_kwargs: Any) -> str:
        """Start serving without blocking, add the JSON routes, and return the local URL."""
        credentials = self.settings.auth_credentials()

        @asynccontextmanager
        async def add_routes_before_serving(app: FastAPI) -> AsyncIterator[None]:
            # Added at start-up, before the first connection: added after launch() returned, they
            # answered 404 for a while when Gradio already served.
            add_api_routes(
                app,
                self.scheduler,
                self.metrics,
                self.settings,
                self.info,
                credentials,
                [(m.name, s) for m, s in zip(self.models, self.schedulers, strict=True)],
            )
            yield

        settings = self.settings
        with trusted_proxies_env(settings.trusted_proxies):
            _, url, _ = self.demo.launch(
                prevent_thread_lock=True,
                auth=credentials,
                max_file_size=settings.max_upload_kb * 1024,  # the limit our own check names
                footer_links=["api", "gradio", "settings"],
                css=APP_CSS,
                # Our handlers raise gr.Error with a message meant for people; this also shows the
                # message of errors Gradio raises itself, instead of "has not enabled verbose error
                # reporting".
                show_error=True,
                mcp_server=settings.mcp,
                enable_monitoring=False,  # /metrics replaces it; see _without_queue_analytics
                app_kwargs={
                    # FastAPI's page for the JSON routes (Gradio turns it off by default).
                    "docs_url": "/docs",
                    "lifespan": add_routes_before_serving,
                    "middleware": self.middleware(credentials),
                },
                **launch_kwargs,
            )
        if self.settings.mcp and credentials:
            _log_mcp_client_in(self.demo, str(url), credentials[0])
        return str(url)

    def middleware(self, credentials: list[tuple[str, str]] | None) -> list[Middleware]:
        """The ASGI middlewares in front of Gradio and the JSON routes, outermost first."""
        settings = self.settings
        return [
            Middleware(BodySizeLimit, max_bytes=settings.max_body_kb * 1024),
            Middleware(
                UploadLimit,
                max_bytes_per_minute=settings.upload_kb_per_minute * 1024,
                timeout=settings.upload_timeout,
                on_upload=self.cache_sweeper.note_written,
            ),
            Middleware(LoginThrottle, enabled=credentials is not None),
            # Gradio's login does not cover the MCP server it mounts.
            Middleware(BasicAuthGuard, credentials=credentials, prefixes=("/gradio_api/mcp",)),
            Middleware(
                QueueLimit,
                queue=GradioQueueView(self.demo),
                max_events=settings.max_events_per_client,
                max_sessions=settings.max_sessions_per_client,
            ),
            Middleware(RefuseServerPaths, upload_folder=Path(self.demo.GRADIO_CACHE)),
            Middleware(CountQueueFull, metrics=self.metrics),
        ]

    def close(self) -> None:
        """Stop the server and the scheduler, and remove the files written for downloads."""
        self.demo.close()
        for scheduler in self.schedulers or [self.scheduler]:
            scheduler.close()
        self.results.close()
        self.cache_sweeper.close()
        if self.feedback_pusher is not None:
            self.feedback_pusher.trigger().result()  # the last records, before the store closes
            self.feedback_pusher.stop()
        if self.feedback is not None:
            self.feedback.store.close()


class GradioQueueView:
    """queue_limit.QueueView on gradio 6.31's internals: its queue's events, its sessions' state.

    Private attributes: tests/test_web_limits.py fails if a Gradio upgrade changes them.
    """

    def __init__(self, demo: gr.Blocks) -> None:
        """Read `demo`'s queue and state holder (the holder exists once the app is created)."""
        self.demo = demo

    def live(self, event_id: str) -> bool:
        """True from the moment Gradio queues the event until it has been processed."""
        return event_id in self.demo._queue.event_ids_to_events

    def forget_session(self, session_hash: str) -> None:
        """Drop a session's state: Gradio keeps a copy of every component's config per session."""
        holder = self.demo.state_holder
        with holder.lock:
            holder.session_data.pop(session_hash, None)
            holder.time_last_used.pop(session_hash, None)


def _log_mcp_client_in(demo: gr.Blocks, url: str, login: tuple[str, str]) -> None:
    """Give Gradio's MCP server a logged-in client: it calls the app's own API over HTTP, as a guest.

    Without this, every MCP tool call of an app with a login fails ("credentials were not provided").
    This sets a private attribute of gradio 6.31's GradioMCPServer; tests/test_abuse.py fails if a
    Gradio upgrade changes it.
    """
    from gradio_client import Client

    server = getattr(demo, "mcp_server_obj", None)
    if server is None or not hasattr(server, "_client_instance"):
        raise RuntimeError("Gradio's MCP server changed: cannot give it the login; see service.py")
    server._client_instance = Client(
        url,
        auth=login,
        download_files=False,
        verbose=False,
        analytics_enabled=False,
        _skip_components=False,
        headers={"x-gradio-user": "mcp"},
    )


def build_service(
    classifier: Classifier,
    info: ModelInfo,
    settings: Settings,
    model_call_wrapper: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None,
    more_models: Sequence[tuple[Classifier, ModelInfo]] = (),
    hub_api: Any = None,
) -> Service:
    """Wire each classifier → engine → scheduler, then the Gradio app with a bounded queue.

    The first classifier is the default (Analyse tab, /predict); `more_models` are served beside it,
    each with its own engine, scheduler and batches. `model_call_wrapper` is for ZeroGPU, where the
    model may run only inside a `spaces.GPU` call made from a Gradio request: the UI then calls the
    wrapped engine directly, without the scheduler. With `--feedback`, the feedback database is
    opened (and, with `--feedback-dataset`, pushed through `hub_api`, an HfApi by default).
    """
    metrics = Metrics()
    loaded = [(classifier, info), *more_models]
    schedulers: list[BatchScheduler] = []
    served: list[ServedModel] = []
    for name, (model_classifier, model_info) in zip(
        display_names([i.model for _, i in loaded]), loaded, strict=True
    ):
        engine = BatchEngine(model_classifier, settings.max_text_chars)
        scheduler = BatchScheduler(
            engine,
            max_batch_texts=settings.max_batch_size,
            max_pending_texts=settings.queue_texts,
            max_wait_ms=settings.batch_wait_ms,
            metrics=metrics,
            max_bulk_chars=settings.max_bulk_chars,
        )
        classify_fn: Callable[[Sequence[object]], list[Outcome]] = partial(
            scheduler.classify, lane="ui"
        )
        if model_call_wrapper is not None:
            classify_fn = model_call_wrapper(engine.classify)
        schedulers.append(scheduler)
        served.append(ServedModel(name, model_info, _counted(classify_fn, metrics)))
    results = ResultFiles(keep_seconds=min(KEEP_SECONDS, settings.file_lifetime))
    feedback = open_feedback(settings, served)
    pusher = None
    if feedback is not None and settings.feedback_dataset:
        from sentiment_demo.feedback.hub_sync import FeedbackPusher

        pusher = FeedbackPusher(
            feedback.store,
            settings.feedback_dataset,
            settings.feedback_push,
            settings.feedback_push_minutes,
            Path(settings.feedback).with_name(Path(settings.feedback).name + ".push"),
            hf_api=hub_api,
        )
    demo = build_demo(served, settings, results, feedback)
    # A bounded queue answers "busy" at once instead of letting waits grow without limit.
    with _without_queue_analytics():
        demo.queue(max_size=settings.queue_size, default_concurrency_limit=1)
    sweeper = CacheSweeper(
        Path(demo.GRADIO_CACHE), settings.file_lifetime, max_bytes=settings.max_cache_mb * 2**20
    )
    results.on_write = sweeper.note_written
    return Service(
        demo, schedulers[0], metrics, settings, info, results, sweeper, served, schedulers,
        feedback, pusher,
    )  # fmt: skip


def open_feedback(settings: Settings, models: Sequence[ServedModel]) -> FeedbackCollector | None:
    """The feedback collector over the database named by --feedback; None when feedback is off.

    Raises:
        ValueError: a malformed --feedback-owner value.
        FeedbackSchemaError: the file is not a feedback database this release can use.
    """
    if not settings.feedback:
        return None
    settings.feedback_owner_credentials()  # fail at start-up, not at the first sign-in
    store = FeedbackStore(
        settings.feedback, settings.feedback_max_mb * 2**20, settings.feedback_salt
    )
    limits = FeedbackLimits(
        settings.max_text_chars, settings.feedback_note_chars, settings.feedback_per_minute
    )
    return FeedbackCollector(store, models, limits)


# Gradio's queue rebuilds a pandas summary of its last 10,000 events after every event, for a monitoring
# page this app turns off. The cost grows with the events kept: after 6,000 requests bench/ measured
# 0.5-1.7 ms more server CPU per request (Gradio's own cost is 2.5 ms) and 190 MiB more memory.
# These variables, read when the queue is created, keep one event and never rebuild the summary.
# A value set by the user wins.
QUEUE_ANALYTICS_OFF = {
    "GRADIO_ANALYTICS_MAX_EVENTS": "1",
    "GRADIO_ANALYTICS_CACHE_FREQUENCY": str(2**62),
}


@contextmanager
def _without_queue_analytics() -> Iterator[None]:
    """Set QUEUE_ANALYTICS_OFF (where unset) while the queue is created, then restore the environment."""
    added = {name: value for name, value in QUEUE_ANALYTICS_OFF.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def outcome_name(outcome: Outcome) -> str:
    """The metrics outcome of one text: ok, rejected (the input), or failed (the model raised)."""
    if isinstance(outcome, Rejection):
        return "failed" if outcome.model_error else "rejected"
    return "ok"


def _counted(
    classify_fn: Callable[[Sequence[object]], list[Outcome]], metrics: Metrics
) -> Callable[[Sequence[object]], list[Outcome]]:
    """Count the UI's texts by outcome under the route "ui", each with its batch's latency."""

    def classify(texts: Sequence[object]) -> list[Outcome]:
        started = time.perf_counter()
        try:
            outcomes = classify_fn(texts)
        except OverloadedError:
            metrics.requests.labels("ui", "overloaded").inc(len(texts))
            raise
        except BaseException:
            metrics.requests.labels("ui", "error").inc(len(texts))
            raise
        elapsed = time.perf_counter() - started
        for outcome in outcomes:
            metrics.requests.labels("ui", outcome_name(outcome)).inc()
            metrics.latency.labels("ui").observe(elapsed)
        return outcomes

    return classify
