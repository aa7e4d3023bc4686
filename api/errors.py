"""RFC 9457 problem details: every error the API returns is ``application/problem+json``.

Each kind of error has a stable ``type`` URI (``https://walletnet.dev/problems/<slug>``) and one status.
Domain code raises :class:`ApiError` subclasses or the SDK's typed errors; :func:`install_problem_handlers`
registers the one handler that maps all of them, FastAPI's request validation errors (422 with the field
errors) and anything unexpected (500 without details) to a problem document.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import requests
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from web3.exceptions import ProviderConnectionError, RequestTimedOut

from api.problems import (
    KINDS,
    PROBLEM_BASE,
    PROBLEM_MEDIA_TYPE,
    REVERT_KINDS,
    WALLET_STATUS_FROZEN,
    ApiError,
    ChainUnavailableError,
    ConflictError,
    FieldError,
    ForbiddenError,
    NotFoundError,
    Problem,
    ProblemKind,
    ServiceUnavailableError,
    UnauthorizedError,
    ValidationProblemError,
)
from node.errors import FlowError, FlowValidationError
from node.idempotency import IdempotencyKeyInFlightError, IdempotencyKeyReusedError
from node.ledger.errors import BalanceOverflowError, InsufficientFundsError
from node.operations.models import OperationNotFoundError
from node.second_factor.service import (
    SecondFactorCoolingOffError,
    SecondFactorError,
    SecondFactorInvalidError,
    SecondFactorLockedError,
    SecondFactorRequiredError,
)
from wallet_sdk.exceptions import (
    AuthorizationError,
    ContractRevertError,
    InvalidArgumentError,
    NodeConnectionError,
    PayloadError,
)

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "ApiError",
    "ChainUnavailableError",
    "ConflictError",
    "FieldError",
    "ForbiddenError",
    "NotFoundError",
    "Problem",
    "ProblemKind",
    "ReplayedResponse",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "ValidationProblemError",
    "install_problem_handlers",
    "problem_responses",
]

log = logging.getLogger(__name__)


def _document(kind: ProblemKind, request: Request, detail: str | None, **extra: Any) -> dict[str, Any]:
    info = KINDS[kind]
    body: dict[str, Any] = {"type": kind.uri, "title": info.title, "status": info.status,
                            "instance": request.url.path}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _field_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for error in raw:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        out.append({"loc": loc, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))})
    return out


def _revert_kind(exc: ContractRevertError) -> ProblemKind:
    name = getattr(exc, "name", "")
    if name == "WalletNotActive" and int(getattr(exc, "arguments", {}).get("status", -1)) == WALLET_STATUS_FROZEN:
        return ProblemKind.WALLET_FROZEN
    return REVERT_KINDS.get(name, ProblemKind.CONTRACT_REJECTED)


def problem_for(exc: BaseException, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
    """The problem document (and extra headers) for ``exc``: the single mapping of errors to HTTP."""
    headers: dict[str, str] = {}
    if isinstance(exc, ValidationProblemError):
        body = _document(exc.kind, request, exc.detail,
                         errors=[e.model_dump() for e in exc.errors] or None)
    elif isinstance(exc, ApiError):
        body = _document(exc.kind, request, exc.detail, **exc.extra)
        if isinstance(exc, UnauthorizedError):
            headers["WWW-Authenticate"] = 'Bearer realm="walletnet"'
    elif isinstance(exc, RequestValidationError):
        body = _document(ProblemKind.VALIDATION, request, "some fields are missing or not valid",
                         errors=_field_errors(exc.errors()))
    elif isinstance(exc, IdempotencyKeyReusedError):
        body = _document(ProblemKind.IDEMPOTENCY_KEY_REUSED, request, str(exc))
    elif isinstance(exc, IdempotencyKeyInFlightError):
        body = _document(ProblemKind.IDEMPOTENCY_KEY_IN_FLIGHT, request, str(exc))
        headers["Retry-After"] = "1"
    elif isinstance(exc, FlowValidationError):
        body = _document(ProblemKind.VALIDATION, request, exc.detail,
                         errors=[{"loc": ["body", exc.field], "msg": exc.detail, "type": "value_error"}], **exc.extra)
    elif isinstance(exc, FlowError):
        body = _document(ProblemKind(exc.problem), request, exc.detail, **exc.extra)
    elif isinstance(exc, SecondFactorError):
        body = _second_factor_problem(exc, request, headers)
    elif isinstance(exc, InsufficientFundsError):
        body = _document(ProblemKind.INSUFFICIENT_FUNDS, request,
                         f"the bank account has {exc.available_minor} available, {exc.requested_minor} requested",
                         available=exc.available_minor, requested=exc.requested_minor)
    elif isinstance(exc, BalanceOverflowError):
        body = _document(ProblemKind.CONFLICT, request, str(exc), account=exc.account)
    elif isinstance(exc, (AuthorizationError, PayloadError)):
        body = _document(ProblemKind.AUTHORIZATION_INVALID, request, str(exc))
    elif isinstance(exc, OperationNotFoundError):
        body = _document(ProblemKind.NOT_FOUND, request, str(exc))
    elif isinstance(exc, InvalidArgumentError):
        body = _document(ProblemKind.VALIDATION, request, str(exc),
                         errors=[{"loc": [exc.field], "msg": exc.reason, "type": "value_error"}])
    elif isinstance(exc, ContractRevertError):
        body = _document(_revert_kind(exc), request, str(exc), error=getattr(exc, "name", None),
                         arguments=jsonable_encoder(_plain(getattr(exc, "arguments", {}))) or None)
    elif isinstance(exc, CHAIN_DOWN):
        body = _document(ProblemKind.CHAIN_UNAVAILABLE, request, "the chain node does not answer")
    elif isinstance(exc, StarletteHTTPException) and exc.status_code == 400:  # FastAPI could not read the body
        body = _document(ProblemKind.VALIDATION, request, "the body is not JSON text",
                         errors=[{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}])
    elif isinstance(exc, StarletteHTTPException):
        kind = {401: ProblemKind.UNAUTHORIZED, 403: ProblemKind.FORBIDDEN, 404: ProblemKind.NOT_FOUND,
                405: ProblemKind.METHOD_NOT_ALLOWED, 409: ProblemKind.CONFLICT}.get(exc.status_code)
        if kind is None:  # a status with no kind of its own: keep it, with a generic problem
            generic = {"type": "about:blank", "title": str(exc.detail), "status": exc.status_code,
                       "instance": request.url.path}
            return generic, dict(exc.headers or {})
        body = _document(kind, request, str(exc.detail) if kind is not ProblemKind.NOT_FOUND else None)
        headers.update(exc.headers or {})
    else:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        body = _document(ProblemKind.INTERNAL, request, None)
    return body, headers


def _retry_after(until: datetime) -> int:
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))


def _second_factor_problem(exc: SecondFactorError, request: Request, headers: dict[str, str]) -> dict[str, Any]:
    """The problem of a second-factor refusal; a lock-out and a cooling-off also say when to retry."""
    if isinstance(exc, SecondFactorRequiredError):
        return _document(ProblemKind.SECOND_FACTOR_REQUIRED, request, str(exc), enrolled=exc.enrolled,
                         threshold=exc.threshold_minor)
    if isinstance(exc, SecondFactorInvalidError):
        return _document(ProblemKind.SECOND_FACTOR_INVALID, request, str(exc), attempts_left=exc.attempts_left,
                         locked_until=exc.locked_until.isoformat() if exc.locked_until else None)
    if isinstance(exc, SecondFactorLockedError):
        headers["Retry-After"] = str(_retry_after(exc.until))
        return _document(ProblemKind.SECOND_FACTOR_LOCKED, request, str(exc), locked_until=exc.until.isoformat(),
                         retry_after=int(headers["Retry-After"]))
    if isinstance(exc, SecondFactorCoolingOffError):
        headers["Retry-After"] = str(_retry_after(exc.until))
        return _document(ProblemKind.SECOND_FACTOR_COOLING_OFF, request, str(exc), until=exc.until.isoformat(),
                         threshold=exc.threshold_minor)
    log.error("unmapped second-factor error on %s %s", request.method, request.url.path, exc_info=exc)
    return _document(ProblemKind.INTERNAL, request, None)


CHAIN_DOWN: Final[tuple[type[Exception], ...]] = (
    NodeConnectionError, ConnectionError, TimeoutError, requests.exceptions.ConnectionError,
    requests.exceptions.Timeout, ProviderConnectionError, RequestTimedOut,
)
"""Errors meaning the chain node did not answer (HTTP 503 chain-unavailable)."""


def _plain(arguments: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if isinstance(value, bytes):
            out[key] = "0x" + value.hex()
        elif isinstance(value, int) and not isinstance(value, bool):
            out[key] = str(value) if abs(value) >= 2**53 else int(value)
        else:
            out[key] = str(value)
    return out


def problem_response(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(dict(body), status_code=int(body["status"]), headers=dict(headers or {}),
                        media_type=PROBLEM_MEDIA_TYPE)


class ReplayedResponse(Exception):
    """Raised by the idempotency dependency to return a recorded response instead of running the endpoint."""

    def __init__(self, status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        super().__init__(f"replayed response ({status})")


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ReplayedResponse):
        return JSONResponse(exc.body, status_code=exc.status, headers={**exc.headers, "Idempotent-Replayed": "true"})
    body, headers = problem_for(exc, request)
    return problem_response(body, headers)


HANDLED: Final[tuple[type[Exception], ...]] = (
    ReplayedResponse, ApiError, RequestValidationError, StarletteHTTPException, IdempotencyKeyReusedError,
    IdempotencyKeyInFlightError, InvalidArgumentError, ContractRevertError, FlowError, SecondFactorError,
    InsufficientFundsError, BalanceOverflowError, AuthorizationError, PayloadError,
    OperationNotFoundError, *CHAIN_DOWN, Exception,
)


def install_problem_handlers(app: FastAPI) -> None:
    """Register :func:`_handle` for every error (``Exception`` last: 500 without details)."""
    for exc_class in HANDLED:
        app.add_exception_handler(exc_class, _handle)


def problem_responses(*kinds: ProblemKind) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each listed kind's status, documented as problem+json."""
    by_status: dict[int, list[ProblemKind]] = {}
    for kind in (*kinds, ProblemKind.VALIDATION):
        by_status.setdefault(KINDS[kind].status, [])
        if kind not in by_status[KINDS[kind].status]:
            by_status[KINDS[kind].status].append(kind)
    return {
        status: {
            "model": Problem,
            "description": "; ".join(f"{KINDS[k].title} ({k.uri})" for k in listed),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, listed in sorted(by_status.items())
    }
