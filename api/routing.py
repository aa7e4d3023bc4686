"""How a route is declared, the same way in every router of :mod:`api.routes`.

- :func:`route` registers an endpoint under its function's name as its stable operation id, with the problems it
  may answer documented as ``application/problem+json`` (:func:`api.problems.problem_responses`).
- :func:`operation_route` is the route of a request that starts an operation: a POST answered 202 with the
  operation (:class:`~api.schemas.operations.OperationOut`), which the endpoint returns with :func:`accepted`.
- :func:`bound_fast` gives a lane's endpoint a way to take its arguments from the common request itself, without
  FastAPI's dependency machinery (a fifth of the API's CPU per payment); anything else is FastAPI's to bind.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json
from sqlalchemy.orm import Session
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from api.auth import AUTHENTICATED_KEY
from api.deps import AppState
from api.idempotency import IDEMPOTENCY_HEADER, IdempotentRequest, replay
from api.problems import ProblemKind, problem_responses
from api.schemas.operations import OperationOut, operation_out
from node.api_keys import Principal
from node.idempotency import MAX_KEY_LENGTH
from node.lanes import Answer, FlowLane
from node.logs import OPERATION_IDS
from node.operations.models import Operation

__all__ = ["accepted", "bind_common", "bound_fast", "flow_lane", "in_lane", "install_fast_routes", "lane_routes",
           "operation_route", "recorded_operation", "respond", "route", "stream_routes", "streams"]

_IN_LANE = "walletnet_in_lane"
_STREAMS = "walletnet_streams"
_BINDER = "walletnet_binder"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def route(router: APIRouter, method: str, path: str, summary: str, *problems: ProblemKind,
          **options: Any) -> Callable[[Endpoint], Endpoint]:
    """Register the decorated function as ``method path`` on ``router``, its name as the operation id (unless
    ``operation_id`` names another) and ``problems`` documented after the ``responses`` of ``options``; the other
    ``options`` are FastAPI's (``status_code``, ``response_model``, ``response_class``, ``tags``)."""
    responses = {**options.pop("responses", {}), **problem_responses(*problems)}
    operation_id = options.pop("operation_id", None)

    def register(endpoint: Endpoint) -> Endpoint:
        return router.api_route(path, methods=[method], operation_id=operation_id or endpoint.__name__,
                                summary=summary, responses=responses, **options)(endpoint)

    return register


def operation_route(router: APIRouter, path: str, summary: str, *problems: ProblemKind,
                    **options: Any) -> Callable[[Endpoint], Endpoint]:
    """:func:`route` for a POST that starts an operation and answers 202 with it (:func:`accepted`)."""
    return route(router, "POST", path, summary, *problems, status_code=202, response_model=OperationOut, **options)


def in_lane(endpoint: Endpoint) -> Endpoint:
    """Mark an async endpoint whose work a lane does (node.lanes): it holds no worker thread, so its
    requests take the admission middleware's lane turns (api/admission.py, :func:`lane_routes`)."""
    endpoint.__dict__[_IN_LANE] = True
    return endpoint


