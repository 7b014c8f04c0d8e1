"""The request guard, a pure ASGI middleware in front of every route: the API key is checked before the body is read,
the body is capped, failed sign-ins are throttled per client, refused and rejected requests are audited (bounded).

Order for each HTTP request:
1. a client over its failed-sign-in budget gets 429 with Retry-After (nothing else is looked at);
2. under /v1 (and anywhere an X-API-Key is presented) the key is checked: 401 without a key or with an unknown or
   revoked one (a failure for the throttle), 503 with Retry-After if the database cannot be reached;
3. a Content-Length above PAYRISK_MAX_BODY_BYTES gets 413 at once; a body streamed past it gets 413 too;
4. the route runs; a 401/403/413/422/429 answer is audited through `RefusalAudit` (aggregated and capped), naming
   the key's owner, or on a web page the signed-in user (web pages use the session cookie, not a key).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.store import audit
from serving.store.audit import Actor
from serving.store.engine import write_lock
from serving.store.keys import authenticate

log = logging.getLogger("payrisk.serving.guard")

API_KEY_HEADER = "x-api-key"
REFUSED = frozenset({401, 403})
REJECTED = frozenset({413, 422, 429})
MAX_TRACKED = 10_000
"""Clients (throttle) and refusal kinds (audit) remembered at most; the oldest are forgotten first."""


class SlidingWindow:
    """Events per key in the last `window` seconds (a log of their times): `retry_after(key)` is 0 while fewer than
    `limit` are in the window, else the seconds until the oldest leaves it. Thread-safe; at most MAX_TRACKED keys."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _pruned(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def retry_after(self, key: str) -> float:
        with self._lock:
            now = self.clock()
            events = self._pruned(key, now)
            if len(events) < self.limit:
                return 0.0
            return max(events[-self.limit] + self.window - now, 0.001)

    def take(self, key: str) -> float:
        """Count one event for `key` if there is room in the window (0.0), else count nothing and return the
        seconds until there is (`retry_after`): check and count at once, so that racing callers cannot both pass."""
        with self._lock:
            now = self.clock()
            events = self._pruned(key, now)
            if len(events) >= self.limit:
                return max(events[-self.limit] + self.window - now, 0.001)
            if key not in self._events:
                self._events[key] = events
                if len(self._events) > MAX_TRACKED:
                    self._events.popitem(last=False)
            events.append(now)
            return 0.0

    def hit(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            events = self._pruned(key, now)
            if key not in self._events:
                self._events[key] = events
                if len(self._events) > MAX_TRACKED:
                    self._events.popitem(last=False)
            events.append(now)
            if len(events) > self.limit:
                events.popleft()


@dataclass
class _Kind:
    written_at: float | None = None
    folded: int = 0


@dataclass
class RefusalAudit:
    """Audits refused (401/403) and rejected (413/422/429) requests without letting a flood grow the log: at most one
    entry per (client, who, route, status) per `window` seconds, counting the ones folded into it (`after.count`),
    and at most `per_minute` such entries per minute overall. What could not be written yet is summed up in one
    `request.refused_summary` entry by `flush` (at shut-down)."""

    sessions: sessionmaker[Session]
    per_minute: int
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _kinds: OrderedDict[tuple, _Kind] = field(default_factory=OrderedDict)
    _forgotten: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._budget = SlidingWindow(self.per_minute, 60.0, self.clock)

    def note(self, actor: Actor, client: str, key_prefix: str | None, route: str, status_code: int) -> None:
        kind = (client, actor.key_id, actor.name, key_prefix, route, status_code)
        with self._lock:
            now = self.clock()
            state = self._kinds.get(kind)
            if state is None:
                state = self._kinds[kind] = _Kind()
                if len(self._kinds) > MAX_TRACKED:
                    _, old = self._kinds.popitem(last=False)
                    self._forgotten += old.folded
            due = state.written_at is None or now - state.written_at >= self.window
            if not due or self._budget.retry_after("all"):
                state.folded += 1
                return
            self._budget.hit("all")
            count, state.folded, state.written_at = state.folded + 1, 0, now
        action = "request.refused" if status_code in REFUSED else "request.rejected"
        after = {"status": status_code, "client": client, "key_prefix": key_prefix, "count": count}
        self._write(actor, action, route, after)

    def flush(self) -> None:
        """One entry summing up the refusals counted but not written (none if there are none)."""
        with self._lock:
            pending: dict[str, int] = {}
            for (_, _, _, _, _, status_code), state in self._kinds.items():
                if state.folded:
                    pending[str(status_code)] = pending.get(str(status_code), 0) + state.folded
            forgotten, self._forgotten = self._forgotten, 0
            self._kinds.clear()
        if pending or forgotten:
            after = {"by_status": pending, "untracked": forgotten, "count": sum(pending.values()) + forgotten}
            self._write(Actor(None, "system:shutdown", "admin"), "request.refused_summary", "*", after)

    def _write(self, actor: Actor, action: str, route: str, after: dict[str, Any]) -> None:
        try:
            with self.sessions() as session, write_lock(session):
                audit.record(session, actor, action, "route", route, after=after)
                session.commit()
        except SQLAlchemyError:
            log.exception("could not audit a refused request")


def _actor_of(sessions: sessionmaker[Session], key: str) -> Actor | None:
    with sessions() as session:
        row = authenticate(session, key)
        return None if row is None else Actor(row.id, row.name, row.role, row.collector_id)


def json_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return (
        {"type": "http.response.start", "status": status_code, "headers": raw},
        {"type": "http.response.body", "body": body},
    )


class BodyTooLarge(Exception):
    """The body streamed past the limit (raised into the route's body read; the guard answers 413)."""


def too_large_detail(limit: int) -> str:
    return f"request body larger than {limit} bytes (PAYRISK_MAX_BODY_BYTES); split the batch"


def unreachable_detail() -> str:
    return "the database cannot be reached; try again later"


class RequestGuard:
    """See the module docstring. Needs `app.state.settings`, `.sessionmaker`, `.auth_throttle` and `.refusal_audit`
    (set in the lifespan); before the lifespan ran it lets everything through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: Any = getattr(scope.get("app"), "state", None)
        if scope["type"] != "http" or not hasattr(state, "refusal_audit"):
            await self.app(scope, receive, send)
            return
        settings = state.settings
        throttle: SlidingWindow = state.auth_throttle
        auditor: RefusalAudit = state.refusal_audit
        headers = Headers(scope=scope)
        path: str = scope["path"]
        key = headers.get(API_KEY_HEADER) or None
        client = scope["client"][0] if scope.get("client") else "unknown"
        key_prefix = key[:10] if key else None
        route = f"{scope['method']} {path[:200]}"
        actor: Actor | None = None

        async def answer(status_code: int, detail: str, extra: dict[str, str] | None = None) -> None:
            for message in json_response(status_code, detail, extra):
                await send(message)
            if status_code in REFUSED | REJECTED:
                who = actor or Actor(None, f"key {key_prefix}..." if key_prefix else "anonymous", "none")
                await run_in_threadpool(auditor.note, who, client, key_prefix, route, status_code)

        needs_key = path == "/v1" or path.startswith("/v1/")
        if needs_key or key:
            wait = throttle.retry_after(client)
            if wait:
                seconds = str(math.ceil(wait))
                await answer(
                    429, f"too many failed sign-ins from this client; retry in {seconds} s", {"Retry-After": seconds}
                )
                return
            if not key:
                throttle.hit(client)
                await answer(401, "missing X-API-Key header", {"WWW-Authenticate": "ApiKey"})
                return
            try:
                actor = await run_in_threadpool(_actor_of, state.sessionmaker, key)
            except SQLAlchemyError:
                log.exception("checking an API key failed")
                if needs_key:
                    retry = {"Retry-After": str(settings.db_retry_after_seconds)}
                    await answer(503, unreachable_detail(), retry)
                    return
                key = None  # a public route (/readyz) answers as to an anonymous caller
            if key and actor is None:
                throttle.hit(client)
                await answer(401, "invalid or revoked API key", {"WWW-Authenticate": "ApiKey"})
                return
            if actor is not None:
                scope.setdefault("state", {})["actor"] = actor

        limit: int = settings.max_body_bytes
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await answer(413, too_large_detail(limit))
            return

        received = 0
        too_large = False
        started = False
        status_code = 500

        async def capped_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge(too_large_detail(limit))
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started, status_code
            if too_large:
                return  # the route's answer to a cut-off body is replaced by the 413 below
            if message["type"] == "http.response.start":
                started, status_code = True, message["status"]
            await send(message)

        with contextlib.suppress(BodyTooLarge):  # when the route let it through; else it answered (suppressed)
            await self.app(scope, capped_receive, watched_send)
        if too_large:
            if not started:
                await answer(413, too_large_detail(limit))
            return
        if status_code in REFUSED | REJECTED:
            # a web page's refusal names the signed-in user (serving.web.auth puts them in the scope's state)
            web_actor = scope.get("state", {}).get("web_actor")
            who = actor or (web_actor if isinstance(web_actor, Actor) else None)
            who = who or Actor(None, f"key {key_prefix}..." if key_prefix else "anonymous", "none")
            await run_in_threadpool(auditor.note, who, client, key_prefix, route, status_code)
