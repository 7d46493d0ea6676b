"""Per-client upload rates and a deadline on upload bodies, in front of Gradio's upload route.

Gradio stores every upload in its cache: one anonymous client stored 1 MiB uploads at about
116 MiB/s, and 32 uploads sending one byte a second were held open with no end. Here each client
(clients.py) may upload so many bytes a minute, and an upload's body must arrive within a deadline.
The cache's total size is bounded elsewhere (files.CacheSweeper); `on_upload` tells it what arrived.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from sentiment_demo.web.asgi import ASGIApp, Message, Receive, Scope, Send, send_json
from sentiment_demo.web.clients import client_address

WINDOW_SECONDS = 60.0


class _Stopped(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class UploadLimit:
    """ASGI middleware on upload routes: `max_bytes_per_minute` per client, `timeout` s per body.

    A declared Content-Length that would take the client past its budget is refused with 429 before
    the body is read; a body sent without one is counted as it arrives. A body still arriving after
    `timeout` seconds is cut off with 408. At most `max_clients` clients are remembered.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes_per_minute: int,
        timeout: float,
        on_upload: Callable[[int], None] = lambda size: None,
        suffixes: tuple[str, ...] = ("/upload",),
        max_clients: int = 10_000,
    ) -> None:
        """Limit uploads on paths that end with one of `suffixes`."""
        self.app = app
        self.max_bytes = max_bytes_per_minute
        self.timeout = timeout
        self.on_upload = on_upload
        self.suffixes = suffixes
        self.max_clients = max_clients
        self._sent: OrderedDict[str, deque[list[float]]] = OrderedDict()  # [time, bytes]

    def used(self, client: str, now: float) -> int:
        """Bytes the client uploaded in the last minute."""
        record = self._sent.get(client)
        if record is None:
            return 0
        while record and record[0][0] < now - WINDOW_SECONDS:
            record.popleft()
        return int(sum(size for _, size in record))

    def _start(self, client: str, now: float) -> list[float]:
        # Counted while it arrives, so uploads sent side by side share one budget.
        entry = [now, 0.0]
        self._sent.setdefault(client, deque()).append(entry)
        self._sent.move_to_end(client)
        while len(self._sent) > self.max_clients:
            self._sent.popitem(last=False)
        return entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass an upload within the client's budget and deadline on; refuse the others."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].rstrip("/").endswith(self.suffixes)
        ):
            await self.app(scope, receive, send)
            return
        client = client_address(scope)
        now = time.monotonic()
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if (
            declared is not None
            and declared.isdigit()
            and self.used(client, now) + int(declared) > self.max_bytes
        ):
            await self._refuse(send, 429, self._rate_message(client, now))
            return
        deadline = now + self.timeout
        entry = self._start(client, now)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            left = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except TimeoutError:
                raise _Stopped(408, self._slow_message()) from None
            if message["type"] == "http.request":
                size = len(message.get("body", b""))
                received += size
                entry[1] += size
                if self.used(client, time.monotonic()) > self.max_bytes:
                    raise _Stopped(429, self._rate_message(client, time.monotonic()))
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except _Stopped as stopped:
            if not started:
                await self._refuse(send, stopped.status, stopped.message)
        finally:
            if received:
                self.on_upload(received)

    def _rate_message(self, client: str, now: float) -> str:
        record = self._sent.get(client)
        wait = WINDOW_SECONDS - (now - record[0][0]) if record else WINDOW_SECONDS
        return (
            f"too much uploaded from this address: at most {self.max_bytes // 1024:,} KiB a "
            f"minute per client (--upload-kb-per-minute); try again in {max(1, math.ceil(wait))} s"
        )

    def _slow_message(self) -> str:
        return (
            f"the upload did not arrive within {self.timeout:g} s (--upload-timeout); "
            "try again on a faster connection, or send a smaller file"
        )

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        body = {"detail": message, "error": message, "error_type": "Validation"}
        if status == 429:
            body["error_type"] = "Overloaded"
        await send_json(send, status, body, {"connection": "close"})
