"""HTTP Basic credentials for the routes Gradio's login does not cover: the JSON routes and MCP.

Gradio's login protects its own pages and API; /predict, /info, /metrics (api.py) and the MCP server
(mounted by Gradio, but left open by it: checked on gradio 6.31) check the same user:password pairs
here, sent as HTTP Basic auth.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Sequence

from sentiment_demo.body_limit import ASGIApp, Receive, Scope, Send

Credentials = Sequence[tuple[str, str]]
UNAUTHORIZED_BODY = {"error": "authentication required", "error_type": "Unauthorized"}
CHALLENGE = 'Basic realm="sentiment", charset="UTF-8"'


def basic_auth_ok(header: str | None, credentials: Credentials | None) -> bool:
    """True when no login is required, or the Authorization header holds a configured pair."""
    if not credentials:
        return True
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).partition(b":")
    except binascii.Error:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII strings, and a password may be any UTF-8.
    return any(
        secrets.compare_digest(user, u.encode()) and secrets.compare_digest(password, p.encode())
        for u, p in credentials
    )


class BasicAuthGuard:
    """ASGI middleware: requests under `prefixes` need HTTP Basic credentials when a login is set."""

    def __init__(
        self, app: ASGIApp, credentials: Credentials | None, prefixes: tuple[str, ...]
    ) -> None:
        """Guard the paths that start with one of `prefixes`."""
        self.app = app
        self.credentials = credentials
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 401 for a guarded path without valid credentials; pass everything else on."""
        if scope["type"] == "http" and self.credentials and scope["path"].startswith(self.prefixes):
            headers = dict(scope.get("headers") or [])
            header = headers.get(b"authorization", b"").decode("latin-1")
            if not basic_auth_ok(header, self.credentials):
                body = json.dumps(UNAUTHORIZED_BODY).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", CHALLENGE.encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
