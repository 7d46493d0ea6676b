"""Counts Gradio's own "queue is full" answers in /metrics, which no handler of ours ever sees."""

from __future__ import annotations

from sentiment_demo.core.metrics import Metrics
from sentiment_demo.web.asgi import ASGIApp, Message, Receive, Scope, Send


class CountQueueFull:
    """ASGI middleware: count Gradio's own "queue is full" answers (HTTP 503) as overloaded UI requests.

    Gradio refuses them before any handler of ours runs, so /metrics would not see them otherwise.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting a 503 answer."""
        if scope["type"] != "http" or not scope["path"].startswith("/gradio_api/"):
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 503:
                self.metrics.requests.labels("ui", "overloaded").inc()
            await send(message)

        await self.app(scope, receive, counting_send)
