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
from sentiment_demo.files import KEEP_SECONDS, CacheSweeper, ResultFiles
from sentiment_demo.ui import build_demo
from sentiment_demo.web.auth import BasicAuthGuard, LoginThrottle
from sentiment_demo.web.body_limit import BodySizeLimit
from sentiment_demo.web.queue_full import CountQueueFull
from sentiment_demo.web.routes import add_api_routes


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

    def launch(self, **launch_kwargs: Any) -> str:
        """Start serving without blocking, add the JSON routes, and return the local URL."""
        credentials = self.settings.auth_credentials()

        @asynccontextmanager
        async def add_routes_before_serving(app: FastAPI) -> AsyncIterator[None]:
            # Added at start-up, before the first connection: added after launch() returned, they
            # answered 404 for a while when Gradio already served.
            add_api_routes(app, self.scheduler, self.metrics, self.settings, self.info, credentials)
            yield

        _, url, _ = self.demo.launch(
            prevent_thread_lock=True,
            auth=credentials,
            max_file_size=self.settings.max_upload_kb * 1024,  # the limit our own check names
            footer_links=["api", "gradio", "settings"],
            # Our handlers raise gr.Error with a message meant for people; this also shows the
            # message of errors Gradio raises itself, instead of "has not enabled verbose error
            # reporting".
            show_error=True,
            mcp_server=self.settings.mcp,
            enable_monitoring=False,  # /metrics replaces it; see _without_queue_analytics
            app_kwargs={
                "lifespan": add_routes_before_serving,
                "middleware": middleware(self.settings, self.metrics, credentials),
            },
            **launch_kwargs,
        )
        if self.settings.mcp and credentials:
            _log_mcp_client_in(self.demo, str(url), credentials[0])
        return str(url)

    def close(self) -> None:
        """Stop the server and the scheduler, and remove the files written for downloads."""
        self.demo.close()
        for scheduler in self.schedulers or [self.scheduler]:
            scheduler.close()
        self.results.close()
        self.cache_sweeper.close()


def middleware(
    settings: Settings, metrics: Metrics, credentials: list[tuple[str, str]] | None
) -> list[Middleware]:
    """The ASGI middlewares around Gradio's app and the JSON routes, outermost first."""
    return [
        Middleware(BodySizeLimit, max_bytes=settings.max_body_kb * 1024),
        # Gradio's login does not cover the MCP server it mounts.
        Middleware(BasicAuthGuard, credentials=credentials, prefixes=("/gradio_api/mcp",)),
        Middleware(LoginThrottle, enabled=bool(credentials)),
        Middleware(CountQueueFull, metrics=metrics),
    ]


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
) -> Service:
    """Wire each classifier → engine → scheduler, then the Gradio app with a bounded queue.

    The first classifier is the default (Analyse tab, /predict); `more_models` are served beside it,
    each with its own engine, scheduler and batches. `model_call_wrapper` is for ZeroGPU, where the
    model may run only inside a `spaces.GPU` call made from a Gradio request: the UI then calls the
    wrapped engine directly, without the scheduler.
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
        )
        classify_fn: Callable[[Sequence[object]], list[Outcome]] = partial(
            scheduler.classify, lane="ui"
        )
        if model_call_wrapper is not None:
            classify_fn = model_call_wrapper(engine.classify)
        schedulers.append(scheduler)
        served.append(ServedModel(name, model_info, _counted(classify_fn, metrics)))
    results = ResultFiles(keep_seconds=min(KEEP_SECONDS, settings.file_lifetime))
    demo = build_demo(served, settings, results)
    # A bounded queue answers "busy" at once instead of letting waits grow without limit.
    with _without_queue_analytics():
        demo.queue(max_size=settings.queue_size, default_concurrency_limit=1)
    sweeper = CacheSweeper(Path(demo.GRADIO_CACHE), settings.file_lifetime)
    return Service(
        demo, schedulers[0], metrics, settings, info, results, sweeper, served, schedulers
    )


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
