"""Per-client limits in front of Gradio's queue: events in flight, and sessions whose state is kept.

Gradio's queue is first come, first served with one size for everyone: one client posting slow jobs
(Batch, Evaluate) faster than they finish filled it, and every other visitor got "Queue is full".
Gradio also keeps the state of up to 10,000 sessions (about 140 KB each here), and a client may invent
a new session hash per request. This middleware counts both per client address (clients.py) on the
routes that enqueue (`queue/join`, `call/*`), browser and API alike. What Gradio's queue holds is read
through `QueueView`, which service.py implements on Gradio's internals.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from sentiment_demo.web.asgi import ASGIApp, Message, Receive, Scope, Send, send_json
from sentiment_demo.web.clients import client_address, json_field, read_body, replay

ENQUEUE_PATHS = ("/gradio_api/queue/join", "/gradio_api/call/")
MAX_ANSWER_BYTES = 4096  # Gradio answers an enqueue with {"event_id": ...}; nothing bigger is read


class QueueView(Protocol):
    """What the limits need to know of Gradio's queue."""

    def live(self, event_id: str) -> bool:
        """True while the event waits or runs."""

    def forget_session(self, session_hash: str) -> None:
        """Drop the state Gradio keeps for a session."""


def is_enqueue(scope: Scope) -> bool:
    """A POST that puts an event into Gradio's queue."""
    path: str = scope.get("path", "")
    return (
        scope["type"] == "http" and scope.get("method") == "POST" and path.startswith(ENQUEUE_PATHS)
    )


class QueueLimit:
    """ASGI middleware: at most `max_events` events in flight and `max_sessions` sessions per client.

    An enqueue over the event limit is answered 429 with a message that names the limit (the browser
    shows it, Gradio's own clients get the status); nobody else is affected. A session past the
    session limit drops the client's oldest session's state, so a client that keeps inventing
    sessions costs at most `max_sessions` of them. At most `max_clients` clients are remembered.
    """

    def __init__(
        self,
        app: ASGIApp,
        queue: QueueView,
        max_events: int,
        max_sessions: int,
        max_clients: int = 10_000,
    ) -> None:
        """Limit each client's events in flight and sessions kept."""
        self.app = app
        self.queue = queue
        self.max_events = max_events
        self.max_sessions = max_sessions
        self.max_clients = max_clients
        # client -> (event id, session hash) of its enqueues
        self._events: OrderedDict[str, list[tuple[str, str | None]]] = OrderedDict()
        self._joining: dict[str, int] = {}  # enqueues still being answered, per client
        self._sessions: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()

    def in_flight(self, client: str) -> int:
        """The client's events still waiting or running, plus enqueues being answered."""
        events = [e for e in self._events.get(client, []) if self.queue.live(e[0])]
        if events:
            self._events[client] = events
            self._events.move_to_end(client)
        else:
            self._events.pop(client, None)
        return len(events) + self._joining.get(client, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an enqueue over the client's limit; note the event and session of the others."""
        if not is_enqueue(scope):
            await self.app(scope, receive, send)
            return
        client = client_address(scope)
        if self.in_flight(client) >= self.max_events:
            await self._refuse(send)
            return
        body = await read_body(receive)
        session = json_field(body, "session_hash")
        status = 0
        answer = bytearray()

        async def capturing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(answer) < MAX_ANSWER_BYTES:
                answer.extend(message.get("body", b""))
            await send(message)

        self._joining[client] = self._joining.get(client, 0) + 1
        try:
            await self.app(scope, replay(body, receive), capturing_send)
        finally:
            self._joining[client] -= 1
            if not self._joining[client]:
                del self._joining[client]
        event_id = json_field(bytes(answer), "event_id") if status == 200 else None
        if event_id:
            self._events.setdefault(client, []).append((event_id, session))
            self._events.move_to_end(client)
            while len(self._events) > self.max_clients:
                self._events.popitem(last=False)
        if session:
            self._note_session(client, session)

    def _note_session(self, client: str, session: str) -> None:
        """Keep the client's newest sessions; drop the oldest past the limit whose events are done.

        A session with an event still waiting or running is kept (Gradio would recreate its state
        when the event runs) and dropped at a later request of the client, once done.
        """
        sessions = self._sessions.setdefault(client, OrderedDict())
        self._sessions.move_to_end(client)
        sessions[session] = None
        sessions.move_to_end(session)
        if len(sessions) > self.max_sessions:
            busy = {s for e, s in self._events.get(client, []) if self.queue.live(e)}
            for old in list(sessions):
                if len(sessions) <= self.max_sessions:
                    break
                if old not in busy and old != session:
                    del sessions[old]
                    self.queue.forget_session(old)
        while len(self._sessions) > self.max_clients:
            self._sessions.popitem(last=False)

    async def _refuse(self, send: Send) -> None:
        message = (
            f"The server is busy: this address already has {self.max_events} requests waiting "
            f"or running, the most one client may have (--max-events-per-client). Wait for "
            "one to finish, then try again."
        )
        # `detail` is what Gradio's browser client shows; `error` is TEI's shape, as on /predict.
        body = {"detail": message, "error": message, "error_type": "Overloaded"}
        await send_json(send, 429, body, {"retry-after": "1"})
