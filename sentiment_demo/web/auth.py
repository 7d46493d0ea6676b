"""HTTP Basic credentials for the routes Gradio's login does not cover, and a throttle on failed logins.

Gradio's login protects its own pages and API; /predict, /info, /metrics (routes.py) and the MCP server
(mounted by Gradio, but left open by it: checked on gradio 6.31) check the same user:password pairs
here, sent as HTTP Basic auth. LoginThrottle slows down a client, and guesses at one user name, that
keep failing, on every route.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
import time
from collections.abc import Sequence
from urllib.parse import parse_qs

from sentiment_demo.web.asgi import ASGIApp, Message, Receive, Scope, Send, send_json
from sentiment_demo.web.clients import client_address, read_body, replay

Credentials = Sequence[tuple[str, str]]
UNAUTHORIZED_BODY = {"error": "authentication required", "error_type": "Unauthorized"}
CHALLENGE = 'Basic realm="sentiment", charset="UTF-8"'


def basic_auth_ok(header: str | None, credentials: Credentials | None) -> bool:
    """True when no login is required, or the Authorization header holds a configured pair.

    An empty list of pairs is a login nobody passes (config.py refuses to start with one).
    """
    if credentials is None:
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
        if (
            scope["type"] == "http"
            and self.credentials is not None
            and scope["path"].startswith(self.prefixes)
        ):
            headers = dict(scope.get("headers") or [])
            header = headers.get(b"authorization", b"").decode("latin-1")
            if not basic_auth_ok(header, self.credentials):
                await send_json(send, 401, UNAUTHORIZED_BODY, {"www-authenticate": CHALLENGE})
                return
        await self.app(scope, receive, send)


class LoginThrottle:
    """ASGI middleware: a client whose logins keep failing must wait, longer after each failure.

    A failure is Gradio's login refusing a password (400 on POST .../login) or a route answering 401
    to a request that did carry credentials. After `free_failures` in a row a client waits 1 s, then
    2, 4, ... up to `max_wait` seconds, during which every request it sends is answered 429 at once;
    a successful login clears its record. Failures are counted for the client's address (clients.py:
    X-Forwarded-For is believed only from --trusted-proxies) and, separately, for the user name tried
    (Gradio's login form, or the Basic auth header), so guesses spread over many addresses still slow
    down; a throttled user name is refused on its login attempts only. At most `max_clients` records
    are kept, the oldest dropped first. A user name gets `free_user_failures` free tries.
    """

    def __init__(
        self,
        app: ASGIApp,
        enabled: bool,
        free_failures: int = 5,
        free_user_failures: int = 10,
        max_wait: float = 60.0,
        max_clients: int = 10_000,
    ) -> None:
        """Throttle only when `enabled` (the app has a login)."""
        self.app = app
        self.enabled = enabled
        self.free_failures = free_failures
        # A user name is tried from many places, by its owner too: it is given more free tries.
        self.free_user_failures = free_user_failures
        self.max_wait = max_wait
        self.max_clients = max_clients
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (failures, blocked until)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a throttled client at once; otherwise watch the answer for a failed login."""
        if not self.enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        client = "address " + client_address(scope)
        is_login = scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login")
        carried_credentials = b"authorization" in headers
        user = _basic_user(headers.get(b"authorization", b""))
        if is_login:
            body = await read_body(receive)
            receive = replay(body, receive)
            user = _form_user(body)
        keys = [client] + (["user " + user] if user is not None else [])
        wait = max(self._wait(key) for key in keys)
        if wait > 0 and (is_login or carried_credentials or self._wait(client) > 0):
            await self._refuse(send, wait)
            return

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if (is_login and status == 400) or (carried_credentials and status == 401):
                    for key in keys:
                        self._failed(key)
                elif is_login and status < 400:
                    for key in keys:
                        self._failures.pop(key, None)
            await send(message)

        await self.app(scope, receive, watching_send)

    def _wait(self, key: str) -> float:
        return self._failures.get(key, (0, 0.0))[1] - time.monotonic()

    def _failed(self, client: str) -> None:
        failures = self._failures.pop(client, (0, 0.0))[0] + 1
        free = self.free_user_failures if client.startswith("user ") else self.free_failures
        over = failures - free
        wait = min(self.max_wait, 2.0 ** (over - 1)) if over > 0 else 0.0
        self._failures[client] = (failures, time.monotonic() + wait)
        while len(self._failures) > self.max_clients:
            self._failures.pop(next(iter(self._failures)))

    async def _refuse(self, send: Send, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        error = (
            f"too many failed logins from this address or for this user; try again in {seconds} s"
        )
        body = {"error": error, "error_type": "Unauthorized"}
        await send_json(send, 429, body, {"retry-after": str(seconds)})


def _basic_user(header: bytes) -> str | None:
    scheme, _, encoded = header.decode("latin-1").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, _ = base64.b64decode(encoded, validate=True).partition(b":")
    except binascii.Error:
        return None
    return user.decode("utf-8", "replace")


def _form_user(body: bytes) -> str | None:
    try:
        values = parse_qs(body.decode("utf-8"), max_num_fields=16)
    except (UnicodeDecodeError, ValueError):
        return None
    users = values.get("username")
    return users[0] if users else None
