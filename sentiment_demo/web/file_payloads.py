"""Refuses a Gradio API request whose file payload points at a path this server did not store.

Gradio refuses such a file too, but its message names the absolute path, which for a relative one
is the server's working directory ("Cannot move /srv/app/README.md ..."). This check answers first,
with a message that names no server path. It knows nothing of what the files hold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from sentiment_demo.web.asgi import ASGIApp, Receive, Scope, Send, send_json
from sentiment_demo.web.clients import read_body, replay
from sentiment_demo.web.queue_limit import is_enqueue

REFUSED = (
    "A file in this request was not uploaded to this server. Upload it first (the Upload button, "
    "or POST /gradio_api/upload) and send the path that the upload returns."
)


def file_paths(data: object) -> Iterator[str]:
    """Every `path` of a file payload ({"path": ..., ...}) anywhere in a decoded JSON value."""
    if isinstance(data, dict):
        path = data.get("path")
        if isinstance(path, str):
            yield path
        for value in data.values():
            yield from file_paths(value)
    elif isinstance(data, list):
        for value in data:
            yield from file_paths(value)


def is_stored(path: str, upload_folder: Path) -> bool:
    """True for a URL, or an absolute path inside the upload folder (after resolving links and ..)."""
    if path.startswith(("http://", "https://")):
        return True
    if not os.path.isabs(path):
        return False
    return Path(path).resolve().is_relative_to(upload_folder.resolve())


class RefuseServerPaths:
    """ASGI middleware: an enqueue carrying a file path outside `upload_folder` gets 400."""

    def __init__(self, app: ASGIApp, upload_folder: Path) -> None:
        """Check the file payloads of requests that enqueue an event."""
        self.app = app
        self.upload_folder = upload_folder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 400 for a payload naming a path the server did not store; pass the rest on."""
        if not is_enqueue(scope):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            payload = None  # Gradio answers a malformed body itself
        data = payload.get("data") if isinstance(payload, dict) else None
        try:
            paths = list(file_paths(data))
        except RecursionError:
            paths = []
        if any(not is_stored(path, self.upload_folder) for path in paths):
            body_out = {"detail": REFUSED, "error": REFUSED, "error_type": "Validation"}
            await send_json(send, 400, body_out)
            return
        await self.app(scope, replay(body, receive), send)
