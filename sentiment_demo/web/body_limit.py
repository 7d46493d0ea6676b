"""An ASGI middleware that refuses request bodies over a size limit before reading them whole.

A declared Content-Length over the limit is answered 413 at once; a body sent without one (chunked) is
counted as it arrives and cut off at the limit. File uploads are left to Gradio, which bounds them
itself (`max_file_size`). The answer uses TEI's error body, like the JSON routes.
"""

from __future__ import annotations

from sentiment_demo.web.asgi import ASGIApp, Message, Receive, Scope, Send, send_json


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Wraps an ASGI app; bodies over `max_bytes` get 413 (paths ending in `exempt_suffixes` pass)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, exempt_suffixes: tuple[str, ...] = ("/upload",)
    ) -> None:
        """Limit every HTTP request body to `max_bytes`."""
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_suffixes = exempt_suffixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 when its body is over the limit."""
        if scope["type"] != "http" or scope["path"].rstrip("/").endswith(self.exempt_suffixes):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(send, None)

    async def _refuse(self, send: Send, size: int | None) -> None:
        said = f"{size:,} bytes" if size is not None else "more than the limit"
        error = (
            f"the request body is {said}; the limit is {self.max_bytes // 1024:,} KiB "
            "(--max-body-kb). Send fewer or shorter texts per request."
        )
        await send_json(
            send, 413, {"error": error, "error_type": "Validation"}, {"connection": "close"}
        )
