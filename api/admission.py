"""Admission control: at most ``limit`` requests inside the app at once; the rest wait their turn.

Why: a request's steps (authentication, the idempotency claim, the endpoint, ...) each run in a worker
thread of the server's pool (anyio's default limiter, 40 threads), one hop at a time, and on SQLite
a request holds the database's write lock from its first query until its session commits. Under a burst every
worker thread could be taken by a request waiting for that lock while the request holding it waited for a
worker thread for its next hop: the API stalled until SQLite's 30 s busy timeout (seen in `make bench` at 200
requests/s; docs/performance.md). With fewer requests inside than worker threads, a thread is always free for
the lock holder's next hop. A request that waits longer than ``queue_timeout`` for its turn gets a 503
``service-unavailable`` problem with ``Retry-After``; nothing of it was run. ``/v1/health`` is never held back.
The settings ``api_max_in_flight`` (32) and ``api_queue_timeout`` (10 s) set both.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import problem_for, problem_response
from api.problems import ServiceUnavailableError

__all__ = ["InFlightLimit", "ensure_worker_threads"]

THREAD_HEADROOM = 8  # worker threads beyond the limit, for the hops of the requests inside
UNLIMITED_PATHS = frozenset({"/v1/health"})


class InFlightLimit:
    """ASGI middleware: at most ``limit`` HTTP requests run at once (see the module docstring)."""

    def __init__(self, app: ASGIApp, limit: int, queue_timeout: float) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.app = app
        self.limit = limit
        self.queue_timeout = queue_timeout
        self._turns: asyncio.Semaphore | None = None  # made on the server's event loop, at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.limit)
        if not await self._take_turn(self._turns):
            refusal = ServiceUnavailableError(f"the node has {self.limit} requests in progress and this one waited "
                                              f"{self.queue_timeout:g}s for its turn; nothing of it was done, send it "
                                              "again")
            body, headers = problem_for(refusal, Request(scope))
            await problem_response(body, {**headers, "Retry-After": "1"})(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._turns.release()

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


def _give_back(waiting: asyncio.Future[Any], turns: asyncio.Semaphore) -> None:
    """Stop waiting for a turn; a turn that came anyway (just now, or as the wait was cancelled) is released."""
    waiting.cancel()
    waiting.add_done_callback(lambda future: None if future.cancelled() else turns.release())


def ensure_worker_threads(limit: int) -> None:
    """Give the running event loop's worker-thread pool at least ``limit`` + headroom threads."""
    pool: Any = anyio.to_thread.current_default_thread_limiter()
    pool.total_tokens = max(int(pool.total_tokens), limit + THREAD_HEADROOM)
