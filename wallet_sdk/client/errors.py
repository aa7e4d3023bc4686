"""Typed errors of the HTTP client: one class per problem ``type`` the API documents.

An error answer of the API is an RFC 9457 problem document whose ``type`` is
``https://walletnet.dev/problems/<slug>``; the client raises the :class:`ApiProblemError` subclass of that
slug (an unknown slug raises :class:`ApiProblemError` itself), with the document's fields as attributes::

    try:
        client.top_up(wallet, 5_000)
    except InsufficientFundsError as exc:
        print(exc.detail, exc.problem["available"])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from wallet_sdk.exceptions import WalletnetError

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_ERRORS",
    "AccountNotBoundError",
    "ApiConnectionError",
    "ApiError",
    "ApiProblemError",
    "ApiResponseError",
    "AtmAuthenticationFailedError",
    "AtmMessageReplayedError",
    "AuthorizationInvalidError",
    "ChainUnavailableError",
    "ConflictError",
    "ContractRejectedError",
    "CustomerSessionRequiredError",
    "ForbiddenError",
    "IdempotencyKeyInFlightError",
    "IdempotencyKeyReusedError",
    "InsufficientBalanceError",
    "InsufficientFundsError",
    "InternalServerError",
    "InvalidStateError",
    "LimitExceededError",
    "MerchantNotActiveError",
    "MethodNotAllowedError",
    "NetworkPausedError",
    "NotFoundError",
    "OperationTimeoutError",
    "OrderAlreadyPaidError",
    "PaymentRequestExpiredError",
    "RefundExceedsRefundableError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "SecondFactorCoolingOffError",
    "SecondFactorInvalidError",
    "SecondFactorLockedError",
    "SecondFactorRequiredError",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "ValidationError",
    "WalletFrozenError",
    "WalletNotActiveError",
    "WalletNotCustodiedHereError",
    "problem_error",
]

PROBLEM_BASE: Final = "https://walletnet.dev/problems/"


class ApiError(WalletnetError):
    """Root of the HTTP client's errors."""


class ApiConnectionError(ApiError, ConnectionError):
    """The API could not be reached (after the retries the request allowed)."""


class ApiResponseError(ApiError):
    """The API answered something the client cannot read (not the documented shape)."""


class OperationTimeoutError(ApiError, TimeoutError):
    """An operation did not become final within the time the caller waited."""

    def __init__(self, operation_id: str, status: str, timeout: float) -> None:
        self.operation_id = operation_id
        self.status = status
        self.timeout = timeout
        super().__init__(f"operation {operation_id} still {status} after {timeout:g}s")


class ApiProblemError(ApiError):
    """The API refused the request with a problem document (``problem``: all of it)."""

    slug: ClassVar[str | None] = None

    def __init__(self, status: int, problem: Mapping[str, Any] | None, text: str = "") -> None:
        self.status = status
        self.problem: dict[str, Any] = dict(problem or {})
        self.type: str = str(self.problem.get("type", "about:blank"))
        self.title: str = str(self.problem.get("title", ""))
        detail = self.problem.get("detail")
        self.detail: str | None = str(detail) if detail is not None else None
        self.errors: list[dict[str, Any]] = list(self.problem.get("errors") or [])
        shown = self.detail or self.title or text[:200] or "no details"
        super().__init__(f"HTTP {status} {self.type.removeprefix(PROBLEM_BASE)}: {shown}")


class ValidationError(ApiProblemError):
    slug = "validation"


class UnauthorizedError(ApiProblemError):
    slug = "unauthorized"


class ForbiddenError(ApiProblemError):
    slug = "forbidden"


class NotFoundError(ApiProblemError):
    slug = "not-found"


class MethodNotAllowedError(ApiProblemError):
    slug = "method-not-allowed"


class ConflictError(ApiProblemError):
    slug = "conflict"


class IdempotencyKeyReusedError(ConflictError):
    slug = "idempotency-key-reused"


class IdempotencyKeyInFlightError(ConflictError):
    slug = "idempotency-key-in-flight"


class InsufficientBalanceError(ApiProblemError):
    slug = "insufficient-balance"


class LimitExceededError(ApiProblemError):
    slug = "limit-exceeded"


class WalletFrozenError(ApiProblemError):
    slug = "wallet-frozen"


class WalletNotActiveError(ApiProblemError):
    slug = "wallet-not-active"


class NetworkPausedError(ApiProblemError):
    slug = "network-paused"


class ContractRejectedError(ApiProblemError):
    slug = "contract-rejected"


class ChainUnavailableError(ApiProblemError):
    slug = "chain-unavailable"


