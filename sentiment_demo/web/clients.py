"""Who a request comes from, for the per-client limits: its address, believed from a proxy only.

uvicorn rewrites the connection's address from X-Forwarded-For when the connection comes from a host
in FORWARDED_ALLOW_IPS, which it reads when Gradio starts it and which defaults to loopback: so on
loopback any client could pick its own address. `trusted_proxies_env` sets it to --trusted-proxies
(empty: no proxy is believed) while the server starts; uvicorn then takes the right-most address
that is not a trusted proxy, the one the last trusted hop saw. This module does not count anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sentiment_demo.web.asgi import Message, Receive, Scope

FORWARDED_ENV = "FORWARDED_ALLOW_IPS"


def client_address(scope: Scope) -> str:
    """The address that identifies the client of a request (after uvicorn's trusted-proxy rewrite)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


@contextmanager
def trusted_proxies_env(trusted_proxies: str) -> Iterator[None]:
    """Set FORWARDED_ALLOW_IPS to `trusted_proxies` while uvicorn reads it, then restore it.

    An empty value trusts no proxy at all (uvicorn's own default trusts loopback).
    """
    before = os.environ.get(FORWARDED_ENV)
    os.environ[FORWARDED_ENV] = trusted_proxies
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(FORWARDED_ENV, None)
        else:
            os.environ[FORWARDED_ENV] = before


async def read_body(receive: Receive) -> bytes:
    """The whole request body (callers sit behind BodySizeLimit, which bounds it)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then passes on to `receive` (to see a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def json_field(body: bytes, name: str) -> str | None:
    """A top-level string field of a JSON object body, or None."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
