"""RFC 9457 problem details: every error the API returns is ``application/problem+json``, mapped here.

Each kind of error has a stable ``type`` URI (``https://walletnet.dev/problems/<slug>``), a title and one
status (:data:`KINDS`). The errors the node raises, and the API's own below, are node errors
(:class:`~node.errors.NodeError`): each carries its problem slug, status, detail and extra members, and
:func:`problem_for` maps it by what it carries. Foreign exceptions (FastAPI's request validation and HTTP
errors, the SDK's signature, argument and revert errors, a chain node that does not answer) have a small
explicit table, :data:`FOREIGN`. Anything else is a 500 without details. :func:`install_problem_handlers`
registers the one handler; :func:`problem_responses` documents a route's problems in OpenAPI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, NamedTuple

import requests
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from web3.exceptions import ProviderConnectionError, RequestTimedOut

from node.errors import NodeError
from wallet_sdk.exceptions import (
    AuthorizationError,
    ContractRevertError,
    InvalidArgumentError,
    NodeConnectionError,
    PayloadError,
)

__all__ = [
    "CHAIN_DOWN",
    "FOREIGN",
    "KINDS",
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "REVERT_KINDS",
    "WALLET_STATUS_FROZEN",
    "ChainUnavailableError",
    "ConflictError",
    "CustomerSessionRequiredError",
    "FieldError",
    "ForbiddenError",
    "NotFoundError",
    "Problem",
    "ProblemKind",
    "ReplayedResponse",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "ValidationProblemError",
    "install_problem_handlers",
    "problem_for",
    "problem_response",
    "problem_responses",
]

log = logging.getLogger(__name__)

PROBLEM_BASE: Final = "https://walletnet.dev/problems/"
PROBLEM_MEDIA_TYPE: Final = "application/problem+json"


class ProblemKind(StrEnum):
    """The stable slugs of the problem ``type`` URIs."""

    VALIDATION = "validation"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    CONFLICT = "conflict"
    IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
    IDEMPOTENCY_KEY_IN_FLIGHT = "idempotency-key-in-flight"
    INSUFFICIENT_BALANCE = "insufficient-balance"
    LIMIT_EXCEEDED = "limit-exceeded"
    WALLET_FROZEN = "wallet-frozen"
    WALLET_NOT_ACTIVE = "wallet-not-active"
    NETWORK_PAUSED = "network-paused"
    CONTRACT_REJECTED = "contract-rejected"
    CHAIN_UNAVAILABLE = "chain-unavailable"
    SERVICE_UNAVAILABLE = "service-unavailable"
    REQUEST_TOO_LARGE = "request-too-large"
    REQUEST_TIMEOUT = "request-timeout"
    INTERNAL = "internal"
    SECOND_FACTOR_REQUIRED = "second-factor-required"
    SECOND_FACTOR_INVALID = "second-factor-invalid"
    SECOND_FACTOR_LOCKED = "second-factor-locked"
    SECOND_FACTOR_COOLING_OFF = "second-factor-cooling-off"
    INSUFFICIENT_FUNDS = "insufficient-funds"
    AUTHORIZATION_INVALID = "authorization-invalid"
    ATM_AUTHENTICATION_FAILED = "atm-authentication-failed"
    ATM_MESSAGE_REPLAYED = "atm-message-replayed"
    INVALID_STATE = "invalid-state"
    WALLET_NOT_CUSTODIED_HERE = "wallet-not-custodied-here"
    ACCOUNT_NOT_BOUND = "account-not-bound"
    MERCHANT_NOT_ACTIVE = "merchant-not-active"
    ORDER_ALREADY_PAID = "order-already-paid"
    PAYMENT_REQUEST_EXPIRED = "payment-request-expired"
    REFUND_EXCEEDS_REFUNDABLE = "refund-exceeds-refundable"
    CUSTOMER_SESSION_REQUIRED = "customer-session-required"
    RISK_DECLINED = "risk-declined"

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.value


@dataclass(frozen=True)
class _KindInfo:
    status: int
    title: str


KINDS: Final[Mapping[ProblemKind, _KindInfo]] = {
    ProblemKind.VALIDATION: _KindInfo(422, "The request is not valid"),
    ProblemKind.UNAUTHORIZED: _KindInfo(401, "A valid API key is required"),
    ProblemKind.FORBIDDEN: _KindInfo(403, "The API key's scopes do not allow this"),
    ProblemKind.NOT_FOUND: _KindInfo(404, "Not found"),
    ProblemKind.METHOD_NOT_ALLOWED: _KindInfo(405, "Method not allowed"),
    ProblemKind.CONFLICT: _KindInfo(409, "Conflict"),
    ProblemKind.IDEMPOTENCY_KEY_REUSED: _KindInfo(409, "The idempotency key was used for another request"),
    ProblemKind.IDEMPOTENCY_KEY_IN_FLIGHT: _KindInfo(409, "A request with this idempotency key is in progress"),
    ProblemKind.INSUFFICIENT_BALANCE: _KindInfo(422, "Insufficient balance"),
    ProblemKind.LIMIT_EXCEEDED: _KindInfo(422, "A wallet limit would be exceeded"),
    ProblemKind.WALLET_FROZEN: _KindInfo(409, "The wallet is frozen"),
    ProblemKind.WALLET_NOT_ACTIVE: _KindInfo(409, "The wallet is not active"),
    ProblemKind.NETWORK_PAUSED: _KindInfo(503, "The network is paused"),
    ProblemKind.CONTRACT_REJECTED: _KindInfo(422, "The contracts rejected the operation"),
    ProblemKind.CHAIN_UNAVAILABLE: _KindInfo(503, "The chain is unavailable"),
    ProblemKind.SERVICE_UNAVAILABLE: _KindInfo(503, "The service is unavailable"),
    ProblemKind.REQUEST_TOO_LARGE: _KindInfo(413, "The request body is too large"),
    ProblemKind.REQUEST_TIMEOUT: _KindInfo(408, "The request body did not arrive in time"),
    ProblemKind.INTERNAL: _KindInfo(500, "Internal error"),
    ProblemKind.SECOND_FACTOR_REQUIRED: _KindInfo(403, "A second factor (TOTP code) is required"),
    ProblemKind.SECOND_FACTOR_INVALID: _KindInfo(403, "The second factor (TOTP code) is not valid"),
    ProblemKind.SECOND_FACTOR_LOCKED: _KindInfo(429, "The second factor is locked after too many wrong codes"),
    ProblemKind.SECOND_FACTOR_COOLING_OFF: _KindInfo(
        403, "The second factor was reset lately: operations above the threshold must wait"),
    ProblemKind.INSUFFICIENT_FUNDS: _KindInfo(422, "Insufficient funds in the bank account"),
    ProblemKind.AUTHORIZATION_INVALID: _KindInfo(422, "The signed authorization is not valid"),
    ProblemKind.ATM_AUTHENTICATION_FAILED: _KindInfo(401, "The ATM message is not authenticated"),
    ProblemKind.ATM_MESSAGE_REPLAYED: _KindInfo(409, "The ATM message was replayed"),
    ProblemKind.INVALID_STATE: _KindInfo(409, "The operation is not allowed in its current state"),
    ProblemKind.WALLET_NOT_CUSTODIED_HERE: _KindInfo(409, "The wallet is kept by another bank"),
    ProblemKind.ACCOUNT_NOT_BOUND: _KindInfo(409, "No bank account is bound to the wallet"),
    ProblemKind.MERCHANT_NOT_ACTIVE: _KindInfo(409, "The merchant is not active"),
    ProblemKind.ORDER_ALREADY_PAID: _KindInfo(409, "The order is paid already"),
    ProblemKind.PAYMENT_REQUEST_EXPIRED: _KindInfo(409, "The payment request has expired"),
    ProblemKind.REFUND_EXCEEDS_REFUNDABLE: _KindInfo(422, "The refund exceeds what remains refundable"),
    ProblemKind.CUSTOMER_SESSION_REQUIRED: _KindInfo(403, "A customer session token is required"),
    ProblemKind.RISK_DECLINED: _KindInfo(403, "The bank's risk rules declined the payment"),
}

# Contract reverts (by Solidity error name) that have a problem kind of their own.
REVERT_KINDS: Final[Mapping[str, ProblemKind]] = {
    "ERC20InsufficientBalance": ProblemKind.INSUFFICIENT_BALANCE,
    "DailyOutflowLimitExceeded": ProblemKind.LIMIT_EXCEEDED,
    "SinglePaymentLimitExceeded": ProblemKind.LIMIT_EXCEEDED,
    "BalanceCapExceeded": ProblemKind.LIMIT_EXCEEDED,
    "EnforcedPause": ProblemKind.NETWORK_PAUSED,
    "WalletNotActive": ProblemKind.WALLET_NOT_ACTIVE,
    "OrderAlreadyPaid": ProblemKind.ORDER_ALREADY_PAID,
    "MerchantNotActive": ProblemKind.MERCHANT_NOT_ACTIVE,
    "RefundExceedsRefundable": ProblemKind.REFUND_EXCEEDS_REFUNDABLE,
    "RefundExceedsPending": ProblemKind.REFUND_EXCEEDS_REFUNDABLE,
}
WALLET_STATUS_FROZEN: Final = 2  # IWalletRegistry.WalletStatus.FROZEN


class FieldError(BaseModel):
    """One invalid input: where (``loc``, e.g. ``["body", "amount"]``), what went wrong and its code."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="stable URI of the error kind, https://walletnet.dev/problems/<kind>")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="the invalid fields (validation problems only)")