class ServiceUnavailableError(ApiProblemError):
    slug = "service-unavailable"


class InternalServerError(ApiProblemError):
    slug = "internal"


class RequestTooLargeError(ApiProblemError):
    """The request body is larger than the node takes (its setting ``api_max_body``, 64 KiB by default)."""

    slug = "request-too-large"


class RequestTimeoutError(ApiProblemError):
    """The request body did not reach the node within its setting ``api_body_timeout``; nothing was done."""

    slug = "request-timeout"


class SecondFactorRequiredError(ForbiddenError):
    slug = "second-factor-required"


class SecondFactorInvalidError(ForbiddenError):
    """The code is wrong, expired or used; ``problem["attempts_left"]`` says how many more wrong codes lock the
    factor out (``problem["locked_until"]`` when this one did)."""

    slug = "second-factor-invalid"


class SecondFactorLockedError(ApiProblemError):
    """Too many wrong codes: every code, even the right one, is refused until :attr:`locked_until` (HTTP 429,
    ``Retry-After``)."""

    slug = "second-factor-locked"

    @property
    def locked_until(self) -> str | None:
        """ISO 8601 time the lock-out ends."""
        value = self.problem.get("locked_until")
        return str(value) if value is not None else None

    @property
    def retry_after(self) -> int | None:
        """Seconds until the lock-out ends (when the answer was made)."""
        value = self.problem.get("retry_after")
        return int(value) if isinstance(value, int) else None


class SecondFactorCoolingOffError(ForbiddenError):
    """A teller reset the wallet's TOTP lately: operations above ``problem["threshold"]`` are refused until
    :attr:`until`, whatever the code; smaller ones go on."""

    slug = "second-factor-cooling-off"

    @property
    def until(self) -> str | None:
        """ISO 8601 time the cooling-off ends."""
        value = self.problem.get("until")
        return str(value) if value is not None else None


class CustomerSessionRequiredError(ForbiddenError):
    """An ``app`` API key alone acts for no customer: mint a customer session and send its token."""

    slug = "customer-session-required"


class InsufficientFundsError(ApiProblemError):
    """The bank account (not the wallet) lacks the money."""

    slug = "insufficient-funds"


class AuthorizationInvalidError(ApiProblemError):
    slug = "authorization-invalid"


class AtmAuthenticationFailedError(UnauthorizedError):
    slug = "atm-authentication-failed"


class AtmMessageReplayedError(ConflictError):
    slug = "atm-message-replayed"


class InvalidStateError(ConflictError):
    slug = "invalid-state"


class WalletNotCustodiedHereError(ConflictError):
    slug = "wallet-not-custodied-here"


class AccountNotBoundError(ConflictError):
    slug = "account-not-bound"


class MerchantNotActiveError(ConflictError):
    slug = "merchant-not-active"


class OrderAlreadyPaidError(ConflictError):
    """The order is paid (or a payment of it is on its way): an order is paid at most once."""

    slug = "order-already-paid"


class PaymentRequestExpiredError(ConflictError):
    slug = "payment-request-expired"


class RefundExceedsRefundableError(ValidationError):
    """The refund is more than the order has left to refund (or than the merchant has pending)."""

    slug = "refund-exceeds-refundable"


def _by_slug() -> dict[str, type[ApiProblemError]]:
    found: dict[str, type[ApiProblemError]] = {}
    pending: list[type[ApiProblemError]] = [ApiProblemError]
    while pending:
        cls = pending.pop()
        if cls.slug is not None:
            found[cls.slug] = cls
        pending.extend(cls.__subclasses__())
    return found


PROBLEM_ERRORS: Final[Mapping[str, type[ApiProblemError]]] = _by_slug()
"""Problem slug -> the error class the client raises for it."""

_BY_STATUS: Final[Mapping[int, type[ApiProblemError]]] = {
    401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError, 405: MethodNotAllowedError, 409: ConflictError,
    422: ValidationError, 500: InternalServerError, 503: ServiceUnavailableError,
}


def problem_error(status: int, problem: object, text: str = "") -> ApiProblemError:
    """The typed error for an error answer (``problem``: its decoded JSON, if any)."""
    document = problem if isinstance(problem, Mapping) else None
    kind = str(document.get("type", "")) if document else ""
    cls = PROBLEM_ERRORS.get(kind.removeprefix(PROBLEM_BASE)) if kind.startswith(PROBLEM_BASE) else None
    if cls is None:
        cls = _BY_STATUS.get(status, ApiProblemError)
    return cls(status, document, text)
