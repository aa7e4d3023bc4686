"""``/metrics`` (Prometheus text format) and the request middleware that times every request and names it in the
logs.

:class:`RequestMetrics` is pure ASGI and the outermost middleware, so it sees every request, the lanes' fast
routes (api/routing.py) and the admission middleware's refusals included. It observes one histogram,
``walletnet_http_request_duration_seconds{route,method,status}``, whose ``_count`` is the requests by route and
status; ``route`` is the route's template (``/v1/wallets/{address}``), never the raw path (a path no route
matches is ``unmatched``), so the series stay few. A request the admission middleware refused before routing
(401, 413, 503) is matched here, off the hot path. It also sets the request id the request's log lines carry
(node/logs.py): the client's ``X-Request-Id`` (sent back in the answer), else a number of this process's own.

The endpoint answers what :func:`node.metrics.metrics_registry` gathers: this process's metrics (every worker's,
with ``PROMETHEUS_MULTIPROC_DIR`` set) and the bank's state read from the database at scrape time. It needs no
API key: serve it only where the bank's monitoring can reach it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from fastapi import APIRouter, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from prometheus_client.registry import CollectorRegistry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import AppState
from node.logs import REQUEST_ID
from node.metrics import VitalsCollector, metrics_registry

__all__ = ["METRICS_PATH", "REQUEST_SECONDS", "RequestMetrics", "install_metrics"]

METRICS_PATH: Final = "/metrics"
UNMATCHED: Final = "unmatched"
REQUEST_ID_HEADER: Final = b"x-request-id"
MAX_REQUEST_ID: Final = 128

REQUEST_SECONDS: Final = Histogram(
    "walletnet_http_request_duration_seconds", "Time from a request's arrival to the end of its answer, by route "
    "template, method and status (the _count is the requests)", ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


class RequestMetrics:
    """ASGI middleware: time each HTTP request into :data:`REQUEST_SECONDS` and set its log context."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.routes = tuple(routes)  # to name a request refused before routing
        self._numbers = itertools.count(1)
        self._children: dict[tuple[str, str, int], Histogram] = {}  # (route, method, status) -> its series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        client_id = _client_request_id(scope["headers"])
        REQUEST_ID.set(client_id if client_id is not None else next(self._numbers))
        status = 500  # what a request that raises before answering is counted as

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if client_id is not None:
                    message["headers"] = [*message.get("headers", ()), (b"x-request-id", client_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            self._series(scope, status).observe(time.perf_counter() - start)

    def _series(self, scope: Scope, status: int) -> Histogram:
        route = scope.get("route") or self._route_of(scope)
        template = getattr(route, "path", UNMATCHED) if route is not None else UNMATCHED
        key = (template, scope["method"], status)
        series = self._children.get(key)
        if series is None:
            series = self._children[key] = REQUEST_SECONDS.labels(template, scope["method"], str(status))
        return series

    def _route_of(self, scope: Scope) -> BaseRoute | None:
        """The route a request refused before routing (by the admission middleware: 401, 413, 503) was for."""
        return next((route for route in self.routes if route.matches(scope)[0] is Match.FULL), None)


def _client_request_id(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The client's (or its proxy's) ``X-Request-Id``, if it is short printable ASCII; else None."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if 0 < len(value) <= MAX_REQUEST_ID and value.isascii() and value.decode().isprintable():
                return value.decode()
            return None
    return None


def install_metrics(app: FastAPI, state: AppState, routers: Iterable[APIRouter],
                    held_roles: Callable[[], Iterable[str]]) -> CollectorRegistry:
    """Add :class:`RequestMetrics` (outermost: call after every other ``add_middleware``) and ``GET /metrics``
    (not in the OpenAPI document) to ``app``, whose routes are those of ``routers``; returns the registry it answers
    from."""
    registry = metrics_registry(VitalsCollector(state.read_sessions, network=state.network,
                                                confirmations=state.settings.confirmations, held_roles=held_roles))

    async def metrics(_request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)  # database reads and a chain call: a thread's
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_route(METRICS_PATH, metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestMetrics, routes=[route for router in routers for route in router.routes])
    return registry
