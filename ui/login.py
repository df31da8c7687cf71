"""Sign-in throttling: a client that keeps giving wrong passwords is refused for a while.

Gradio calls an ``auth`` callable with the user name and password only, never the
request, so the client cannot be told apart there. This ASGI middleware sits in
front of Gradio's ``POST /login``, keys attempts by the client's address, counts
consecutive wrong passwords (Gradio answers them with 400) and, after
``max_failures`` of them, answers that address's sign-ins with ``429 Too Many
Requests`` and a ``Retry-After`` for ``lockout_s`` seconds without asking
Gradio, so guessing costs the attacker ``lockout_s`` per ``max_failures``
guesses. A correct password resets the count. Other routes are untouched: they
are closed to anonymous callers by Gradio's own login check.

Behind a reverse proxy every client has the proxy's address; run the proxy's
own rate limit there, or every user shares one count.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_TRACKED = 10_000  # addresses remembered; the oldest are forgotten first, so spraying addresses cannot fill memory


@dataclass
class _Attempts:
    failures: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    """ASGI middleware refusing sign-ins from an address after ``max_failures`` wrong passwords in a row."""

    def __init__(
        self,
        app: ASGIApp,
        max_failures: int = 5,
        lockout_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.clock = clock
        self._clients: OrderedDict[str, _Attempts] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not _is_login(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        client = str((scope.get("client") or ("unknown",))[0])
        wait = self.refused_for(client)
        if wait > 0:
            await _refuse(send, wait)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status:
            self.record(client, succeeded=status[0] < 400)

    def refused_for(self, client: str) -> float:
        """Seconds ``client`` is still refused (0: it may try)."""
        with self._lock:
            attempts = self._clients.get(client)
            return max(0.0, attempts.locked_until - self.clock()) if attempts else 0.0

    def record(self, client: str, succeeded: bool) -> None:
        """Count a wrong password (locking the client at ``max_failures``) or forget the client on success."""
        with self._lock:
            if succeeded:
                self._clients.pop(client, None)
                return
            attempts = self._clients.pop(client, None) or _Attempts()
            attempts.failures += 1
            if attempts.failures >= self.max_failures:
                attempts.failures = 0
                attempts.locked_until = self.clock() + self.lockout_s
            self._clients[client] = attempts  # most recent last
            while len(self._clients) > MAX_TRACKED:
                self._clients.popitem(last=False)


def _is_login(path: str) -> bool:
    return path.rstrip("/").endswith("/login")


async def _refuse(send: Send, wait: float) -> None:
    seconds = math.ceil(wait)
    body = json.dumps({"detail": f"too many wrong passwords from this address; try again in {seconds} s"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
