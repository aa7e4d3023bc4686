"""How a route is declared, the same way in every router of :mod:`api.routes`.

- :func:`route` registers an endpoint under its function's name as its stable operation id, with the problems it
  may answer documented as ``application/problem+json`` (:func:`api.problems.problem_responses`).
- :func:`operation_route` is the route of a request that starts an operation: a POST answered 202 with the
  operation (:class:`~api.schemas.operations.OperationOut`), which the endpoint returns with :func:`accepted`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from api.deps import AppState
from api.idempotency import IdempotentRequest, replay
from api.problems import ProblemKind, problem_responses
from api.schemas.operations import OperationOut, operation_out
from api.shown_once import redacted
from node.lanes import Answer, FlowLane
from node.operations.models import Operation

__all__ = ["accepted", "flow_lane", "in_lane", "lane_routes", "operation_route", "recorded_operation", "respond",
           "route"]

_IN_LANE = "walletnet_in_lane"

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


FL = TypeVar("FL", bound=FlowLane[Any])


def flow_lane(state: AppState, name: str, lane: type[FL]) -> FL:
    """The app's lane ``name`` of a money flow (e.g. node.transfers.lane.TransferLane), made on first use and
    closed with the app; it answers with :func:`recorded_operation`."""
    return state.lane(name, lambda: lane(state.work_sessions, state.settings, state.network, recorded_operation))


def recorded_operation(op: Operation) -> Any:
    """An accepted operation as a lane records and answers it (node.lanes.Render): the 202 body, secrets
    redacted as in every recorded answer (api/shown_once.py)."""
    return redacted(operation_out(op))[0]


def respond(answer: Answer) -> JSONResponse:
    """The response of a lane's ``answer`` (raised as a replay if an earlier request with its key ran it)."""
    if answer.replayed:
        raise replay(answer.status, answer.body)
    return JSONResponse(answer.body, status_code=answer.status)


def lane_routes(routers: Iterable[APIRouter]) -> list[APIRoute]:
    """The routes of ``routers`` whose endpoints are marked :func:`in_lane`."""
    return [route for router in routers for route in router.routes
            if isinstance(route, APIRoute) and route.endpoint.__dict__.get(_IN_LANE, False)]


def accepted(idem: IdempotentRequest, session: Session, op: Operation) -> OperationOut:
    """The 202 answer of a request that started ``op``, recorded under the request's idempotency key."""
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out