# ------------------------------------------------------------------ the API's own errors (node errors too)


class _ApiError(NodeError):
    """Base of the API's own errors: a subclass names its problem kind, ``class X(_ApiError, kind=...)``, and
    answers with that kind's status (:data:`KINDS`)."""

    def __init_subclass__(cls, *, kind: ProblemKind, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.problem = kind
        cls.status = KINDS[kind].status


class ValidationProblemError(_ApiError, kind=ProblemKind.VALIDATION):
    """The request is not valid; ``errors`` says which fields and why."""

    def __init__(self, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.errors = list(errors)

    def members(self) -> dict[str, Any]:
        return {"errors": [e.model_dump() for e in self.errors] or None}


class UnauthorizedError(_ApiError, kind=ProblemKind.UNAUTHORIZED):
    """No valid API key or customer session token."""


class ForbiddenError(_ApiError, kind=ProblemKind.FORBIDDEN):
    """The key's scopes, or the customer or merchant it is bound to, do not allow the request."""


class NotFoundError(_ApiError, kind=ProblemKind.NOT_FOUND):
    """Nothing by that id or address (that the key may see)."""


class CustomerSessionRequiredError(_ApiError, kind=ProblemKind.CUSTOMER_SESSION_REQUIRED):
    """An ``app`` API key alone is bound to no customer: acting on a customer's wallets, accounts or operations
    needs a customer session token (api/customers.py)."""


class ConflictError(_ApiError, kind=ProblemKind.CONFLICT):
    """The request conflicts with what the node holds."""


class ChainUnavailableError(_ApiError, kind=ProblemKind.CHAIN_UNAVAILABLE):
    """The chain node does not answer."""


class ServiceUnavailableError(_ApiError, kind=ProblemKind.SERVICE_UNAVAILABLE):
    """The chain node or the database does not answer (the health check)."""


class RequestTooLargeError(_ApiError, kind=ProblemKind.REQUEST_TOO_LARGE):
    """The body is (or says it will be) larger than the setting ``api_max_body``; it was not read."""


class RequestTimeoutError(_ApiError, kind=ProblemKind.REQUEST_TIMEOUT):
    """The body did not arrive within the setting ``api_body_timeout``."""


class ReplayedResponse(Exception):
    """Raised by the idempotency dependency to return a recorded response instead of running the endpoint."""

    def __init__(self, status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        super().__init__(f"replayed response ({status})")


# ------------------------------------------------------------------ mapping errors to problem documents


def _document(kind: ProblemKind, request: Request, detail: str | None, *, status: int | None = None,
              **extra: Any) -> dict[str, Any]:
    info = KINDS[kind]
    body: dict[str, Any] = {"type": kind.uri, "title": info.title, "status": status or info.status,
                            "instance": request.url.path}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _internal(exc: BaseException, request: Request) -> dict[str, Any]:
    """A fault: logged with its traceback, answered with a bare 500 (its message may name files, keys or rows)."""
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _document(ProblemKind.INTERNAL, request, None)


def _node_problem(exc: NodeError, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
    """A node error's problem, from what it carries."""
    kind = ProblemKind(exc.problem)
    if kind is ProblemKind.INTERNAL and not exc.public:
        return _internal(exc, request), {}
    headers: dict[str, str] = {}
    retry_after = exc.retry_after()
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if kind is ProblemKind.UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="walletnet"'
    return _document(kind, request, exc.detail, status=exc.status, **exc.members()), headers


def _http_problem(exc: StarletteHTTPException, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
    """FastAPI's and Starlette's own HTTP errors: an unreadable body, an unknown route, a wrong method."""
    if exc.status_code == 400:  # FastAPI could not read the body
        return _document(ProblemKind.VALIDATION, request, "the body is not JSON text",
                         errors=[{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}]), {}
    kind = _HTTP_KINDS.get(exc.status_code)
    if kind is None:  # a status with no kind of its own: keep it, with a generic problem
        generic = {"type": "about:blank", "title": str(exc.detail), "status": exc.status_code,
                   "instance": request.url.path}
        return generic, dict(exc.headers or {})
    return _document(kind, request, str(exc.detail) if kind is not ProblemKind.NOT_FOUND else None), dict(
        exc.headers or {})


_HTTP_KINDS: Final[Mapping[int, ProblemKind]] = {
    401: ProblemKind.UNAUTHORIZED, 403: ProblemKind.FORBIDDEN, 404: ProblemKind.NOT_FOUND,
    405: ProblemKind.METHOD_NOT_ALLOWED, 409: ProblemKind.CONFLICT,
}


def _field_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for error in raw:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        out.append({"loc": loc, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))})
    return out


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


def _revert_kind(exc: ContractRevertError) -> ProblemKind:
    if exc.name == "WalletNotActive" and int(exc.arguments.get("status", -1)) == WALLET_STATUS_FROZEN:
        return ProblemKind.WALLET_FROZEN
    return REVERT_KINDS.get(exc.name, ProblemKind.CONTRACT_REJECTED)


class _Foreign(NamedTuple):
    """Exceptions the API does not define, and the problem (kind, detail, members) each is reported as."""

    types: tuple[type[BaseException], ...]
    problem: Callable[[Any], tuple[ProblemKind, str | None, dict[str, Any]]]


CHAIN_DOWN: Final[tuple[type[Exception], ...]] = (
    NodeConnectionError, ConnectionError, TimeoutError, requests.exceptions.ConnectionError,
    requests.exceptions.Timeout, ProviderConnectionError, RequestTimedOut,
)
"""Errors meaning the chain node did not answer (HTTP 503 chain-unavailable)."""

FOREIGN: Final[tuple[_Foreign, ...]] = (
    _Foreign((RequestValidationError,), lambda exc: (
        ProblemKind.VALIDATION, "some fields are missing or not valid", {"errors": _field_errors(exc.errors())})),
    _Foreign((AuthorizationError, PayloadError), lambda exc: (ProblemKind.AUTHORIZATION_INVALID, str(exc), {})),
    _Foreign((InvalidArgumentError,), lambda exc: (
        ProblemKind.VALIDATION, str(exc),
        {"errors": [{"loc": [exc.field], "msg": exc.reason, "type": "value_error"}]})),
    _Foreign((ContractRevertError,), lambda exc: (
        _revert_kind(exc), str(exc),
        {"error": exc.name, "arguments": jsonable_encoder(_plain(exc.arguments)) or None})),
    _Foreign(CHAIN_DOWN, lambda exc: (ProblemKind.CHAIN_UNAVAILABLE, "the chain node does not answer", {})),
)
"""The foreign exceptions, in the order they are tried (a WrongNetworkError is an AuthorizationError first)."""


def problem_for(exc: BaseException, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
    """The problem document (and extra headers) for ``exc``: the single mapping of errors to HTTP."""
    if isinstance(exc, NodeError):
        return _node_problem(exc, request)
    if isinstance(exc, StarletteHTTPException):
        return _http_problem(exc, request)
    for foreign in FOREIGN:
        if isinstance(exc, foreign.types):
            kind, detail, members = foreign.problem(exc)
            return _document(kind, request, detail, **members), {}
    return _internal(exc, request), {}


def problem_response(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(dict(body), status_code=int(body["status"]), headers=dict(headers or {}),
                        media_type=PROBLEM_MEDIA_TYPE)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ReplayedResponse):
        return JSONResponse(exc.body, status_code=exc.status, headers={**exc.headers, "Idempotent-Replayed": "true"})
    body, headers = problem_for(exc, request)
    return problem_response(body, headers)


HANDLED: Final[tuple[type[Exception], ...]] = (
    ReplayedResponse, NodeError, StarletteHTTPException,
    *(t for foreign in FOREIGN for t in foreign.types if issubclass(t, Exception)), Exception,
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