def streams(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint whose answer is a long-lived stream (Server-Sent Events): it takes no turn of the admission
    middleware (api/admission.py, :func:`stream_routes`), which would otherwise be held for as long as a client
    listens; it must hold no worker thread while it waits."""
    endpoint.__dict__[_STREAMS] = True
    return endpoint


def stream_routes(routers: Iterable[APIRouter]) -> list[APIRoute]:
    """The routes of ``routers`` whose endpoints are marked :func:`streams`."""
    return [route for router in routers for route in router.routes
            if isinstance(route, APIRoute) and route.endpoint.__dict__.get(_STREAMS, False)]


FL = TypeVar("FL", bound=FlowLane[Any])


def flow_lane(state: AppState, name: str, lane: type[FL]) -> FL:
    """The app's lane ``name`` of a money flow (e.g. node.transfers.lane.TransferLane), made on first use and
    closed with the app; it answers with :func:`recorded_operation`."""
    return state.lane(name, lambda: lane(state.work_sessions, state.settings, state.network, recorded_operation))


def recorded_operation(op: Operation) -> Any:
    """An accepted operation as a lane records and answers it (node.lanes.Render): the 202 body. An operation has
    no field shown once (api/shown_once.py) and its details are JSON read back from the database, never a model,
    so there is nothing to redact: it is dumped as :func:`~api.shown_once.redacted` would, without looking (the
    look was a twentieth of a payment's time in the API)."""
    return operation_out(op).model_dump(mode="json", by_alias=True)


class _LaneJSON(JSONResponse):
    """JSON as Starlette's JSONResponse writes it (compact, UTF-8), by pydantic-core: a lane's answer is plain
    data (strings, integers, booleans, None, lists and dicts of them), and json.dumps cost several times as much."""

    def render(self, content: Any) -> bytes:
        return to_json(content)


def respond(answer: Answer) -> JSONResponse:
    """The response of a lane's ``answer`` (raised as a replay if an earlier request with its key ran it)."""
    if answer.replayed:
        raise replay(answer.status, answer.body)
    if answer.status == 202 and isinstance(answer.body, dict) and "id" in answer.body:
        OPERATION_IDS.set((answer.body["id"],))  # the request's log lines name its operation (node/logs.py)
    return _LaneJSON(answer.body, status_code=answer.status)


def lane_routes(routers: Iterable[APIRouter]) -> list[APIRoute]:
    """The routes of ``routers`` whose endpoints are marked :func:`in_lane`."""
    return [route for router in routers for route in router.routes
            if isinstance(route, APIRoute) and route.endpoint.__dict__.get(_IN_LANE, False)]


def accepted(idem: IdempotentRequest, session: Session, op: Operation) -> OperationOut:
    """The 202 answer of a request that started ``op``, recorded under the request's idempotency key."""
    out = operation_out(op)
    idem.complete(session, out, status=202)
    OPERATION_IDS.set((out.id,))  # the request's log lines name its operation (node/logs.py)
    return out


Binder = Callable[[Request], Awaitable["dict[str, Any] | None"]]


def bound_fast(binder: Binder) -> Callable[[Endpoint], Endpoint]:
    """Mark a lane's endpoint (:func:`in_lane`) whose arguments ``binder`` takes from a request itself: the
    arguments by name, or None for anything it does not bind exactly as FastAPI would (a header it leaves to
    FastAPI, a body that does not validate ...), which FastAPI's own route then binds and answers, problems
    included. :func:`install_fast_routes` puts the binder in front of the route."""
    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.__dict__[_BINDER] = binder
        return endpoint
    return mark


M = TypeVar("M", bound=BaseModel)


async def bind_common(request: Request, scopes: frozenset[str], model: type[M], *,
                      left_to_fastapi: Iterable[str] = ()) -> tuple[Principal, str, M] | None:
    """What a lane's endpoint takes from the common request, as FastAPI's dependencies would give it: the key the
    admission middleware authenticated, if it has one of ``scopes`` (as :func:`api.auth.require_scope`); the
    ``Idempotency-Key`` (as :data:`api.idempotency.IdempotencyKey`); the JSON body validated by ``model``. None if
    any of them is missing or bad, or the request sends a header of ``left_to_fastapi`` (an optional header the
    binder does not check itself)."""
    key = request.scope.get("state", {}).get(AUTHENTICATED_KEY)
    idempotency_key = request.headers.get(IDEMPOTENCY_HEADER)
    if not isinstance(key, Principal) or not key.scope_set & scopes or idempotency_key is None \
            or not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH \
            or any(header in request.headers for header in left_to_fastapi):
        return None
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":  # FastAPI takes any JSON media type; the rest is its to judge
        return None
    try:
        body = model.model_validate(json.loads(await request.body()))
    except (ValueError, ValidationError):  # a body that does not parse or validate: FastAPI's problem to answer
        return None
    return key, idempotency_key, body


class _FastRoute(Route):
    """A lane's route in front of FastAPI's: the endpoint called with what its binder took from the request,
    or, where the binder declines, FastAPI's route (its dependencies, validation and problems), the body read
    once and handed on. Not in the OpenAPI document: FastAPI's route documents the operation."""

    def __init__(self, original: APIRoute, binder: Binder) -> None:
        super().__init__(original.path, self._serve, methods=list(original.methods), include_in_schema=False)
        self.original, self.binder, self.endpoint_call = original, binder, original.endpoint
        self.app = self._serve

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        body = await request.body()
        arguments = await self.binder(request)
        if arguments is None:
            await self.original.app(scope, _replaying(body, receive), send)
            return
        response = await self.endpoint_call(**arguments)
        await response(scope, receive, send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives ``body`` first again (it was read already)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def install_fast_routes(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Put a :class:`_FastRoute` in front of each lane route whose endpoint is :func:`bound_fast`."""
    for original in lane_routes(routers):
        binder = original.endpoint.__dict__.get(_BINDER)
        if binder is not None:
            app.router.routes.insert(0, _FastRoute(original, binder))
