"""Admission control: a request is authenticated and its body read (capped, against a deadline) BEFORE it may
take one of ``limit`` turns; the rest wait their turn.

Why the limit: a request's steps (the idempotency claim, the endpoint, ...) each run in a worker thread of the
server's pool (anyio's default limiter, 40 threads), one hop at a time, and on SQLite a request holds the
database's write lock from its first query until its session commits. Under a burst every worker thread could be
taken by a request waiting for that lock while the request holding it waited for a worker thread for its next
hop: the API stalled until SQLite's 30 s busy timeout (seen in `make bench` at 200 requests/s;
docs/performance.md). With fewer requests inside than worker threads, a thread is always free for the lock
holder's next hop. A request that waits longer than ``queue_timeout`` for its turn gets a 503
``service-unavailable`` problem with ``Retry-After``; nothing of it was run. The health probes and ``/metrics``
are never held back. The settings ``api_max_in_flight`` (32) and ``api_queue_timeout`` (10 s) set both.

Why the order: a turn taken before authentication and before the body arrived let anyone hold every turn
with connections that send headers and then trickle a body (issue 18, finding 5: 40 such connections made
every real request wait 10 s and get 503). So, before its turn, a request

1. is authenticated, if its route takes an API key (:func:`api.auth.keyed_routes`): no key, an unknown or
   a revoked one gets its 401 at once, without its body being read (:func:`api.auth.authenticate_request`,
   in a few threads of its own so that it never takes a thread from the requests inside); the key is left
   in ``request.state`` for the route's dependency;
2. has its whole body read: more than ``api_max_body`` bytes (64 KiB), declared by ``Content-Length`` or
   counted as a chunked body arrives, is a 413 ``request-too-large``; a body not complete within
   ``api_body_timeout`` seconds (10) is a 408 ``request-timeout``. Both close the connection; nothing of
   the request was done.

Only then does it wait for its turn, and the app gets the body from memory.

A route whose requests are answered by a lane (:func:`api.routing.in_lane`: ``POST /v1/transfers``, ATM cash-ins,
POS payments; node/lanes.py) holds no worker thread while it waits: the lane routes' requests share turns of their
own, ``LANE_LIMIT`` (256) of them, as many as a lane takes into one batch, so a burst of payments is admitted in
large batches rather than 32 at a time. They too wait at most ``queue_timeout`` for a turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Final

import anyio
import anyio.to_thread
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import AUTHENTICATED_KEY, authenticate_request, authenticated
from api.problems import (
    RequestTimeoutError,
    RequestTooLargeError,
    ServiceUnavailableError,
    problem_for,
    problem_response,
)
from node.errors import NodeError
from node.logs import API_KEY_ID

__all__ = ["InFlightLimit", "ensure_worker_threads"]

THREAD_HEADROOM = 8  # worker threads beyond the limit, for the hops of the requests inside
AUTH_THREADS: Final = 8  # threads authenticating requests that wait outside, apart from the pool of those inside
UNLIMITED_PATHS = frozenset({"/v1/health", "/v1/health/live", "/v1/health/ready", "/metrics"})
LANE_LIMIT: Final = 256  # requests a lane's routes run at once (node.lanes.DEFAULT_MAX_BATCH)
DEFAULT_MAX_BODY: Final = 64 * 1024
DEFAULT_BODY_TIMEOUT: Final = 10.0


class _ClientGone(Exception):
    """The client disconnected before its body was complete: nothing to answer."""


class InFlightLimit:
    """ASGI middleware: authenticate, read the body, then at most ``limit`` HTTP requests run at once (see the
    module docstring)."""

    def __init__(self, app: ASGIApp, limit: int, queue_timeout: float, *, max_body: int = DEFAULT_MAX_BODY,
                 body_timeout: float = DEFAULT_BODY_TIMEOUT, keyed_routes: Sequence[BaseRoute] = (),
                 lane_routes: Sequence[BaseRoute] = (), lane_limit: int = LANE_LIMIT,
                 stream_routes: Sequence[BaseRoute] = ()) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.app = app
        self.limit = limit
        self.queue_timeout = queue_timeout
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.keyed_routes = tuple(keyed_routes)  # api.auth.keyed_routes(): authenticated here, before the turn
        self.lane_routes = tuple(lane_routes)  # api.routing.lane_routes(): they wait for a lane, not a thread
        self.lane_limit = lane_limit
        self.stream_routes = tuple(stream_routes)  # api.routing.stream_routes(): long-lived, they take no turn
        self._turns: asyncio.Semaphore | None = None  # made on the server's event loop, at the first request
        self._lane_turns: asyncio.Semaphore | None = None
        self._auth_threads: anyio.CapacityLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            if self._takes_key(scope):
                await self._authenticate(scope)
            body = await self._read_body(scope, receive)
        except _ClientGone:
            return
        except NodeError as refusal:  # 401, 413, 408: the body is not (all) read, so the connection closes
            await self._refuse(refusal, scope, receive, send, {"Connection": "close"})
            return
        turns, limit = self._turns_of(scope)
        if turns is None:  # a stream: authenticated and its (empty) body read, it runs as long as its client listens
            await self.app(scope, _replay(body, receive), send)
            return
        if not await self._take_turn(turns):
            busy = ServiceUnavailableError(f"the node has {limit} requests in progress and this one waited "
                                           f"{self.queue_timeout:g}s for its turn; nothing of it was done, send it "
                                           "again")
            await self._refuse(busy, scope, receive, send, {"Retry-After": "1"})
            return
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            turns.release()

    def _turns_of(self, scope: Scope) -> tuple[asyncio.Semaphore | None, int]:
        """The turns a request takes, and how many there are: a lane's (many: its requests hold no thread, and a
        batch is as large as the requests waiting), none for a stream (it holds no thread while it waits, and
        lasts as long as its client listens), or the threads' (``limit``)."""
        if self.lane_routes and any(route.matches(scope)[0] is Match.FULL for route in self.lane_routes):
            if self._lane_turns is None:
                self._lane_turns = asyncio.Semaphore(self.lane_limit)
            return self._lane_turns, self.lane_limit
        if scope.get("method") == "GET" and any(route.matches(scope)[0] is Match.FULL for route in self.stream_routes):
            return None, 0
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.limit)
        return self._turns, self.limit

    @staticmethod
    async def _refuse(refusal: NodeError, scope: Scope, receive: Receive, send: Send,
                      headers: dict[str, str]) -> None:
        body, problem_headers = problem_for(refusal, Request(scope))
        await problem_response(body, {**problem_headers, **headers})(scope, receive, send)

    def _takes_key(self, scope: Scope) -> bool:
        """Whether the request reaches one of the routes that authenticate by API key."""
        return any(route.matches(scope)[0] is Match.FULL for route in self.keyed_routes)

    async def _authenticate(self, scope: Scope) -> None:
        if self._auth_threads is None:
            self._auth_threads = anyio.CapacityLimiter(AUTH_THREADS)
        state = scope["app"].state.walletnet
        headers = Headers(scope=scope)
        key = authenticated(state, headers) or await anyio.to_thread.run_sync(
            authenticate_request, state, headers, limiter=self._auth_threads)
        scope.setdefault("state", {})[AUTHENTICATED_KEY] = key
        API_KEY_ID.set(key.id)  # the request's log lines name the key (node/logs.py)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole body, at most ``max_body`` bytes, within ``body_timeout`` seconds."""
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise self._too_large(f"the body is {int(declared)} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _ClientGone
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        raise self._too_large(f"the body is more than {self.max_body} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise RequestTimeoutError(f"the body did not arrive within {self.body_timeout:g}s ({size} bytes came); "
                                      "nothing of the request was done") from None

    def _too_large(self, what: str) -> RequestTooLargeError:
        return RequestTooLargeError(f"{what}; this node takes at most {self.max_body} bytes; nothing of the request "
                                    "was done", max_bytes=self.max_body)

    async def _take_turn(self, turns: asyncio.Semaphore) -> bool:
        """Wait up to ``queue_timeout`` for a turn; False if none came (no turn is then held)."""
        waiting = asyncio.ensure_future(turns.acquire())
        try:
            done, _ = await asyncio.wait({waiting}, timeout=self.queue_timeout)
        except BaseException:  # the request was cancelled while it waited (client gone, shutdown)
            _give_back(waiting, turns)
            raise
        if done:
            return True
        _give_back(waiting, turns)
        return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """The app's ``receive``: the body read already, then the server's messages (e.g. a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


def _give_back(waiting: asyncio.Future[Any], turns: asyncio.Semaphore) -> None:
    """Stop waiting for a turn; a turn that came anyway (just now, or as the wait was cancelled) is released."""
    waiting.cancel()
    waiting.add_done_callback(lambda future: None if future.cancelled() else turns.release())


def ensure_worker_threads(limit: int) -> None:
    """Give the running event loop's worker-thread pool at least ``limit`` + headroom threads."""
    pool: Any = anyio.to_thread.current_default_thread_limiter()
    pool.total_tokens = max(int(pool.total_tokens), limit + THREAD_HEADROOM)
